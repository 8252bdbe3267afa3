"""GitHub's log of a hook's deliveries, as the second copy of what Odoo acknowledged.

GitHub never resends a delivery by itself, but it keeps every attempt of a
repository hook for a few days and resends one when asked. The recovery
sync reads that log and asks again for every delivery Odoo does not hold:
the ones Odoo refused or never answered, and the ones it acknowledged and
then lost (a database restored from a backup, or a PostgreSQL crash).

That second copy is what lets the webhook answer GitHub as soon as a
delivery is committed, without waiting for PostgreSQL to flush it to disk
(``synchronous_commit = off`` for that one transaction): a crash can then
lose the last fraction of a second of acknowledged deliveries, and the next
check of the log asks GitHub for them again. It is only done for a
repository whose log was read successfully within :data:`TRUSTED_FOR`,
well inside the time GitHub keeps it, so a check that starts failing
leaves days to mend it before anything could be lost for good.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: how long GitHub keeps a hook's deliveries (its documentation: the past 3 days)
GITHUB_KEEPS = timedelta(days=3)
#: a successful check of the log younger than this lets deliveries be acknowledged before the flush
TRUSTED_FOR = timedelta(hours=24)
#: the webhook workers cache the time of the last check; it is rewritten (and the caches cleared) this often
MARK_REFRESH = timedelta(hours=12)
#: redeliveries asked for a delivery Odoo keeps refusing (4xx: wrong secret, renamed repository) before giving up
MAX_REFUSED_REDELIVERIES = 3
#: redeliveries asked for a delivery that keeps failing otherwise (5xx, no answer) before giving up
MAX_FAILED_REDELIVERIES = 24


def covers(marked_at, now):
    """Whether a repository whose log was last checked at ``marked_at`` may be acknowledged before the flush."""
    return marked_at is not None and timedelta(0) <= now - marked_at < TRUSTED_FOR


def mark_due(marked_at, now):
    """Whether a successful check at ``now`` should rewrite the cached mark ``marked_at``.

    Rewriting clears every worker's cache of the repositories, so it is done
    only when the mark is missing or :data:`MARK_REFRESH` old: the cached
    mark is then never more than that behind the last success, and
    :func:`covers` keeps holding while the checks succeed.
    """
    return marked_at is None or now - marked_at >= MARK_REFRESH or marked_at > now


def deliveries_to_resend(attempts, since, known_guids, kept_since=None):
    """Pick the deliveries to ask GitHub to send again, oldest first.

    A GUID is chosen when Odoo does not hold it and one of its attempts is
    newer than ``since``: if none succeeded, Odoo refused it or never
    answered; if one did, Odoo acknowledged it and lost it since. Deliveries
    Odoo purged after keeping them (``kept_since``: the retention cut-off)
    are not lost, so a success older than that is left alone. The newest
    attempt of a GUID is the one redelivered.

    :param attempts: :class:`events.HookDelivery` items, in any order
    :param since: attempts older than this are not considered (``None``: all)
    :param known_guids: GUIDs Odoo holds for this repository
    :param kept_since: attempts that succeeded before this were purged, not lost
    """
    by_guid = {}
    for attempt in attempts:
        if attempt.delivered_at and since and attempt.delivered_at < since:
            continue
        by_guid.setdefault(attempt.guid, []).append(attempt)
    chosen = []
    for guid, tries in by_guid.items():
        if guid in known_guids:
            continue
        successes = [t for t in tries if t.succeeded]
        if successes and kept_since and all(t.delivered_at and t.delivered_at < kept_since for t in successes):
            continue
        chosen.append(max(tries, key=_chronological))
    return sorted(chosen, key=_chronological)


def _chronological(attempt):
    return (attempt.delivered_at or datetime.min, attempt.delivery_id)


@dataclass(frozen=True)
class RedeliveryPlan:
    """What one check of the log asks GitHub to send again, and what it no longer asks for."""

    #: newest attempts of the deliveries to ask again for, oldest first
    resend: tuple = ()
    #: newest attempts of the deliveries given up on (asked often enough, still refused), oldest first
    given_up: tuple = ()
    #: GUID -> ``{"count": redeliveries asked, "at": ISO time of the last, "gave_up": last status once given
    #: up}``, for the next check (and :func:`given_up`)
    asked: dict = field(default_factory=dict)


def plan_redeliveries(attempts, since, known_guids, now, asked=None, kept_since=None):
    """:func:`deliveries_to_resend`, bounded: a delivery is asked again a limited number of times.

    GitHub records each redelivery as a new attempt, so a delivery Odoo keeps
    refusing (a wrong secret, a repository renamed on one side) would be
    asked for again on every check until GitHub forgets it, and each answer
    starts that over. It is asked :data:`MAX_REFUSED_REDELIVERIES` times
    while its newest attempt is a refusal (4xx), :data:`MAX_FAILED_REDELIVERIES`
    times while it fails otherwise, then given up (and said so). ``asked``
    is what the previous checks recorded; entries older than GitHub's
    retention are dropped.
    """
    kept = {}
    for guid, entry in (asked or {}).items():
        try:
            at = datetime.fromisoformat(str(entry.get("at")))
        except (TypeError, ValueError, AttributeError):
            continue
        if now - at < GITHUB_KEEPS:
            kept[guid] = dict(entry, count=int(entry.get("count") or 0))
    resend, gave_up = [], []
    for attempt in deliveries_to_resend(attempts, since, known_guids, kept_since):
        entry = kept.get(attempt.guid, {})
        count = entry.get("count", 0)
        refused = 400 <= (attempt.status_code or 0) < 500
        if count >= (MAX_REFUSED_REDELIVERIES if refused else MAX_FAILED_REDELIVERIES):
            gave_up.append(attempt)
            kept[attempt.guid] = dict(entry, gave_up=attempt.status_code or 0)
            continue
        resend.append(attempt)
        kept[attempt.guid] = {"count": count + 1, "at": now.isoformat(timespec="seconds")}
    return RedeliveryPlan(tuple(resend), tuple(gave_up), kept)


def given_up(asked):
    """GUID -> the last answer of the deliveries no longer asked for (from :attr:`RedeliveryPlan.asked`)."""
    return {guid: entry["gave_up"] for guid, entry in (asked or {}).items() if "gave_up" in entry}
