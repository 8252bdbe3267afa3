import threading
import time

from odoo import api, fields, models
from odoo.tools import SQL

#: seconds after which a trigger wakes the cron workers again although an earlier trigger is pending
WAKE_AGAIN_AFTER = 5.0
#: (database, cron id) -> time.monotonic() of this process's last wake-up call
_last_wake = {}


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
    def _ops_notify_progress(self, done, remaining):
        """Report progress to the running cron, if any (no-op outside crons)."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
