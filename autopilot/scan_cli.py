"""Command line of the scan engine, for a GitHub Actions step or a developer's shell.

Wired into ``python3 -m autopilot`` by calling :func:`register` with the
sub-parsers of :func:`autopilot.cli.build_parser`:

- ``scan-report FILE`` prints a scanner report's findings (pip-audit, Trivy,
  npm audit, SARIF); exits 1 when one reaches ``--fail-on``;
- ``license-check SBOM`` prints the license summary of an SPDX SBOM under a
  policy; exits 1 when a package is denied;
- ``deps FILE...`` lists the dependencies a manifest declares;
- ``dead-code DIR`` runs the Odoo-aware vulture scan over a checkout.

Exit 2 means unreadable input.
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import os
import sys
from pathlib import Path

from . import deadcode, dependencies, licenses, scan_reports
from .findings import SEVERITIES
from .scan_http import BadAnswer

MAX_FILE_BYTES = 1024 * 1024


def _cmd_scan_report(args, parser):
    try:
        result = scan_reports.parse_report(Path(args.file).read_bytes(), args.format)
    except scan_reports.ReportFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = SEVERITIES.index(args.fail_on) if args.fail_on else None
    for finding in result.findings:
        where = f" ({finding.path}:{finding.line})" if finding.line else f" ({finding.path})" if finding.path else ""
        package = f" {finding.package} {finding.version}".rstrip() if finding.package else ""
        fixed = f" -> {finding.fixed_version}" if finding.fixed_version else ""
        print(f"{finding.severity:8} {finding.advisory_id}{package}{fixed}{where}: {finding.summary}")
    for skipped in result.skipped:
        print(f"skipped  {skipped}")
    print(f"{len(result.findings)} findings ({result.format})")
    failing = threshold is not None and any(SEVERITIES.index(f.severity) >= threshold for f in result.findings)
    return 1 if failing else 0


def _cmd_license_check(args, parser):
    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
        packages = licenses.parse_sbom(document)
    except (ValueError, BadAnswer) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    policy = licenses.DEFAULT_POLICY
    if args.allowed or args.review or args.denied:
        policy = licenses.LicensePolicy.from_text(args.allowed or "", args.review or "", args.denied or "")
    summary = licenses.summarize(licenses.check_packages(packages, policy))
    print(licenses.summary_markdown(summary))
    return 1 if summary.denied else 0


def _local_loader(path):
    """``-r`` includes of a local requirements file (paths relative to the current directory)."""
    target = Path(path)
    return target.read_text("utf-8") if target.is_file() else None


def _cmd_deps(args, parser):
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            result = dependencies.parse_manifest(name, path.read_text("utf-8"), loader=_local_loader)
        except dependencies.ManifestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        for dep in result.dependencies:
            pinned = dep.pinned_version or "-"
            print(f"{dep.ecosystem:5} {dep.name:30} {dep.spec or '*':20} pinned={pinned:12} {dep.file}:{dep.line}")
        for bad in result.unparseable:
            print(f"unparseable {bad.file}:{bad.line}: {bad.text} ({bad.reason})")
    return status


def _read_checkout(root):
    sources = {}
    for folder, directories, files in os.walk(root):
        directories[:] = [d for d in directories if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for name in files:
            if not name.endswith(deadcode.READ_SUFFIXES):
                continue
            full = Path(folder) / name
            if full.is_symlink() or full.stat().st_size > MAX_FILE_BYTES:
                continue
            sources[full.relative_to(root).as_posix()] = full.read_bytes()
    return sources


def _cmd_dead_code(args, parser):
    root = Path(args.directory)
    if not root.is_dir():
        parser.error(f"{root} is not a directory")
    findings, scanned, skipped = deadcode.analyse_sources(_read_checkout(root), min_confidence=args.min_confidence)
    for finding in findings:
        print(f"{finding.path}:{finding.line}: {finding.message} ({finding.confidence}% confidence)")
    for path, reason in skipped:
        print(f"skipped {path}: {reason}")
    print(f"{len(findings)} possibly unused items in {scanned} Python files")
    return 0


def register(commands):
    """Add the scan sub-commands to ``python3 -m autopilot``."""
    report = commands.add_parser("scan-report", help="print the findings of a scanner report")
    report.add_argument("file", help="pip-audit / Trivy / npm audit JSON or SARIF 2.1.0 file")
    report.add_argument("--format", default="auto", choices=("auto", *scan_reports.FORMATS))
    report.add_argument("--fail-on", choices=SEVERITIES[1:], help="exit 1 when a finding is this severe or more")
    report.set_defaults(handler=_cmd_scan_report)

    check = commands.add_parser("license-check", help="license verdicts of an SPDX SBOM")
    check.add_argument("file", help="GitHub dependency-graph SBOM JSON (or a bare SPDX 2.x document)")
    check.add_argument("--allowed", help="allowed SPDX ids (comma separated); default policy when none given")
    check.add_argument("--review", help="SPDX ids needing review")
    check.add_argument("--denied", help="denied SPDX ids")
    check.set_defaults(handler=_cmd_license_check)

    deps = commands.add_parser("deps", help="list the dependencies manifests declare")
    deps.add_argument("files", nargs="+", help="requirements*.txt, pyproject.toml or package.json")
    deps.set_defaults(handler=_cmd_deps)

    dead = commands.add_parser("dead-code", help="Odoo-aware vulture scan of a checkout")
    dead.add_argument("directory")
    dead.add_argument("--min-confidence", type=int, default=deadcode.DEFAULT_MIN_CONFIDENCE)
    dead.set_defaults(handler=_cmd_dead_code)
