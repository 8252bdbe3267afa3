#!/usr/bin/env python3
"""Benchmark: the dashboard's cost panel and the cost cron on a large database.

1. Installs the addon (no demo) in ``ops_autopilot_bench_cost`` and fills it with fast SQL inserts
   cloned from ORM-made rows: BENCH_COST_RUNS workflow runs (50,000) over 20 repositories and 90
   days, four jobs each (200,000 jobs; one run in 10 re-run, its jobs in two attempts) on a mix of
   runner labels, BENCH_COST_REVIEWS AI reviews (5,000), a monthly budget on every repository.
2. In an Odoo shell on that database, as the admin user, median and p95 of BENCH_REPEAT calls:
   * baseline: ``ops.workflow.job.search_count([])`` (a trivial query on the same table);
   * ``ops.dashboard._cost_data`` for 7 and 30 days (all repositories), i.e. the ``cost`` key of the
     dashboard RPC;
   * the budget check of the cost cron (``ops.repository._cost_check_budgets``);
   and once: pricing BENCH_COST_UNPRICED completed jobs (20,000) with the cron's backfill (jobs/s).
   Measured as filled, then after ``VACUUM`` (the cost panel's scans read a covering index only
   when the table's pages are marked all-visible, as autovacuum leaves rows that no longer change).

Figures, not pass/fail. ``KEEP_DB=1`` keeps the database (and reuses it when it exists).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402

from bench.dashboard import run as dashboard  # noqa: E402

DATABASE = "ops_autopilot_bench_cost"
RUNS = int(os.environ.get("BENCH_COST_RUNS", "50000"))
REVIEWS = int(os.environ.get("BENCH_COST_REVIEWS", "5000"))
UNPRICED = int(os.environ.get("BENCH_COST_UNPRICED", "20000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))

FILL = (
    r"""
import time
from odoo import fields
"""
    + dashboard.SQL_FILL_PRELUDE
    + r"""
RUNS, REVIEWS, UNPRICED = %(runs)d, %(reviews)d, %(unpriced)d

started = time.perf_counter()
repos = env["ops.repository"].create([{"full_name": "bench/repo-%%02d" %% i, "cost_budget": 50.0} for i in range(20)])
run = env["ops.workflow.run"].create({"repository_id": repos[0].id, "github_id": 1, "name": "CI",
                                      "status": "completed", "conclusion": "success", "outcome": "success"})
step = int(90 * 86400 / RUNS)
names = "(ARRAY['CI','Lint','Tests','Deploy','Nightly'])[1 + g %% 5]"
clone("ops_workflow_run", run.id, RUNS - 1, {
    "github_id": "g + 1",
    "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
    "name": names,
    "run_attempt": "(CASE WHEN g %% 10 = 0 THEN 2 ELSE 1 END)",
    "started_at": "'%%s'::timestamp - (g * interval '%%s seconds')" %% (now, step),
})
job = env["ops.workflow.job"].create({"repository_id": repos[0].id, "run_id": run.id, "github_id": 1, "name": "test",
                                      "workflow_name": "CI", "status": "completed", "conclusion": "success",
                                      "outcome": "success", "started_at": now, "duration": 60,
                                      "labels": "ubuntu-latest"})
job._ops_price()
# four jobs per run (g = 4 * run + k); a re-run run's first two jobs are its attempt 1
labels = "(ARRAY['ubuntu-latest','ubuntu-latest','windows-latest','macos-14','ubuntu-latest-4-cores','self-hosted'])"
minutes = "(1 + (g * 7919) %% 20)"
rates = "(ARRAY[0.006, 0.006, 0.010, 0.062, 0.012, 0.0])"
outcome = "(CASE WHEN g %% 13 = 0 THEN 'failure' ELSE 'success' END)"
cr.execute("SELECT min(id) FROM ops_workflow_run")
first_run = cr.fetchone()[0]
clone("ops_workflow_job", job.id, 4 * RUNS - 1, {
    "github_id": "g + 1",
    "run_id": "%%d + g / 4" %% first_run,
    "repository_id": "(SELECT r.repository_id FROM ops_workflow_run r WHERE r.id = %%d + g / 4)" %% first_run,
    "workflow_name": "(SELECT r.name FROM ops_workflow_run r WHERE r.id = %%d + g / 4)" %% first_run,
    "run_attempt": "(CASE WHEN (g / 4) %% 10 = 0 AND g %% 4 < 2 THEN 1 WHEN (g / 4) %% 10 = 0 THEN 2 ELSE 1 END)",
    "name": "'job-' || (g %% 4)",
    "conclusion": outcome,
    "outcome": outcome,
    "started_at": "'%%s'::timestamp - ((g / 4) * interval '%%s seconds')" %% (now, step),
    "duration": "%%s * 60 - 15" %% minutes,
    "labels": "%%s[1 + g %%%% 6]" %% labels,
    "runner_type": "(ARRAY['linux','linux','windows','macos','linux_4_core','self_hosted'])[1 + g %% 6]",
    "billable_minutes": "(CASE WHEN g %%%% 6 = 5 THEN 0 ELSE %%s END)" %% minutes,
    "cost": "%%s * %%s[1 + g %%%% 6]" %% (minutes, rates),
    "cost_priced": "g > %%d" %% UNPRICED,
    "cost_superseded": "((g / 4) %% 10 = 0 AND g %% 4 < 2)",
})
timings["runs_jobs"] = time.perf_counter() - started
started = time.perf_counter()
review = env["ops.review"].create({"repository_id": repos[0].id, "state": "done"})
review.write({"ai_called_at": now, "input_tokens": 20000, "output_tokens": 2000, "cost": 0.09})
clone("ops_review", review.id, REVIEWS - 1, {
    "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
    "ai_called_at": "'%%s'::timestamp - g * interval '%%s seconds'" %% (now, int(90 * 86400 / REVIEWS)),
})
timings["reviews"] = time.perf_counter() - started
cr.commit()
cr.execute("ANALYZE")
cr.commit()
counts = {}
for table in ("ops_workflow_run", "ops_workflow_job", "ops_review"):
    cr.execute("SELECT count(*) FROM %%s" %% table)
    counts[table] = cr.fetchone()[0]
cr.execute("SELECT count(*) FROM ops_workflow_job WHERE cost_priced IS NOT TRUE")
counts["unpriced_jobs"] = cr.fetchone()[0]
print("FILLED", json.dumps({"counts": counts, "timings": timings}))
"""
)

MEASURE = r"""
import json, statistics, time
REPEAT = %(repeat)d

def timed(call, repeat=REPEAT, warmup=2):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        env.invalidate_all()
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}

import threading
threading.current_thread().testing = True  # the backfill must not commit: this measure is rolled back
Dashboard = env["ops.dashboard"]
Job = env["ops.workflow.job"]
figures = {
    "baseline_search_count": timed(lambda: Job.search_count([])),
    "cost_data_7d": timed(lambda: Dashboard._cost_data(Dashboard._dashboard_scope({"period": "7d"}))),
    "cost_data_30d": timed(lambda: Dashboard._cost_data(Dashboard._dashboard_scope({"period": "30d"}))),
    "budget_check": timed(lambda: env["ops.repository"]._cost_check_budgets(), repeat=5, warmup=1),
}
env.cr.execute("SELECT count(*) FROM ops_workflow_job WHERE cost_priced IS NOT TRUE")
unpriced = env.cr.fetchone()[0]
started = time.perf_counter()
priced = Job._cron_backfill_cost()
seconds = time.perf_counter() - started
figures["backfill"] = {"jobs": priced, "unpriced_before": unpriced, "seconds": round(seconds, 2),
                       "jobs_per_s": round(priced / seconds) if seconds else None}
env.cr.rollback()
print("MEASURED", json.dumps(figures))
"""


VACUUM = r"""
env.cr.commit()
env.cr._cnx.autocommit = True
env.cr.execute("VACUUM ANALYZE ops_workflow_job")
env.cr.execute("VACUUM ANALYZE ops_review")
env.cr._cnx.autocommit = False
print("VACUUMED", json.dumps({}))
"""


def shell_json(odoo, code, marker):
    out = devenv.odoo_shell(odoo, DATABASE, "import json\n" + code, marker=marker)
    return json.loads(out.split(marker, 1)[1].strip().splitlines()[0])


def main():
    odoo = devenv.prepare()
    if os.environ.get("KEEP_DB") and devenv.database_exists(DATABASE):
        print(f"== reusing {DATABASE}", flush=True)
    else:
        devenv.drop_database(DATABASE)
        print(f"== installing the addon in {DATABASE}", flush=True)
        devenv.install_addon(odoo, DATABASE)
        print(f"== filling: {RUNS} runs, {4 * RUNS} jobs, {REVIEWS} reviews", flush=True)
        filled = shell_json(odoo, FILL % {"runs": RUNS, "reviews": REVIEWS, "unpriced": UNPRICED}, "FILLED")
        print(f"   rows: {filled['counts']}; fill seconds: {filled['timings']}", flush=True)
    for state in ("as filled (not vacuumed)", "after VACUUM (what autovacuum leaves for settled rows)"):
        if state.startswith("after"):
            shell_json(odoo, VACUUM, "VACUUMED")
        figures = shell_json(odoo, MEASURE % {"repeat": REPEAT}, "MEASURED")
        print(f"-- {state}")
        base = figures["baseline_search_count"]
        print(f"baseline ops.workflow.job.search_count([]): median {base['median_ms']} ms, p95 {base['p95_ms']} ms")
        for key in ("cost_data_7d", "cost_data_30d", "budget_check"):
            f = figures[key]
            print(f"{key}: median {f['median_ms']} ms, p95 {f['p95_ms']} ms")
        b = figures["backfill"]
        print(f"backfill: {b['jobs']} jobs priced in {b['seconds']} s ({b['jobs_per_s']} jobs/s; rolled back)")
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DATABASE)


if __name__ == "__main__":
    main()
