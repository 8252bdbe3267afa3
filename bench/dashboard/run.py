#!/usr/bin/env python3
"""Benchmark: the dashboard's data RPC and the weekly report render on a large database.

1. Installs the addon (no demo) in ``ops_autopilot_bench_dashboard`` and fills it with fast SQL
   inserts: BENCH_SAMPLES health samples (1,000,000) over BENCH_TARGETS targets (200) at one
   check every 15 minutes, rolled up per hour and per day by the addon's own rollup method;
   BENCH_RUNS workflow runs (100,000) over 20 repositories and 90 days; BENCH_INCIDENTS
   incidents (10,000); 5,000 self-healing re-runs. Rows are cloned from one ORM-created record
   per table, so every required column is filled as the ORM would.
2. Starts Odoo (``--workers=0``, the threaded server) and, over JSON-RPC as the admin user:
   * baseline: ``ops.workflow.run.search_count([])`` — a trivial RPC on the same tables;
   * ``ops.dashboard.get_dashboard_data`` for 7 days (the default screen) and 30 days;
   * the weekly report rendered as HTML (``/report/html/...``), the report's own route;
   * a target's history chart (``ops.health.target.get_history``) over 24 hours, 7 and 30 days, and
     the target kanban's first page (80 cards with their 24-hour sparklines, ``history_spark``):
     both read the rollups only, so they should stay near the baseline at 1M samples.

3. Then adds BENCH_DEPLOYMENTS deployments (100,000) over the 20 repositories' staging and
   production environments and BENCH_DEPLOY_DAYS days (365: a year of an active organisation,
   about 270 deploys a day, 1,900 in the dashboard's 7 days; 90 puts 7,800 in them), with
   BENCH_STATUSES_PER_DEPLOY statuses (2: in progress, then success or, one in ten, failure) and
   BENCH_COMMITS_PER_DEPLOY commits (3, one in two naming a pull request) each, one rollback in
   fifty production deploys and one incident in ten linked to the production deploy before it,
   and measures the dashboard RPC (with its Delivery section, the four DORA keys) and the report
   again: the same calls without and with deployments, in the same run.

Prints median and p95 of each with the row counts; targets: RPC <= 200 ms, report <= 2 s.
Figures, not pass/fail. ``KEEP_DB=1`` keeps the database (and reuses it when it exists; the
deployments are then added only when there are none).
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402

DATABASE = "ops_autopilot_bench_dashboard"
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "1000000"))
TARGETS = int(os.environ.get("BENCH_TARGETS", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "100000"))
INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
DEPLOYMENTS = int(os.environ.get("BENCH_DEPLOYMENTS", "100000"))
STATUSES_PER_DEPLOY = int(os.environ.get("BENCH_STATUSES_PER_DEPLOY", "2"))
COMMITS_PER_DEPLOY = int(os.environ.get("BENCH_COMMITS_PER_DEPLOY", "3"))
DEPLOY_DAYS = int(os.environ.get("BENCH_DEPLOY_DAYS", "365"))

#: Odoo-shell code the fill scripts start with (``%``-formatted with them, hence ``%%``): ``cr``, ``now``,
#: ``timings`` and ``clone``, which INSERTs copies of one ORM-made row with per-row SQL expressions of g
SQL_FILL_PRELUDE = r"""
cr = env.cr
# no enrichment of the company from Odoo's partner-autocomplete service (no outside calls)
if "iap_enrich_auto_done" in env["res.company"]._fields:
    env["res.company"].search([]).write({"iap_enrich_auto_done": True})
now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
timings = {}


def clone(table, template_id, count, overrides):
    # INSERT count copies of one ORM-made row, with per-row SQL expressions of g (1..count)
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %%s", [table])
    columns = [c for (c,) in cr.fetchall() if c != "id"]
    select = [overrides.get(c, "t.%%s" %% c) for c in columns]
    cr.execute(
        "INSERT INTO %%s (%%s) SELECT %%s FROM generate_series(1, %%d) g, %%s t WHERE t.id = %%d"
        %% (table, ", ".join(columns), ", ".join(select), count, table, template_id)
    )
"""

FILL = (
    r"""
import time
from datetime import timedelta
from odoo import fields
"""
    + SQL_FILL_PRELUDE
    + r"""
SAMPLES, TARGETS, RUNS, INCIDENTS = %(samples)d, %(targets)d, %(runs)d, %(incidents)d


started = time.perf_counter()
repos = env["ops.repository"].create([{"full_name": "bench/repo-%%02d" %% i} for i in range(20)])
targets = env["ops.health.target"].create(
    [{"name": "target-%%03d" %% i, "url": "http://127.0.0.1:9/%%d" %% i, "active": False} for i in range(TARGETS)]
)
run = env["ops.workflow.run"].create({"repository_id": repos[0].id, "github_id": 1, "name": "CI",
                                      "status": "completed", "conclusion": "success", "outcome": "success"})
names = "(ARRAY['CI','Lint','Tests','Deploy','Nightly'])[1 + g %% 5]"
outcome = "(CASE WHEN g %% 7 = 0 THEN 'failure' WHEN g %% 31 = 0 THEN 'cancelled' ELSE 'success' END)"
clone("ops_workflow_run", run.id, RUNS - 1, {
    "github_id": "g + 1",
    "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
    "name": names,
    "workflow_path": "'.github/workflows/' || lower(%%s) || '.yml'" %% names,
    "conclusion": outcome,
    "outcome": outcome,
    "started_at": "'%%s'::timestamp - (g * interval '%%s seconds')" %% (now, int(90 * 86400 / RUNS)),
    "finished_at": "'%%s'::timestamp - (g * interval '%%s seconds') + interval '5 minutes'"
    %% (now, int(90 * 86400 / RUNS)),
    "duration": "120 + (g * 7919) %% 1200",
    "run_number": "g",
})
timings["runs"] = time.perf_counter() - started

started = time.perf_counter()
per_target = SAMPLES // TARGETS
cr.execute(
    '''
    INSERT INTO ops_health_sample (target_id, company_id, checked_at, up, status_code, response_ms, error,
                                   cpu_percent, memory_percent)
    SELECT t.id, t.company_id, %%s::timestamp - s * interval '15 minutes',
           (s * 7 + t.id) %%%% 97 <> 0,
           CASE WHEN (s * 7 + t.id) %%%% 97 <> 0 THEN 200 ELSE 503 END,
           100 + ((s * 7919 + t.id * 104729) %%%% 900),
           NULL, 20 + ((s * 31 + t.id) %%%% 70), 40 + ((s * 17 + t.id) %%%% 50)
      FROM ops_health_target t, generate_series(0, %%s - 1) s
     WHERE t.id = ANY(%%s)
    ''',
    [now, per_target, targets.ids],
)
timings["samples"] = time.perf_counter() - started
started = time.perf_counter()
span = timedelta(minutes=15 * per_target + 60)
env["ops.health.sample.hourly"]._rollup(now - span, now + timedelta(hours=1))
timings["hourly_rollup"] = time.perf_counter() - started
started = time.perf_counter()
env["ops.health.sample.daily"]._rollup(now - span, now + timedelta(days=1))
timings["daily_rollup"] = time.perf_counter() - started

started = time.perf_counter()
incident = env["ops.incident"].create({"title": "bench", "dedup_key": "bench:0", "source": "health",
                                       "target_id": targets[0].id, "first_seen": now, "last_seen": now})
step = int(60 * 86400 / INCIDENTS)
clone("ops_incident", incident.id, INCIDENTS - 1, {
    "name": "'INC-B' || g",
    "title": "'Incident ' || g",
    "dedup_key": "'bench:' || g",
    "source": "(ARRAY['health','ci','scan'])[1 + g %% 3]",
    "severity": "(ARRAY['low','medium','high','critical'])[1 + g %% 4]",
    "severity_rank": "g %% 4",
    "target_id": "(ARRAY%%s)[1 + g %%%% %%d]" %% (targets.ids, TARGETS),
    "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
    "first_seen": "'%%s'::timestamp - g * interval '%%s seconds'" %% (now, step),
    "last_seen": "'%%s'::timestamp - g * interval '%%s seconds'" %% (now, step),
    "state": "(CASE WHEN g %% 10 = 0 THEN 'open' ELSE 'resolved' END)",
    "state_rank": "(CASE WHEN g %% 10 = 0 THEN 0 ELSE 4 END)",
    "resolved_at": "(CASE WHEN g %%%% 10 = 0 THEN NULL ELSE '%%s'::timestamp - g * interval '%%s seconds' "
                   "+ (g %%%% 40) * interval '1 minute' END)" %% (now, step),
    "time_to_resolve": "(CASE WHEN g %% 10 = 0 THEN 0 ELSE g %% 40 END)",
    "false_positive": "g %% 23 = 0",
    "false_positive_ratio": "(CASE WHEN g %% 23 = 0 THEN 100 ELSE 0 END)",
})
action = env["ops.remediation.action"].create({"kind": "rerun_jobs", "state": "succeeded",
                                               "repository_id": repos[0].id, "finished_at": now})
clone("ops_remediation_action", action.id, 4999, {
    "state": "(CASE WHEN g %% 5 = 0 THEN 'failed' ELSE 'succeeded' END)",
    "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
    "finished_at": "'%%s'::timestamp - g * interval '15 minutes'" %% now,
    "requested_at": "'%%s'::timestamp - g * interval '15 minutes'" %% now,
})
timings["incidents_actions"] = time.perf_counter() - started
cr.commit()
cr.execute("ANALYZE")
cr.commit()  # ANALYZE is transactional: without this commit the shell's rollback drops the statistics
counts = {}
for table in ("ops_health_sample", "ops_health_sample_hourly", "ops_health_sample_daily", "ops_workflow_run",
              "ops_incident", "ops_remediation_action", "ops_health_target"):
    cr.execute("SELECT count(*) FROM %%s" %% table)
    counts[table] = cr.fetchone()[0]
print("FILLED", json.dumps({"counts": counts, "timings": timings}))
"""
)

COUNTS = """
import json
counts = {}
for table in ("ops_health_sample", "ops_health_sample_hourly", "ops_health_sample_daily", "ops_workflow_run",
              "ops_incident", "ops_remediation_action", "ops_health_target"):
    env.cr.execute("SELECT count(*) FROM %s" % table)
    counts[table] = env.cr.fetchone()[0]
print("FILLED", json.dumps({"counts": counts, "timings": {}}))
"""


DEPLOY_FILL = r"""
import time
from odoo import fields

cr = env.cr
DEPLOYMENTS, STATUSES, COMMITS, DEPLOY_DAYS = %(deployments)d, %(statuses)d, %(commits)d, %(days)d
cr.execute("SELECT count(*) FROM ops_deployment")
if cr.fetchone()[0]:
    DEPLOYMENTS = 0  # already filled (KEEP_DB)
now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
timings = {}
started = time.perf_counter()
repos = env["ops.repository"].search([("full_name", "=like", "bench/repo-%%")], order="full_name")
Environment = env["ops.deployment.environment"]
envs = []
for repo in repos:
    envs += [Environment._find_or_create(repo, "staging").id, Environment._find_or_create(repo, "production").id]
if DEPLOYMENTS:
    template = env["ops.deployment"].create({"repository_id": repos[0].id, "environment_id": envs[1],
                                            "github_id": 0, "sha": "0" * 40, "created_at": now, "state": "success",
                                            "succeeded_at": now, "finished_at": now})
    step = DEPLOY_DAYS * 86400 / DEPLOYMENTS
    created = "('%%s'::timestamp - g * interval '%%s seconds')" %% (now, step)
    failed = "((g / 20 + g / 40) %% 10 = 3)"  # one deploy in ten of every repository and environment
    # repository g mod 20; environment: staging on even rounds of 20 deploys, production on odd ones
    environment = "(ARRAY%%s)[1 + (g %%%% 20) * 2 + (g / 20) %%%% 2]" %% envs
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'ops_deployment'")
    columns = [c for (c,) in cr.fetchall() if c != "id"]
    overrides = {
        "github_id": "g",
        "repository_id": "(ARRAY%%s)[1 + g %%%% 20]" %% repos.ids,
        "environment_id": environment,
        "is_production": "((g / 20) %% 2 = 1)",
        "sha": "md5(g::text) || '00000000'",
        "created_at": created,
        "state": "(CASE WHEN %%s THEN 'failure' ELSE 'success' END)" %% failed,
        "succeeded_at": "(CASE WHEN %%s THEN NULL ELSE %%s + interval '5 minutes' END)" %% (failed, created),
        "finished_at": "%%s + interval '5 minutes'" %% created,
        "failed_at": "(CASE WHEN %%s THEN %%s + interval '5 minutes' END)" %% (failed, created),
        "is_rollback": "((g / 20) %% 50 = 7)",  # production deploys of every repository, one round in 50
        "commits_state": "'done'",
    }
    select = [overrides.get(c, "t.%%s" %% c) for c in columns]
    cr.execute(
        "INSERT INTO ops_deployment (%%s) SELECT %%s FROM generate_series(1, %%d) g, ops_deployment t WHERE t.id = %%d"
        %% (", ".join(columns), ", ".join(select), DEPLOYMENTS, template.id)
    )
    cr.execute("DELETE FROM ops_deployment WHERE id = %%s", [template.id])
    timings["deployments"] = time.perf_counter() - started
    started = time.perf_counter()
    cr.execute(
        "INSERT INTO ops_deployment_status (deployment_id, github_id, state, created_at, applied,"
        "                                   create_uid, create_date, write_uid, write_date)"
        " SELECT d.id, d.github_id * 10 + s, CASE WHEN s < %%s THEN 'in_progress' ELSE d.state END,"
        "        d.created_at + s * interval '1 minute', true, 1, now(), 1, now()"
        "   FROM ops_deployment d, generate_series(1, %%s) s",
        [STATUSES, STATUSES],
    )
    cr.execute(
        "INSERT INTO ops_deployment_commit (deployment_id, sequence, sha, message, author, committed_at,"
        "                                   pull_request_numbers, create_uid, create_date, write_uid, write_date)"
        " SELECT d.id, s, md5(d.id::text || '-' || s), 'Change ' || s, 'dev',"
        "        d.created_at - ((d.id * 7919 + s * 104729) %%%% 4320) * interval '1 minute',"
        "        CASE WHEN (d.id + s) %%%% 2 = 0 THEN '#' || (d.id / 3) END, 1, now(), 1, now()"
        "   FROM ops_deployment d, generate_series(1, %%s) s",
        [COMMITS],
    )
    timings["statuses_commits"] = time.perf_counter() - started
    started = time.perf_counter()
    # one incident in ten blamed on the production deploy of its repository just before it
    cr.execute(
        "UPDATE ops_incident i SET deployment_id = ("
        "    SELECT d.id FROM ops_deployment d"
        "     WHERE d.is_production AND d.repository_id = i.repository_id AND d.created_at <= i.first_seen"
        "  ORDER BY d.created_at DESC LIMIT 1)"
        " WHERE i.id %% 10 = 0"
    )
    cr.execute(
        "UPDATE ops_incident i SET deployment_environment_id = d.environment_id"
        "  FROM ops_deployment d WHERE d.id = i.deployment_id"
    )
    timings["incident_links"] = time.perf_counter() - started
    cr.commit()
    cr.execute("ANALYZE")
    cr.commit()
counts = {}
for table in ("ops_deployment", "ops_deployment_status", "ops_deployment_commit", "ops_deployment_environment"):
    cr.execute("SELECT count(*) FROM %%s" %% table)
    counts[table] = cr.fetchone()[0]
cr.execute("SELECT count(*) FROM ops_incident WHERE deployment_id IS NOT NULL")
counts["ops_incident linked to a deploy"] = cr.fetchone()[0]
print("FILLED", json.dumps({"counts": counts, "timings": timings}))
"""


def shell_figures(odoo, code):
    """Run ``code`` in an Odoo shell on the bench database; return the JSON it prints after ``FILLED``."""
    out = devenv.odoo_shell(odoo, DATABASE, "import json\n" + code, marker="FILLED")
    return json.loads(out.split("FILLED", 1)[1].strip().splitlines()[0])


def prepare(odoo):
    if os.environ.get("KEEP_DB") and devenv.database_exists(DATABASE):
        print(f"== reusing {DATABASE}", flush=True)
        return shell_figures(odoo, COUNTS)
    devenv.drop_database(DATABASE)
    print(f"== installing the addon in {DATABASE}", flush=True)
    devenv.install_addon(odoo, DATABASE)
    print(f"== filling: {SAMPLES} samples, {RUNS} runs, {INCIDENTS} incidents", flush=True)
    code = FILL % {"samples": SAMPLES, "targets": TARGETS, "runs": RUNS, "incidents": INCIDENTS}
    return shell_figures(odoo, code)


def timed(call, repeat=REPEAT, warmup=2):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[max(int(len(times) * 0.95) - 1, 0)],
        "n": len(times),
    }


def measure_target_history(rpc):
    """A target's history chart over 24 h, 7 and 30 days, and the target kanban's first page (80 cards)."""
    inactive = {"context": {"active_test": False}}  # the bench's targets are archived: no cron checks them
    [target_id] = rpc("ops.health.target", "search", [], limit=1, **inactive)
    history = {
        period: timed(lambda period=period: rpc("ops.health.target", "get_history", [target_id], period))
        for period in ("24h", "7d", "30d")
    }
    fields = ["name", "status", "history_spark", "interval_human"]
    kanban = timed(lambda: rpc("ops.health.target", "search_read", [], fields, limit=80, **inactive))
    chart_checks = sum(rpc("ops.health.target", "get_history", [target_id], "30d")["checks"])
    return history, kanban, chart_checks


def measure_with_deployments(odoo, rpc, report):
    """Add the deployments to the running server's database, then time the same calls again."""
    print(f"== adding {DEPLOYMENTS} deployments to the running server's database", flush=True)
    deployed = shell_figures(
        odoo,
        DEPLOY_FILL
        % {
            "deployments": DEPLOYMENTS,
            "statuses": STATUSES_PER_DEPLOY,
            "commits": COMMITS_PER_DEPLOY,
            "days": DEPLOY_DAYS,
        },
    )
    with_deploys = {
        "baseline": timed(lambda: rpc("ops.workflow.run", "search_count", [])),
        "week": timed(lambda: rpc("ops.dashboard", "get_dashboard_data", {"period": "7d"})),
        "month": timed(lambda: rpc("ops.dashboard", "get_dashboard_data", {"period": "30d"})),
        "report": timed(report, repeat=max(REPEAT // 3, 3), warmup=1),
    }
    return deployed, with_deploys, rpc("ops.dashboard", "get_dashboard_data", {"period": "7d"})["delivery"]


def print_with_deployments(deployed, without, with_deploys, delivery):
    """The same calls without and with the deployments, side by side, and the Delivery section's keys."""
    print()
    print("with deployments: " + ", ".join(f"{table} {count:,}" for table, count in deployed["counts"].items()))
    if deployed["timings"]:
        print("fill (s): " + ", ".join(f"{k} {v:.1f}" for k, v in deployed["timings"].items()))
    print(f"{'call, without -> with deployments':<48}{'median ms':>20}{'p95 ms':>20}")
    for label, key in (
        ("baseline: ops.workflow.run.search_count([])", "baseline"),
        ("ops.dashboard.get_dashboard_data 7 days", "week"),
        ("ops.dashboard.get_dashboard_data 30 days", "month"),
        ("weekly report, HTML render (/report/html)", "report"),
    ):
        before, after = without[key], with_deploys[key]
        print(
            f"{label:<48}{before['median_ms']:>9.1f} -> {after['median_ms']:>7.1f}"
            f"{before['p95_ms']:>9.1f} -> {after['p95_ms']:>7.1f}"
        )
    print(
        f"dashboard RPC (7 days) with {deployed['counts']['ops_deployment']:,} deployments: "
        f"{with_deploys['week']['median_ms']:.0f} ms median, p95 {with_deploys['week']['p95_ms']:.0f} ms "
        f"(without: {without['week']['median_ms']:.0f} ms; target <= 200 ms)"
    )
    print("delivery (7 days): " + ", ".join(f"{k['key']} {k['display']} ({k['band']})" for k in delivery["keys"]))


def main():
    odoo = devenv.prepare()
    filled = prepare(odoo)
    port = devenv.free_port()
    server = subprocess.Popen(
        devenv.odoo_command(
            odoo,
            DATABASE,
            f"--db-filter=^{DATABASE}$",
            "--workers=0",
            "--max-cron-threads=0",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--log-level=warn",
        ),
        env=devenv.odoo_env(odoo),
    )
    try:
        devenv.wait_until_up(port, timeout=180)
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        login = session.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": DATABASE, "login": "admin", "password": "admin"}},
            timeout=60,
        ).json()
        if login.get("error"):
            raise RuntimeError(login["error"])

        def rpc(model, method, *args, **kwargs):
            answer = session.post(
                f"{base}/web/dataset/call_kw/{model}/{method}",
                json={
                    "jsonrpc": "2.0",
                    "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
                },
                timeout=120,
            ).json()
            if answer.get("error"):
                raise RuntimeError(answer["error"]["data"]["message"])
            return answer["result"]

        def report():
            options = json.dumps({"filters": {"period": "7d"}})
            response = session.get(
                f"{base}/report/html/ops_autopilot.report_ops_health", params={"options": options}, timeout=120
            )
            response.raise_for_status()
            if b"o_ops_health_report" not in response.content:
                raise RuntimeError("the report did not render")

        baseline = timed(lambda: rpc("ops.workflow.run", "search_count", []))
        week = timed(lambda: rpc("ops.dashboard", "get_dashboard_data", {"period": "7d"}))
        month = timed(lambda: rpc("ops.dashboard", "get_dashboard_data", {"period": "30d"}))
        rendered = timed(report, repeat=max(REPEAT // 3, 3), warmup=1)
        history, kanban, chart_checks = measure_target_history(rpc)
        sample = rpc("ops.dashboard", "get_dashboard_data", {"period": "7d"})
        deployed, with_deploys, delivery = measure_with_deployments(odoo, rpc, report)
    finally:
        server.terminate()
        server.wait(timeout=60)
    print()
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in filled["counts"].items()))
    if filled["timings"]:
        print("fill (s): " + ", ".join(f"{k} {v:.1f}" for k, v in filled["timings"].items()))
    print()
    print(f"{'call (JSON-RPC over HTTP, as admin)':<48}{'median ms':>12}{'p95 ms':>10}{'n':>5}")
    for label, figures in (
        ("baseline: ops.workflow.run.search_count([])", baseline),
        ("ops.dashboard.get_dashboard_data 7 days", week),
        ("ops.dashboard.get_dashboard_data 30 days", month),
        ("weekly report, HTML render (/report/html)", rendered),
        ("target history chart 24 h (get_history)", history["24h"]),
        ("target history chart 7 days (get_history)", history["7d"]),
        ("target history chart 30 days (get_history)", history["30d"]),
        ("target kanban, 80 cards with sparklines", kanban),
    ):
        print(f"{label:<48}{figures['median_ms']:>12.1f}{figures['p95_ms']:>10.1f}{figures['n']:>5}")
    print()
    print(
        f"dashboard RPC (7 days): {week['median_ms']:.0f} ms median, p95 {week['p95_ms']:.0f} ms "
        f"(target <= 200 ms; baseline RPC {baseline['median_ms']:.0f} ms)"
    )
    print(
        f"weekly report render:   {rendered['median_ms'] / 1000:.2f} s median, p95 {rendered['p95_ms'] / 1000:.2f} s "
        "(target <= 2 s)"
    )
    print(
        f"target history chart (30 days, {chart_checks:,} checks of one target): "
        f"{history['30d']['median_ms']:.0f} ms median, p95 {history['30d']['p95_ms']:.0f} ms "
        f"(baseline RPC {baseline['median_ms']:.0f} ms); kanban page {kanban['median_ms']:.0f} ms"
    )
    tiles = {t["key"]: t["display"] for t in sample["tiles"]}
    print("tiles (7 days): " + ", ".join(f"{k} {v}" for k, v in tiles.items()))
    print_with_deployments(
        deployed, {"baseline": baseline, "week": week, "month": month, "report": rendered}, with_deploys, delivery
    )
    (ROOT / ".bench-results").mkdir(exist_ok=True)
    (ROOT / ".bench-results" / "dashboard.json").write_text(
        json.dumps(
            {
                "counts": filled["counts"],
                "baseline": baseline,
                "week": week,
                "month": month,
                "report": rendered,
                "history": history,
                "kanban": kanban,
                "with_deployments": {"counts": deployed["counts"], **with_deploys},
            },
            indent=2,
        )
    )
    if not os.environ.get("KEEP_DB"):
        devenv.drop_database(DATABASE)


if __name__ == "__main__":
    main()
