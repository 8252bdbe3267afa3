from odoo import models


class OpsWebhookDelivery(models.Model):
    """Check events on an auto-fix branch make the review cron look at that fix PR's checks."""

    _inherit = "ops.webhook.delivery"

    def _dispatch(self):
        record = super()._dispatch()
        if record and record._name in ("ops.workflow.run", "ops.workflow.job"):
            self.env["ops.review"].sudo()._on_check_event(record.repository_id, record.head_branch)
        return record
