from odoo import api, fields, models


class OpsPullRequest(models.Model):
    """Pull requests queue a code review when they are opened, reopened or pushed to."""

    _inherit = "ops.pull.request"

    review_ids = fields.One2many("ops.review", "pull_request_id", string="Reviews", readonly=True)
    review_count = fields.Integer(compute="_compute_review_count")

    def _compute_review_count(self):
        counts = dict(
            self.env["ops.review"]._read_group([("pull_request_id", "in", self.ids)], ["pull_request_id"], ["__count"])
        )
        for pr in self:
            pr.review_count = counts.get(pr, 0)

    @api.model
    def _upsert_pull_request(self, repository, pr):
        record = super()._upsert_pull_request(repository, pr)
        if record.head_sha == pr.head_sha:  # a late delivery of an older head asks for nothing
            self.env["ops.review"].sudo()._enqueue_pull_request(record, pr.action)
        return record

    def action_view_reviews(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_review_action")
        action["domain"] = [("pull_request_id", "in", self.ids)]
        return action
