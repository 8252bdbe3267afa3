from datetime import date, datetime, timedelta

import pytest

from autopilot import kpis
from autopilot.kpis import FlakyJob, TargetDay, WorkflowStat

NOW = datetime(2026, 11, 20, 12, 30, 15, 123)


# --- formulas -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "aggregates", "expected"),
    [
        ("cache_hit_rate", {"hits": 9, "misses": 1}, 90.0),
        ("self_healing_success_rate", {"succeeded": 3, "failed": 1}, 75.0),
        ("avg_build_time", {"total_seconds": 1800, "runs": 3}, 10.0),
        ("false_positive_rate", {"false_positives": 1, "incidents": 40}, 2.5),
        ("mttr", {"total_minutes": 45, "resolved": 3}, 15.0),
        ("uptime", {"up": 999, "checks": 1000}, 99.9),
        ("avg_response_time", {"total_ms": 3000, "timed_checks": 4}, 750.0),
        ("error_rate", {"failed": 1, "checks": 50}, 2.0),
    ],
)
def test_formulas(key, aggregates, expected):
    assert kpis.compute(key, aggregates) == pytest.approx(expected)


@pytest.mark.parametrize("key", kpis.KPI_ORDER)
def test_empty_aggregates_are_no_data(key):
    for empty in (None, {}, dict.fromkeys(kpis.FORMULAS[key][1], 0)):
        result = kpis.evaluate(key, empty, empty)
        assert result.value is None
        assert result.no_data
        assert result.display == kpis.NO_DATA
        assert result.met is None
        assert result.trend is None
        assert result.sample_size == 0


def test_targets_from_the_seed():
    assert kpis.KPIS["cache_hit_rate"].target == 90
    assert kpis.KPIS["self_healing_success_rate"].target == 80
    assert kpis.KPIS["avg_build_time"].target == 10
    assert kpis.KPIS["false_positive_rate"].target == 5
    assert kpis.KPIS["mttr"].target == 15
    assert kpis.KPIS["avg_build_time"].target_label == "< 10 min"
    assert kpis.KPIS["cache_hit_rate"].target_label == "≥ 90%"


def test_target_boundaries():
    # "at least 90 %" is met at 90; "< 10 min" is not met at exactly 10
    assert kpis.evaluate("cache_hit_rate", {"hits": 9, "misses": 1}).met is True
    assert kpis.evaluate("cache_hit_rate", {"hits": 8, "misses": 2}).met is False
    assert kpis.evaluate("avg_build_time", {"total_seconds": 600, "runs": 1}).met is False
    assert kpis.evaluate("avg_build_time", {"total_seconds": 599, "runs": 1}).met is True
    assert kpis.evaluate("false_positive_rate", {"false_positives": 1, "incidents": 20}).met is False
    assert kpis.evaluate("mttr", {"total_minutes": 14, "resolved": 1}).met is True


def test_trend_direction_and_improvement():
    lower_better = kpis.evaluate("mttr", {"total_minutes": 10, "resolved": 1}, {"total_minutes": 20, "resolved": 1})
    assert (lower_better.trend, lower_better.improved) == ("down", True)
    higher_better = kpis.evaluate("uptime", {"up": 90, "checks": 100}, {"up": 99, "checks": 100})
    assert (higher_better.trend, higher_better.improved) == ("down", False)
    assert kpis.trend(100.0, 100.04) == ("flat", None)  # same once rounded to 1 digit
    assert kpis.trend(99.40, 100.0, digits=2) == ("down", False)  # 0.6 point of uptime is a change
    assert kpis.trend(5.0, None) == (None, None)
    result = kpis.evaluate("avg_build_time", {"total_seconds": 600, "runs": 2}, None)
    assert result.value == 5.0 and result.previous is None and result.trend is None
    assert result.sample_size == 2
    assert result.display == "5 min"
    # a duration just over its target never reads as meeting it ("10 min" for 10.6 min against "< 10 min")
    over = kpis.evaluate("avg_build_time", {"total_seconds": 636, "runs": 1}, None)
    assert (over.display, over.met) == ("11 min", False)
    assert kpis.evaluate("mttr", {"total_minutes": 65, "resolved": 1}).display == "1 h 05 min"


def test_sample_sizes():
    assert kpis.evaluate("cache_hit_rate", {"hits": 3, "misses": 2}).sample_size == 5
    assert kpis.evaluate("uptime", {"up": 3, "checks": 7}).sample_size == 7


# --- periods ------------------------------------------------------------------------------


def test_window_presets():
    week = kpis.window("7d", NOW)
    assert week.end == NOW.replace(microsecond=0)
    assert week.start == week.end - timedelta(days=7)
    assert (week.previous_start, week.previous_end) == (week.start - timedelta(days=7), week.start)
    assert week.bucket == "day"
    assert kpis.window("24h", NOW).bucket == "hour"
    assert kpis.window("bogus", NOW).period == kpis.DEFAULT_PERIOD


def test_window_custom():
    custom = kpis.window("custom", NOW, "2026-11-01", "2026-11-03")
    assert custom.start == datetime(2026, 11, 1)
    assert custom.end == datetime(2026, 11, 4)
    assert custom.previous_start == datetime(2026, 10, 29)
    inverted = kpis.window("custom", NOW, date(2026, 11, 3), date(2026, 11, 1))
    assert inverted.start < inverted.end
    huge = kpis.window("custom", NOW, "2000-01-01", "2026-11-01")
    assert huge.days == kpis.MAX_CUSTOM_DAYS
    # without both dates a custom period falls back to the default
    assert kpis.window("custom", NOW, "2026-11-01", None).period == kpis.DEFAULT_PERIOD


def test_buckets_cover_the_window_without_gaps():
    week = kpis.window("7d", NOW)
    days = kpis.buckets(week.start, week.end, "day")
    assert len(days) == 8  # a partial first and last day
    assert days[0] == datetime(2026, 11, 13)
    day = kpis.window("24h", NOW)
    hours = kpis.buckets(day.start, day.end, "hour")
    assert len(hours) == 25
    assert kpis.bucket_key(datetime(2026, 11, 2, 5, 7), "hour") == "2026-11-02 05:00"
    assert kpis.bucket_key(date(2026, 11, 2), "day") == "2026-11-02"


# --- recommendations ----------------------------------------------------------------------


def _days(target, values, **kwargs):
    return [
        TargetDay(target, f"2026-11-{10 + i:02d}", checks=96, avg_response_ms=value, **kwargs)
        for i, value in enumerate(values)
    ]


def test_slow_target_on_three_days_is_told_to_scale():
    days = _days("shop", [2500, 2600, 900, 3100, 800])
    recs = kpis.recommend(target_days=days)
    assert [r.rule for r in recs] == ["response_time"]
    assert recs[0].title == "Scale or optimise shop"
    assert "3 of 5 days" in recs[0].detail


def test_two_slow_days_are_not_enough():
    assert kpis.recommend(target_days=_days("shop", [2500, 2600, 900, 800])) == []
    assert kpis.recommend(target_days=_days("shop", [2500, 2600]), min_days=2)[0].rule == "response_time"


def test_per_target_thresholds_and_resources():
    days = _days("api", [600, 700, 650], response_threshold_ms=500, max_cpu=95.0, max_memory=50.0)
    rules = {r.rule for r in kpis.recommend(target_days=days)}
    assert rules == {"response_time", "cpu"}
    erroring = [TargetDay("db", f"d{i}", checks=10, failed=2) for i in range(3)]
    assert [r.rule for r in kpis.recommend(target_days=erroring)] == ["error_rate"]


def test_days_without_checks_do_not_count():
    days = [TargetDay("x", f"d{i}", checks=0, avg_response_ms=9000) for i in range(5)]
    assert kpis.recommend(target_days=days) == []


def test_workflow_flaky_and_kpi_recommendations_most_severe_first():
    workflows = [
        WorkflowStat("CI", "acme/erp", runs=10, failures=6, avg_minutes=12.0),
        WorkflowStat("Docs", "acme/erp", runs=2, failures=2, avg_minutes=1.0),
    ]
    flaky = [FlakyJob("unit", "acme/erp", 3)]
    results = {
        "mttr": kpis.evaluate("mttr", {"total_minutes": 60, "resolved": 2}),
        "cache_hit_rate": kpis.evaluate("cache_hit_rate", {"hits": 1, "misses": 1}),
        "uptime": kpis.evaluate("uptime", {}),  # no data: no advice
    }
    recs = kpis.recommend(workflows=workflows, flaky_jobs=flaky, kpi_results=results)
    rules = [r.rule for r in recs]
    assert set(rules) == {"failure_rate", "build_time", "flaky", "kpi_mttr", "kpi_cache_hit_rate"}
    assert [r.severity for r in recs] == sorted((r.severity for r in recs), key=kpis.SEVERITY_ORDER.get)
    assert recs[-1].rule == "kpi_cache_hit_rate"
    assert "Docs" not in " ".join(r.title for r in recs)  # two runs are too few to judge
