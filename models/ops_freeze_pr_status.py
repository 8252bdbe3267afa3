from odoo import fields, models

STATUS_STATES = [("pending", "Pending (frozen)"), ("success", "Success")]


class OpsFreezePrStatus(models.Model):
    """The last ``ops-autopilot/freeze`` status posted on a pull request's head commit.

    The status cron compares with it so that GitHub is only written when a
    head's status changes (a new push, a freeze starting or ending).
    """

    _name = "ops.freeze.pr.status"
    _description = "Freeze Commit Status"
    _order = "posted_at desc, id desc"
    _rec_name = "head_sha"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    pr_number = fields.Integer(string="Pull request", readonly=True)
    head_sha = fields.Char(string="Commit", required=True, readonly=True)
    state = fields.Selection(STATUS_STATES, required=True, readonly=True)
    description = fields.Char(readonly=True)
    window_id = fields.Many2one("ops.freeze.window", readonly=True, ondelete="set null")
    posted_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("sha_unique", "unique(repository_id, head_sha)", "One freeze status per commit of a repository."),
    ]
