"""When a health target is checked next: fast confirmation and recovery, as the best uptime monitors do.

A target is checked every ``interval_seconds``. After a failed check it is
re-checked every ``retry_seconds`` (a short retry interval, 30 s by
default) until it passes or is confirmed down; while a condition of it
fires (an incident is open) it is checked at that short interval until its
recovery is confirmed; then it goes back to its normal interval. A
``retry_seconds`` of 0 turns fast re-checks off (the normal interval
always).

Re-checks are a separate *lane* (:func:`rechecking`): the models run them
in their own cron, so however slowly failing targets answer, they never
delay the normal checks of the healthy ones.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

DEFAULT_RETRY_SECONDS = 30
DEFAULT_INTERVAL_SECONDS = 60


def rechecking(retry_seconds: int, up: bool, firing: Iterable[str] = ()) -> bool:
    """Whether the target is in the fast lane after a check: it failed, or a condition of it fires."""
    return bool(retry_seconds and retry_seconds > 0) and (not up or bool(frozenset(firing)))


def next_check(now: datetime, interval_seconds: int, retry_seconds: int, up: bool, firing: Iterable[str] = ()):
    """When the next check is due after one made at ``now``, to the whole second (Odoo's datetimes)."""
    fast = rechecking(retry_seconds, up, firing)
    seconds = min(retry_seconds, interval_seconds) if fast else interval_seconds
    return now.replace(microsecond=0) + timedelta(seconds=max(int(seconds), 1))
