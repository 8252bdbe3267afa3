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

    def after_failure(self, failed_tries, retry_after=None, max_retry_after=None, rng=None):
        """Seconds before trying again after ``failed_tries`` failed tries in all, or None to give up.

        For work a cron retries later (a page, a GitHub issue): the backoff
        delay, or the server's ``Retry-After`` (or rate-limit reset) when it
        asks for longer, read as at most ``max_retry_after``; None once
        ``max_attempts`` retries were made (``max_attempts + 1`` tries in all).
        """
        if failed_tries < 1:
            raise ValueError("failed_tries starts at 1")
        if not self.can_retry(failed_tries - 1):
            return None
        delay = self.delay(failed_tries, rng)
        if retry_after:
            wait = float(retry_after)
            if max_retry_after is not None:
                wait = min(wait, max_retry_after)
            delay = max(delay, wait)
        return delay
