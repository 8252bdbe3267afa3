"""Chart buckets and series, the status page's uptime strip."""

from datetime import date, datetime

import pytest

from autopilot.monitoring import history
from autopilot.monitoring.history import Bucket


def test_hour_label_is_the_hour_only():
    assert history.hour_label(datetime(2026, 12, 6, 14, 37)) == "14:00"


def test_buckets_end_with_the_current_one():
    hours = history.buckets(datetime(2026, 12, 6, 14, 37), 24, "hour")
    assert len(hours) == 24
    assert hours[-1] == datetime(2026, 12, 6, 14)
    assert hours[0] == datetime(2026, 12, 5, 15)
    days = history.buckets(datetime(2026, 12, 6, 14, 37), 30, "day")
    assert (days[0], days[-1]) == (date(2026, 11, 7), date(2026, 12, 6))


def test_series_leave_gaps_where_there_was_no_check():
    starts = history.buckets(datetime(2026, 12, 6, 14), 3, "hour")
    rows = {starts[0]: Bucket(checks=4, failed=1, avg_ms=120.04, p95_ms=300.0)}
    data = history.series(starts, rows)
    assert data == {
        "avg_ms": [120.0, None, None],
        "p95_ms": [300.0, None, None],
        "uptime": [75.0, None, None],
        "checks": [4, 0, 0],
    }


def test_summary_weights_means_by_successful_checks_and_bounds_p95():
    rows = [Bucket(checks=10, failed=0, avg_ms=100, p95_ms=200), Bucket(checks=10, failed=5, avg_ms=400, p95_ms=900)]
    figures = history.summary(rows)
    assert figures["checks"] == 20
    assert figures["uptime"] == 75.0
    assert figures["avg_ms"] == pytest.approx((100 * 10 + 400 * 5) / 15, abs=0.1)
    assert figures["p95_ms"] == 900
    assert history.summary([]) == {"checks": 0, "uptime": None, "avg_ms": None, "p95_ms": None}


def test_uptime_strip_has_ninety_days_with_levels():
    today = date(2026, 12, 6)
    days = {
        today: Bucket(checks=1000, failed=0),
        date(2026, 12, 5): Bucket(checks=100, failed=2),
        date(2026, 12, 4): Bucket(checks=100, failed=50),
    }
    strip = history.uptime_strip(datetime(2026, 12, 6, 9), days)
    assert len(strip) == history.STRIP_DAYS
    assert strip[-1] == {"day": "2026-12-06", "uptime": 100.0, "checks": 1000, "failed": 0, "level": "up"}
    assert [bar["level"] for bar in strip[-3:]] == ["down", "partial", "up"]
    assert strip[0]["day"] == "2026-09-08"
    assert strip[0]["level"] == "none"
    assert strip[0]["uptime"] is None
