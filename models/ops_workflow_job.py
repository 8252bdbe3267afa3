from odoo import api, fields, models

from .. import const
from ..autopilot.common.durations import human_duration
from ..autopilot.ingest import lifecycle
from .ops_fields import BigInteger

JOB_SOURCES = [("workflow_job", "GitHub Actions job"), ("check_run", "Check run")]


class OpsWorkflowJob(models.Model):
    """A job of a workflow run (GitHub Actions) or a check run of another CI app."""

    _name = "ops.workflow.job"
    _description = "Workflow Job"
    _order = "started_at desc, id desc"

    github_id = BigInteger(string="GitHub ID", required=True, readonly=True, index=True)
    run_id = fields.Many2one("ops.workflow.run", required=True, readonly=True, ondelete="cascade", index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    source = fields.Selection(JOB_SOURCES, default="workflow_job", required=True, readonly=True)
    name = fields.Char(readonly=True)
    workflow_name = fields.Char(readonly=True)
    head_branch = fields.Char(string="Branch", readonly=True)
    head_sha = fields.Char(string="Commit", readonly=True, index=True)
    run_attempt = fields.Integer(default=1, readonly=True)
    status = fields.Selection(const.RUN_STATUSES, readonly=True, index=True)
    conclusion = fields.Selection(const.CONCLUSIONS, readonly=True, index=True)
    outcome = fields.Selection(const.OUTCOMES, readonly=True, index=True)
    started_at = fields.Datetime(readonly=True, index=True)
    completed_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 0), readonly=True, aggregator="avg")
    duration_display = fields.Char(string="Duration", compute="_compute_duration_display")
    html_url = fields.Char(string="GitHub URL", readonly=True)
    steps = fields.Json(readonly=True)
    steps_html = fields.Html(compute="_compute_steps_html", sanitize=False)
    failed_step = fields.Char(readonly=True, help="First step that failed")
    runner_name = fields.Char(readonly=True)
    runner_group_name = fields.Char(readonly=True)
    labels = fields.Char(readonly=True)
    app_slug = fields.Char(string="App", readonly=True)
    output_title = fields.Char(readonly=True)
    output_summary = fields.Text(readonly=True)

    _sql_constraints = [
        ("github_id_unique", "unique(repository_id, github_id)", "A job is stored once per repository."),
    ]

    @api.depends("duration")
    def _compute_duration_display(self):
        for record in self:
            record.duration_display = human_duration(record.duration) if record.duration else False

    @api.depends("steps")
    def _compute_steps_html(self):
        for job in self:
            job.steps_html = self.env["ir.qweb"]._render(
                "ops_autopilot.ops_workflow_job_steps", {"steps": job.steps or [], "human_duration": human_duration}
            )

    def action_open_github(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.html_url, "target": "new"}

    # ------------------------------------------------------------------
    # recording GitHub's view of a job
    # ------------------------------------------------------------------
    def _progress_key(self):
        self.ensure_one()
        return lifecycle.progress_key(self.run_attempt, self.status, self.completed_at or self.started_at)

    @api.model
    def _upsert_job(self, repository, job):
        """Create or update a job from :class:`autopilot.github.events.WorkflowJob` (job or check run)."""
        record = self.search([("repository_id", "=", repository.id), ("github_id", "=", job.github_id)], limit=1)
        status = lifecycle.known_status(job.status)
        conclusion = lifecycle.known_conclusion(job.conclusion)
        failed = next((s.name for s in job.steps if s.conclusion in ("failure", "timed_out")), "")
        described = {
            "name": job.name,
            "workflow_name": job.workflow_name,
            "head_branch": job.head_branch,
            "head_sha": job.head_sha,
            "html_url": job.html_url,
            "runner_name": job.runner_name,
            "runner_group_name": job.runner_group_name,
            "labels": ", ".join(job.labels),
            "app_slug": job.app_slug,
            "output_title": job.output_title,
            "output_summary": job.output_summary,
        }
        progress = {
            "run_attempt": job.run_attempt,
            "status": status,
            "conclusion": conclusion or False,
            "outcome": lifecycle.outcome(status, conclusion),
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "duration": lifecycle.duration_seconds(job.started_at, job.completed_at),
            "steps": [_step_dict(step) for step in job.steps],
            "failed_step": failed,
        }
        if record:
            values = {key: value for key, value in described.items() if value}
            incoming = lifecycle.progress_key(job.run_attempt, job.status, job.completed_at or job.started_at)
            if not lifecycle.is_stale(record._progress_key(), incoming):
                values.update(progress)
            record.write(values)
        else:
            run = self.env["ops.workflow.run"]._run_for_job(repository, job)
            record = self.create(
                {
                    "repository_id": repository.id,
                    "github_id": job.github_id,
                    "run_id": run.id,
                    "source": job.source,
                    **described,
                    **progress,
                }
            )
        record.run_id._refresh_from_jobs()
        return record


def _step_dict(step):
    return {
        "number": step.number,
        "name": step.name,
        "status": step.status,
        "conclusion": step.conclusion,
        "started_at": step.started_at.isoformat() if step.started_at else None,
        "completed_at": step.completed_at.isoformat() if step.completed_at else None,
        "duration": lifecycle.duration_seconds(step.started_at, step.completed_at),
    }
