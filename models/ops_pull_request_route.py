from odoo import api, models


class OpsPullRequest(models.Model):
    _inherit = "ops.pull.request"

    @api.model
    def _upsert_pull_request(self, repository, pr):
        """Opening or updating a pull request gets a routing decision per head commit (made by a cron)."""
        record = super()._upsert_pull_request(repository, pr)
        self.env["ops.route.decision"]._enqueue_pull_request(record)
        return record
