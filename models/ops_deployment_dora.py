from odoo import api, fields, models, tools

from ..autopilot.delivery import dora


class OpsDeploymentDora(models.Model):
    """What the DORA keys need of a deployment: when it first failed, and indexes for their queries.

    ``failed_at`` is the first failure or error status GitHub gave it (for a
    deploy recorded from a workflow run: when the run failed). A deploy that
    succeeded and failed later has both ``succeeded_at`` and ``failed_at``.
    """

    _inherit = "ops.deployment"

    failed_at = fields.Datetime(
        compute="_compute_failed_at",
        store=True,
        index="btree_not_null",
        help="First failure or error status",
    )

    def init(self):
        result = super().init()
        # the dashboard's period filters over production deploys, and "the environment's next success"
        for name, columns in (
            ("ops_deployment_production_created_index", ["is_production", "created_at"]),
            ("ops_deployment_production_succeeded_index", ["is_production", "succeeded_at"]),
            ("ops_deployment_environment_succeeded_index", ["environment_id", "succeeded_at"]),
        ):
            tools.create_index(self.env.cr, name, self._table, columns)
        # the rollbacks of an environment, for "the rollback right after a deploy"
        tools.create_index(
            self.env.cr,
            "ops_deployment_rollback_environment_created_index",
            self._table,
            ["repository_id", "environment_id", "created_at"],
            where="is_rollback",
        )
        return result

    @api.depends("status_ids.state", "status_ids.created_at", "state", "finished_at")
    def _compute_failed_at(self):
        for deployment in self:
            failures = [
                status.created_at
                for status in deployment.status_ids
                if status.state in dora.FAILED_STATES and status.created_at
            ]
            if not failures and deployment.state in dora.FAILED_STATES:
                failures = [deployment.finished_at or deployment.created_at]
            deployment.failed_at = min(failures) if failures else False
