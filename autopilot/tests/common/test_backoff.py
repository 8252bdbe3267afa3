import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopilot.common.backoff import BackoffPolicy


def test_exponential_then_capped():
    policy = BackoffPolicy(initial=1, base=2, max_delay=300)
    assert [policy.delay(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]


def test_huge_attempt_numbers_do_not_overflow():
    assert BackoffPolicy(initial=60, base=2, max_delay=3600).delay(10_000) == 3600


def test_attempts_start_at_one():
    with pytest.raises(ValueError):
        BackoffPolicy().delay(0)


@pytest.mark.parametrize("kwargs", [{"initial": 0}, {"base": 0.5}, {"max_delay": 0}, {"jitter": 1.5}])
def test_invalid_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)


def test_can_retry_counts_retries():
    policy = BackoffPolicy(max_attempts=3)
    assert [policy.can_retry(n) for n in range(5)] == [True, True, True, False, False]


@given(
    attempt=st.integers(min_value=1, max_value=200),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_jitter_stays_within_bounds(attempt, jitter, seed):
    policy = BackoffPolicy(initial=2, base=2, max_delay=300, jitter=jitter)
    plain = BackoffPolicy(initial=2, base=2, max_delay=300).delay(attempt)
    delay = policy.delay(attempt, rng=random.Random(seed))
    assert plain * (1 - jitter) - 1e-9 <= delay <= plain + 1e-9


@given(st.integers(min_value=1, max_value=100))
def test_delays_never_decrease(attempt):
    policy = BackoffPolicy(initial=3, base=2, max_delay=300)
    assert policy.delay(attempt + 1) >= policy.delay(attempt)


def test_after_failure_backs_off_honours_retry_after_and_gives_up():
    policy = BackoffPolicy(initial=60, base=2, max_delay=900, max_attempts=3)
    assert [policy.after_failure(n) for n in (1, 2, 3)] == [60, 120, 240]
    assert policy.after_failure(4) is None, "max_attempts retries, then give up"
    assert policy.after_failure(1, retry_after=300) == 300, "the server asks for longer"
    assert policy.after_failure(2, retry_after=5) == 120, "never sooner than the backoff"
    assert policy.after_failure(1, retry_after=10**9, max_retry_after=3600) == 3600
    with pytest.raises(ValueError):
        policy.after_failure(0)
