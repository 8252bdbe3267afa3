from odoo import api, fields, models

from ..autopilot.delivery import deployments


class OpsDeploymentEnvironment(models.Model):
    """A GitHub environment of a repository (staging, production, ...), in promotion order.

    Created on the fly when a deployment names an environment not seen before;
    a manager orders them (``sequence``) and names the workflows that deploy to
    them for teams that deploy without GitHub Deployments.
    """

    _name = "ops.deployment.environment"
    _description = "Deployment Environment"
    _order = "repository_id, sequence, name, id"

    name = fields.Char(required=True, help="GitHub's environment name, e.g. production")
    repository_id = fields.Many2one("ops.repository", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    sequence = fields.Integer(
        default=deployments.DEFAULT_SEQUENCE,
        help="Promotion order: changes go from a lower sequence to the next higher one (staging 10 → production 20)",
    )
    is_production = fields.Boolean(string="Production", index=True)
    workflow_patterns = fields.Char(
        string="Deploying workflows",
        help="Workflow names or files (globs, comma separated) whose completed runs deploy to this environment, "
        "for teams that do not use GitHub Deployments, e.g. deploy-staging.yml",
    )
    deployment_ids = fields.One2many("ops.deployment", "environment_id", readonly=True)
    current_deployment_id = fields.Many2one(
        "ops.deployment",
        compute="_compute_current_deployment_id",
        store=True,
        help="The deployment that succeeded last in this environment: what runs there now",
    )
    current_sha = fields.Char(related="current_deployment_id.sha", string="Current commit")
    deployment_count = fields.Integer(compute="_compute_deployment_count")

    _sql_constraints = [
        ("name_unique", "unique(repository_id, name)", "An environment is stored once per repository."),
    ]

    @api.depends("deployment_ids.succeeded_at", "deployment_ids.state")
    def _compute_current_deployment_id(self):
        Deployment = self.env["ops.deployment"]
        for environment in self:
            if not environment.id:
                environment.current_deployment_id = False
                continue
            environment.current_deployment_id = Deployment.search(
                [
                    ("environment_id", "=", environment.id),
                    ("succeeded_at", "!=", False),
                    ("state", "not in", deployments.FAILED_STATES),
                ],
                order="succeeded_at desc, id desc",
                limit=1,
            )

    def _compute_deployment_count(self):
        counts = dict(
            self.env["ops.deployment"]._read_group(
                [("environment_id", "in", self.ids)], ["environment_id"], ["__count"]
            )
        )
        for environment in self:
            environment.deployment_count = counts.get(environment, 0)

    @api.model
    def _find_or_create(self, repository, name):
        """The environment ``name`` of ``repository``, created with its default order when new."""
        name = (name or "").strip() or deployments.DEFAULT_ENVIRONMENT
        environment = self.search([("repository_id", "=", repository.id), ("name", "=", name)], limit=1)
        if environment:
            return environment
        return self.create(
            {
                "repository_id": repository.id,
                "name": name,
                "sequence": deployments.default_sequence(name),
                "is_production": deployments.is_production_name(name),
            }
        )
