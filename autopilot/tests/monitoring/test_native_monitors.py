import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from autopilot.monitoring import native_monitors
from autopilot.monitoring.native_monitors import evaluate_crons, evaluate_modules, interval_seconds

NOW = datetime(2026, 3, 2, 12, 0, 0)
ODOO_CRON = Path("/opt/odoo18/odoo/addons/base/models/ir_cron.py")


def cron(**values):
    base = {
        "id": 7,
        "name": "Mail: Email Queue Manager",
        "active": True,
        "nextcall": NOW + timedelta(minutes=1),
        "lastcall": NOW - timedelta(minutes=1),
        "interval_seconds": 60,
        "failure_count": 0,
        "first_failure_date": None,
    }
    base.update(values)
    return base


def test_healthy_cron_has_no_issue():
    assert evaluate_crons([cron()], NOW) == []


@pytest.mark.parametrize(
    ("failures", "since", "severity"),
    [(1, timedelta(minutes=5), "low"), (2, timedelta(minutes=5), "medium"), (5, timedelta(hours=1), "high")],
)
def test_failing_cron_severity(failures, since, severity):
    [issue] = evaluate_crons([cron(failure_count=failures, first_failure_date=NOW - since)], NOW)
    assert issue.kind == "cron_failing" and issue.severity == severity and issue.ref == "ir.cron:7"
    assert f"failed {failures} time(s)" in issue.message


def test_long_failing_cron_is_high_and_warns_of_deactivation():
    [issue] = evaluate_crons([cron(failure_count=4, first_failure_date=NOW - timedelta(days=2))], NOW)
    assert issue.severity == "high"
    assert "Odoo deactivates it" in issue.message and "2026-03-07" in issue.message


def test_stuck_cron_overdue_by_more_than_factor_intervals():
    hourly = {"interval_seconds": 3600, "lastcall": NOW - timedelta(hours=4)}
    assert evaluate_crons([cron(nextcall=NOW - timedelta(hours=3), **hourly)], NOW) == []
    [issue] = evaluate_crons([cron(nextcall=NOW - timedelta(hours=3, seconds=1), **hourly)], NOW)
    assert issue.kind == "cron_stuck" and issue.severity == "high" and "overdue" in issue.message
    assert evaluate_crons([cron(nextcall=NOW - timedelta(hours=2), **hourly)], NOW, stuck_factor=1)


def test_stuck_needs_a_minimum_delay_for_minute_crons():
    assert evaluate_crons([cron(nextcall=NOW - timedelta(minutes=4))], NOW) == []
    assert [i.kind for i in evaluate_crons([cron(nextcall=NOW - timedelta(minutes=6))], NOW)] == ["cron_stuck"]


def test_inactive_crons_are_ignored_and_both_issues_can_coexist():
    assert evaluate_crons([cron(active=False, failure_count=9, nextcall=NOW - timedelta(days=1))], NOW) == []
    issues = evaluate_crons([cron(failure_count=3, nextcall=NOW - timedelta(days=1), id=None)], NOW)
    assert {i.kind for i in issues} == {"cron_failing", "cron_stuck"}
    assert {i.ref for i in issues} == {"ir.cron:Mail: Email Queue Manager"}


def test_interval_seconds():
    assert interval_seconds(2, "hours") == 7200 and interval_seconds(1, "months") == 30 * 86400
    with pytest.raises(ValueError):
        interval_seconds(1, "years")
    with pytest.raises(ValueError):
        evaluate_crons([], NOW, stuck_factor=0)


@pytest.mark.skipif(not ODOO_CRON.exists(), reason="Odoo 18 source not installed")
def test_constants_match_odoo_18():
    source = ODOO_CRON.read_text()
    count = int(re.search(r"MIN_FAILURE_COUNT_BEFORE_DEACTIVATION = (\d+)", source).group(1))
    days = int(re.search(r"MIN_DELTA_BEFORE_DEACTIVATION = timedelta\(days=(\d+)\)", source).group(1))
    assert (count, days) == (
        native_monitors.ODOO_FAILURES_BEFORE_DEACTIVATION,
        native_monitors.ODOO_DAYS_BEFORE_DEACTIVATION,
    )
    for field in ("failure_count", "first_failure_date", "nextcall", "lastcall"):
        assert f"{field} = fields." in source


def test_modules_stuck_grouped_by_state():
    modules = [
        {"name": "sale", "state": "to upgrade"},
        {"name": "account", "state": "to upgrade"},
        {"name": "website", "state": "to install"},
        {"name": "crm", "state": "installed"},
        {"name": "old", "state": "to remove"},
        {"name": "fresh", "state": "to install", "write_date": NOW - timedelta(minutes=2)},
    ]
    issues = evaluate_modules(modules, now=NOW)
    assert [(i.ref, i.severity) for i in issues] == [
        ("ir.module.module:to_install", "medium"),
        ("ir.module.module:to_upgrade", "medium"),
        ("ir.module.module:to_remove", "high"),
    ]
    assert issues[1].message == "2 module(s) stuck in 'to upgrade': account, sale"
    assert "fresh" not in issues[0].message  # changed recently: may be installing now
    assert {i.kind for i in issues} == {"module_stuck"}


def test_many_stuck_modules_make_one_issue():
    modules = [{"name": f"m{i:02d}", "state": "to upgrade"} for i in range(30)]
    [issue] = evaluate_modules(modules)
    assert issue.message.startswith("30 module(s)") and issue.message.endswith("and 10 more")
    assert evaluate_modules([{"name": "crm", "state": "installed"}]) == []
