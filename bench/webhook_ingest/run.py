#!/usr/bin/env python3
"""Benchmark: GitHub webhook ingest and processing.

1. Installs the addon in a fresh database and starts Odoo with ``--workers=2``.
2. Baseline: 32 concurrent senders hit Odoo's own ``GET /web/health`` for DURATION s.
3. Ingest: 32 concurrent senders POST signed GitHub deliveries (workflow_run and
   workflow_job payloads in GitHub's format) to ``/ops/github/webhook`` for DURATION s.
   The same pair again with 16 senders: Odoo's prefork server listens with a queue of
   8 connections per worker, so beyond 16 waiting connections the kernel drops the
   new ones and their senders wait for a SYN retransmission (1 s, then 3 s). With 32
   senders that wait, not the server, shapes both rates (the "listen overflows" row
   counts it); with 16 the rates are the server's. Then a steady phase at half the
   32-sender ingest rate, open loop, for the latency GitHub's traffic sees.
   Each webhook phase runs twice, one after the other: for a repository whose delivery
   log on GitHub was never checked ("flush": each delivery is answered once PostgreSQL
   has flushed it to disk) and for one whose log counts as checked ("commit": answered
   once committed, see autopilot/ingest/delivery_log.py).
4. Lost: every delivery acknowledged with a 2xx must be in the database.
5. Processing: the processing cron's method drains the stored deliveries, in batches,
   committing per batch; baseline: the engine alone parsing the same payloads.

Prints ack latency p50/p99, deliveries/s, the ratio to /web/health, lost, and the
processing rate. Figures, not pass/fail. Environment: BENCH_DURATION (s, default 20),
BENCH_SENDERS (32), BENCH_PORT (free port).

``bench/faults`` and ``bench/soak`` import this module (``from bench.webhook_ingest import run``)
for its senders, load loop and database set-up, on a database of their own.
"""

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402

from autopilot.github import signature  # noqa: E402
from autopilot.testing import github_payloads as gp  # noqa: E402

DATABASE = "ops_autopilot_bench"
SECRET = "bench-secret"
REPO = "acme/bench"
#: a second repository whose delivery log on GitHub counts as checked: its deliveries are answered once committed
REPO_CHECKED = "acme/bench-checked"
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "32"))
#: Odoo's prefork server listens with a queue of 8 connections per worker: 16 senders never overflow it
QUEUE_SENDERS = 16
PROCESSES = 4


def prepare_database(odoo, database=DATABASE):
    """A fresh ``database`` with the addon (no demo) and the bench repository and its webhook secret."""
    devenv.drop_database(database)
    devenv.install_addon(odoo, database)
    devenv.odoo_shell(
        odoo,
        database,
        f"env['ops.repository'].create({{'full_name': {REPO!r}, 'webhook_secret': {SECRET!r}}})\nenv.cr.commit()\n",
    )


def payloads(repo=REPO):
    """A pool of distinct deliveries of ``repo`` in GitHub's format: runs and their jobs in several states."""
    bodies = []
    for index in range(200):
        run_id = 8_000_000 + index
        status = ("queued", "in_progress", "completed")[index % 3]
        bodies.append(("workflow_run", gp.workflow_run_event(repo, run_id=run_id, status=status, run_number=index)))
        bodies.append(("workflow_job", gp.workflow_job_event(repo, run_id, job_id=90_000_000 + index, status=status)))
    return [(event, json.dumps(payload).encode()) for event, payload in bodies]


def _request_headers(port, delivery):
    """Headers of one request (a connection each) and, for a delivery ``(event, body)``, its signature and guid."""
    # a connection per delivery, as GitHub does (and as a proxy does towards prefork workers)
    headers = {"Host": f"127.0.0.1:{port}", "Connection": "close"}
    if delivery is None:
        return headers, None, ""
    event, body = delivery
    guid = str(uuid.uuid4())
    headers.update(
        {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-Hub-Signature-256": signature.sign(SECRET, body),
        }
    )
    return headers, body, guid


def _request(port, path, headers, body):
    """Send one request (POST when there is a body) and read the answer; its status, or None when it failed."""
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def _sender(args):
    """One process: ``threads`` senders in closed loop until ``deadline``; returns latencies and guids."""
    port, path, threads, deadline, post, interval, repo = args
    pool = payloads(repo) if post else None
    results = []
    lock = threading.Lock()

    def loop(offset):
        latencies, acked, failed, index, in_window, first = [], [], 0, offset, 0, time.monotonic()
        # open loop when an interval is given: each sender sends on a fixed schedule and latency
        # counts from the scheduled time (no coordinated omission); closed loop otherwise
        scheduled = time.perf_counter() + (offset % 997) / 997 * interval
        while time.monotonic() < deadline:
            if interval:
                pause = scheduled - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            headers, body, guid = _request_headers(port, pool[index % len(pool)] if post else None)
            index += 1
            started = scheduled if interval else time.perf_counter()
            scheduled += interval
            status = _request(port, path, headers, body)
            if status is None:
                failed += 1
                continue
            elapsed = time.perf_counter() - started
            if 200 <= status < 300:
                latencies.append(elapsed)
                in_window += time.monotonic() <= deadline
                if guid:
                    acked.append(guid)
            else:
                failed += 1
        with lock:
            results.append((latencies, acked, failed, in_window, first))

    workers = [threading.Thread(target=loop, args=(i * 7919,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies = [x for r in results for x in r[0]]
    acked = [x for r in results for x in r[1]]
    return latencies, acked, sum(r[2] for r in results), sum(r[3] for r in results), min(r[4] for r in results)


def listen_overflows():
    """Connections the kernel refused because a listen queue was full (Linux; None elsewhere; see QUEUE_SENDERS)."""
    try:
        with open("/proc/net/netstat") as netstat:
            rows = [line.split() for line in netstat if line.startswith("TcpExt:")]
        return int(dict(zip(rows[0], rows[1], strict=True))["ListenOverflows"])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def load(port, path, post, duration=DURATION, rate=None, senders=None, repo=REPO):
    """Closed loop (each sender sends as soon as answered) or open loop at ``rate`` requests/s in all.

    ``per_second`` counts the answers received within the ``duration``
    window; the latencies are those of every answer, late ones included.
    """
    senders = senders or SENDERS
    per_process = max(senders // PROCESSES, 1)
    interval = senders / rate if rate else 0
    deadline = time.monotonic() + duration
    overflows = listen_overflows()
    with multiprocessing.Pool(PROCESSES) as pool:
        parts = pool.map(_sender, [(port, path, per_process, deadline, post, interval, repo)] * PROCESSES)
    if overflows is not None:
        overflows = listen_overflows() - overflows
    latencies = sorted(x for p in parts for x in p[0])
    acked = [x for p in parts for x in p[1]]
    failed = sum(p[2] for p in parts)
    in_window = sum(p[3] for p in parts)
    window = deadline - min(p[4] for p in parts)
    return {
        "requests": len(latencies),
        "per_second": in_window / window if window > 0 else 0,
        "listen_overflows": overflows,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
        "failed": failed,
        "acked": acked,
    }


def count_stored(odoo, guids, database=DATABASE):
    path = ROOT / ".bench-results" / "acked-guids.json"
    path.write_text(json.dumps(guids))
    out = devenv.odoo_shell(
        odoo,
        database,
        "import json\n"
        f"guids = json.load(open({str(path)!r}))\n"
        "env.cr.execute('SELECT count(DISTINCT guid) FROM ops_webhook_delivery WHERE guid = ANY(%s)', [guids])\n"
        "print('STORED', env.cr.fetchone()[0])\n",
    )
    return int(out.split("STORED")[1].split()[0])


PROCESS_CODE = """
import json, time
from odoo.addons.ops_autopilot.autopilot.github import events
Delivery = env['ops.webhook.delivery']
env.cr.execute("SELECT count(*) FROM ops_webhook_delivery WHERE state = 'received'")
pending = env.cr.fetchone()[0]
env.cr.execute("SELECT event, payload FROM ops_webhook_delivery WHERE state = 'received' LIMIT 2000")
sample = env.cr.fetchall()
started = time.perf_counter()
for event, payload in sample:
    events.parse_event(event, json.loads(payload))
parse_rate = len(sample) / (time.perf_counter() - started)
done = 0
started = time.perf_counter()
while True:
    n = Delivery._cron_process_deliveries()
    env.cr.commit()
    done += n
    if not n:
        break
elapsed = time.perf_counter() - started
env.cr.execute("SELECT state, count(*) FROM ops_webhook_delivery GROUP BY state")
print('PROCESS', json.dumps({'pending': pending, 'done': done, 'seconds': elapsed,
      'rate': done / elapsed if elapsed else 0, 'parse_rate': parse_rate, 'states': dict(env.cr.fetchall())}))
"""


ADD_CHECKED_REPOSITORY = f"""
from odoo import fields
# as a successful check of the hook's delivery log on GitHub leaves it (this bench has no GitHub to check)
env['ops.repository'].create({{'full_name': {REPO_CHECKED!r}, 'webhook_secret': {SECRET!r},
                               'delivery_log_mark': fields.Datetime.now()}})
env.cr.commit()
"""


def _ratio(ingest, baseline):
    return ingest["per_second"] / baseline["per_second"] if baseline["per_second"] else 0


def print_report(phases, ratios, steady_rate, steadies, lost, acked, processing):
    """The table of phases, then each figure next to its target."""
    columns = ("senders", "load", "requests", "per second", "p50 ms", "p99 ms", "non-2xx", "overflows")
    print(f"\n{'':<24}" + "".join(f"{c:>13}" for c in columns))
    for name, senders, load_kind, r in phases:
        cells = (senders, load_kind, r["requests"], f"{r['per_second']:.0f}", f"{r['p50_ms']:.1f}")
        cells += (f"{r['p99_ms']:.1f}", r["failed"], r["listen_overflows"])
        print(f"{name:<24}" + "".join(f"{c!s:>13}" for c in cells))
    print(f"\n'flush': answered once PostgreSQL flushed the delivery to disk ({REPO}: its delivery log on GitHub")
    print(f"was never checked); 'commit': answered once committed ({REPO_CHECKED}: log checked within 24 h)")
    for label, key in (
        (f"flush, {QUEUE_SENDERS} senders", "ratio_flush_queue"),
        (f"flush, {SENDERS} senders", "ratio_flush"),
        (f"commit, {QUEUE_SENDERS} senders", "ratio_commit_queue"),
        (f"commit, {SENDERS} senders", "ratio_commit"),
    ):
        print(f"ratio ingest / health throughput, {label}: {ratios[key]:.2f}   (target >= 0.5)")
    for label, result in steadies.items():
        print(f"p99 ack at a steady {steady_rate:.0f}/s, {label}: {result['p99_ms']:.1f} ms   (target <= 50 ms)")
    print(f"lost (2xx acked but not stored): {lost} of {acked}   (target 0)")
    print(
        f"processing: {processing['done']} deliveries in {processing['seconds']:.1f} s = "
        f"{processing['rate']:.0f}/s   (target >= 300/s); engine parse alone (baseline): "
        f"{processing['parse_rate']:.0f}/s; states after: {processing['states']}"
    )


def main():
    odoo = devenv.prepare()
    (ROOT / ".bench-results").mkdir(exist_ok=True)
    print(f"== preparing database {DATABASE}", flush=True)
    prepare_database(odoo)
    devenv.odoo_shell(odoo, DATABASE, ADD_CHECKED_REPOSITORY)
    port = int(os.environ.get("BENCH_PORT") or devenv.free_port())
    server = subprocess.Popen(
        devenv.odoo_command(
            odoo,
            DATABASE,
            # --database alone (no --db-filter) names the served database without listing them per request
            "--workers=2",
            "--max-cron-threads=0",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--log-level=warn",
            "--limit-time-real=600",
            f"--gevent-port={devenv.free_port()}",  # another Odoo on this machine may hold 8072
        ),
        env=devenv.odoo_env(odoo),
    )
    queue = QUEUE_SENDERS
    phases = []  # (name, senders, load, result)

    def phase(name, path, post, senders=SENDERS, rate=None, repo=REPO):
        load_kind = f"steady {rate:.0f}/s" if rate else "saturating"
        print(f"== {name}: {senders} senders, {load_kind}", flush=True)
        result = load(port, path, post, senders=senders, rate=rate, repo=repo)
        phases.append((name, senders, load_kind, result))
        return result

    try:
        devenv.wait_until_up(port)
        load(port, "/web/health", post=False, duration=3)  # warm both workers
        load(port, "/ops/github/webhook", post=True, duration=3)
        # flush and commit phases side by side, so that a slower stretch of the run (autovacuum of the
        # deliveries stored so far, the VM's neighbours) weighs on both alike
        health = phase("GET /web/health", "/web/health", post=False)
        durable = phase("POST webhook, flush", "/ops/github/webhook", post=True)
        early = phase("POST webhook, commit", "/ops/github/webhook", post=True, repo=REPO_CHECKED)
        health_q = phase("GET /web/health", "/web/health", post=False, senders=queue)
        durable_q = phase("POST webhook, flush", "/ops/github/webhook", post=True, senders=queue)
        early_q = phase("POST webhook, commit", "/ops/github/webhook", post=True, senders=queue, repo=REPO_CHECKED)
        steady_rate = max(durable["per_second"] / 2, 1)
        steady_durable = phase("POST webhook, flush", "/ops/github/webhook", post=True, rate=steady_rate)
        steady = phase("POST webhook, commit", "/ops/github/webhook", post=True, rate=steady_rate, repo=REPO_CHECKED)
    finally:
        server.terminate()
        server.wait(timeout=60)
    acked = [guid for *_phase, result in phases for guid in result["acked"]]
    stored = count_stored(odoo, acked)
    lost = len(acked) - stored
    print("== processing the stored deliveries with the cron's method", flush=True)
    processing = json.loads(devenv.odoo_shell(odoo, DATABASE, PROCESS_CODE).split("PROCESS", 1)[1])

    ratios = {
        "ratio_flush_queue": _ratio(durable_q, health_q),
        "ratio_flush": _ratio(durable, health),
        "ratio_commit_queue": _ratio(early_q, health_q),
        "ratio_commit": _ratio(early, health),
    }
    print_report(phases, ratios, steady_rate, {"flush": steady_durable, "commit": steady}, lost, len(acked), processing)
    result = {
        "phases": [
            {"name": name, "senders": senders, "load": load_kind, **{k: v for k, v in r.items() if k != "acked"}}
            for name, senders, load_kind, r in phases
        ],
        # the 32-sender "flush" phase, as bench/soak reads it (its repository's log is not checked)
        "ingest": {k: v for k, v in durable.items() if k != "acked"},
        **ratios,
        "steady_p99_ms": steady["p99_ms"],
        "lost": lost,
        "processing": processing,
        "senders": SENDERS,
        "duration": DURATION,
    }
    (ROOT / ".bench-results" / "webhook_ingest.json").write_text(json.dumps(result, indent=2))
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DATABASE)


if __name__ == "__main__":
    main()
