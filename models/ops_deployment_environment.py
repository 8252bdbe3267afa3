from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..autopilot.delivery import deployments

#: upstream deployments read to tell what waits to be promoted (more: "unknown")
WAITING_LOOKBACK = 200
WAITING_STATES = [("none", "Nothing waiting"), ("waiting", "Waiting"), ("unknown", "Unknown")]


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
    current_short_sha = fields.Char(related="current_deployment_id.short_sha", string="Runs")
    current_commit_url = fields.Char(related="current_deployment_id.commit_url")
    current_deployed_at = fields.Datetime(related="current_deployment_id.succeeded_at", string="Deployed")
    current_creator = fields.Char(related="current_deployment_id.creator", string="Deployed by")
    current_is_rollback = fields.Boolean(related="current_deployment_id.is_rollback")
    last_deployment_id = fields.Many2one("ops.deployment", compute="_compute_last_deployment_id")
    last_state = fields.Selection(
        lambda self: self.env["ops.deployment"]._fields["state"].selection,
        string="Last deployment",
        compute="_compute_last_deployment_id",
    )
    deployment_count = fields.Integer(compute="_compute_deployment_count")
    upstream_id = fields.Many2one(
        "ops.deployment.environment",
        string="Promoted from",
        compute="_compute_waiting",
        help="The environment before this one in the promotion order",
    )
    waiting_state = fields.Selection(WAITING_STATES, string="Promotion", compute="_compute_waiting")
    waiting_reason = fields.Char(compute="_compute_waiting")
    waiting_complete = fields.Boolean(
        string="Every commit known",
        compute="_compute_waiting",
        help="Off when the compare of a deployment was capped or failed: more commits may be waiting",
    )
    waiting_count = fields.Integer(compute="_compute_waiting")
    waiting_commit_ids = fields.Many2many(
        "ops.deployment.commit",
        compute="_compute_waiting",
        string="Waiting to be promoted",
        help="Commits the environment before runs that this one does not (from the commits its deployments brought)",
    )
    waiting_pull_requests = fields.Char(compute="_compute_waiting", string="Pull requests waiting")

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

    def _compute_last_deployment_id(self):
        """The newest deployment of each environment, in one query (``DISTINCT ON``)."""
        last = {}
        if self.ids:
            rows = self.env.execute_query(
                SQL(
                    "SELECT DISTINCT ON (environment_id) environment_id, id, state FROM ops_deployment"
                    " WHERE environment_id IN %s ORDER BY environment_id, created_at DESC, id DESC",
                    tuple(self.ids),
                )
            )
            last = {environment_id: (deployment_id, state) for environment_id, deployment_id, state in rows}
        for environment in self:
            deployment_id, state = last.get(environment.id, (False, False))
            environment.last_deployment_id = deployment_id
            environment.last_state = state

    @api.depends("sequence", "current_deployment_id")
    def _compute_waiting(self):
        """What waits in the environment before each one: the engine reads the commits stored for its deployments."""
        Deployment = self.env["ops.deployment"]
        Commit = self.env["ops.deployment.commit"]
        by_repository = defaultdict(self.browse)
        for environment in self:
            by_repository[environment.repository_id] |= environment
        for repository, environments in by_repository.items():
            siblings = self.search([("repository_id", "=", repository.id)]) if repository.id else environments
            upstream_of = dict(deployments.promotion_order(siblings))
            for environment in environments:
                upstream = upstream_of.get(environment) or self.browse()
                waiting = deployments.Waiting(True)
                commits = Commit
                if upstream:
                    chain = environment._upstream_chain(upstream, Deployment)
                    waiting = deployments.waiting_to_promote(chain, environment.current_sha or "")
                    commits = Commit.browse([commit.id for commit in waiting.commits])
                state = ("waiting" if waiting.commits else "none") if waiting.known else "unknown"
                numbers = sorted(
                    {n.strip() for n in ",".join(commits.mapped("pull_request_numbers")).split(",") if n.strip()},
                    key=int,
                )
                environment.update(
                    {
                        "upstream_id": upstream.id,
                        "waiting_state": state,
                        "waiting_reason": waiting.reason or False,
                        "waiting_complete": waiting.complete,
                        "waiting_count": len(commits),
                        "waiting_commit_ids": [(6, 0, commits.ids)],
                        "waiting_pull_requests": ", ".join(f"#{n}" for n in numbers) or False,
                    }
                )

    def _upstream_chain(self, upstream, Deployment):
        """The upstream's successful deployments since it last deployed this environment's commit, oldest first.

        As :class:`autopilot.delivery.deployments.Brought` with their commits (one query for all of them).
        """
        self.ensure_one()
        succeeded = [
            ("environment_id", "=", upstream.id),
            ("succeeded_at", "!=", False),
            ("state", "not in", deployments.FAILED_STATES),
        ]
        anchor = Deployment.browse()
        if self.current_sha:
            anchor = Deployment.search([*succeeded, ("sha", "=", self.current_sha)], limit=1)
        domain = succeeded
        if anchor:
            domain = [*succeeded, "|", ("created_at", ">", anchor.created_at), ("id", "=", anchor.id)]
        chain = Deployment.search(domain, order="created_at desc, id desc", limit=WAITING_LOOKBACK)
        chain = chain.sorted(lambda d: (d.created_at, d.id))
        commits = defaultdict(list)
        for commit in self.env["ops.deployment.commit"].search([("deployment_id", "in", chain.ids)]):
            commits[commit.deployment_id.id].append(commit)
        return [deployments.Brought(d.sha, d.commits_state, tuple(commits[d.id])) for d in chain]

    def _compute_deployment_count(self):
        counts = dict(
            self.env["ops.deployment"]._read_group(
                [("environment_id", "in", self.ids)], ["environment_id"], ["__count"]
            )
        )
        for environment in self:
            environment.deployment_count = counts.get(environment, 0)

    @api.model_create_multi
    def create(self, vals_list):
        environments = super().create(vals_list)
        if any(vals.get("workflow_patterns") for vals in vals_list):
            self.env.registry.clear_cache()  # _deploying_patterns
        return environments

    def write(self, vals):
        result = super().write(vals)
        if {"workflow_patterns", "repository_id"} & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        patterned = any(self.mapped("workflow_patterns"))
        result = super().unlink()
        if patterned:
            self.env.registry.clear_cache()
        return result

    @api.model
    @tools.ormcache("repository_id")
    def _deploying_patterns(self, repository_id):
        """``((environment id, workflow patterns), ...)`` of a repository: read for every completed run, cached."""
        environments = self.sudo().search([("repository_id", "=", repository_id), ("workflow_patterns", "!=", False)])
        return tuple((environment.id, environment.workflow_patterns) for environment in environments)

    def action_open_deployments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_deployment_action")
        action["domain"] = [("environment_id", "=", self.id)]
        action["context"] = {"default_environment_id": self.id}
        return action

    def action_open_current_commit(self):
        self.ensure_one()
        return self.current_deployment_id.action_open_commit()

    @api.model
    def _find_or_create(self, repository, name, production=None):
        """The environment ``name`` of ``repository``, created with its default order when new.

        ``production``: GitHub's ``production_environment`` flag, when the
        deployment carries it; a production-like name counts too. An existing
        environment keeps what a manager set.
        """
        name = (name or "").strip() or deployments.DEFAULT_ENVIRONMENT
        environment = self.search([("repository_id", "=", repository.id), ("name", "=", name)], limit=1)
        if environment:
            return environment
        return self.create(
            {
                "repository_id": repository.id,
                "name": name,
                "sequence": deployments.default_sequence(name),
                "is_production": bool(production) or deployments.is_production_name(name),
            }
        )
