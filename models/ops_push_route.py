from odoo import api, models


class OpsPush(models.Model):
    _inherit = "ops.push"

    @api.model
    def _record_push(self, repository, push):
        """Every recorded push gets a routing decision (made later by the routing cron)."""
        record = super()._record_push(repository, push)
        self.env["ops.route.decision"]._enqueue_push(record)
        return record
