from odoo import fields, models


class OpsDeploymentCommit(models.Model):
    """A commit a deployment brought to its environment (compared with the previous successful deploy)."""

    _name = "ops.deployment.commit"
    _description = "Deployed Commit"
    _order = "deployment_id, sequence, id"
    _rec_name = "sha"

    deployment_id = fields.Many2one("ops.deployment", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="deployment_id.company_id", store=True, index=True)
    sequence = fields.Integer(readonly=True, help="Position in GitHub's compare (oldest first)")
    sha = fields.Char(string="Commit", required=True, readonly=True, index=True)
    message = fields.Char(readonly=True, help="First line of the commit message")
    author = fields.Char(readonly=True)
    committed_at = fields.Datetime(readonly=True, help="The commit's author date")
    pull_request_numbers = fields.Char(string="Pull requests", readonly=True)
    html_url = fields.Char(string="GitHub URL", readonly=True)
