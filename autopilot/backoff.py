"""Exponential backoff with a cap and optional jitter.

One policy object serves every retry in the product: failed webhook
deliveries, CI re-runs, remediation attempts. ``delay(n)`` is the wait
before retry number ``n`` (1-based): ``initial * base ** (n - 1)`` capped at
``max_delay``; with jitter the wait is drawn from
``[delay * (1 - jitter), delay]`` so retries of many items spread out.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    initial: float = 1.0
    base: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.0
    max_attempts: int = 3

    def __post_init__(self):
        if self.initial <= 0 or self.base < 1 or self.max_delay <= 0:
            raise ValueError("backoff needs initial > 0, base >= 1 and max_delay > 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")
        if self.max_attempts < 0:
            raise ValueError("max_attempts cannot be negative")

    def delay(self, attempt, rng=None):
        """Seconds to wait before retry ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        # cap the exponent first: base ** 10_000 would overflow a float
        exponent = min(attempt - 1, 64)
        raw = min(self.max_delay, self.initial * self.base**exponent)
        if not self.jitter:
            return raw
        rng = rng or random
        return raw * (1 - self.jitter * rng.random())

    def can_retry(self, attempts_done):
        """True while fewer than ``max_attempts`` retries have been made."""
        return attempts_done < self.max_attempts
