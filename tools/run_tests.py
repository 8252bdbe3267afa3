#!/usr/bin/env python3
"""Run every test: the engine's layer contracts and pytest suite, then the addon's Odoo tests on a fresh database.

The layer contracts (``.importlinter``: the engine never imports odoo, ``common``
stands alone, capabilities import only ``common`` and ``github``, only ``cli``
parses arguments) count as one test. Fails when a test fails or when the Odoo
log has an ERROR or CRITICAL line,
and ends with one line ``N passed, N failed``. The full Odoo log is kept in
``.test-logs/odoo.log``.

Environment: ``KEEP_DB=1`` keeps the test database; ``TEST_TAGS`` narrows the
Odoo tests (default ``/ops_autopilot``); ``PYTEST_ARGS`` is passed to pytest;
``ONLY=engine`` or ``ONLY=odoo`` runs one half (for development: CI runs both);
``TEST_LOG`` names the Odoo log file (default ``.test-logs/odoo.log``).
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devenv

ROOT = devenv.ROOT
LOGS = ROOT / ".test-logs"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) ")
SUMMARY = re.compile(r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests")
SKIPPED = re.compile(r" INFO \S+ \S+: skipped ")


def check_layer_contracts():
    """import-linter over the engine; returns (passed, failed) for the one check it is."""
    code = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"
    print("== engine layer contracts (.importlinter)", flush=True)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    report = done.stdout + done.stderr
    summary = [line for line in report.splitlines() if line.endswith(("KEPT", "BROKEN")) or "Contracts:" in line]
    print("\n".join(summary) if done.returncode == 0 else report, flush=True)
    return (1, 0) if done.returncode == 0 else (0, 1)


def contract_report(half):
    """Where a half of the run writes what the GitHub fakes were asked (autopilot/testing/contracts.py)."""
    return LOGS / f"contracts-{half}-{os.getpid()}.json"


def summarize_contracts():
    """One line: the GitHub operations exercised and validated against the published description, per half."""
    seen, parts, violations = {}, [], 0
    for half in ("engine", "odoo"):
        path = contract_report(half)
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
        seen.update(data["operations"])
        violations += data["violations"]
        parts.append(f"{half} {len(data['operations'])}")
        description = data["description"]
    if parts:
        print(
            f"== GitHub contract ({description}): {len(seen)} operations exercised and validated "
            f"({', '.join(parts)}), {sum(seen.values())} answers; {violations} violations",
            flush=True,
        )


def run_engine_tests():
    """pytest over autopilot/tests; returns (passed, failed, skipped)."""
    report = LOGS / f"engine-junit-{os.getpid()}.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "autopilot/tests",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        *shlex.split(os.environ.get("PYTEST_ARGS", "")),
    ]
    print("== engine tests: " + " ".join(command[1:]), flush=True)
    env = dict(os.environ, OPS_CONTRACT_REPORT=str(contract_report("engine")))
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    if not report.exists():
        return 0, 1, 0
    suite = ET.parse(report).getroot()
    report.unlink()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    failed = failures + errors + (1 if code not in (0, 1, 5) else 0)
    return tests - failures - errors - skipped, failed, skipped


def run_odoo_tests(odoo):
    """Install the addon on a fresh database with tests enabled; returns (passed, failed, skipped, bad_lines)."""
    database = f"ops_autopilot_test_{os.getpid()}"
    devenv.drop_database(database)
    log_path = Path(os.environ.get("TEST_LOG") or LOGS / "odoo.log")
    command = [
        *devenv.odoo_launcher(odoo),
        "--database",
        database,
        f"--addons-path={devenv.addons_path(odoo)}",
        "--init",
        devenv.MODULE,
        "--test-enable",
        "--test-tags",
        os.environ.get("TEST_TAGS", f"/{devenv.MODULE}"),
        "--stop-after-init",
        "--workers=0",
        "--max-cron-threads=0",
        f"--http-port={devenv.free_port()}",
        "--http-interface=127.0.0.1",
        "--log-level=info",
    ]
    print("== Odoo tests: " + " ".join(command[1:]), flush=True)
    started = time.monotonic()
    bad_lines, summary, skipped = [], None, 0
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(devenv.odoo_env(odoo), OPS_CONTRACT_REPORT=str(contract_report("odoo"))),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        for line in process.stdout:
            log.write(line)
            match = LOG_LINE.match(line)
            level = match.group("level") if match else None
            if level in ("ERROR", "CRITICAL"):
                bad_lines.append(line.rstrip())
            if level in ("WARNING", "ERROR", "CRITICAL") or (" odoo.addons.ops_autopilot" in line and " FAIL" in line):
                print(line, end="", flush=True)
            if SKIPPED.search(line):
                skipped += 1
            found = SUMMARY.search(line)
            if found and "when loading database" in line:
                summary = found
        code = process.wait()
    print(f"== Odoo finished in {time.monotonic() - started:.0f}s with exit code {code}; log: {log_path}", flush=True)
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(database)
    if summary is None:
        print("!! no test summary in the Odoo log: the addon did not install or tests did not run", flush=True)
        return 0, 1, skipped, bad_lines
    run, failed, errors = (int(summary.group(k)) for k in ("run", "failed", "errors"))
    failed_total = failed + errors + (1 if code and not (failed or errors) else 0)
    # subtest failures are counted as failures of their own, so clamp
    return max(run - failed - errors - skipped, 0), failed_total, skipped, bad_lines


def main():
    LOGS.mkdir(exist_ok=True)
    try:
        odoo = devenv.prepare(with_tests=True)
    except devenv.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    print(f"== Odoo 18 from {odoo['origin']}", flush=True)
    only = os.environ.get("ONLY", "")
    contracts = check_layer_contracts() if only != "odoo" else (0, 0)
    engine = run_engine_tests() if only != "odoo" else (0, 0, 0)
    addon_passed, addon_failed, addon_skipped, bad_lines = run_odoo_tests(odoo) if only != "engine" else (0, 0, 0, [])
    if bad_lines:
        print(f"!! {len(bad_lines)} ERROR/CRITICAL line(s) in the Odoo log:", flush=True)
        for line in bad_lines[:30]:
            print("   " + line[:400])
    summarize_contracts()
    passed = contracts[0] + engine[0] + addon_passed
    failed = contracts[1] + engine[1] + addon_failed + (1 if bad_lines and not addon_failed else 0)
    print(
        f"== layer contracts: {'kept' if contracts == (1, 0) else 'BROKEN' if contracts[1] else 'not checked'}; "
        f"engine: {engine[0]} passed, {engine[1]} failed, {engine[2]} skipped; "
        f"odoo: {addon_passed} passed, {addon_failed} failed, {addon_skipped} skipped; "
        f"ERROR/CRITICAL log lines: {len(bad_lines)}"
    )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
