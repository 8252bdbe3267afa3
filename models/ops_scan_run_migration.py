"""Migration dry-run: dispatch the repository's migration workflow, then record how its run ended."""

from datetime import timedelta

from odoo import _, api, fields, models

from ..autopilot.common.errors import BadAnswer, ServiceError
from ..autopilot.github import dispatch, events
from ..autopilot.github.rest_api import github_call
from ..autopilot.scans import records
from .ops_fields import BigInteger
from .ops_scan_run import ScanOutcome

#: a dry-run without an outcome after this long is failed (the workflow never ran, or its events were lost)
GIVE_UP_AFTER = timedelta(hours=24)


class OpsScanRun(models.Model):
    _inherit = "ops.scan.run"

    workflow_file = fields.Char(string="Workflow", readonly=True)
    workflow_ref = fields.Char(string="Branch", readonly=True)
    workflow_inputs = fields.Json(string="Inputs", readonly=True)
    workflow_inputs_text = fields.Text(string="Workflow inputs", compute="_compute_workflow_inputs_text")
    dispatched_at = fields.Datetime(readonly=True)
    workflow_run_id = fields.Many2one("ops.workflow.run", string="Workflow run", readonly=True, ondelete="set null")
    github_run_id = BigInteger(string="GitHub run ID", readonly=True)
    workflow_outcome = fields.Selection(related="workflow_run_id.outcome", string="Workflow outcome")

    @api.depends("workflow_inputs")
    def _compute_workflow_inputs_text(self):
        for run in self:
            inputs = run.workflow_inputs or {}
            run.workflow_inputs_text = "\n".join(f"{key}={value}" for key, value in sorted(inputs.items())) or False

    def action_open_workflow_run(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "ops.workflow.run",
            "res_id": self.workflow_run_id.id,
            "views": [(False, "form")],
        }

    def _scan_migration_dry_run(self):
        """Dispatch the workflow; the run stays running until its workflow run completes."""
        if not self.workflow_file or not self.workflow_ref:
            return ScanOutcome("failed", reason=_("No workflow or branch to dispatch."), kind="rejected")
        dispatched_at = dispatch.dispatch_workflow(
            self._github(), self.repository_id.full_name, self.workflow_file, self.workflow_ref, self.workflow_inputs
        )
        self.write({"dispatched_at": dispatched_at})
        return ScanOutcome(
            "running",
            _(
                "Dispatched %(workflow)s on %(ref)s; waiting for its run.",
                workflow=self.workflow_file,
                ref=self.workflow_ref,
            ),
        )

    # ------------------------------------------------------------------
    # outcome (webhook first, API poll as a fallback)
    # ------------------------------------------------------------------
    @api.model
    def _record_dispatched_run(self, workflow_run):
        """Link a ``workflow_dispatch`` run to the dry-run that started it and record its outcome."""
        Run = self.sudo()
        linked = Run.search(
            [("scan_type", "=", "migration_dry_run"), ("workflow_run_id", "=", workflow_run.id)], limit=1
        )
        if not linked:
            pending = Run.search(
                [
                    ("scan_type", "=", "migration_dry_run"),
                    ("repository_id", "=", workflow_run.repository_id.id),
                    ("state", "=", "running"),
                    ("workflow_run_id", "=", False),
                    ("dispatched_at", "!=", False),
                ],
                order="dispatched_at, id",
            )
            linked = next(
                (
                    run
                    for run in pending
                    if records.claims_dispatch(
                        workflow_run.event,
                        workflow_run.workflow_path,
                        workflow_run.head_branch,
                        workflow_run.started_at or workflow_run.create_date,
                        run.workflow_file,
                        run.workflow_ref,
                        run.dispatched_at,
                    )
                ),
                Run.browse(),
            )
            if not linked:
                return linked
            linked.write({"workflow_run_id": workflow_run.id, "github_run_id": workflow_run.github_id})
        if linked.state == "running" and workflow_run.status == "completed":
            linked._finish_migration(workflow_run)
        return linked

    def _finish_migration(self, workflow_run):
        outcome = workflow_run.outcome
        minutes = round((workflow_run.duration or 0) / 60.0, 1)
        if outcome == "success":
            result = ScanOutcome("done", _("The migration dry-run succeeded in %s min.", minutes))
        else:
            result = ScanOutcome(
                "failed",
                _("The migration dry-run ended: %s.", workflow_run.conclusion or outcome),
                reason=_("The migration workflow concluded %s: see its run.", workflow_run.conclusion or outcome),
                kind="workflow",
            )
        result.stats = {
            "workflow_run": workflow_run.github_id,
            "conclusion": workflow_run.conclusion,
            "duration_s": workflow_run.duration,
            "url": workflow_run.html_url,
        }
        self._finish(result)

    @api.model
    def _cron_check_migration_runs(self, batch_size=20):
        """For dry-runs still waiting: find their run through the API, refresh it, give up after a day."""
        Run = self.sudo()
        waiting = Run.search(
            [("scan_type", "=", "migration_dry_run"), ("state", "=", "running")], order="dispatched_at, id"
        )
        batch = waiting[:batch_size]
        for run in batch:
            try:
                with self.env.cr.savepoint():
                    run._poll_migration()
            except ServiceError as error:
                run.write({"reason": str(error)})
            self._ops_commit()
        self._ops_notify_progress(done=len(batch), remaining=len(waiting) - len(batch))

    def _poll_migration(self):
        self.ensure_one()
        repo = self.repository_id
        WorkflowRun = self.env["ops.workflow.run"].sudo()
        client = self._github()
        if not self.workflow_run_id and self.dispatched_at:
            claimed = self.search(
                [("scan_type", "=", "migration_dry_run"), ("repository_id", "=", repo.id), ("github_run_id", "!=", 0)]
            ).mapped("github_run_id")
            found = dispatch.find_dispatched_run(
                client, repo.full_name, self.workflow_file, self.workflow_ref, self.dispatched_at, exclude_ids=claimed
            )
            if found:
                record = WorkflowRun._upsert_run(repo, found)
                if not self.workflow_run_id:
                    self.write({"workflow_run_id": record.id, "github_run_id": record.github_id})
                    self._record_dispatched_run(record)
        elif self.workflow_run_id and self.workflow_run_id.status != "completed":
            path = f"/repos/{repo.full_name}/actions/runs/{int(self.github_run_id)}"
            _headers, raw = github_call("GitHub", client.requester.requestJsonAndCheck, "GET", path)
            try:
                parsed = events.parse_workflow_run(raw)
            except events.PayloadError as exc:
                raise BadAnswer("GitHub", str(exc)) from None
            WorkflowRun._upsert_run(repo, parsed)
        if (
            self.state == "running"
            and self.dispatched_at
            and self.dispatched_at < fields.Datetime.now() - GIVE_UP_AFTER
        ):
            self._finish(
                ScanOutcome(
                    "failed",
                    reason=_("No outcome %s hours after the dispatch.", int(GIVE_UP_AFTER.total_seconds() // 3600)),
                    kind="timeout",
                )
            )
