from odoo import api, fields, models

from .. import const
from ..autopilot.common.durations import human_duration
from ..autopilot.ingest import lifecycle
from .ops_fields import BigInteger

RUN_SOURCES = [
    ("workflow_run", "GitHub Actions run"),
    ("check_suite", "Check suite (other CI)"),
]


class OpsWorkflowRun(models.Model):
    """A GitHub Actions workflow run (or the check suite of another CI app)."""

    _name = "ops.workflow.run"
    _description = "Workflow Run"
    _order = "started_at desc, id desc"

    github_id = BigInteger(string="GitHub ID", required=True, readonly=True, index=True)
    source = fields.Selection(RUN_SOURCES, default="workflow_run", required=True, readonly=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    name = fields.Char(readonly=True)
    workflow_id = BigInteger(string="Workflow ID", readonly=True)
    workflow_path = fields.Char(readonly=True, index=True)
    display_title = fields.Char(readonly=True)
    event = fields.Char(readonly=True)
    head_branch = fields.Char(string="Branch", readonly=True, index=True)
    head_sha = fields.Char(string="Commit", readonly=True, index=True)
    actor = fields.Char(readonly=True)
    run_number = fields.Integer(readonly=True)
    run_attempt = fields.Integer(default=1, readonly=True)
    status = fields.Selection(const.RUN_STATUSES, readonly=True, index=True)
    conclusion = fields.Selection(const.CONCLUSIONS, readonly=True, index=True)
    outcome = fields.Selection(const.OUTCOMES, readonly=True, index=True, group_expand="_group_expand_outcome")
    started_at = fields.Datetime(readonly=True, index=True)
    finished_at = fields.Datetime(readonly=True)
    github_updated_at = fields.Datetime(string="Updated on GitHub", readonly=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 0), readonly=True, aggregator="avg")
    duration_display = fields.Char(string="Duration", compute="_compute_duration_display")
    html_url = fields.Char(string="GitHub URL", readonly=True)
    pull_request_numbers = fields.Char(string="Pull requests", readonly=True)
    placeholder = fields.Boolean(
        readonly=True,
        help="Known only from its jobs so far (no workflow_run event or sync yet)",
    )
    job_ids = fields.One2many("ops.workflow.job", "run_id", readonly=True)
    job_count = fields.Integer(compute="_compute_job_counts")
    failed_job_count = fields.Integer(compute="_compute_job_counts")

    _sql_constraints = [
        (
            "github_id_unique",
            "unique(repository_id, source, github_id)",
            "A run is stored once per repository.",
        ),
    ]

    @api.depends("duration")
    def _compute_duration_display(self):
        for record in self:
            record.duration_display = human_duration(record.duration) if record.duration else False

    @api.model
    def _group_expand_outcome(self, values, domain):
        return [key for key, _label in const.OUTCOMES]

    def _compute_display_name(self):
        for run in self:
            label = run.name or run.workflow_path or str(run.github_id)
            run.display_name = f"{label} #{run.run_number}" if run.run_number else label

    @api.depends("job_ids.outcome")
    def _compute_job_counts(self):
        for run in self:
            run.job_count = len(run.job_ids)
            run.failed_job_count = len(run.job_ids.filtered(lambda j: j.outcome == "failure"))

    def action_open_github(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.html_url, "target": "new"}

    # ------------------------------------------------------------------
    # recording GitHub's view of a run
    # ------------------------------------------------------------------
    def _progress_key(self):
        self.ensure_one()
        if self.placeholder:
            return None
        return lifecycle.progress_key(self.run_attempt, self.status, self.github_updated_at)

    @api.model
    def _upsert_run(self, repository, run):
        """Create or update a run from :class:`autopilot.github.events.WorkflowRun`.

        Descriptive fields always follow GitHub; status fields only move
        forward (see :mod:`autopilot.ingest.lifecycle`).
        """
        record = self.search(
            [("repository_id", "=", repository.id), ("source", "=", "workflow_run"), ("github_id", "=", run.github_id)],
            limit=1,
        )
        status = lifecycle.known_status(run.status)
        conclusion = lifecycle.known_conclusion(run.conclusion)
        described = {
            "name": run.name,
            "workflow_id": run.workflow_id,
            "workflow_path": run.path,
            "display_title": run.display_title,
            "event": run.event,
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "actor": run.actor,
            "run_number": run.run_number,
            "html_url": run.html_url,
            "pull_request_numbers": ", ".join(str(n) for n in run.pull_request_numbers),
        }
        progress = {
            "run_attempt": run.run_attempt,
            "status": status,
            "conclusion": conclusion or False,
            "outcome": lifecycle.outcome(status, conclusion),
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "github_updated_at": run.updated_at,
            "duration": lifecycle.duration_seconds(run.started_at, run.finished_at),
            "placeholder": False,
        }
        if not record:
            return self.create({"repository_id": repository.id, "github_id": run.github_id, **described, **progress})
        values = {key: value for key, value in described.items() if value}
        incoming = lifecycle.progress_key(run.run_attempt, run.status, run.updated_at)
        if not lifecycle.is_stale(record._progress_key(), incoming):
            values.update(progress)
        record.write(values)
        return record

    @api.model
    def _run_for_job(self, repository, job):
        """The run a job belongs to, created as a placeholder when its own event has not arrived."""
        if job.run_id:
            source, github_id = "workflow_run", job.run_id
        else:
            source, github_id = "check_suite", job.check_suite_id
        run = self.search(
            [("repository_id", "=", repository.id), ("source", "=", source), ("github_id", "=", github_id)],
            limit=1,
        )
        if run:
            return run
        return self.create(
            {
                "repository_id": repository.id,
                "source": source,
                "github_id": github_id,
                "name": job.workflow_name or job.app_slug or job.name,
                "head_branch": job.head_branch,
                "head_sha": job.head_sha,
                "run_attempt": job.run_attempt,
                "status": "queued",
                "outcome": "queued",
                "placeholder": True,
            }
        )

    def _refresh_from_jobs(self):
        """A placeholder run takes its state from its jobs until GitHub describes it."""
        for run in self.filtered("placeholder"):
            jobs = run.job_ids
            if not jobs:
                continue
            states = zip(jobs.mapped("status"), jobs.mapped("conclusion"), strict=True)
            status, conclusion = lifecycle.summarise_jobs(states)
            starts = [d for d in jobs.mapped("started_at") if d]
            ends = [d for d in jobs.mapped("completed_at") if d]
            started = min(starts) if starts else False
            finished = max(ends) if ends and status == "completed" else False
            run.write(
                {
                    "status": status,
                    "conclusion": conclusion or False,
                    "outcome": lifecycle.outcome(status, conclusion),
                    "started_at": started,
                    "finished_at": finished,
                    "duration": lifecycle.duration_seconds(started, finished),
                }
            )
