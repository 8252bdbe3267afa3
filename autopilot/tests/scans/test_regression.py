from datetime import datetime, timedelta

import numpy as np
import pytest

from autopilot.scans import regression
from autopilot.scans.regression import RegressionPolicy, Sample

NOW = datetime(2026, 11, 22, 6, 0)


def lognormal(rng, median, sigma, n):
    return rng.lognormal(np.log(median), sigma, n)


def test_equal_distributions_raise_no_alarm():
    rng = np.random.default_rng(20261122)
    alarms = sum(
        regression.compare(lognormal(rng, 300, 0.3, 40), lognormal(rng, 300, 0.3, 20)).regressed for _ in range(200)
    )
    assert alarms == 0


def test_significance_alone_fires_at_about_alpha():
    rng = np.random.default_rng(7)
    policy = RegressionPolicy(min_change_pct=0.0, alpha=0.05)
    alarms = sum(
        regression.compare(lognormal(rng, 300, 0.3, 40), lognormal(rng, 300, 0.3, 20), policy).regressed
        for _ in range(400)
    )
    assert alarms < 40  # about 5 % expected; a broken test would fire far more often


def test_a_real_30_percent_slowdown_is_detected_with_its_numbers():
    rng = np.random.default_rng(42)
    detected = []
    for _ in range(40):
        result = regression.compare(lognormal(rng, 300, 0.1, 40), lognormal(rng, 390, 0.1, 10), key="CI")
        detected.append(result)
    hits = [r for r in detected if r.regressed]
    assert len(hits) >= 36
    sample = hits[0]
    assert sample.key == "CI" and sample.baseline_n == 40 and sample.recent_n == 10
    assert 20 <= sample.change_pct <= 45 and sample.p_value < 0.01
    assert sample.recent_p90 > sample.recent_median > sample.baseline_median
    assert sample.reason.startswith("median +")


def test_speedups_and_small_drifts_are_not_regressions():
    rng = np.random.default_rng(3)
    faster = regression.compare(lognormal(rng, 300, 0.1, 40), lognormal(rng, 200, 0.1, 15))
    assert not faster.regressed and faster.change_pct < 0
    drift = regression.compare(lognormal(rng, 300, 0.02, 200), lognormal(rng, 315, 0.02, 100))
    assert not drift.regressed and drift.p_value < 0.01 and "small" in drift.reason


def test_too_few_samples_and_degenerate_data():
    few = regression.compare([100] * 5, [200] * 20)
    assert not few.regressed and few.p_value is None and "not enough samples" in few.reason
    zero = regression.compare([0.0] * 20, [5.0] * 10)
    assert not zero.regressed and zero.change_pct is None
    same = regression.compare([120.0] * 20, [120.0] * 10)
    assert not same.regressed and same.change_pct == 0
    dirty = regression.compare([100, float("nan"), -1, None, float("inf")] + [100] * 10, [100] * 5)
    assert dirty.baseline_n == 11


def test_windows_split_per_key_and_rank_regressions_first():
    rng = np.random.default_rng(11)
    samples = []
    for day in range(35):
        moment = NOW - timedelta(days=day, hours=1)
        recent = day < 7
        samples += [Sample("CI", moment, v) for v in lognormal(rng, 390 if recent else 300, 0.08, 3)]
        samples += [Sample("Lint", moment, v) for v in lognormal(rng, 60, 0.08, 3)]
        samples.append(Sample("https://erp.example.com", moment, float(lognormal(rng, 0.4, 0.1, 1)[0])))
    samples.append(Sample("CI", NOW + timedelta(hours=1), 10_000))  # the future is ignored
    samples.append(Sample("CI", NOW - timedelta(days=60), 10_000))  # so is the distant past
    results = regression.detect_regressions(samples, NOW)
    assert results[0].key == "CI" and results[0].regressed
    assert results[0].recent_n == 21 and results[0].baseline_n == 84
    assert not any(r.regressed for r in results[1:])
    assert {r.key for r in results} == {"CI", "Lint", "https://erp.example.com"}


def test_policy_validation():
    with pytest.raises(ValueError):
        RegressionPolicy(alpha=1.5)
    with pytest.raises(ValueError):
        RegressionPolicy(min_recent=1)
