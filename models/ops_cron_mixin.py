import heapq
import logging
import os
import threading
import time
from datetime import timezone

from odoo import api, fields, models, sql_db
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: seconds after which a trigger wakes the cron workers again although an earlier trigger is pending
WAKE_AGAIN_AFTER = 5.0
#: (database, cron id) -> time.monotonic() of this process's last wake-up call
_last_wake = {}
#: an alarm this close to a pending one of the same database is served by it (seconds)
ALARM_COALESCE = 0.5
#: alarms further away than this are left to the cron workers' own poll (every minute)
ALARM_HORIZON = 600
#: woken this long after the trigger's time, so that PostgreSQL's clock has passed it too
ALARM_LATE = 0.3


class _Alarms:
    """Wake the cron workers of a database at a given time, from a daemon thread of this process.

    Odoo's cron workers sleep up to a minute between polls; ``_trigger(at=...)``
    in the future writes a trigger row but wakes nobody when its time comes.
    This clock sends the same NOTIFY as ``ir.cron._notifydb`` at that time.
    It is only an accelerator: the trigger row is written anyway, so a
    process that dies takes nothing with it but the precision (the row waits
    for the next poll). Restarted after a fork.
    """

    def __init__(self):
        self._reset()

    def _reset(self):
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._heap = []
        self._thread = None

    def add(self, when, dbname):
        """Notify ``dbname``'s cron workers at ``when`` (a ``time.time()`` value)."""
        if self._pid != os.getpid():
            self._reset()
        with self._cond:
            if any(db == dbname and abs(at - when) <= ALARM_COALESCE for at, db in self._heap):
                return
            heapq.heappush(self._heap, (when, dbname))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ops-cron-alarms", daemon=True)
                self._thread.start()
            self._cond.notify()

    def pending(self):
        with self._cond:
            return sorted(self._heap)

    def _run(self):
        while True:
            with self._cond:
                if not self._heap:
                    self._cond.wait(60)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                wait = self._heap[0][0] - time.time()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _when, dbname = heapq.heappop(self._heap)
            self._notify(dbname)

    @staticmethod
    def _notify(dbname):
        from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION  # noqa: PLC0415 (Odoo's own setting)

        try:
            with sql_db.db_connect("postgres").cursor() as cr:
                cr.execute(SQL("SELECT %s('cron_trigger', %s)", SQL.identifier(ODOO_NOTIFY_FUNCTION), dbname))
        except Exception as exc:  # the trigger row is still there for the next poll
            _logger.warning("could not wake the cron workers of %s: %s", dbname, exc)


_ALARMS = _Alarms()


class OpsCronMixin(models.AbstractModel):
    """Helpers for crons that work in batches and commit as they go."""

    _name = "ops.cron.mixin"
    _description = "Ops Autopilot batch cron helpers"

    @api.model
    def _ops_in_test(self):
        return self.env.registry.in_test_mode() or getattr(threading.current_thread(), "testing", False)

    @api.model
    def _ops_commit(self):
        """Commit a finished batch so a crash later loses nothing done so far.

        Tests run in a single transaction that must not be committed.
        """
        if not self._ops_in_test():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _ops_trigger_soon(self, cron_xmlid):
        """Make the cron ``cron_xmlid`` run as soon as a worker is free, cheaply enough for every webhook delivery.

        ``ir.cron._trigger()`` wakes sleeping cron workers with a NOTIFY sent
        over a brand-new connection to the ``postgres`` database (Odoo does not
        pool those): a third of a delivery's cost. A trigger row is still
        written every time, so no work is ever forgotten: the end of a cron
        run deletes only the triggers its transaction saw when the run began
        (repeatable read), whose work the run saw too. A trigger of the same
        second written by another delivery is no substitute: a run that began
        before this delivery committed can delete that one and never see this
        delivery (``bench/faults`` caught deliveries left waiting for the
        5-minute poll that way). The NOTIFY is only sent when no
        earlier trigger is pending: a pending one means the workers were
        already woken and will find this delivery too. Woken is not awake,
        though: a cron worker Odoo has just recycled (memory or request
        limits) sleeps up to a minute before its first poll, and with
        triggers pending nobody would wake it. So each process also wakes the
        workers again when its last wake-up is more than WAKE_AGAIN_AFTER
        seconds old: one extra NOTIFY per process every few seconds under
        load, and a backlog never waits for the minute-long poll.

        One statement, no ORM: the cron's id comes from the cached xmlid
        table (``env.ref`` would query to check it exists), and the
        ``pending`` subquery sees the triggers as they were before this
        statement's insert (a statement never sees its own inserts). The
        webhook folds the statement into its delivery's insert
        (:meth:`_ops_trigger_sql`), one round trip for both.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(cron_xmlid, raise_if_not_found=True)
        insert, pending = self._ops_trigger_sql(cron_id)
        self.env.cr.execute(SQL("WITH trigger AS (%s) SELECT %s", insert, pending))
        self._ops_wake_cron_workers(cron_id, self.env.cr.fetchone()[0])

    @api.model
    def _ops_trigger_sql(self, cron_id, condition=None):
        """The two halves of :meth:`_ops_trigger_soon`'s statement, for callers that fold it into theirs.

        The trigger names no creator (``create_uid``/``write_uid`` NULL; no
        one reads them, and the cron deletes the row when it has run): that
        saves two foreign-key checks against ``res_users``, which Odoo's
        connection pool makes PostgreSQL plan afresh for every request (it
        resets each connection with ``DISCARD ALL``): a quarter of the
        database's CPU time per webhook delivery.

        :param condition: SQL that must also hold for the trigger to be written
        :return: ``(insert, pending)``: the insert of a trigger for now, and
            the expression that tells whether a trigger was pending before it
            (for :meth:`_ops_wake_cron_workers`)
        """
        now = fields.Datetime.now()
        insert = SQL(
            "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)"
            " SELECT %(cron)s, %(now)s, NULL, %(now)s, NULL, %(now)s WHERE %(condition)s",
            cron=cron_id,
            now=now,
            condition=condition or SQL("TRUE"),
        )
        pending = SQL(
            "EXISTS(SELECT 1 FROM ir_cron_trigger WHERE cron_id = %(cron)s AND call_at <= %(now)s)",
            cron=cron_id,
            now=now,
        )
        return insert, pending

    @api.model
    def _ops_wake_cron_workers(self, cron_id, pending):
        """After this transaction commits, NOTIFY the cron workers unless they were woken already (see above)."""
        key, clock = (self.env.cr.dbname, cron_id), time.monotonic()
        if not pending or clock - _last_wake.get(key, float("-inf")) >= WAKE_AGAIN_AFTER:
            _last_wake[key] = clock
            self.env.cr.postcommit.add(self.env["ir.cron"].sudo().browse(cron_id)._notifydb)

    @api.model
    def _ops_trigger_at(self, cron_xmlid, at):
        """Run the cron ``cron_xmlid`` at ``at`` (naive UTC), on time: a trigger row plus an alarm.

        The trigger row (``ir.cron._trigger(at=...)``) is what Odoo reads; it
        is not written twice for the same time. (An earlier pending trigger is
        no substitute: the end of the cron run under way deletes every trigger
        whose time has passed by then.) The alarm (:class:`_Alarms`) wakes
        the sleeping cron workers when ``at`` comes, after this transaction
        commits; tests write the row only.
        """
        cron = self.env.ref(cron_xmlid).sudo()
        now = fields.Datetime.now()
        if not self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id), ("call_at", "=", at)]):
            cron._trigger(at=at)
        if self._ops_in_test() or at <= now:
            return
        when = at.replace(tzinfo=timezone.utc).timestamp() + ALARM_LATE
        if when - time.time() <= ALARM_HORIZON:
            dbname = self.env.cr.dbname
            self.env.cr.postcommit.add(lambda: _ALARMS.add(when, dbname))

    @api.model
    def _ops_notify_progress(self, done, remaining):
        """Report progress to the running cron, if any (no-op outside crons)."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
