#!/usr/bin/env python3
"""Benchmark: one business signal check over BENCH_RECORDS (1,000,000) records of the watched model.

1. Installs the addon (no demo) in ``ops_autopilot_bench_business_signal`` and fills
   ``res_partner`` (a community model every database has) with BENCH_RECORDS contacts cloned from
   one ORM-created partner, their ``create_date`` spread over the last 8 weeks (about 186 per
   quarter hour at 1M), one in five a company.
2. In an Odoo shell, times (median and p95 of BENCH_REPEAT runs, each rolled back):
   * baseline: a plain ``search_count`` of the same 15-minute interval (``create_date`` range);
   * the check of a signal on all contacts (``ops.business.signal._check`` of one interval: the
     first record's time, the observed interval and 6 weeks of history in one grouped query, the
     interval recorded, the state and incidents updated);
   * the same for a signal whose domain is fixed (companies only, ``is_company = true``);
   first without an index on ``create_date`` (Odoo creates none), then with a btree index on it,
   then with a partial index for the fixed domain (``WHERE is_company``): the index advice of
   docs/business-signals.md.

Target: a check <= 100 ms. Figures, not pass/fail. ``KEEP_DB=1`` keeps the database (and reuses it).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402

DATABASE = "ops_autopilot_bench_business_signal"
RECORDS = int(os.environ.get("BENCH_RECORDS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))

FILL = r"""
import time
from odoo import fields

cr = env.cr
if "iap_enrich_auto_done" in env["res.company"]._fields:
    env["res.company"].search([]).write({"iap_enrich_auto_done": True})
now = fields.Datetime.now().replace(second=0, microsecond=0)
started = time.perf_counter()
template = env["res.partner"].create({"name": "bench template"})
cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner'")
columns = [c for (c,) in cr.fetchall() if c not in ("id",)]
overrides = {
    "name": "'Contact ' || g",
    "complete_name": "'Contact ' || g",
    "is_company": "g %% 5 = 0",
    "create_date": "'%%s'::timestamp - (g * interval '%%s milliseconds')"
    %% (now, int(8 * 7 * 86400 * 1000 / %(records)d)),
}
select = [overrides.get(c, "t.%%s" %% c) for c in columns]
cr.execute(
    "INSERT INTO res_partner (%%s) SELECT %%s FROM generate_series(1, %%d) g, res_partner t WHERE t.id = %%d"
    %% (", ".join(columns), ", ".join(select), %(records)d - 1, template.id)
)
cr.commit()
cr.execute("ANALYZE res_partner")
cr.commit()
cr.execute("SELECT count(*) FROM res_partner")
print("FILLED", json.dumps({"records": cr.fetchone()[0], "seconds": time.perf_counter() - started}))
"""

MEASURE = r"""
import statistics
import time
from datetime import timedelta
from odoo import fields
from odoo.addons.ops_autopilot.autopilot.business import signals

cr = env.cr
REPEAT = %(repeat)d
now = fields.Datetime.now()
Fields = env["ir.model.fields"]
Signal = env["ops.business.signal"]
common = {
    "model_id": env["ir.model"]._get("res.partner").id,
    "time_field_id": Fields._get("res.partner", "create_date").id,
    "tz": "Europe/Brussels",
    "history_weeks": 6,
}
every = Signal.create({**common, "name": "all contacts", "domain": "[]"})
companies = Signal.create({**common, "name": "companies", "domain": "[('is_company', '=', True)]"})
cr.commit()
start, end = signals.last_interval(now, 15, "Europe/Brussels")
previous = start - timedelta(minutes=15)


def timed(call):
    call()
    cr.rollback()
    env.invalidate_all()
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cr.rollback()
        env.invalidate_all()
    times.sort()
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2)}


def check(signal):
    def run():
        signal.last_interval_start = previous
        signal._check(now)
        if signal.last_interval_start != start or signal.last_error:
            raise RuntimeError("the check did not check the interval: %%s" %% signal.last_error)
    return run


Partner = env["res.partner"].sudo()
plain = lambda: Partner.search_count([("create_date", ">=", start), ("create_date", "<", end)])
plain_companies = lambda: Partner.search_count(
    [("is_company", "=", True), ("create_date", ">=", start), ("create_date", "<", end)]
)
results = {"interval_count": plain(), "interval_companies": plain_companies()}
cr.execute("DROP INDEX IF EXISTS res_partner_create_date_bench_idx")
cr.execute("DROP INDEX IF EXISTS res_partner_company_create_date_bench_idx")
cr.commit()
for phase, ddl in (
    ("no index", None),
    ("btree (create_date)", "CREATE INDEX res_partner_create_date_bench_idx ON res_partner (create_date)"),
    (
        "+ partial (create_date) WHERE is_company",
        "CREATE INDEX res_partner_company_create_date_bench_idx ON res_partner (create_date) WHERE is_company",
    ),
):
    if ddl:
        cr.execute(ddl)
        cr.execute("ANALYZE res_partner")
        cr.commit()
    results[phase] = {
        "search_count": timed(plain),
        "check": timed(check(every)),
        "search_count companies": timed(plain_companies),
        "check companies": timed(check(companies)),
    }
cr.execute("DROP INDEX IF EXISTS res_partner_create_date_bench_idx")
cr.execute("DROP INDEX IF EXISTS res_partner_company_create_date_bench_idx")
Signal.browse([every.id, companies.id]).unlink()
cr.commit()
print("MEASURED", json.dumps(results))
"""


def prepare(odoo):
    if os.environ.get("KEEP_DB") and devenv.database_exists(DATABASE):
        print(f"== reusing {DATABASE}", flush=True)
        return None
    devenv.drop_database(DATABASE)
    print(f"== installing the addon in {DATABASE}", flush=True)
    devenv.install_addon(odoo, DATABASE)
    print(f"== filling: {RECORDS} contacts over 8 weeks", flush=True)
    out = devenv.odoo_shell(odoo, DATABASE, "import json\n" + FILL % {"records": RECORDS}, marker="FILLED")
    return json.loads(out.split("FILLED", 1)[1].strip().splitlines()[0])


def main():
    odoo = devenv.prepare()
    try:
        filled = prepare(odoo)
        if filled:
            print(f"== {filled['records']:,} contacts in res_partner, filled in {filled['seconds']:.0f} s", flush=True)
        code = "import json\n" + MEASURE % {"repeat": REPEAT}
        out = devenv.odoo_shell(odoo, DATABASE, code, marker="MEASURED")
        results = json.loads(out.split("MEASURED", 1)[1].strip().splitlines()[0])
    finally:
        if not os.environ.get("KEEP_DB"):
            devenv.drop_database(DATABASE)
    print(
        f"records in the checked interval: {results.pop('interval_count')} "
        f"(companies {results.pop('interval_companies')}); median / p95 of {REPEAT} runs, ms"
    )
    print(f"{'index':<42} {'what':<24} {'median':>8} {'p95':>8}")
    for phase, figures in results.items():
        for what, figure in figures.items():
            print(f"{phase:<42} {what:<24} {figure['median_ms']:>8.2f} {figure['p95_ms']:>8.2f}")
    print("target: a check <= 100 ms (baseline: the plain search_count of the same interval)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
