#!/usr/bin/env python3
"""Benchmark: an outage in real time, with Odoo's crons running on their own at default settings.

Starts Odoo (threaded, ``--max-cron-threads=2``, nothing else changed) on a fresh database with
the addon, and local services on 127.0.0.1 that the benchmark takes down and brings back
(``BENCH_DOWN_MODE``: ``hang``, the default, accepts connections and never answers, so every
check of a down service waits for its whole 10 s timeout; ``503`` answers 503 at once). Health
targets are created as a user would, with the default settings except where a baseline says.

1. **One service goes down, then recovers.** Three targets watch it from the same moment:
   the defaults (checked every minute, re-checked every 30 s while failing), fast re-checks
   off (every minute, ``retry_interval_seconds = 0``), and the previous defaults (every 15
   minutes, no re-checks). The outage lasts ``BENCH_OUTAGE_SECONDS`` (600, the ten minutes of
   the issue's report). Per target: seconds from the outage to its ``down`` incident (its
   ``first_seen``), seconds from the recovery to the incident resolved (``resolved_at``), and
   the incidents it opened (want <= 180 s, <= 180 s, 1 with the defaults).
2. **1,000 targets (``BENCH_TARGETS``), 100 (``BENCH_DOWN``) go down at once**, run twice on
   fresh targets: with the defaults, then with fast re-checks off (the baseline). After a
   steady start (every target checked twice), the outage lasts until every down target has
   its incident (at most ``BENCH_CAP`` s, 600), then they recover. Figures: seconds until the
   last of them opened, their incidents, and how late the healthy targets' checks were during
   the outage (gap between two checks of a target minus its 60 s interval: max and p99; want
   all 100 open within 180 s and nothing late by more than 60 s).

Figures, not pass/fail; they are printed and written to ``.bench-results/outage.json``.
``KEEP_DB=1`` keeps the database.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402
import psycopg2  # noqa: E402

from autopilot.testing.http_server import Response  # noqa: E402
from autopilot.testing.probe_targets import Raw, StreamingRoutedServer, _hold  # noqa: E402

DB = "ops_autopilot_bench_outage"
RESULTS = ROOT / ".bench-results"
TARGETS = int(os.environ.get("BENCH_TARGETS", "1000"))
DOWN = int(os.environ.get("BENCH_DOWN", "100"))
DOWN_MODE = os.environ.get("BENCH_DOWN_MODE", "hang")
OUTAGE = int(os.environ.get("BENCH_OUTAGE_SECONDS", "600"))
CAP = int(os.environ.get("BENCH_CAP", "600"))


class Services(StreamingRoutedServer):
    """``/svc/<name>``: 200, or down (hanging or 503) while ``name`` is in :attr:`down`."""

    def __init__(self):
        super().__init__()
        self.down = set()
        for method in ("GET", "HEAD"):
            self.route(method, r"/svc/(?P<name>[\w-]+)", self._svc)

    def dispatch(self, request):  # no request log: hours of checks
        return self._answer(request)

    def _svc(self, request):
        if request.params["name"] not in self.down:
            return Response(200, "OK", {"Content-Type": "text/plain"})
        if DOWN_MODE == "503":
            return Response(503, "down", {"Content-Type": "text/plain"})
        return Raw(lambda handler, stop: _hold(handler, stop, 120))


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def query(sql, params=None):
    conn = psycopg2.connect(dbname=DB, connect_timeout=5)
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        conn.close()


def shell(odoo, code):
    return devenv.odoo_shell(odoo, DB, code, marker="DONE")


def create_targets(odoo, specs):
    """``specs``: ``[(name, url, values)]``; the targets of earlier scenarios are deleted first."""
    path = RESULTS / "outage-targets.json"
    path.write_text(json.dumps(specs))
    shell(
        odoo,
        "import json\n"
        "env['ops.health.target'].sudo().search([]).unlink()\n"
        "env.cr.commit()\n"
        f"specs = json.load(open({str(path)!r}))\n"
        "env['ops.health.target'].sudo().create([{'name': n, 'url': u, **v} for n, u, v in specs])\n"
        "env.cr.commit()\n"
        "print('DONE')\n",
    )
    path.unlink()
    return dict(query("SELECT name, id FROM ops_health_target"))


def wait_for(predicate, timeout, step=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def samples_per_target(ids):
    rows = query("SELECT target_id, count(*) FROM ops_health_sample WHERE target_id = ANY(%s) GROUP BY 1", [ids])
    counts = dict(rows)
    return [counts.get(i, 0) for i in ids]


def incidents(ids):
    """``{target id: [(first_seen, resolved_at, condition, failing_since)]}``."""
    rows = query(
        "SELECT target_id, first_seen, resolved_at, condition, failing_since FROM ops_incident "
        "WHERE target_id = ANY(%s) ORDER BY id",
        [ids],
    )
    found = {}
    for target_id, *rest in rows:
        found.setdefault(target_id, []).append(tuple(rest))
    return found


def seconds(later, earlier):
    return None if later is None or earlier is None else round((later - earlier).total_seconds(), 1)


def lateness(ids, start, end, interval=60):
    """Max and p99 of (gap between consecutive checks - interval) of ``ids`` for checks in [start, end]."""
    rows = query(
        """
        SELECT max(late), percentile_cont(0.99) WITHIN GROUP (ORDER BY late), count(*) FROM (
            SELECT extract(epoch FROM checked_at - lag(checked_at) OVER w) - %s AS late, checked_at
              FROM ops_health_sample WHERE target_id = ANY(%s) WINDOW w AS (PARTITION BY target_id ORDER BY checked_at)
        ) gaps WHERE late IS NOT NULL AND checked_at BETWEEN %s AND %s
        """,
        [interval, ids, start, end],
    )
    late_max, late_p99, gaps = rows[0]
    return {
        "late_max_s": round(float(late_max), 1) if late_max is not None else None,
        "late_p99_s": round(float(late_p99), 1) if late_p99 is not None else None,
        "gaps": gaps,
    }


# ---------------------------------------------------------------------------
def one_service(odoo, services):
    variants = {
        "defaults": {},
        "fast re-checks off": {"retry_interval_seconds": 0},
        "previous defaults": {"interval_minutes": 15, "retry_interval_seconds": 0},
    }
    specs = [(name, services.url + "/svc/one", values) for name, values in variants.items()]
    ids = create_targets(odoo, specs)
    every = list(ids.values())
    print("== one service: steady start", flush=True)
    wait_for(lambda: min(samples_per_target([ids["defaults"]])) >= 2 and min(samples_per_target(every)) >= 1, 300)
    time.sleep(20)  # the outage starts between two checks
    down_at = utcnow()
    services.down.add("one")
    print(f"== one service: down at {down_at:%H:%M:%S} for {OUTAGE} s", flush=True)
    time.sleep(OUTAGE)
    up_at = utcnow()
    services.down.discard("one")
    print(f"== one service: up at {up_at:%H:%M:%S}", flush=True)
    opened = [ids["defaults"], ids["fast re-checks off"]]

    def resolved():
        found = incidents(opened)
        return all(any(r[2] == "down" and r[1] for r in found.get(i, [])) for i in opened)

    wait_for(resolved, CAP, step=2)
    time.sleep(120)  # anything that would open after the recovery
    found = incidents(every)
    out = {}
    for name, target_id in ids.items():
        rows = found.get(target_id, [])
        down = next((r for r in rows if r[2] == "down"), None)
        out[name] = {
            "seconds_to_open": seconds(down[0], down_at) if down else f"not opened after {OUTAGE} s",
            "seconds_to_resolve": seconds(down[1], up_at) if down and down[1] else None,
            "incidents": len(rows),
            "conditions": [r[2] for r in rows],
        }
    return out


def many_services(odoo, services, label, values):
    names = [f"m{index}" for index in range(TARGETS)]
    down = set(names[:: max(TARGETS // DOWN, 1)][:DOWN])
    specs = [(name, f"{services.url}/svc/{name}", values) for name in names]
    ids = create_targets(odoo, specs)
    down_ids = [ids[n] for n in down]
    healthy_ids = [ids[n] for n in names if n not in down]
    print(f"== {TARGETS} targets ({label}): steady start", flush=True)
    started = time.monotonic()
    wait_for(lambda: min(samples_per_target(list(ids.values()))) >= 2, 600, step=3)
    steady_s = round(time.monotonic() - started, 1)
    time.sleep(15)
    down_at = utcnow()
    services.down.update(down)
    print(f"== {TARGETS} targets ({label}): {len(down)} down at {down_at:%H:%M:%S}", flush=True)

    def all_opened():
        found = incidents(down_ids)
        return len([i for i in down_ids if any(r[2] == "down" for r in found.get(i, []))]) == len(down_ids)

    wait_for(all_opened, CAP, step=2)
    time.sleep(30)
    up_at = utcnow()
    services.down.difference_update(down)
    print(f"== {TARGETS} targets ({label}): up at {up_at:%H:%M:%S}", flush=True)

    def all_resolved():
        found = incidents(down_ids)
        return all(all(r[1] for r in found.get(i, [])) for i in down_ids)

    wait_for(all_resolved, CAP, step=2)
    end = utcnow()
    found = incidents(down_ids + healthy_ids)
    opens = [seconds(r[0], down_at) for i in down_ids for r in found.get(i, []) if r[2] == "down"]
    resolves = [seconds(r[1], up_at) for i in down_ids for r in found.get(i, []) if r[2] == "down" and r[1]]
    return {
        "steady_start_s": steady_s,
        "down_targets": len(down_ids),
        "opened": len(opens),
        "seconds_until_last_opened": max(opens) if len(opens) == len(down_ids) else f"{len(opens)} in {CAP} s",
        "seconds_until_first_opened": min(opens) if opens else None,
        "resolved": len(resolves),
        "seconds_until_last_resolved": max(resolves) if len(resolves) == len(down_ids) else f"{len(resolves)}",
        "incidents_per_down_target_max": max((len(found.get(i, [])) for i in down_ids), default=0),
        "incidents_of_healthy_targets": sum(len(found.get(i, [])) for i in healthy_ids),
        "healthy_checks_during_outage": lateness(healthy_ids, down_at, end),
    }


def main():
    RESULTS.mkdir(exist_ok=True)
    odoo = devenv.prepare()
    if not (os.environ.get("KEEP_DB") and devenv.database_exists(DB)):
        devenv.drop_database(DB)
        print(f"== installing the addon in {DB}", flush=True)
        devenv.install_addon(odoo, DB)
    services = Services().start()
    port = devenv.free_port()
    log = RESULTS / "outage-odoo.log"
    log.unlink(missing_ok=True)
    server = subprocess.Popen(
        devenv.odoo_command(
            odoo,
            DB,
            f"--db-filter=^{DB}$",
            "--max-cron-threads=2",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--log-level=warn",
            f"--logfile={log}",
        ),
        env=devenv.odoo_env(odoo),
    )
    figures = {"down_mode": DOWN_MODE, "load_before": os.getloadavg()}
    try:
        devenv.wait_until_up(port)
        figures["one_service"] = one_service(odoo, services)
        print(json.dumps(figures["one_service"], indent=2), flush=True)
        figures["many_defaults"] = many_services(odoo, services, "defaults", {})
        print(json.dumps(figures["many_defaults"], indent=2), flush=True)
        figures["many_fast_rechecks_off"] = many_services(
            odoo, services, "fast re-checks off", {"retry_interval_seconds": 0}
        )
        figures["load_after"] = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        services.stop()
    print(json.dumps(figures, indent=2, default=str))
    (RESULTS / "outage.json").write_text(json.dumps(figures, indent=2, default=str))
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    errors = [line for line in lines if " ERROR " in line]
    if errors:
        print(f"{len(errors)} ERROR lines in {log}", file=sys.stderr)
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
