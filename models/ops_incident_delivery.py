from datetime import timedelta

from odoo import api, fields, models

from .ops_params import get_param


class OpsIncidentDelivery(models.Model):
    """The deployment an incident is blamed on: linked by hand, or automatically when it opens on a target
    of an environment within the failure window after a deploy there (the latest such deploy).

    A linked incident makes that deploy a failed change in the change failure
    rate; incidents of a production environment count in the time to restore
    (:mod:`..autopilot.delivery.dora`).
    """

    _inherit = "ops.incident"

    deployment_id = fields.Many2one(
        "ops.deployment",
        ondelete="set null",
        index="btree_not_null",
        tracking=True,
        help="The deploy this incident is blamed on; set automatically for targets of a deployment environment",
    )
    deployment_environment_id = fields.Many2one(
        "ops.deployment.environment",
        string="Environment",
        compute="_compute_deployment_environment_id",
        store=True,
        index="btree_not_null",
        help="The environment of its deployment, else the one its target watches",
    )

    @api.depends("deployment_id.environment_id", "target_id.deployment_environment_id")
    def _compute_deployment_environment_id(self):
        for incident in self:
            incident.deployment_environment_id = (
                incident.deployment_id.environment_id or incident.target_id.deployment_environment_id
            )

    @api.model_create_multi
    def create(self, vals_list):
        incidents = super().create(vals_list)
        incidents.filtered(lambda i: not i.deployment_id)._link_deployment()
        return incidents

    def _failure_window(self):
        return timedelta(hours=get_param(self.env, "dora_failure_window_hours"))

    def _link_deployment(self):
        """Link each incident to the latest deploy of its target's environment within the failure window
        before it opened; one query per environment."""
        window = self._failure_window()
        Deployment = self.env["ops.deployment"].sudo()
        by_environment = {}
        for incident in self:
            environment = incident.target_id.deployment_environment_id
            if environment and incident.first_seen:
                by_environment[environment] = by_environment.get(environment, self.browse()) | incident
        for environment, incidents in by_environment.items():
            earliest = min(incidents.mapped("first_seen")) - window
            latest = max(incidents.mapped("first_seen"))
            deploys = Deployment.search_fetch(
                [
                    ("environment_id", "=", environment.id),
                    ("created_at", ">=", earliest),
                    ("created_at", "<=", latest),
                ],
                ["created_at"],
                order="created_at desc, id desc",
            )
            for incident in incidents:
                found = next(
                    (d for d in deploys if incident.first_seen - window <= d.created_at <= incident.first_seen), None
                )
                if found:
                    incident.deployment_id = found
