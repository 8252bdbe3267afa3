from odoo import fields, models


class OpsRepository(models.Model):
    """Environments and deployments of a repository: the promotion view's entry point."""

    _inherit = "ops.repository"

    deployment_environment_ids = fields.One2many("ops.deployment.environment", "repository_id", string="Environments")
    deployment_environment_count = fields.Integer(compute="_compute_deployment_environment_count")

    def _compute_deployment_environment_count(self):
        counts = dict(
            self.env["ops.deployment.environment"]._read_group(
                [("repository_id", "in", self.ids)], ["repository_id"], ["__count"]
            )
        )
        for repository in self:
            repository.deployment_environment_count = counts.get(repository, 0)

    def action_view_promotion(self):
        """The promotion view: this repository's environments in order, what runs where and what waits."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_deployment_environment_action")
        action["domain"] = [("repository_id", "=", self.id)]
        action["context"] = {"default_repository_id": self.id, "search_default_repository_id": self.id}
        return action
