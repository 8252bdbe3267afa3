from odoo import api, fields, models


class OpsDeployment(models.Model):
    """Production deployments during a change freeze are flagged: a note in their chatter, counted on the dashboard.

    Covers both kinds of deployment: GitHub's own (``deployment`` webhooks)
    and run-based ones (runs of a workflow that deploys to a production
    environment). Deployments gain a chatter for that note only: creating
    one logs nothing and subscribes no one, so the webhook path stays light.
    """

    _name = "ops.deployment"
    _inherit = ["ops.deployment", "mail.thread"]

    freeze_window_id = fields.Many2one(
        "ops.freeze.window", string="Deployed during freeze", readonly=True, index="btree_not_null", ondelete="set null"
    )

    @api.model_create_multi
    def create(self, vals_list):
        quiet = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True)
        records = super(OpsDeployment, quiet).create(vals_list).with_env(self.env)
        records._freeze_flag_production()
        return records

    def _freeze_flag_production(self):
        """Flag each production deployment created while its repository is frozen (at its GitHub creation time)."""
        Window = self.env["ops.freeze.window"]
        for deployment in self.filtered(lambda d: d.is_production and not d.freeze_window_id):
            Window._flag_if_frozen(deployment, deployment.repository_id, deployment.created_at or fields.Datetime.now())
