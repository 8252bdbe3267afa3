from odoo import api, models


class OpsWorkflowRun(models.Model):
    _inherit = "ops.workflow.run"

    @api.model
    def _upsert_run(self, repository, run):
        """A manually dispatched run may be a migration dry-run waiting for its outcome."""
        record = super()._upsert_run(repository, run)
        if run.event == "workflow_dispatch":
            self.env["ops.scan.run"].sudo()._record_dispatched_run(record)
        return record
