from odoo import api, fields, models

FILE_STATUSES = [
    ("added", "Added"),
    ("modified", "Modified"),
    ("removed", "Removed"),
    ("renamed", "Renamed"),
    ("copied", "Copied"),
    ("changed", "Changed"),
    ("unchanged", "Unchanged"),
]


class OpsChangeFile(models.Model):
    """A file changed by a push or a pull request (input of the change router)."""

    _name = "ops.change.file"
    _description = "Changed File"
    _order = "filename, id"
    _rec_name = "filename"

    push_id = fields.Many2one("ops.push", ondelete="cascade", index=True, readonly=True)
    pull_request_id = fields.Many2one("ops.pull.request", ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", compute="_compute_company_id", store=True, index=True)
    filename = fields.Char(required=True, readonly=True)
    status = fields.Selection(FILE_STATUSES, readonly=True)
    additions = fields.Integer(readonly=True)
    deletions = fields.Integer(readonly=True)

    _sql_constraints = [
        (
            "one_parent",
            "CHECK((push_id IS NULL) != (pull_request_id IS NULL))",
            "A changed file belongs to a push or to a pull request.",
        ),
    ]

    @api.depends("push_id.repository_id.company_id", "pull_request_id.repository_id.company_id")
    def _compute_company_id(self):
        for change in self:
            change.company_id = (change.push_id or change.pull_request_id).repository_id.company_id
