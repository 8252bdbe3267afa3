import threading

from odoo import api, models


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
    def _ops_notify_progress(self, done, remaining):
        """Report progress to the running cron, if any (no-op outside crons)."""
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
