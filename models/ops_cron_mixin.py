import threading

from odoo import api, fields, models
from odoo.tools import SQL


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
    def _ops_trigger_soon(self, cron):
        """Make ``cron`` run as soon as a worker is free, cheaply enough for every webhook delivery.

        ``ir.cron._trigger()`` wakes sleeping cron workers with a NOTIFY sent
        over a brand-new connection to the ``postgres`` database (Odoo does not
        pool those): a third of a delivery's cost. A trigger row is still
        written every time, so no work is ever forgotten, but the NOTIFY is
        only sent when no earlier trigger is pending: a pending one means the
        workers were already woken and will find this row too (the end of a
        cron run only deletes triggers older than the run's start).
        """
        now = fields.Datetime.now()
        # plain SQL: this runs once per webhook delivery, and the ORM's create costs more than the row
        self.env.cr.execute(
            SQL(
                "SELECT EXISTS(SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s)",
                cron.id,
                now,
            )
        )
        pending = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            SQL(
                "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                cron.id,
                now,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
        )
        if not pending:
            self.env.cr.postcommit.add(cron._notifydb)

    @api.model
    def _ops_notify_progress(self, done, remaining):
        """Report progress to the running cron, if any (no-op outside crons)."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
