from odoo import api, fields, models

from .. import const

FINDING_SOURCES = [("check", "Architecture check"), ("ai", "AI review")]


class OpsReviewFinding(models.Model):
    """One finding of a review: an architecture check result or a point the AI made."""

    _name = "ops.review.finding"
    _description = "Review Finding"
    _order = "review_id desc, source, sequence, id"
    _rec_name = "location"

    review_id = fields.Many2one("ops.review", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="review_id.company_id", store=True, index=True)
    sequence = fields.Integer(readonly=True)
    source = fields.Selection(FINDING_SOURCES, required=True, readonly=True)
    rule = fields.Char(readonly=True, help="The architecture check rule id")
    file = fields.Char(readonly=True)
    line = fields.Integer(readonly=True, help="Line in the new version of the file (0: the whole file or addon)")
    location = fields.Char(compute="_compute_location")
    severity = fields.Selection(const.REVIEW_SEVERITIES, readonly=True)
    explanation = fields.Text(readonly=True)
    suggested_patch = fields.Text(readonly=True)
    confidence = fields.Float(digits=(3, 2), readonly=True)
    above_threshold = fields.Boolean(readonly=True, help="Confidence reached the threshold when reviewed")
    posted_inline = fields.Boolean(string="Posted inline", readonly=True)
    auto_fixed = fields.Boolean(string="Auto-fixed", readonly=True, help="Applied in the auto-fix pull request")

    @api.depends("file", "line")
    def _compute_location(self):
        for finding in self:
            finding.location = f"{finding.file}:{finding.line}" if finding.line else finding.file or ""
