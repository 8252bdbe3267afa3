#!/usr/bin/env python3
"""Benchmark: one probe cycle over local targets, and alert evaluation throughput.

1. Probe cycle: BENCH_TARGETS (200) targets on a local server, a mix of healthy,
   slow (100 ms), failing (HTTP 500 / connection refused), flapping and hanging
   (BENCH_HANG_SHARE, 10 %, past a BENCH_TIMEOUT of 0.5 s) ones. Baseline: the same
   targets probed one after the other; then ``probe_many`` with 8 / 16 / 32 workers.
   Prints wall time, probes/s, speed-up, whether every target got a sample, and
   the peak RSS of the process ("up" moves by a few between runs: flapping targets).
2. ``alerts.evaluate`` over one hour of one-minute samples for BENCH_EVAL_TARGETS
   (1000) targets; baseline: ``alerts.error_rate`` alone over the same samples.

Figures, not pass/fail. No network beyond 127.0.0.1. BENCH_FULL=1 adds the issue's
sizing: 1000 targets, 10 % hanging past a 2 s timeout, 64 workers.
"""

import os
import random
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autopilot.monitoring import alerts, probes  # noqa: E402
from autopilot.monitoring.probes import ProbeSpec, Sample  # noqa: E402
from autopilot.testing.probe_targets import ProbeTargets, closed_port_url  # noqa: E402

TARGETS = int(os.environ.get("BENCH_TARGETS", "200"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "0.5"))
HANG_SHARE = float(os.environ.get("BENCH_HANG_SHARE", "0.1"))
EVAL_TARGETS = int(os.environ.get("BENCH_EVAL_TARGETS", "1000"))
WORKERS = (8, 16, 32)


def build_specs(server, count, timeout, hang_share):
    refused = closed_port_url("/health")
    hangs = round(count * hang_share)
    specs = {}
    for index in range(count):
        if index < hangs:
            path = "/hang"
        else:
            bucket = index % 20
            if bucket < 3:
                path = "/slow/100"
            elif bucket == 3:
                path = "/status/500"
            elif bucket == 4:
                path = None  # connection refused
            elif bucket == 5:
                path = f"/flapping/UUD?id={index}"
            else:
                path = "/ok"
        url = refused if path is None else server.url_for(path)
        specs[f"target-{index}"] = ProbeSpec(url=url, timeout=timeout, expected_text=None)
    return specs


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(label, specs, results, wall, baseline=None):
    complete = len(results) == len(specs) and all(isinstance(s, Sample) for s in results.values())
    up = sum(1 for s in results.values() if s.up)
    speedup = f"{baseline / wall:6.1f}x" if baseline else "    n/a"
    print(
        f"  {label:<22} {wall:7.2f} s  {len(results) / wall:8.1f} probes/s  speed-up {speedup}  "
        f"up {up:4d}/{len(specs)}  every sample: {'yes' if complete else 'NO'}",
        flush=True,
    )


def probe_cycle(count, timeout, hang_share, workers, sequential=True):
    server = ProbeTargets().start()
    try:
        specs = build_specs(server, count, timeout, hang_share)
        hangs = round(count * hang_share)
        print(f"probe cycle: {count} targets, {hangs} hanging past a {timeout:g} s timeout", flush=True)
        baseline = None
        if sequential:
            session = probes.new_session()
            started = time.perf_counter()
            results = {key: probes.probe(spec, session) for key, spec in specs.items()}
            baseline = time.perf_counter() - started
            session.close()
            report("sequential (baseline)", specs, results, baseline, baseline)
        for size in workers:
            started = time.perf_counter()
            results = probes.probe_many(specs, max_workers=size)
            wall = time.perf_counter() - started
            report(f"probe_many({size} workers)", specs, results, wall, baseline)
        print(f"  peak RSS {peak_rss_mb():.0f} MB", flush=True)
    finally:
        server.stop()


def hour_of_samples(rng, start):
    kind = rng.random()
    samples = []
    for minute in range(60):
        if kind < 0.8:
            up = rng.random() > 0.01
        elif kind < 0.9:
            up = minute < 50
        else:
            up = rng.random() > 0.2
        samples.append(
            Sample(
                up=up,
                status_code=200 if up else 503,
                response_ms=rng.uniform(50, 3000) if up else None,
                error=None if up else "unexpected status 503",
                cpu_percent=rng.uniform(10, 99),
                memory_percent=rng.uniform(20, 95),
                checked_at=start + timedelta(minutes=minute),
            )
        )
    return samples


def evaluation(count):
    rng = random.Random(42)
    start = datetime(2026, 3, 2, 12, 0)
    now = start + timedelta(minutes=59)
    histories = [hour_of_samples(rng, start) for _ in range(count)]
    total = count * 60
    print(f"alert evaluation: {count} targets x 60 samples (1 h of 1-minute checks)", flush=True)
    started = time.perf_counter()
    for history in histories:
        alerts.error_rate(history, now, 3600)
    baseline = time.perf_counter() - started
    print(f"  error_rate only (base) {baseline:7.3f} s  {count / baseline:9.0f} targets/s", flush=True)
    thresholds = alerts.Thresholds()
    started = time.perf_counter()
    firing = 0
    for history in histories:
        firing += sum(c.firing for c in alerts.evaluate(history, thresholds, now))
    wall = time.perf_counter() - started
    print(
        f"  evaluate (5 conditions) {wall:7.3f} s  {count / wall:9.0f} targets/s  {total / wall:10.0f} samples/s  "
        f"({wall / baseline:.1f}x the error-rate pass, {firing} conditions firing)",
        flush=True,
    )


def main():
    started = time.perf_counter()
    probe_cycle(TARGETS, TIMEOUT, HANG_SHARE, WORKERS)
    evaluation(EVAL_TARGETS)
    if os.environ.get("BENCH_FULL"):
        probe_cycle(1000, 2.0, 0.1, (64,), sequential=False)
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
