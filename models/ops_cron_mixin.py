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
        written every time, so no work is ever forgotten, but the NOTIFY is
        only sent when no earlier trigger is pending: a pending one means the
        workers were already woken and will find this row too (the end of a
        cron run only deletes triggers older than the run's start). Woken is
        not awake, though: a cron worker Odoo has just recycled (memory or
        request limits) sleeps up to a minute before its first poll, and with
        triggers pending nobody would wake it. So each process also wakes the
        workers again when its last wake-up is more than WAKE_AGAIN_AFTER
        seconds old: one extra NOTIFY per process every few seconds under
        load, and a backlog never waits for the minute-long poll.

        One statement, no ORM: the cron's id comes from the cached xmlid
        table (``env.ref`` would query to check it exists), and the
        ``RETURNING`` subquery sees the triggers as they were before this
        row (a statement never sees its own inserts).
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(cron_xmlid, raise_if_not_found=True)
        now = fields.Datetime.now()
        uid = self.env.uid
        self.env.cr.execute(
            SQL(
                "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
                " RETURNING (SELECT EXISTS(SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s))",
                cron_id,
                now,
                uid,
                now,
                uid,
                now,
                cron_id,
                now,
            )
        )
        pending = self.env.cr.fetchone()[0]
        key, clock = (self.env.cr.dbname, cron_id), time.monotonic()
        if not pending or clock - _last_wake.get(key, float("-inf")) >= WAKE_AGAIN_AFTER:
            _last_wake[key] = clock
            self.env.cr.postcommit.add(self.env["ir.cron"].sudo().browse(cron_id)._notifydb)

    @api.model
    def _ops_notify_progress(self, done, remaining):
        """Report progress to the running cron, if any (no-op outside crons)."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
