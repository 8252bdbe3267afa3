#!/usr/bin/env python3
"""Soak: minutes of mixed webhook traffic with the processing and probe crons running.

1. Installs the addon in a fresh database and starts Odoo with ``--workers=2`` and two
   cron workers; 20 health targets on a local probe server (healthy, slow, failing,
   flapping) are probed every minute by the probe cron, which opens and resolves
   incidents as they fail and recover.
2. Senders post signed deliveries in GitHub's format (``workflow_run`` and
   ``workflow_job`` in several states, plus events the addon stores as ignored) at the
   rate the ingest benchmark sustains: half its saturating rate, read from its last
   result (``.bench-results/webhook_ingest.json``) or measured here for 10 s; the
   processing cron turns them into runs and jobs as they arrive.
3. Every window (30 s) prints deliveries/s acknowledged, ack p50/p99, errors,
   deliveries processed/s, the backlog, probe samples stored and the RSS of each Odoo
   process; at the end the backlog is drained and
   ``lost`` = deliveries acknowledged with a 2xx that are not in the database.

Figures, not pass/fail. ``python3 bench/soak/run.py [--minutes 10] [--rate N]
[--window 30]``; the senders, the load loop and the database set-up are those of
``bench/webhook_ingest``, the server helpers those of ``tools/devenv.py``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402
import psycopg2  # noqa: E402

from autopilot.testing import github_payloads as gp  # noqa: E402
from autopilot.testing.probe_targets import ProbeTargets  # noqa: E402
from bench.webhook_ingest import run as ingest  # noqa: E402

DB = "ops_autopilot_soak"
WEBHOOK = "/ops/github/webhook"
RESULTS = ROOT / ".bench-results"
_run_and_job_payloads = ingest.payloads


def mixed_payloads(repo=ingest.REPO):
    """The ingest pool (runs and jobs, queued / in progress / completed) plus one in ten ignored events."""
    bodies = _run_and_job_payloads(repo)
    others = [
        ("watch", {"action": "started", "repository": gp.repository(repo), "sender": gp.user()}),
        ("star", {"action": "created", "repository": gp.repository(repo), "sender": gp.user()}),
    ]
    mixed = []
    for index, item in enumerate(bodies):
        mixed.append(item)
        if index % 9 == 0:
            event, payload = others[index % 2]
            mixed.append((event, json.dumps(payload).encode()))
    return mixed


# the senders run in forked pool processes and read the pool through this module attribute
ingest.payloads = mixed_payloads

SETUP = """
from odoo import fields
cron = env.ref('ops_autopilot.ir_cron_probe_health_targets')
cron.write({{'interval_number': 1, 'interval_type': 'minutes', 'nextcall': fields.Datetime.now()}})
env['ops.repository'].search([]).write({{'api_url': 'http://127.0.0.1:9'}})  # never the internet
paths = {paths!r}
env['ops.health.target'].create([{{'name': f'soak {{i}} {{p}}', 'url': {base!r} + p, 'interval_minutes': 1,
    'timeout_seconds': 2.0, 'next_check_at': fields.Datetime.now()}} for i, p in enumerate(paths)])
env.cr.commit()
"""


def target_paths():
    paths = []
    for index in range(20):
        bucket = index % 10
        if bucket < 5:
            paths.append("/ok")
        elif bucket < 7:
            paths.append("/slow/150")
        elif bucket == 7:
            paths.append("/status/500")
        else:
            paths.append(f"/flapping/UUUD?id={index}")
    return paths


def query(sql, params=None):
    conn = psycopg2.connect(dbname=DB, connect_timeout=5)
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        conn.close()


def db_figures():
    [(processed, backlog, failed, samples, incidents)] = query(
        "SELECT (SELECT count(*) FROM ops_webhook_delivery WHERE state = 'processed'),"
        " (SELECT count(*) FROM ops_webhook_delivery WHERE state = 'received'),"
        " (SELECT count(*) FROM ops_webhook_delivery WHERE state = 'failed'),"
        " (SELECT count(*) FROM ops_health_sample),"
        " (SELECT count(*) FROM ops_incident)"
    )
    return {"processed": processed, "backlog": backlog, "failed": failed, "samples": samples, "incidents": incidents}


def odoo_rss(server_pid):
    """``{pid: RSS MiB}`` of the Odoo master and its worker processes."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            pid = int(stat.parent.name)
            if server_pid not in (pid, ppid):
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[pid] = int(line.split()[1]) / 1024
    return found


def steady_rate(port):
    """Half the saturating ingest rate: the ingest benchmark's last figure, else measured now (10 s)."""
    previous = RESULTS / "webhook_ingest.json"
    if previous.exists():
        measured = json.loads(previous.read_text())["ingest"]["per_second"]
        return max(measured / 2, 1), f"half the saturating rate of the last ingest benchmark ({measured:.0f}/s)"
    measured = ingest.load(port, WEBHOOK, post=True, duration=10)["per_second"]
    return max(measured / 2, 1), f"half the saturating rate measured here for 10 s ({measured:.0f}/s)"


def wait_drained(timeout=300):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not db_figures()["backlog"]:
            return time.monotonic() - started
        time.sleep(1)
    return None


def count_stored(guids):
    [(stored,)] = query("SELECT count(DISTINCT guid) FROM ops_webhook_delivery WHERE guid = ANY(%s)", [guids])
    return stored


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None, help="deliveries/s in all (default: see above)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds per printed line")
    args = parser.parse_args()

    odoo = devenv.prepare()
    RESULTS.mkdir(exist_ok=True)
    targets = ProbeTargets().start()
    print(f"== preparing database {DB}", flush=True)
    ingest.prepare_database(odoo, DB)
    devenv.odoo_shell(odoo, DB, SETUP.format(paths=target_paths(), base=targets.url))
    port = devenv.free_port()
    log = RESULTS / "soak-odoo.log"
    log.unlink(missing_ok=True)  # Odoo appends: count only this run's ERROR lines
    server = subprocess.Popen(
        devenv.odoo_command(
            odoo,
            DB,
            "--workers=2",
            "--max-cron-threads=2",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--log-level=warn",
            "--limit-time-real=600",
            f"--logfile={log}",
        ),
        env=devenv.odoo_env(odoo),
    )
    started_at = time.monotonic()
    try:
        devenv.wait_until_up(port)
        ingest.load(port, WEBHOOK, post=True, duration=3, rate=10)  # warm both workers
        rate, why = (args.rate, "--rate") if args.rate else steady_rate(port)
        rss_start = odoo_rss(server.pid)
        print(f"== soak: {args.minutes:g} min at {rate:.0f} deliveries/s ({why}), 20 targets probed every minute")
        print(f"   Odoo RSS at start (MiB, master + workers): {fmt_rss(rss_start)}", flush=True)
        windows, acked = soak(port, server.pid, rate, args.minutes * 60, args.window, started_at)
        rss_end = odoo_rss(server.pid)
        drained_in = wait_drained()
    finally:
        server.terminate()
        server.wait(timeout=60)
        targets.stop()
    stored = count_stored(acked)
    final = db_figures()
    errors = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
    p99s = [w["p99_ms"] for w in windows]
    summary = {
        "minutes": args.minutes,
        "rate": rate,
        "acked": len(acked),
        "lost": len(acked) - stored,
        "failed_requests": sum(w["failed"] for w in windows),
        "p99_ms_median_window": statistics.median(p99s) if p99s else 0,
        "p99_ms_worst_window": max(p99s) if p99s else 0,
        "acked_per_second": statistics.mean(w["per_second"] for w in windows) if windows else 0,
        "processed_per_second": statistics.mean(w["processed_per_second"] for w in windows) if windows else 0,
        "drained_in_s": drained_in,
        "rss_start_mib": rss_start,
        "rss_end_mib": rss_end,
        "final": final,
        "log_errors": len(errors),
        "windows": windows,
    }
    print_summary(summary)
    (RESULTS / "soak.json").write_text(json.dumps(summary, indent=2, default=str))
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DB)


def soak(port, pid, rate, seconds, window_seconds, started_at):
    """Send at ``rate`` for ``seconds``, printing a line per window; returns (windows, acked guids)."""
    header = f"{'t (s)':>6} {'acked/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'processed/s':>11} "
    print(header + f"{'backlog':>7} {'samples':>7} {'incidents':>9} {'RSS MiB':>8}", flush=True)
    windows, acked = [], []
    before = db_figures()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline - 1:
        window = min(window_seconds, deadline - time.monotonic())
        tick = time.monotonic()
        result = ingest.load(port, WEBHOOK, post=True, duration=window, rate=rate)
        elapsed = time.monotonic() - tick
        after = db_figures()
        rss = odoo_rss(pid)
        acked += result.pop("acked")
        row = {
            "t": time.monotonic() - started_at,
            **result,
            "processed_per_second": (after["processed"] - before["processed"]) / elapsed,
            **{k: after[k] for k in ("backlog", "failed", "samples", "incidents")},
            "rss_mib": sum(rss.values()),
        }
        windows.append(row)
        before = after
        print(
            f"{row['t']:6.0f} {row['per_second']:8.1f} {row['p50_ms']:7.1f} {row['p99_ms']:7.1f} "
            f"{row['failed']:6d} {row['processed_per_second']:11.1f} {row['backlog']:7d} {row['samples']:7d} "
            f"{row['incidents']:9d} {row['rss_mib']:8.0f}",
            flush=True,
        )
    return windows, acked


def print_summary(summary):
    final, drained_in = summary["final"], summary["drained_in_s"]
    print()
    print(
        f"acknowledged: {summary['acked']} deliveries, {summary['acked_per_second']:.1f}/s on average "
        f"(target {summary['rate']:.0f}/s); non-2xx or no answer: {summary['failed_requests']}"
    )
    print(
        f"ack p99 per window: median {summary['p99_ms_median_window']:.1f} ms, "
        f"worst {summary['p99_ms_worst_window']:.1f} ms"
    )
    print(
        f"processing cron kept up at {summary['processed_per_second']:.1f}/s; backlog drained "
        + (f"{drained_in:.0f} s after the traffic stopped" if drained_in is not None else "NOT within 300 s")
    )
    print(f"Odoo RSS start: {fmt_rss(summary['rss_start_mib'])}")
    print(f"Odoo RSS end:   {fmt_rss(summary['rss_end_mib'])}")
    print(
        f"lost (2xx acked but not stored): {summary['lost']} of {summary['acked']}   (target 0); "
        f"left unprocessed: {final['backlog']} received, {final['failed']} failed; "
        f"ERROR lines in the log: {summary['log_errors']}"
    )
    print(f"probe cron: {final['samples']} samples stored, {final['incidents']} incidents opened")


def fmt_rss(rss):
    return (
        f"{sum(rss.values()):.0f} in all (" + ", ".join(f"{pid}: {mib:.0f}" for pid, mib in sorted(rss.items())) + ")"
    )


if __name__ == "__main__":
    main()
