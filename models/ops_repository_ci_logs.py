from odoo import models


class OpsRepository(models.Model):
    """A token added later lets self-healing read the logs it could not read: those runs are diagnosed again."""

    _inherit = "ops.repository"

    def write(self, vals):
        result = super().write(vals)
        if "token" in vals:
            self.invalidate_recordset(["has_token"])  # computed without dependencies: not refreshed by itself
        if vals.get("token"):
            self._ci_requeue_unread_logs()
        return result

    def _ci_requeue_unread_logs(self):
        diagnoses = (
            self.env["ops.job.diagnosis"]
            .sudo()
            .search([("repository_id", "in", self.ids), ("log_state", "=", "no_token")], limit=500)
        )
        runs = diagnoses.run_id.filtered(
            lambda r: r.diagnosis_ids.filtered(lambda d: d.run_attempt == r.run_attempt and d.log_state == "no_token")
        )
        runs._ci_requeue()
