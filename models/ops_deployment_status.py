from odoo import fields, models

from .ops_deployment import DEPLOYMENT_STATES
from .ops_fields import BigInteger

STATUS_STATES = [*DEPLOYMENT_STATES, ("unknown", "Unknown")]


class OpsDeploymentStatus(models.Model):
    """One status GitHub gave a deployment, kept even when it arrived late and moved nothing.

    A deployment from a workflow run has one status per attempt of the run
    (``github_id`` is then the attempt number).
    """

    _name = "ops.deployment.status"
    _description = "Deployment Status"
    _order = "created_at, github_id, id"
    _rec_name = "state"

    deployment_id = fields.Many2one("ops.deployment", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="deployment_id.company_id", store=True, index=True)
    github_id = BigInteger(string="GitHub ID", readonly=True)
    state = fields.Selection(STATUS_STATES, required=True, readonly=True)
    raw_state = fields.Char(
        readonly=True, help="The state as GitHub wrote it (kept when this version does not know it)"
    )
    description = fields.Char(readonly=True)
    environment_url = fields.Char(readonly=True)
    log_url = fields.Char(readonly=True)
    creator = fields.Char(readonly=True)
    created_at = fields.Datetime(readonly=True)
    applied = fields.Boolean(readonly=True, help="False when the status was older than one already applied")

    _sql_constraints = [
        (
            "github_id_unique",
            "unique(deployment_id, github_id)",
            "A deployment status is stored once.",
        ),
    ]
