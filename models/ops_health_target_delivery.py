from odoo import fields, models


class OpsHealthTargetDelivery(models.Model):
    """The deployment environment a health target watches, so its incidents can be blamed on a deploy."""

    _inherit = "ops.health.target"

    deployment_environment_id = fields.Many2one(
        "ops.deployment.environment",
        string="Deployment environment",
        ondelete="set null",
        index="btree_not_null",
        domain="[('repository_id', '=?', repository_id)]",
        help="The environment this target watches (e.g. production of its repository): an incident it opens "
        "within the failure window after a deploy there is linked to that deploy, and counts in the DORA keys.",
    )
