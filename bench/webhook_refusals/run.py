#!/usr/bin/env python3
"""Benchmark: the webhook's refusal path under a flood of anonymous requests.

1. Installs the addon in a fresh database (one repository with a secret) and starts Odoo with
   ``--workers=2``, its log kept in .bench-results/webhook_refusals.log.
2. Phases of DURATION s each, SENDERS concurrent senders (closed loop, a connection per request):
   ``GET /web/health`` (baseline), deliveries signed with a wrong secret that all name the same
   repository (every refusal updates the same counter row: the worst case for lock contention),
   deliveries naming made-up repositories (the "unknown repository" bucket), then validly signed
   deliveries (accepted and stored) for comparison.
3. Five bodies over the 25 MiB cap (refused by ir.http before the controller).
4. Reads back what was stored: counted refusals against refusals answered (nothing lost), detail
   rows per bucket against their caps (bounded), counter rows, and the serialization retries and
   errors in Odoo's log.

Prints requests/s and latency p50/p99 per phase. Figures, not pass/fail. Environment:
BENCH_DURATION (s, default 10), BENCH_SENDERS (16: Odoo's listen queue, see bench/webhook_ingest).
"""

import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402

from autopilot.github import signature  # noqa: E402
from autopilot.testing import github_payloads as gp  # noqa: E402
from bench.webhook_ingest import run as ingest  # noqa: E402

DATABASE = "ops_autopilot_bench_refusals"
SECRET = ingest.SECRET
REPO = ingest.REPO
DURATION = float(os.environ.get("BENCH_DURATION", "10"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "16"))
PROCESSES = 4
PATH = "/ops/github/webhook"

READ_BACK = """
import json
def table(name):
    env.cr.execute("SELECT to_regclass(%s)", [name])
    return env.cr.fetchone()[0] is not None
out = {"refusal_tables": table("ops_webhook_refusal")}
if out["refusal_tables"]:
    env.cr.execute("SELECT COALESCE(repository_id, 0), count(*) FROM ops_webhook_refusal GROUP BY 1")
    out["detail_rows"] = {str(k): v for k, v in env.cr.fetchall()}
    env.cr.execute("SELECT reason, COALESCE(repository_id, 0), count(*), sum(count) FROM ops_webhook_refusal_hour"
                   " GROUP BY 1, 2")
    out["counters"] = [[r, str(b), rows, total] for r, b, rows, total in env.cr.fetchall()]
env.cr.execute("SELECT count(*) FROM ops_webhook_delivery")
out["deliveries"] = env.cr.fetchone()[0]
print("READBACK" + json.dumps(out))
"""


def _body(kind, index):
    if kind == "unknown":
        return "workflow_run", json.dumps(gp.workflow_run_event(f"evil/made-up-{index}", run_id=index + 1)).encode()
    return "workflow_run", json.dumps(gp.workflow_run_event(REPO, run_id=8_000_000 + index)).encode()


def _headers(port, kind, index):
    headers = {"Host": f"127.0.0.1:{port}", "Connection": "close"}
    if kind == "health":
        return headers, None
    event, body = _body(kind, index)
    headers.update(
        {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature.sign("a guess" if kind == "bad_signature" else SECRET, body),
        }
    )
    return headers, body


def _sender(args):
    port, kind, threads, deadline, offset = args
    results, lock = [], threading.Lock()

    def loop(start):
        latencies, statuses, index = [], {}, start
        while time.monotonic() < deadline:
            headers, body = _headers(port, kind, index)
            index += 1
            started = time.perf_counter()
            status = ingest._request(port, "/web/health" if body is None else PATH, headers, body)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        with lock:
            results.append((latencies, statuses))

    workers = [threading.Thread(target=loop, args=(offset + i * 100_000,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def phase(port, kind, duration=DURATION):
    deadline = time.monotonic() + duration
    with multiprocessing.Pool(PROCESSES) as pool:
        parts = pool.map(
            _sender, [(port, kind, max(SENDERS // PROCESSES, 1), deadline, p * 10_000_000) for p in range(PROCESSES)]
        )
    latencies = sorted(x for part in parts for r in part for x in r[0])
    statuses = {}
    for part in parts:
        for _lat, counts in part:
            for status, count in counts.items():
                statuses[str(status)] = statuses.get(str(status), 0) + count
    return {
        "kind": kind,
        "requests": len(latencies),
        "per_second": len(latencies) / duration,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
        "statuses": statuses,
    }


def oversize(port, count=5):
    """Statuses of ``count`` requests declaring a body over 25 MiB: the answer comes before the body is read."""
    statuses = []
    for _ in range(count):
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: push\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"Content-Length: {25 * 1024 * 1024 + 2}\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(head.encode() + b"{" + b" " * 65536)
            answer = sock.recv(65536).decode("latin-1")
        statuses.append(int(answer.split(" ", 2)[1]) if answer.startswith("HTTP/") else None)
    return statuses


def main():
    odoo = devenv.prepare()
    results_dir = ROOT / ".bench-results"
    results_dir.mkdir(exist_ok=True)
    print(f"== preparing database {DATABASE}", flush=True)
    ingest.prepare_database(odoo, DATABASE)  # the same repository and secret as bench/webhook_ingest
    port = devenv.free_port()
    log_path = results_dir / "webhook_refusals.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            devenv.odoo_command(
                odoo,
                DATABASE,
                "--workers=2",
                "--max-cron-threads=0",
                f"--http-port={port}",
                "--http-interface=127.0.0.1",
                "--log-level=info",
                "--log-handler=werkzeug:WARNING",
                "--log-handler=odoo.addons.ops_autopilot.controllers.github_webhook:WARNING",
                "--limit-time-real=600",
                f"--gevent-port={devenv.free_port()}",
            ),
            env=devenv.odoo_env(odoo),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        phases = []
        try:
            devenv.wait_until_up(port)
            phase(port, "health", duration=2)  # warm both workers
            warm = phase(port, "bad_signature", duration=2)
            for kind in ("health", "bad_signature", "unknown", "accepted"):
                print(f"== {kind}: {SENDERS} senders, {DURATION:.0f} s", flush=True)
                phases.append(phase(port, kind))
            print("== 5 bodies over 25 MiB", flush=True)
            too_large = oversize(port)
        finally:
            server.terminate()
            server.wait(timeout=60)
    read_back = json.loads(devenv.odoo_shell(odoo, DATABASE, READ_BACK).split("READBACK", 1)[1])
    log_text = log_path.read_text(errors="replace")
    read_back["serialization_retries"] = log_text.count("tries left")
    read_back["error_lines"] = sum(1 for line in log_text.splitlines() if " ERROR " in line or " CRITICAL " in line)
    read_back["not_recorded_warnings"] = log_text.count("could not be recorded")
    # every refusal answered (warm-up included) against the refusals counted
    answered = {
        "bad_signature": warm["statuses"].get("401", 0) + phases[1]["statuses"].get("401", 0),
        "unknown_repository": phases[2]["statuses"].get("404", 0),
        "too_large": too_large.count(413),
    }
    counted = {reason: total for reason, _bucket, _rows, total in read_back.get("counters", [])}
    print(f"refusals answered: {answered}; counted: {counted}")
    health = phases[0]["per_second"] or 1
    print(f"\n{'phase':<16}{'requests':>10}{'req/s':>10}{'x health':>10}{'p50 ms':>10}{'p99 ms':>10}  statuses")
    for result in phases:
        print(
            f"{result['kind']:<16}{result['requests']:>10}{result['per_second']:>10.1f}"
            f"{result['per_second'] / health:>10.2f}{result['p50_ms']:>10.1f}{result['p99_ms']:>10.1f}"
            f"  {result['statuses']}"
        )
    print(f"bodies over 25 MiB: {too_large}")
    print(f"read back: {json.dumps(read_back)}")
    (results_dir / "webhook_refusals.json").write_text(
        json.dumps({"phases": phases, "too_large": too_large, "read_back": read_back}, indent=2)
    )
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DATABASE)


if __name__ == "__main__":
    main()
