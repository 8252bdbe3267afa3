import json
import logging
import time
from datetime import timedelta

from github import GithubException
from requests import RequestException

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import const
from ..autopilot.common import errors
from ..autopilot.common.masking import mask_secrets
from ..autopilot.github import rest_api
from ..autopilot.scans import records
from .ops_params import get_param

_logger = logging.getLogger(__name__)

#: scans that read the repository through the GitHub API (a token is needed)
GITHUB_TYPES = ("dependency_updates", "security", "dead_code", "license_compliance", "migration_dry_run")
RUN_STATES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("done", "Done"),
    ("partial", "Partial"),
    ("failed", "Failed"),
]
TRIGGERS = [("cron", "Schedule"), ("manual", "Run now"), ("retry", "Retry")]
CRON_XMLIDS = {
    "dependency_updates": "ops_autopilot.ir_cron_scan_dependency_updates",
    "security": "ops_autopilot.ir_cron_scan_security",
    "performance_regression": "ops_autopilot.ir_cron_scan_performance_regression",
    "dead_code": "ops_autopilot.ir_cron_scan_dead_code",
    "license_compliance": "ops_autopilot.ir_cron_scan_license_compliance",
    "migration_dry_run": "ops_autopilot.ir_cron_scan_migration_dry_runs",
}
#: a run still "running" after this long was interrupted (worker killed, server restarted)
INTERRUPTED_AFTER = timedelta(hours=2)


class ScanOutcome:
    """What a scan handler reports back to :meth:`OpsScanRun._execute`."""

    __slots__ = ("done", "kind", "reason", "retry_after", "stats", "status", "summary", "total")

    def __init__(self, status="done", summary="", reason="", stats=None, kind="", retry_after=None, done=0, total=0):
        self.status = status
        self.summary = summary
        self.reason = reason
        self.stats = stats or {}
        self.kind = kind
        self.retry_after = retry_after
        self.done = done
        self.total = total


class OpsScanRun(models.Model):
    """One scan of one repository: queued by a cron or a button, run in a cron worker."""

    _name = "ops.scan.run"
    _description = "Scan Run"
    _inherit = ["ops.cron.mixin"]
    _order = "create_date desc, id desc"

    scan_type = fields.Selection(const.SCAN_TYPES, string="Type", required=True, readonly=True, index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    state = fields.Selection(RUN_STATES, default="queued", required=True, readonly=True, index=True)
    trigger = fields.Selection(TRIGGERS, default="cron", required=True, readonly=True)
    user_id = fields.Many2one("res.users", string="Launched by", readonly=True)
    cycle = fields.Char(readonly=True, index=True, help="The scheduled call that queued this run")
    attempt = fields.Integer(default=0, readonly=True, help="Retries made before this run")
    retry_of_id = fields.Many2one("ops.scan.run", string="Retry of", readonly=True, ondelete="set null")
    scheduled_at = fields.Datetime(default=fields.Datetime.now, readonly=True, index=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", digits=(16, 1), compute="_compute_duration", store=True)
    summary = fields.Text(readonly=True)
    reason = fields.Text(readonly=True, help="Why the run failed or is partial")
    error_kind = fields.Char(readonly=True)
    progress_done = fields.Integer(readonly=True)
    progress_total = fields.Integer(readonly=True)
    progress = fields.Float(compute="_compute_progress", help="Percent of the run's items processed")
    stats = fields.Json(readonly=True)
    stats_text = fields.Text(string="Statistics", compute="_compute_stats_text")
    ref = fields.Char(string="Commit", readonly=True, help="The commit the repository was read at")
    github_issue_url = fields.Char(string="GitHub issue", readonly=True)
    finding_ids = fields.Many2many(
        "ops.scan.finding", "ops_scan_finding_run_rel", "run_id", "finding_id", string="Findings", readonly=True
    )
    finding_count = fields.Integer(compute="_compute_finding_counts")
    open_finding_count = fields.Integer(compute="_compute_finding_counts")
    high_finding_count = fields.Integer(string="High/critical", compute="_compute_finding_counts")

    @api.depends("started_at", "finished_at")
    def _compute_duration(self):
        for run in self:
            if run.started_at and run.finished_at:
                run.duration = (run.finished_at - run.started_at).total_seconds()
            else:
                run.duration = 0.0

    @api.depends("progress_done", "progress_total", "state")
    def _compute_progress(self):
        for run in self:
            if run.progress_total:
                run.progress = min(100.0, 100.0 * run.progress_done / run.progress_total)
            else:
                run.progress = 100.0 if run.state in ("done", "partial") else 0.0

    @api.depends("stats")
    def _compute_stats_text(self):
        for run in self:
            run.stats_text = json.dumps(run.stats, indent=2, sort_keys=True, default=str) if run.stats else False

    def _compute_finding_counts(self):
        for run in self:
            findings = run.finding_ids
            run.finding_count = len(findings)
            run.open_finding_count = len(findings.filtered(lambda f: f.status == "open"))
            run.high_finding_count = len(findings.filtered(lambda f: f.severity in ("high", "critical")))

    def _compute_display_name(self):
        labels = dict(const.SCAN_TYPES)
        for run in self:
            when = run.started_at or run.scheduled_at or run.create_date
            stamp = fields.Datetime.to_string(when)[:10] if when else ""
            run.display_name = " · ".join(
                p for p in (labels.get(run.scan_type), run.repository_id.full_name, stamp) if p
            )

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_view_findings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_scan_finding_action")
        action["domain"] = [("run_ids", "in", self.ids)]
        action["context"] = {}
        return action

    def action_retry(self):
        """Queue these runs' scans again now (Ops Managers)."""
        self._check_manager()
        for run in self.filtered(lambda r: r.state in ("failed", "partial") and r.scan_type != "migration_dry_run"):
            self.sudo()._enqueue(run.repository_id, run.scan_type, "manual", user=self.env.user)
        return True

    def action_open_github_issue(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.github_issue_url, "target": "new"}

    def action_print_license_report(self):
        self.ensure_one()
        return self.env.ref("ops_autopilot.action_report_license_compliance").report_action(self)

    def _check_manager(self):
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can run scans."))

    # ------------------------------------------------------------------
    # queue
    # ------------------------------------------------------------------
    @api.model
    def _scan_cron(self, scan_type):
        return self.env.ref(CRON_XMLIDS[scan_type], raise_if_not_found=False)

    @api.model
    def _scannable_repositories(self, scan_type):
        domain = [("scan_enabled", "=", True)]
        if scan_type in GITHUB_TYPES:
            domain.append(("token", "!=", False))
        return self.env["ops.repository"].sudo().search(domain)

    @api.model
    def _enqueue(self, repositories, scan_type, trigger, cycle=False, at=None, user=None, retry_of=None):
        """Queue one run per repository, unless one is already waiting or running (or done in ``cycle``)."""
        Run = self.sudo()
        busy_domain = [("repository_id", "in", repositories.ids), ("scan_type", "=", scan_type)]
        if cycle:
            busy_domain = [*busy_domain, "|", ("state", "in", ("queued", "running")), ("cycle", "=", cycle)]
        else:
            busy_domain = [*busy_domain, ("state", "in", ("queued", "running"))]
        at = at or fields.Datetime.now()
        busy_runs = Run.search(busy_domain)
        if cycle:
            # the scheduled time has come: a retry waiting for later runs now, as this cycle's run
            busy_runs.filtered(lambda r: r.state == "queued" and r.scheduled_at > at).write(
                {"scheduled_at": at, "cycle": cycle}
            )
        todo = repositories - busy_runs.repository_id
        if not todo:
            return Run.browse()
        runs = Run.create(
            [
                {
                    "scan_type": scan_type,
                    "repository_id": repo.id,
                    "trigger": trigger,
                    "cycle": cycle,
                    "scheduled_at": at,
                    "user_id": user.id if user else False,
                    "attempt": (retry_of.attempt + 1) if retry_of else 0,
                    "retry_of_id": retry_of.id if retry_of else False,
                }
                for repo in todo
            ]
        )
        cron = self._scan_cron(scan_type)
        if cron and trigger != "cron":
            cron.sudo()._trigger(at=at)
        return runs

    @api.model
    def _cycle_key(self, scan_type):
        """The scheduled call this cron invocation belongs to, or False when it is an extra one.

        A scheduled call keeps its ``nextcall`` (in the past) while the cron
        framework calls again for the remaining batches, so that value names
        the cycle; calls made for a trigger (retries, "Run now") come before
        ``nextcall`` and queue nothing new. "Run manually" on the cron form
        starts a cycle of its own.
        """
        cron = self._scan_cron(scan_type)
        if not cron:
            return False
        context = self.env.context
        if context.get("cron_id") == cron.id:
            if cron.nextcall and cron.nextcall <= fields.Datetime.now():
                return f"{cron.id}:{fields.Datetime.to_string(cron.nextcall)}"
            return False
        if "lastcall" in context and "cron_id" not in context:
            return f"{cron.id}:manual:{fields.Datetime.to_string(fields.Datetime.now())}"
        return False

    @api.model
    def _due_domain(self, scan_type):
        return [("scan_type", "=", scan_type), ("state", "=", "queued"), ("scheduled_at", "<=", fields.Datetime.now())]

    @api.model
    def _lock_due_batch(self, scan_type, limit):
        query = self._search(self._due_domain(scan_type), order="scheduled_at, id", limit=limit)
        rows = self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        return self.browse([row[0] for row in rows])

    @api.model
    def _recover_interrupted(self, scan_type):
        """Runs left "running" by a killed worker end failed (and are retried like any failure)."""
        if scan_type == "migration_dry_run":
            return  # a dispatched workflow legitimately runs for hours; the migration check handles it
        cutoff = fields.Datetime.now() - INTERRUPTED_AFTER
        stale = self.sudo().search(
            [("scan_type", "=", scan_type), ("state", "=", "running"), ("started_at", "<", cutoff)]
        )
        for run in stale:
            run._finish(
                ScanOutcome(
                    "failed", reason=_("Interrupted: the worker stopped before the scan ended."), kind="unavailable"
                )
            )

    @api.model
    def _cron_run_scans(self, scan_type, batch_size=None):
        """Queue this cycle's runs (one per repository), then run a batch of due runs.

        Each run commits on its own; progress goes to the cron framework,
        which calls again while due runs remain. A call starts no further run
        once ``scan_cron_budget_seconds`` have passed (it always runs one), so
        a batch of slow repositories never outlives the cron worker's time
        limit: the runs left over stay queued for the next call.
        """
        Run = self.sudo()
        Run._recover_interrupted(scan_type)
        cycle = Run._cycle_key(scan_type)
        if cycle:
            # suppressions that expired since the last cycle show their findings again
            self.env["ops.scan.suppression"].sudo()._refresh_findings()
            Run._enqueue(Run._scannable_repositories(scan_type), scan_type, "cron", cycle=cycle)
            self._ops_commit()
        budget = max(0, get_param(self.env, "scan_cron_budget_seconds"))
        started = time.monotonic()
        batch = Run._lock_due_batch(scan_type, batch_size or get_param(self.env, "scan_batch_size"))
        done = 0
        for run in batch:
            if done and time.monotonic() - started >= budget:
                break
            run.with_context(ops_scan_deadline=started + budget)._execute()
            self._ops_commit()
            done += 1
        remaining = Run.search_count(self._due_domain(scan_type))
        self._ops_notify_progress(done=done, remaining=remaining)
        return done

    # ------------------------------------------------------------------
    # running one scan
    # ------------------------------------------------------------------
    def _execute(self, commit=True):
        """Run the scan; what it writes lands whole or not at all (savepoint), the run records the outcome."""
        self.ensure_one()
        started = self.started_at or fields.Datetime.now()  # set already when a scan goes on from a state
        self.write({"state": "running", "started_at": started, "reason": False, "error_kind": False})
        if commit:
            self._ops_commit()
        handler = getattr(self, f"_scan_{self.scan_type}")
        try:
            with self.env.cr.savepoint():
                outcome = handler()
        except errors.ServiceError as error:
            outcome = ScanOutcome("failed", reason=str(error), kind=error.kind, retry_after=error.retry_after)
        except UserError as error:
            outcome = ScanOutcome("failed", reason=str(error.args[0]), kind="rejected")
        except (GithubException, RequestException, OSError) as exc:
            error = rest_api.from_github(exc)
            outcome = ScanOutcome("failed", reason=str(error), kind=error.kind, retry_after=error.retry_after)
        except Exception as exc:  # a bug in one scan must not stop the other repositories' scans
            _logger.exception("%s crashed", self.display_name)
            outcome = ScanOutcome("failed", reason=f"{type(exc).__name__}: {exc}", kind="error")
        self._finish(outcome)
        return outcome

    def _finish(self, outcome):
        """Record the outcome; failed and partial runs are queued again after a backoff when worth it."""
        self.ensure_one()
        known = (self.repository_id.sudo().token or "",)
        reason = mask_secrets(outcome.reason, known)[0][:2000] if outcome.reason else False
        values = {
            "state": outcome.status,
            "finished_at": fields.Datetime.now() if outcome.status not in ("running", "queued") else False,
            "reason": reason,
            "error_kind": outcome.kind or False,
        }
        if outcome.summary:
            values["summary"] = outcome.summary
        if outcome.stats:
            values["stats"] = outcome.stats
        if outcome.total:
            values.update(progress_done=outcome.done, progress_total=outcome.total)
        if outcome.status != "queued" and self.scan_state:
            values["scan_state"] = False  # a finished or failed run does not go on
        self.write(values)
        if outcome.status in ("failed", "partial"):
            _logger.warning("%s ended %s: %s", self.display_name, outcome.status, reason)
            self._schedule_retry(outcome)

    def _schedule_retry(self, outcome):
        if self.scan_type == "migration_dry_run":
            return
        delay = records.retry_delay(outcome.kind, self.attempt, outcome.retry_after)
        if delay is None:
            return
        at = fields.Datetime.now() + timedelta(seconds=delay)
        self._enqueue(self.repository_id, self.scan_type, "retry", cycle=False, at=at, retry_of=self)

    # ------------------------------------------------------------------
    # shared by the scan handlers
    # ------------------------------------------------------------------
    def _github(self):
        self.ensure_one()
        return self.repository_id.sudo()._github_client()

    def _scan_deadline(self):
        """``time.monotonic()`` value by which a scan that can go on later should stop (the cron call's budget)."""
        deadline = self.env.context.get("ops_scan_deadline")
        return deadline if deadline is not None else time.monotonic() + get_param(self.env, "scan_cron_budget_seconds")

    def _http_options(self):
        return {"timeout": get_param(self.env, "scan_http_timeout_seconds")}

    def _record(self, values_list, complete=True):
        """Upsert this run's findings (see ``ops.scan.finding._record``)."""
        return self.env["ops.scan.finding"].sudo()._record(self, values_list, complete)
