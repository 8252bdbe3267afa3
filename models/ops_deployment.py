from odoo import api, fields, models, tools

from .ops_fields import BigInteger

DEPLOYMENT_STATES = [
    ("pending", "Pending"),
    ("queued", "Queued"),
    ("in_progress", "In progress"),
    ("success", "Success"),
    ("failure", "Failure"),
    ("error", "Error"),
    ("inactive", "Inactive"),
]
DEPLOYMENT_SOURCES = [("deployment", "GitHub deployment"), ("workflow_run", "Workflow run")]
COMMITS_STATES = [
    ("pending", "Not compared yet"),
    ("done", "Compared"),
    ("failed", "Compare failed"),
    ("too_many", "Too many commits"),
]


class OpsDeployment(models.Model):
    """One deployment of a commit to an environment: a GitHub deployment or a deploying workflow run.

    Its ``state`` follows the newest of its statuses (see
    :mod:`autopilot.delivery.deployments`); ``status_ids`` keeps every status
    received, in GitHub's order, including late and redelivered ones.
    """

    _name = "ops.deployment"
    _description = "Deployment"
    _order = "created_at desc, id desc"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    environment_id = fields.Many2one(
        "ops.deployment.environment", required=True, readonly=True, ondelete="cascade", index=True
    )
    github_id = BigInteger(
        string="GitHub ID",
        readonly=True,
        index="btree_not_null",
        help="GitHub's deployment id; empty for run-based deploys",
    )
    source = fields.Selection(DEPLOYMENT_SOURCES, required=True, default="deployment", readonly=True)
    sha = fields.Char(string="Commit", readonly=True, index=True)
    ref = fields.Char(readonly=True)
    task = fields.Char(readonly=True)
    description = fields.Char(readonly=True)
    creator = fields.Char(readonly=True)
    state = fields.Selection(DEPLOYMENT_STATES, default="pending", required=True, readonly=True, index=True)
    created_at = fields.Datetime(string="Created on GitHub", readonly=True, required=True, default=fields.Datetime.now)
    succeeded_at = fields.Datetime(readonly=True, index="btree_not_null", help="First success status")
    finished_at = fields.Datetime(readonly=True, help="First terminal status (success, failure or error)")
    is_production = fields.Boolean(related="environment_id.is_production", store=True, index=True)
    run_id = fields.Many2one(
        "ops.workflow.run", string="Workflow run", readonly=True, ondelete="set null", index="btree_not_null"
    )
    status_ids = fields.One2many("ops.deployment.status", "deployment_id", string="Statuses", readonly=True)
    commit_ids = fields.One2many("ops.deployment.commit", "deployment_id", string="Commits", readonly=True)
    previous_deployment_id = fields.Many2one(
        "ops.deployment",
        readonly=True,
        ondelete="set null",
        help="The previous successful deployment of this environment the commits were compared with",
    )
    rollback_of_id = fields.Many2one(
        "ops.deployment",
        string="Rolls back",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The failed deployment this one undid by putting back an older commit",
    )
    is_rollback = fields.Boolean(readonly=True)
    commits_state = fields.Selection(COMMITS_STATES, default="pending", required=True, readonly=True, index=True)
    commits_error = fields.Char(readonly=True)
    # GitHub's details and the order of applied statuses
    html_url = fields.Char(string="GitHub URL", readonly=True)
    environment_url = fields.Char(readonly=True)
    log_url = fields.Char(readonly=True)
    transient_environment = fields.Boolean(readonly=True)
    status_created_at = fields.Datetime(readonly=True, help="When GitHub created the status the state comes from")
    status_github_id = BigInteger(readonly=True)
    commit_count = fields.Integer(compute="_compute_commit_count")

    _sql_constraints = [
        (
            "github_id_unique",
            "unique(repository_id, github_id)",
            "A GitHub deployment is stored once per repository.",
        ),
    ]

    def init(self):
        tools.create_index(
            self.env.cr,
            "ops_deployment_repository_environment_created_index",
            self._table,
            ["repository_id", "environment_id", "created_at"],
        )

    def _compute_commit_count(self):
        counts = dict(
            self.env["ops.deployment.commit"]._read_group(
                [("deployment_id", "in", self.ids)], ["deployment_id"], ["__count"]
            )
        )
        for deployment in self:
            deployment.commit_count = counts.get(deployment, 0)

    @api.depends("environment_id.name", "sha")
    def _compute_display_name(self):
        for deployment in self:
            deployment.display_name = f"{deployment.environment_id.name or ''} @ {(deployment.sha or '')[:7]}"
