from odoo import api, fields, models


class OpsPullRequest(models.Model):
    """Pull requests queue a code review when they are opened, reopened or pushed to."""

    _inherit = "ops.pull.request"

    review_ids = fields.One2many("ops.review", "pull_request_id", string="Reviews", readonly=True)

    @api.model
    def _upsert_pull_request(self, repository, pr):
        record = super()._upsert_pull_request(repository, pr)
        if record.head_sha == pr.head_sha:  # a late delivery of an older head asks for nothing
            self.env["ops.review"].sudo()._enqueue_pull_request(record, pr.action)
        return record
