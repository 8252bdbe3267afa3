"""Performance regressions: is the last week slower than the weeks before it?

Decides, per key (a workflow's run durations, a health target's response
times), whether the recent window is *significantly and materially* slower
than the baseline window just before it:

- significant: a one-sided Mann-Whitney U test (recent > baseline) has a
  p-value under ``alpha``; it compares whole distributions without assuming
  they are normal, which CI durations and latencies never are;
- material: the recent median is at least ``min_change_pct`` above the
  baseline median, so a tiny but consistent drift does not page anyone;
- enough data: both windows hold their minimum number of samples, else the
  answer is "not enough samples", never a guess.

Every result carries the numbers behind the decision (medians, p90s,
change, p-value, sample counts) for the report.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

import numpy as np
from scipy.stats import mannwhitneyu


@dataclass(frozen=True)
class RegressionPolicy:
    recent_days: int = 7
    baseline_days: int = 28
    min_change_pct: float = 20.0
    alpha: float = 0.01
    min_baseline: int = 10
    min_recent: int = 5

    def __post_init__(self):
        if self.recent_days <= 0 or self.baseline_days <= 0:
            raise ValueError("windows must be at least one day long")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha is a probability between 0 and 1")
        if self.min_baseline < 2 or self.min_recent < 2:
            raise ValueError("a comparison needs at least two samples per window")


class Sample(NamedTuple):
    key: str
    #: a datetime in the same timezone convention as ``now``
    at: object
    value: float


@dataclass(frozen=True)
class RegressionResult:
    key: str
    baseline_n: int
    recent_n: int
    baseline_median: float | None
    baseline_p90: float | None
    recent_median: float | None
    recent_p90: float | None
    #: recent median vs baseline median, in percent (None when the baseline median is 0 or unknown)
    change_pct: float | None
    p_value: float | None
    regressed: bool
    reason: str


def _clean(values):
    return np.array([float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) >= 0])


def _stats(values):
    if values.size == 0:
        return None, None
    return float(np.median(values)), float(np.percentile(values, 90))


def compare(baseline, recent, policy=None, key=""):
    """Compare two samples of durations/latencies under ``policy``."""
    policy = policy or RegressionPolicy()
    base, now = _clean(baseline), _clean(recent)
    base_median, base_p90 = _stats(base)
    recent_median, recent_p90 = _stats(now)
    change = None
    if base_median and recent_median is not None:
        change = (recent_median / base_median - 1.0) * 100.0

    def result(p_value, regressed, reason):
        return RegressionResult(
            key,
            int(base.size),
            int(now.size),
            base_median,
            base_p90,
            recent_median,
            recent_p90,
            None if change is None else round(change, 2),
            p_value,
            regressed,
            reason,
        )

    if base.size < policy.min_baseline or now.size < policy.min_recent:
        return result(
            None,
            False,
            f"not enough samples (baseline {base.size}/{policy.min_baseline}, recent {now.size}/{policy.min_recent})",
        )
    if change is None:
        return result(None, False, "baseline median is zero: no ratio to compare")
    test = mannwhitneyu(now, base, alternative="greater")
    p_value = float(test.pvalue)
    if math.isnan(p_value):
        p_value = 1.0
    p_value = round(p_value, 6)
    if p_value >= policy.alpha:
        return result(p_value, False, f"no significant slowdown (p={p_value:.4f} >= {policy.alpha})")
    if change < policy.min_change_pct:
        return result(p_value, False, f"significant but small: median +{change:.1f}% < {policy.min_change_pct}%")
    return result(p_value, True, f"median +{change:.1f}% (p={p_value:.4f})")


def split_windows(samples, now, policy=None):
    """``{key: (baseline values, recent values)}`` of samples falling in the two windows before ``now``."""
    policy = policy or RegressionPolicy()
    recent_start = now - timedelta(days=policy.recent_days)
    baseline_start = recent_start - timedelta(days=policy.baseline_days)
    windows = {}
    for key, at, value in samples:
        if at is None or at >= now or at < baseline_start:
            continue
        base, recent = windows.setdefault(key, ([], []))
        (recent if at >= recent_start else base).append(value)
    return windows


def detect_regressions(samples, now, policy=None):
    """Compare every key's windows; regressions first, then the largest changes.

    ``samples`` are ``(key, at, value)`` tuples (or :class:`Sample`).
    """
    policy = policy or RegressionPolicy()
    results = [
        compare(base, recent, policy, key) for key, (base, recent) in split_windows(samples, now, policy).items()
    ]
    return sorted(results, key=lambda r: (not r.regressed, -(r.change_pct or 0.0), r.key))
