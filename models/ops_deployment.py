import logging
from datetime import timedelta

from odoo import _, api, fields, models, tools

from ..autopilot.common.errors import ServiceError
from ..autopilot.common.workflows import workflow_matches
from ..autopilot.delivery import deployments
from .ops_fields import BigInteger
from .ops_params import get_param

_logger = logging.getLogger(__name__)

DEPLOYMENT_STATES = [
    ("pending", "Pending"),
    ("queued", "Queued"),
    ("in_progress", "In progress"),
    ("success", "Success"),
    ("failure", "Failure"),
    ("error", "Error"),
    ("inactive", "Inactive"),
    ("waiting", "Waiting for approval"),
]
DEPLOYMENT_SOURCES = [("deployment", "GitHub deployment"), ("workflow_run", "Workflow run")]
COMMITS_STATES = [
    ("pending", "Not compared yet"),
    ("done", "Compared"),
    ("failed", "Compare failed"),
    ("too_many", "Too many commits"),
]
COMMITS_CRON = "ops_autopilot.ir_cron_deployment_commits"
#: deployments of an environment read to tell a rollback
ROLLBACK_LOOKBACK = 50


class OpsDeployment(models.Model):
    """One deployment of a commit to an environment: a GitHub deployment or a deploying workflow run.

    Its ``state`` follows the newest of its statuses (see
    :mod:`autopilot.delivery.deployments`); ``status_ids`` keeps every status
    received, in GitHub's order, including late and redelivered ones.
    ``succeeded_at`` set means it succeeded, even once GitHub made it
    ``inactive`` (replaced by a newer one).
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
    short_sha = fields.Char(string="Short commit", compute="_compute_commit_url")
    commit_url = fields.Char(compute="_compute_commit_url")
    ref = fields.Char(readonly=True)
    task = fields.Char(readonly=True)
    description = fields.Char(readonly=True)
    creator = fields.Char(string="Deployed by", readonly=True)
    state = fields.Selection(DEPLOYMENT_STATES, default="pending", required=True, readonly=True, index=True)
    created_at = fields.Datetime(string="Created on GitHub", readonly=True, required=True, default=fields.Datetime.now)
    succeeded_at = fields.Datetime(readonly=True, index="btree_not_null", help="First success status")
    finished_at = fields.Datetime(readonly=True, help="First terminal status (success, failure or error)")
    is_production = fields.Boolean(related="environment_id.is_production", store=True, index=True)
    run_id = fields.Many2one(
        "ops.workflow.run", string="Workflow run", readonly=True, ondelete="set null", index="btree_not_null"
    )
    run_github_id = BigInteger(
        string="Run ID on GitHub",
        readonly=True,
        index="btree_not_null",
        help="The run GitHub named as deploying, linked once the run itself arrives",
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
    rolled_back_by_ids = fields.One2many("ops.deployment", "rollback_of_id", string="Rolled back by", readonly=True)
    is_rollback = fields.Boolean(readonly=True)
    rollback_reason = fields.Char(readonly=True)
    commits_state = fields.Selection(COMMITS_STATES, default="pending", required=True, readonly=True, index=True)
    commits_error = fields.Char(readonly=True)
    commits_attempts = fields.Integer(readonly=True)
    commits_next_attempt_at = fields.Datetime(readonly=True)
    # GitHub's details and the order of applied statuses
    html_url = fields.Char(
        string="GitHub URL", readonly=True, help="The deployment in GitHub's API, or the run's page for run-based ones"
    )
    environment_url = fields.Char(readonly=True)
    log_url = fields.Char(readonly=True)
    transient_environment = fields.Boolean(readonly=True)
    status_created_at = fields.Datetime(readonly=True, help="When GitHub created the status the state comes from")
    status_github_id = BigInteger(readonly=True)
    commit_count = fields.Integer(compute="_compute_commit_count")
    duration = fields.Float(string="Duration (min)", compute="_compute_duration", digits=(16, 1))

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

    @api.depends("sha", "repository_id.html_url")
    def _compute_commit_url(self):
        for deployment in self:
            deployment.short_sha = (deployment.sha or "")[:7]
            deployment.commit_url = (
                f"{deployment.repository_id.html_url}/commit/{deployment.sha}" if deployment.sha else False
            )

    def _compute_commit_count(self):
        counts = dict(
            self.env["ops.deployment.commit"]._read_group(
                [("deployment_id", "in", self.ids)], ["deployment_id"], ["__count"]
            )
        )
        for deployment in self:
            deployment.commit_count = counts.get(deployment, 0)

    @api.depends("created_at", "finished_at")
    def _compute_duration(self):
        for deployment in self:
            start, end = deployment.created_at, deployment.finished_at
            deployment.duration = (end - start).total_seconds() / 60 if start and end and end >= start else 0.0

    @api.depends("environment_id.name", "sha")
    def _compute_display_name(self):
        for deployment in self:
            deployment.display_name = f"{deployment.environment_id.name or ''} @ {(deployment.sha or '')[:7]}"

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_open_commit(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.commit_url, "target": "new"}

    def action_compare_again(self):
        """Fetch the commits again (after a failed compare, or once the repository has a token)."""
        self.write(
            {
                "commits_state": "pending",
                "commits_error": False,
                "commits_attempts": 0,
                "commits_next_attempt_at": False,
            }
        )
        self._ops_trigger_commits()
        return True

    # ------------------------------------------------------------------
    # recording GitHub's deployments (webhook deliveries)
    # ------------------------------------------------------------------
    @api.model
    def _ingest_event(self, repository, event):
        """Create or update a deployment from :class:`autopilot.github.events.DeploymentEvent`.

        Redelivered and out-of-order events change nothing twice: a deployment
        is stored once per GitHub id, a status once per status id, and a
        status older than the last applied one moves no state.
        """
        found = event.deployment
        record = self.search([("repository_id", "=", repository.id), ("github_id", "=", found.github_id)], limit=1)
        described = {
            "sha": found.sha,
            "ref": found.ref,
            "task": found.task,
            "description": found.description,
            "creator": found.creator,
            "html_url": found.html_url,
            "transient_environment": found.transient_environment,
        }
        created = not record
        if created:
            environment = self.env["ops.deployment.environment"]._find_or_create(
                repository, found.environment, production=found.production_environment
            )
            record = self.create(
                {
                    **described,
                    "repository_id": repository.id,
                    "environment_id": environment.id,
                    "github_id": found.github_id,
                    "source": "deployment",
                    "created_at": found.created_at or fields.Datetime.now(),
                }
            )
        else:
            record.write({key: value for key, value in described.items() if value})
        if event.run is not None:
            record._link_run(event.run.github_id)
        elif not record.run_id and not record.run_github_id:
            record._guess_run()
        applied = False
        if event.status is not None:
            status = event.status
            applied = record._apply_status(
                status.state,
                status.created_at,
                status.github_id,
                description=status.description,
                environment_url=status.environment_url,
                log_url=status.log_url,
                creator=status.creator,
            )
        if created or applied:
            record._check_rollback()
        return record

    def _progress(self):
        self.ensure_one()
        key = None
        if self.status_created_at or self.status_github_id:
            key = deployments.progress_key(self.state, self.status_created_at, self.status_github_id)
        return deployments.Progress(self.state, self.succeeded_at or None, self.finished_at or None, key)

    def _apply_status(self, state, created_at, status_id, **details):
        """Record one status and apply it when it is newer than the last applied one; True when applied."""
        self.ensure_one()
        Status = self.env["ops.deployment.status"]
        if Status.search_count([("deployment_id", "=", self.id), ("github_id", "=", status_id)], limit=1):
            return False  # a redelivery: already recorded (and applied or not)
        before = self._progress()
        after, applied = deployments.apply_status(before, state, created_at, status_id)
        Status.create(
            {
                "deployment_id": self.id,
                "github_id": status_id,
                "state": deployments.known_state(state),
                "raw_state": state[:32],
                "created_at": created_at,
                "applied": applied,
                **{key: value for key, value in details.items() if value},
            }
        )
        values = {"succeeded_at": after.succeeded_at or False, "finished_at": after.finished_at or False}
        if applied:
            values.update(state=after.state, status_created_at=created_at, status_github_id=status_id)
            values.update({key: details[key] for key in ("environment_url", "log_url") if details.get(key)})
        self.write(values)
        if after.succeeded_at and not before.succeeded_at:
            self._ops_trigger_commits()
        if applied and after.state in deployments.FAILED_STATES:
            self._next_in_environment()._check_rollback()  # a rollback may have arrived before this failure
        return applied

    def _next_in_environment(self):
        self.ensure_one()
        return self.search(
            [
                ("environment_id", "=", self.environment_id.id),
                "|",
                ("created_at", ">", self.created_at),
                "&",
                ("created_at", "=", self.created_at),
                ("id", ">", self.id),
            ],
            order="created_at, id",
            limit=1,
        )

    def _earlier_in_environment(self, limit=ROLLBACK_LOOKBACK):
        """The environment's deployments before this one, newest first."""
        self.ensure_one()
        return self.search(
            [
                ("environment_id", "=", self.environment_id.id),
                "|",
                ("created_at", "<", self.created_at),
                "&",
                ("created_at", "=", self.created_at),
                ("id", "<", self.id),
            ],
            order="created_at desc, id desc",
            limit=limit,
        )

    def _check_rollback(self):
        """Mark this deployment a rollback when the engine says it is one (see ``detect_rollback``)."""
        for deployment in self:
            if deployment.is_rollback:
                continue
            earlier = deployment._earlier_in_environment()
            history = [
                deployments.Deployed(d.id, d.sha, d.state, d.created_at, succeeded=bool(d.succeeded_at))
                for d in reversed(earlier)
            ]
            rollback_workflow = deployment.repository_id.ci_rollback_workflow
            run = deployment.run_id
            by_workflow = bool(
                rollback_workflow and run and workflow_matches(rollback_workflow, run.name, run.workflow_path)
            )
            verdict = deployments.detect_rollback(deployment.sha, history, by_rollback_workflow=by_workflow)
            if verdict.is_rollback:
                deployment.write(
                    {
                        "is_rollback": True,
                        "rollback_of_id": verdict.rollback_of or False,
                        "rollback_reason": verdict.reason,
                    }
                )

    # ------------------------------------------------------------------
    # the run that deployed
    # ------------------------------------------------------------------
    def _link_run(self, run_github_id):
        """Link the run GitHub names (now, or when it arrives); a run-based twin of this deployment goes."""
        self.ensure_one()
        run = self.env["ops.workflow.run"].search(
            [
                ("repository_id", "=", self.repository_id.id),
                ("source", "=", "workflow_run"),
                ("github_id", "=", run_github_id),
            ],
            limit=1,
        )
        self.write({"run_github_id": run_github_id, "run_id": run.id or self.run_id.id})
        if run:
            self._drop_run_twins(run)

    def _drop_run_twins(self, run):
        """The run-based deployments of ``run`` in this deployment's environment: GitHub's own record wins."""
        self.search(
            [("source", "=", "workflow_run"), ("run_id", "=", run.id), ("environment_id", "=", self.environment_id.id)]
        ).unlink()

    def _deploys_patterns(self):
        self.ensure_one()
        return ", ".join(
            p for p in (self.environment_id.workflow_patterns, self.repository_id.ci_deployment_workflows) if p
        )

    def _guess_run(self):
        """Link the run of the same commit that was running when GitHub created the deployment, if only one was."""
        for deployment in self:
            if not deployment.sha:
                continue
            runs = self.env["ops.workflow.run"].search(
                [
                    ("repository_id", "=", deployment.repository_id.id),
                    ("source", "=", "workflow_run"),
                    ("head_sha", "=", deployment.sha),
                ],
                order="started_at desc, id desc",
                limit=20,
            )
            patterns = deployment._deploys_patterns()
            candidates = [
                deployments.RunCandidate(
                    run.id,
                    run.head_sha,
                    run.started_at or None,
                    run.finished_at or None,
                    deploys=bool(patterns and workflow_matches(patterns, run.name, run.workflow_path)),
                )
                for run in runs
            ]
            picked = deployments.pick_run(deployment.sha, deployment.created_at, candidates)
            if picked:
                deployment.run_id = picked
                deployment._drop_run_twins(deployment.run_id)

    @api.model
    def _record_run(self, run):
        """What a workflow run (just recorded) means for deployments.

        Deployments of GitHub that named this run, or whose commit and time
        point at it, get linked; a completed run of a workflow that deploys to
        an environment (its ``workflow_patterns``) is itself a deployment
        there, unless GitHub recorded that deployment already.
        """
        if run.source != "workflow_run":
            return self.browse()
        repository = run.repository_id
        # one query for both: deployments that named this run, and those of its commit not linked to any run
        to_link = self.search(
            [
                ("repository_id", "=", repository.id),
                ("run_id", "=", False),
                "|",
                ("run_github_id", "=", run.github_id),
                "&",
                "&",
                ("sha", "=", run.head_sha),
                ("source", "=", "deployment"),
                ("run_github_id", "=", False),
            ],
            limit=20,
        )
        for deployment in to_link:
            if deployment.run_github_id == run.github_id:
                deployment.run_id = run
                deployment._drop_run_twins(run)
            else:
                deployment._guess_run()
        state = deployments.state_of_run(run.status, run.conclusion)
        if state is None:
            return self.browse()
        recorded = self.browse()
        Environment = self.env["ops.deployment.environment"]
        for environment_id, patterns in Environment._deploying_patterns(repository.id):
            if workflow_matches(patterns, run.name, run.workflow_path):
                recorded |= self._record_run_deployment(Environment.browse(environment_id), run, state)
        return recorded

    def _record_run_deployment(self, environment, run, state):
        """Create or update the run-based deployment of ``run`` to ``environment``; idempotent on redelivery."""
        github_twin = self.search_count(
            [
                ("environment_id", "=", environment.id),
                ("source", "=", "deployment"),
                "|",
                ("run_id", "=", run.id),
                ("run_github_id", "=", run.github_id),
            ],
            limit=1,
        )
        if github_twin:
            return self.browse()
        record = self.search(
            [("source", "=", "workflow_run"), ("run_id", "=", run.id), ("environment_id", "=", environment.id)],
            limit=1,
        )
        created = not record
        if created:
            record = self.create(
                {
                    "repository_id": run.repository_id.id,
                    "environment_id": environment.id,
                    "source": "workflow_run",
                    "run_id": run.id,
                    "run_github_id": run.github_id,
                    "sha": run.head_sha,
                    "ref": run.head_branch,
                    "task": "deploy",
                    "description": run.display_title or run.name,
                    "creator": run.actor,
                    "html_url": run.html_url,
                    "created_at": run.started_at or fields.Datetime.now(),
                }
            )
        finished = run.finished_at or run.github_updated_at or fields.Datetime.now()
        applied = record._apply_status(
            state,
            finished,
            run.run_attempt or 1,
            description=_("Attempt %(attempt)s of %(run)s", attempt=run.run_attempt or 1, run=run.display_name),
            log_url=run.html_url,
            creator=run.actor,
        )
        if created or applied:
            record._check_rollback()
        return record

    # ------------------------------------------------------------------
    # the commits it brought (cron)
    # ------------------------------------------------------------------
    def _ops_trigger_commits(self):
        self.env["ops.cron.mixin"]._ops_trigger_soon(COMMITS_CRON)

    @api.model
    def _commits_due_domain(self):
        now = fields.Datetime.now()
        return [
            ("commits_state", "=", "pending"),
            ("succeeded_at", "!=", False),
            "|",
            ("commits_next_attempt_at", "=", False),
            ("commits_next_attempt_at", "<=", now),
        ]

    @api.model
    def _cron_fetch_commits(self, batch_size=None):
        """Fetch the commits of a batch of successful deployments; one failure never blocks the others."""
        limit = batch_size or get_param(self.env, "deployment_compare_batch_size")
        query = self._search(self._commits_due_domain(), order="succeeded_at, id", limit=limit)
        batch = self.browse(
            [row[0] for row in self.env.execute_query(tools.SQL("%s FOR UPDATE SKIP LOCKED", query.select()))]
        )
        clients = {}
        for deployment in batch:
            try:
                with self.env.cr.savepoint():
                    deployment._fetch_commits(clients)
            except Exception as exc:
                if not isinstance(exc, ServiceError | deployments.NoToken):
                    _logger.warning("commits of deployment %s could not be fetched", deployment.id, exc_info=True)
                deployment._commits_failed(exc)
        self.env["ops.cron.mixin"]._ops_notify_progress(
            done=len(batch), remaining=self.search_count(self._commits_due_domain())
        )
        return len(batch)

    def _previous_success(self):
        """The previous successful deployment of this environment (the base of the compare)."""
        self.ensure_one()
        return self.search(
            [
                ("environment_id", "=", self.environment_id.id),
                ("succeeded_at", "!=", False),
                ("state", "not in", deployments.FAILED_STATES),
                "|",
                ("created_at", "<", self.created_at),
                "&",
                ("created_at", "=", self.created_at),
                ("id", "<", self.id),
            ],
            order="created_at desc, id desc",
            limit=1,
        )

    def _fetch_commits(self, clients):
        self.ensure_one()
        previous = self._previous_success()
        commits = ()
        state = "done"
        if previous and previous.sha and self.sha and previous.sha != self.sha:
            repository = self.repository_id
            if not repository.has_token:
                raise deployments.NoToken(
                    _("The repository has no API token: GitHub cannot be asked which commits this deployment brought.")
                )
            client = clients.get(repository.id) or clients.setdefault(repository.id, repository._github_client())
            compared = deployments.compare(client, repository.full_name, previous.sha, self.sha)
            commits, state = compared.commits, compared.commits_state
        self.commit_ids.unlink()
        self.env["ops.deployment.commit"].create(
            [
                {
                    "deployment_id": self.id,
                    "sequence": index,
                    "sha": commit.sha,
                    "message": commit.message,
                    "author": commit.author,
                    "committed_at": commit.committed_at or False,
                    "pull_request_numbers": ", ".join(str(n) for n in commit.pull_request_numbers),
                    "html_url": commit.html_url,
                }
                for index, commit in enumerate(commits)
            ]
        )
        self.write(
            {
                "commits_state": state,
                "previous_deployment_id": previous.id,
                "commits_error": _("At most %s commits are kept, the oldest.", deployments.MAX_COMMITS)
                if state == "too_many"
                else False,
                "commits_next_attempt_at": False,
            }
        )

    def _commits_failed(self, error):
        """Try again later (GitHub's Retry-After or the backoff); after the last try, or no token: failed."""
        attempts = self.commits_attempts + 1
        message = str(error) if isinstance(error, ServiceError | deployments.NoToken) else type(error).__name__
        wait = None
        if not isinstance(error, deployments.NoToken):
            wait = deployments.COMPARE_RETRY.after_failure(
                attempts, retry_after=getattr(error, "retry_after", None), max_retry_after=6 * 3600
            )
        if wait is None:
            self.write({"commits_state": "failed", "commits_attempts": attempts, "commits_error": message[:2000]})
            return
        at = fields.Datetime.now() + timedelta(seconds=wait)
        self.write({"commits_attempts": attempts, "commits_next_attempt_at": at, "commits_error": message[:2000]})
        self.env["ops.cron.mixin"]._ops_trigger_at(COMMITS_CRON, at)
