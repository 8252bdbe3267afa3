from odoo import api, models


class OpsWorkflowRun(models.Model):
    _inherit = "ops.workflow.run"

    @api.model
    def _upsert_run(self, repository, run):
        """A run may be the one a GitHub deployment named, or itself deploy to an environment."""
        record = super()._upsert_run(repository, run)
        self.env["ops.deployment"].sudo()._record_run(record)
        return record
