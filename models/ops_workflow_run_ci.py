import base64
import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..autopilot.common.errors import ServiceError
from ..autopilot.common.masking import mask_secrets
from ..autopilot.github import ci, dispatch
from ..autopilot.selfheal import decisions, excerpt_view, logs, reports
from ..autopilot.selfheal.diagnosis import diagnose_excerpt
from .ops_params import get_param

_logger = logging.getLogger(__name__)

CI_STATES = [
    ("none", "Nothing to do"),
    ("pending", "To diagnose"),
    ("diagnosed", "Diagnosed"),
    ("retrying", "Re-run scheduled"),
    ("healed", "Healed by a re-run"),
    ("escalated", "Escalated"),
    ("rolled_back", "Rolled back"),
    ("error", "Diagnosis failed"),
]
CI_KINDS = ("rerun_jobs", "rollback")
MAX_PROCESS_ATTEMPTS = 5
#: a log GitHub failed to serve (not a transient error) is tried again this many times, further apart each time
MAX_LOG_ATTEMPTS = 3
LOG_RETRY_SECONDS = 300
HIGH_SEVERITY_CATEGORIES = ("permission_denied", "resource_exhaustion")


class OpsWorkflowRun(models.Model):
    """Self-healing of failed runs: diagnose each failed job, re-run, roll back or escalate.

    Webhook processing only enqueues (``ci_state = pending`` and a cron
    trigger); :meth:`_cron_ci_diagnose` does the work in batches, one run per
    savepoint, GitHub trouble rescheduling the run rather than failing it.
    """

    _inherit = ["ops.workflow.run", "ops.cron.mixin"]
    _name = "ops.workflow.run"

    ci_state = fields.Selection(CI_STATES, string="Self-healing", default="none", required=True, index=True)
    ci_processed_attempt = fields.Integer(readonly=True, help="Last attempt self-healing handled")
    ci_next_attempt_at = fields.Datetime(readonly=True, help="When self-healing tries again after a GitHub error")
    ci_attempts = fields.Integer(readonly=True)
    ci_error = fields.Text(readonly=True)
    ci_decision = fields.Char(string="Decision", readonly=True)
    diagnosis_ids = fields.One2many("ops.job.diagnosis", "run_id", string="Diagnoses", readonly=True)
    ci_action_ids = fields.One2many(
        "ops.remediation.action", "run_id", string="Remediation", readonly=True, domain=[("kind", "in", CI_KINDS)]
    )
    ci_retry_count = fields.Integer(string="Re-runs", compute="_compute_ci_retry_count")
    ci_report = fields.Json(string="Diagnostic report", readonly=True)
    ci_report_file = fields.Binary(string="Report (JSON)", compute="_compute_ci_report_file", attachment=False)
    ci_report_filename = fields.Char(compute="_compute_ci_report_file")
    ci_has_report = fields.Boolean(compute="_compute_ci_report_file")
    ci_log_attempts = fields.Integer(readonly=True, help="Times the failed jobs' logs could not be fetched")
    ci_diagnosis_html = fields.Html(
        string="Diagnosis of the failed jobs", compute="_compute_ci_diagnosis_html", sanitize=False
    )

    @api.depends("ci_action_ids.kind", "ci_action_ids.state")
    def _compute_ci_retry_count(self):
        for run in self:
            run.ci_retry_count = len(
                run.ci_action_ids.filtered(lambda a: a.kind == "rerun_jobs" and a.state != "skipped")
            )

    @api.depends("diagnosis_ids", "run_attempt")
    def _compute_ci_diagnosis_html(self):
        for run in self:
            current = run.diagnosis_ids.filtered(lambda d, r=run: d.run_attempt == r.run_attempt).sorted("id")
            run.ci_diagnosis_html = current._render_cards()

    @api.depends("ci_report")
    def _compute_ci_report_file(self):
        for run in self:
            run.ci_report_file = (
                base64.b64encode(json.dumps(run.ci_report, indent=2).encode()) if run.ci_report else False
            )
            run.ci_report_filename = f"ci-report-run-{run.github_id}-attempt-{run.run_attempt}.json"
            run.ci_has_report = bool(run.ci_report)

    def action_download_ci_report(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/ci_report_file/{self.ci_report_filename}?download=true",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # enqueueing (webhook processing and sync: no work here)
    # ------------------------------------------------------------------
    @api.model
    def _upsert_run(self, repository, run):
        record = super()._upsert_run(repository, run)
        record._ci_enqueue()
        return record

    def _ci_enqueue(self):
        for run in self:
            if run.source != "workflow_run" or run.status != "completed" or run.ci_state == "pending":
                continue
            if run.ci_processed_attempt >= run.run_attempt:
                continue
            if run.outcome == "failure" or run._ci_waits_for_outcome() or run._ci_sha_has_failures():
                run.write(
                    {
                        "ci_state": "pending",
                        "ci_next_attempt_at": False,
                        "ci_attempts": 0,
                        "ci_error": False,
                        "ci_log_attempts": 0,
                    }
                )
                self._ops_trigger_soon("ops_autopilot.ir_cron_ci_diagnose")

    def _ci_requeue(self):
        """Diagnose the current attempt again: a failed job arrived late, or its log can now be read.

        Only runs already diagnosed and failed; not while a re-run or rollback
        of the run is still to come (its outcome brings the next diagnosis).
        Idempotent: a run already queued stays queued once.
        """
        for run in self:
            if run.source != "workflow_run" or run.status != "completed" or run.outcome != "failure":
                continue
            if run.ci_state == "pending" or run.ci_processed_attempt < run.run_attempt:
                continue
            if run.ci_action_ids.filtered(lambda a: a.state in ("proposed", "approved", "running")):
                continue
            run.write({"ci_state": "pending", "ci_next_attempt_at": False, "ci_attempts": 0, "ci_error": False})
            self._ops_trigger_soon("ops_autopilot.ir_cron_ci_diagnose")

    def _ci_waits_for_outcome(self):
        return bool(
            self.ci_action_ids.filtered(lambda a: a.kind == "rerun_jobs" and a.state in ("proposed", "running"))
        )

    def _ci_sha_has_failures(self):
        """A failure was diagnosed on this commit: a pass now may reveal a flaky job."""
        domain = [
            ("repository_id", "=", self.repository_id.id),
            ("head_sha", "=", self.head_sha),
            ("flaky", "=", False),
        ]
        return bool(self.head_sha) and bool(self.env["ops.job.diagnosis"].sudo().search_count(domain, limit=1))

    # ------------------------------------------------------------------
    # the diagnosis cron
    # ------------------------------------------------------------------
    @api.model
    def _ci_due_domain(self):
        now = fields.Datetime.now()
        return [
            ("ci_state", "=", "pending"),
            "|",
            ("ci_next_attempt_at", "=", False),
            ("ci_next_attempt_at", "<=", now),
        ]

    @api.model
    def _cron_ci_diagnose(self, batch_size=None):
        """Handle a batch of completed runs: outcomes of re-runs, diagnoses, flakiness, decisions."""
        limit = batch_size or get_param(self.env, "ci_batch_size")
        query = self._search(self._ci_due_domain(), order="id", limit=limit)
        batch = self.browse(
            [row[0] for row in self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))]
        )
        context = self._ci_engine_context()
        for run in batch:
            try:
                with self.env.cr.savepoint():
                    run._ci_process(context)
            except ServiceError as exc:
                run._ci_reschedule(exc)
            except Exception as exc:
                _logger.warning("self-healing of run %s failed: %s", run.id, exc, exc_info=True)
                run._ci_reschedule(exc)
        self._ops_notify_progress(done=len(batch), remaining=self.search_count(self._ci_due_domain()))
        return len(batch)

    @api.model
    def _ci_engine_context(self):
        """The managers' failure patterns and the current classifier: what every diagnosis reads a log with."""
        return {
            "rules": self.env["ops.failure.pattern"]._engine_rules(),
            "model": self.env["ops.classifier.model"]._current(),
        }

    def _ci_reschedule(self, error):
        """GitHub trouble: try again later (Retry-After or backoff); never given up for a transient error."""
        attempts = self.ci_attempts + 1
        message = str(error) if isinstance(error, ServiceError) else f"{type(error).__name__}: {error}"
        transient = isinstance(error, ServiceError) and decisions.is_transient(error)
        if not transient and attempts >= MAX_PROCESS_ATTEMPTS:
            self.write({"ci_state": "error", "ci_attempts": attempts, "ci_error": message[:2000]})
            return
        at = fields.Datetime.now() + timedelta(seconds=decisions.call_retry_delay(error, attempts))
        self.write({"ci_attempts": attempts, "ci_next_attempt_at": at, "ci_error": message[:2000]})
        self.env.ref("ops_autopilot.ir_cron_ci_diagnose").sudo()._trigger(at=at)

    def _ci_process(self, context):
        self.ensure_one()
        repo = self.repository_id
        client = repo._github_client() if repo.has_token else None
        healed = self._ci_close_reruns()
        if client:
            # the jobs of this attempt, even when their own webhooks were lost or not subscribed
            for job in ci.fetch_run_jobs(client, repo.full_name, self.github_id):
                self.env["ops.workflow.job"].sudo()._upsert_job(repo, job)
        diagnoses = self.env["ops.job.diagnosis"]
        superseded = self.env["ops.incident"]
        if self.outcome == "failure":
            diagnoses, superseded = self._ci_diagnose_jobs(client, context)
        self._ci_detect_flaky()
        vals = {"ci_processed_attempt": self.run_attempt, "ci_error": False, "ci_next_attempt_at": False}
        if self.outcome == "failure" and self._ci_waits_for_log(diagnoses):
            at = fields.Datetime.now() + timedelta(seconds=LOG_RETRY_SECONDS * 2**self.ci_log_attempts)
            vals.update(
                ci_state="pending",
                ci_next_attempt_at=at,
                ci_log_attempts=self.ci_log_attempts + 1,
                ci_decision=_("waiting for the log: GitHub could not serve it, fetched again at %s", at),
            )
            self.env.ref("ops_autopilot.ir_cron_ci_diagnose").sudo()._trigger(at=at)
        elif self.outcome == "failure":
            vals.update(self._ci_decide(diagnoses))
        else:
            vals.update(ci_state="healed" if healed else "none", ci_decision=healed or False)
        self.write(vals)
        superseded._resolve(
            note=_("Superseded: the failed job's log was read and the run diagnosed again (see the run's diagnoses)."),
            auto=True,
        )
        self._ci_store_report()

    def _ci_waits_for_log(self, diagnoses):
        """A log GitHub failed to serve is fetched again later, a few times, before deciding without it."""
        return self.ci_log_attempts < MAX_LOG_ATTEMPTS and any(d.log_state == "fetch_failed" for d in diagnoses)

    # ------------------------------------------------------------------
    # outcomes of earlier re-runs
    # ------------------------------------------------------------------
    def _ci_close_reruns(self):
        """Close the re-runs this attempt answers; return a 'healed' message or ''."""
        healed = ""
        for action in self.ci_action_ids.filtered(lambda a: a.kind == "rerun_jobs").sudo():
            payload = action.payload or {}
            from_attempt = int(payload.get("from_attempt") or 0)
            if action.state in ("proposed", "approved") and self.run_attempt > from_attempt:
                action._mark_skipped("the run was re-run by someone else meanwhile")
                continue
            if action.state != "running":
                continue
            outcome = decisions.retry_outcome(from_attempt, self.run_attempt, self.status, self.conclusion)
            if outcome == "pending":
                continue
            detail = f"attempt {self.run_attempt} {'passed' if outcome == 'healed' else f'ended {self.conclusion}'}"
            action._mark_done(outcome == "healed", detail=detail)
            if outcome == "healed":
                healed = f"healed by re-run {action.attempt} (attempt {self.run_attempt} passed)"
        return healed

    # ------------------------------------------------------------------
    # diagnosis
    # ------------------------------------------------------------------
    def _ci_diagnose_jobs(self, client, context):
        """Diagnose the failed jobs of the current attempt not diagnosed yet.

        A diagnosis made without a log that can now be read (the job was not
        known yet, the token was missing, GitHub failed to serve the log) is
        replaced; the run-only incident it opened is returned, to be resolved
        once the new diagnoses are decided. Returns ``(diagnoses, superseded incidents)``.
        """
        Job = self.env["ops.workflow.job"]
        jobs = self.job_ids.filtered(lambda j: j.run_attempt == self.run_attempt and j.outcome == "failure")
        existing = self.diagnosis_ids.filtered(lambda d: d.run_attempt == self.run_attempt)
        stale = existing.filtered(
            lambda d: (
                (not d.job_id and jobs)
                or (d.job_id and d.log_state == "fetch_failed")
                or (d.job_id and d.log_state == "no_token" and client)
            )
        )
        superseded = stale.sudo().incident_id.filtered(
            lambda i: i.state != "resolved" and (i.dedup_key or "").startswith(self._ci_run_key_prefix())
        )
        stale.sudo().unlink()
        kept = existing - stale
        result = kept
        for job in (jobs - kept.job_id).sorted("id"):
            result |= self._ci_diagnose_job(job, client, context)
        if not result:
            result = self._ci_diagnose_job(Job, client, context)
        return result, superseded

    def _ci_run_key_prefix(self):
        """Incidents of failures without a readable log are keyed by run, never by a fingerprint."""
        return f"ci:{self.repository_id.full_name}:run:{self.github_id}:"

    def _ci_read_log(self, job, client):
        """``(lines, size, truncated, log_state, error)`` of a failed job's log (error: why there is none)."""
        if not job:
            return [], 0, False, "job_unknown", "no failed job is known for this attempt"
        if not client:
            fallback = "\n".join(filter(None, [job.output_title, job.output_summary]))
            return logs.clean_log(fallback), 0, False, "no_token", "no API token: the log cannot be fetched"
        try:
            log = ci.fetch_job_log(
                client,
                self.repository_id.full_name,
                job.github_id,
                max_bytes=get_param(self.env, "ci_max_log_bytes"),
                timeout=get_param(self.env, "github_timeout_seconds"),
            )
        except ServiceError as exc:
            if decisions.is_transient(exc):
                raise
            return [], 0, False, "fetch_failed", f"log unavailable: {exc}"[:250]
        lines = logs.clean_log(log.data)
        if not any(line.strip() for line in lines):
            return lines, log.size, log.truncated, "empty", "the log is empty"
        return lines, log.size, log.truncated, "available", False

    def _ci_diagnose_job(self, job, client, context, log=None):
        """Diagnose one failed job (``log``: ``_ci_read_log``'s answer, when the text is already known)."""
        repo = self.repository_id
        now = fields.Datetime.now()
        lines, size, truncated, log_state, error = log or self._ci_read_log(job, client)
        excerpt = logs.failure_excerpt(lines)
        found = diagnose_excerpt(excerpt, rules=context["rules"], model=context["model"])
        if job and log_state in ("available", "empty") and log is None:
            cache = decisions.cache_summary(lines)
            job.sudo().write(
                {
                    "log_fetched": True,
                    "log_fetched_at": now,
                    "cache_hits": cache["hits"],
                    "cache_misses": cache["misses"],
                }
            )
        private = repo.sudo()
        excerpt_text = mask_secrets("\n".join(found.excerpt), known=[private.token, private.webhook_secret])[0]
        signature = self.env["ops.failure.signature"]
        if log_state == "available" and found.signature:
            # only a log actually read is fingerprinted: an unreadable one is no evidence of "the same failure"
            signature = signature._upsert(
                repo, found.signature, found.template, found.category, self, job.name or self.name, now
            )
        self.env["ops.failure.pattern"]._record_hit(found.rule_name)
        readable = log_state == "available"
        step_number = excerpt_view.failed_step_number(job.steps)
        excerpt_step, step_line = excerpt_view.excerpt_step_position(lines, excerpt)
        return (
            self.env["ops.job.diagnosis"]
            .sudo()
            .create(
                {
                    "job_id": job.id or False,
                    "run_id": self.id,
                    "repository_id": repo.id,
                    "job_name": job.name or self.name,
                    "run_attempt": self.run_attempt,
                    "head_sha": self.head_sha,
                    "category": found.category,
                    "confidence": found.confidence,
                    "suggested_fix": found.suggested_fix if readable or found.category != "unknown" else False,
                    "retryable": found.retryable,
                    "source": found.source,
                    "rule_name": found.rule_name or False,
                    "step": found.step or job.failed_step or False,
                    "step_number": step_number,
                    "step_line": step_line if readable and excerpt_step == step_number else 0,
                    "candidates": [[c, p] for c, p in found.candidates],
                    "excerpt": excerpt_text or False,
                    "signature_id": signature.id or False,
                    "log_state": log_state,
                    "log_size": size,
                    "log_truncated": truncated,
                    "log_error": error,
                }
            )
        )

    # ------------------------------------------------------------------
    # flakiness
    # ------------------------------------------------------------------
    def _ci_detect_flaky(self):
        """Jobs of this commit that failed then passed: their failure signatures are flaky."""
        if not self.head_sha:
            return
        Job = self.env["ops.workflow.job"].sudo()
        jobs = Job.search(
            [
                ("repository_id", "=", self.repository_id.id),
                ("head_sha", "=", self.head_sha),
                ("name", "in", self.job_ids.mapped("name")),
                ("status", "=", "completed"),
            ]
        )
        diagnoses = self.env["ops.job.diagnosis"].sudo().search([("job_id", "in", jobs.ids)])
        signature_of = {d.job_id.id: d.signature_id.fingerprint or "" for d in diagnoses}
        outcomes = [
            decisions.JobOutcome(
                job_name=job.name,
                head_sha=job.head_sha,
                conclusion=job.conclusion or "",
                order=job.completed_at or job.started_at,
                run_id=job.run_id.id,
                run_attempt=job.run_attempt,
                signature=signature_of.get(job.id, ""),
            )
            for job in jobs
        ]
        for finding in decisions.find_flaky(outcomes):
            failed = diagnoses.filtered(lambda d, f=finding: d.job_id.name == f.job_name and d.head_sha == f.head_sha)
            failed.signature_id._mark_flaky(failed, fields.Datetime.now())

    # ------------------------------------------------------------------
    # decisions: re-run, roll back, escalate
    # ------------------------------------------------------------------
    def _ci_decide(self, diagnoses):
        repo = self.repository_id
        finished = self.finished_at or self.github_updated_at
        if decisions.too_old_to_act(finished or None, fields.Datetime.now()):
            reason = "finished too long ago to re-run, roll back or escalate (backfilled by the sync?)"
            diagnoses.write({"decision": reason})
            return {"ci_state": "diagnosed", "ci_decision": reason}
        rollback = self._ci_rollback_decision()
        is_deployment = repo.ci_auto_rollback and decisions.workflow_matches(
            repo.ci_deployment_workflows, self.name, self.workflow_path
        )
        if is_deployment:
            reason = f"deployment failed: {rollback.reason}"
            self._ci_escalate(diagnoses, reason, severity="high")
            if rollback.rollback:
                self._ci_schedule_rollback(rollback)
                return {"ci_state": "rolled_back", "ci_decision": rollback.reason}
            return {"ci_state": "escalated", "ci_decision": reason}
        failures = [
            decisions.JobFailure(
                job_name=d.job_name,
                category=d.category,
                retryable=d.retryable,
                signature=d.signature_id.fingerprint or "",
                flaky=d.signature_id.flaky,
                quarantined=d.signature_id.quarantine_active,
                confidence=d.confidence,
            )
            for d in diagnoses
        ]
        policy = decisions.retry_policy(repo.ci_max_retries, initial=get_param(self.env, "ci_retry_initial_seconds"))
        decision = decisions.decide_retry(
            failures,
            self.ci_retry_count,
            auto_retry=repo.ci_auto_retry,
            policy=policy,
            min_confidence=get_param(self.env, "ci_retry_min_confidence"),
        )
        if decision.retry:
            self._ci_schedule_rerun(decision, diagnoses)
            diagnoses.write({"decision": decision.reason})
            return {"ci_state": "retrying", "ci_decision": decision.reason}
        escalated_names = {f.job_name for f in decision.escalate}
        escalated = diagnoses.filtered(lambda d: d.job_name in escalated_names)
        (diagnoses - escalated).write({"decision": f"not escalated: {decision.reason}"})
        if not escalated:
            return {"ci_state": "diagnosed", "ci_decision": decision.reason}
        reported = self._ci_escalate(escalated, decision.reason)
        return {"ci_state": "escalated" if reported else "diagnosed", "ci_decision": decision.reason}

    def _ci_schedule_rerun(self, decision, diagnoses):
        at = fields.Datetime.now() + timedelta(seconds=decision.delay)
        self.env["ops.remediation.action"]._propose(
            {
                "kind": "rerun_jobs",
                "executor": "github_api",
                "repository_id": self.repository_id.id,
                "run_id": self.id,
                "condition": ", ".join(sorted(set(diagnoses.mapped("category")))),
                "attempt": decision.attempt,
                "not_before": at,
                "payload": {
                    "run_github_id": self.github_id,
                    "from_attempt": self.run_attempt,
                    "delay_seconds": round(decision.delay, 1),
                    "jobs": sorted(set(diagnoses.mapped("job_name"))),
                    "reason": decision.reason,
                },
            }
        )
        self.env.ref("ops_autopilot.ir_cron_ci_remediate").sudo()._trigger(at=at)

    def _ci_last_rollback_key(self):
        actions = (
            self.env["ops.remediation.action"]
            .sudo()
            .search(
                [("kind", "=", "rollback"), ("repository_id", "=", self.repository_id.id), ("state", "!=", "skipped")],
                order="id desc",
                limit=50,
            )
        )
        workflow = self.workflow_path or self.name
        for action in actions:
            payload = action.payload or {}
            if payload.get("deployment_workflow") == workflow:
                return payload.get("deployment_key", "")
        return ""

    def _ci_rollback_decision(self):
        repo = self.repository_id
        domain = [
            ("repository_id", "=", repo.id),
            ("outcome", "=", "success"),
            ("id", "!=", self.id),
            ("workflow_path", "=", self.workflow_path) if self.workflow_path else ("name", "=", self.name),
        ]
        last_success = self.search(domain, order="started_at desc, id desc", limit=1)
        return decisions.decide_rollback(
            workflow_name=self.name,
            workflow_path=self.workflow_path,
            head_sha=self.head_sha or "",
            conclusion=self.conclusion,
            deployment_workflows=repo.ci_deployment_workflows or "",
            rollback_workflow=repo.ci_rollback_workflow or "",
            last_success_sha=last_success.head_sha or "",
            last_rollback_key=self._ci_last_rollback_key(),
            auto_rollback=repo.ci_auto_rollback,
        )

    def _ci_schedule_rollback(self, rollback):
        self.env["ops.remediation.action"]._propose(
            {
                "kind": "rollback",
                "executor": "github_dispatch",
                "repository_id": self.repository_id.id,
                "run_id": self.id,
                "condition": "deployment_failed",
                "not_before": fields.Datetime.now(),
                "payload": {
                    "workflow": rollback.workflow,
                    "ref": self.repository_id.default_branch,
                    "sha": rollback.sha,
                    "deployment_key": rollback.key,
                    "deployment_workflow": self.workflow_path or self.name,
                },
            }
        )
        self._ops_trigger_soon("ops_autopilot.ir_cron_ci_remediate")

    def _ci_escalate(self, diagnoses, reason, severity=None):
        """Open (or count on) one incident per failure signature; queue its GitHub issue report.

        Returns the diagnoses escalated (quarantined failures are not).
        """
        repo = self.repository_id
        Incident = self.env["ops.incident"].sudo()
        Pattern = self.env["ops.failure.pattern"].sudo().with_context(active_test=False)
        escalated = self.env["ops.job.diagnosis"]
        report_issues = repo.ci_open_github_issues and repo.has_token
        for diagnosis in diagnoses.sudo():
            signature = diagnosis.signature_id
            if diagnosis.incident_id:
                escalated |= diagnosis  # diagnosed again (a late job): already escalated, never twice
                continue
            if signature.quarantine_active:
                diagnosis.decision = f"{reason}; quarantined: not escalated"
                continue
            pattern = Pattern.search([("name", "=", diagnosis.rule_name)], limit=1) if diagnosis.rule_name else Pattern
            level = (
                severity or pattern.severity or ("high" if diagnosis.category in HIGH_SEVERITY_CATEGORIES else "medium")
            )
            excerpt = "\n".join((diagnosis.excerpt or "").split("\n")[-30:])
            fix = diagnosis.suggested_fix or diagnosis.log_state_message
            if signature:
                key = f"ci:{repo.full_name}:{signature.fingerprint}"
            else:
                key = f"{self._ci_run_key_prefix()}{self.run_attempt}:{diagnosis.job_id.github_id or 'run'}"
            incident = Incident._raise_incident(
                {
                    "dedup_key": key,
                    "title": reports.issue_title(
                        diagnosis.category if diagnosis.log_state == "available" else "log_not_available",
                        signature.fingerprint or "",
                        diagnosis.job_name,
                        self.name,
                    ),
                    "source": "ci",
                    "severity": level,
                    "description": f"{reason}\n\nSuggested fix: {fix}\n\n{excerpt}",
                    "condition": diagnosis.category,
                    "category": diagnosis.category,
                    "run_id": self.id,
                    "repository_id": repo.id,
                    "company_id": repo.company_id.id,
                }
            )
            if signature.github_issue_url and not incident.github_issue_url:
                incident.write(
                    {
                        "github_issue_number": signature.github_issue_number,
                        "github_issue_url": signature.github_issue_url,
                    }
                )
            issue_state = "none"
            if report_issues and signature:
                twin = (self.diagnosis_ids - diagnosis).filtered(
                    lambda d, s=signature: d.signature_id == s and d.issue_state in ("pending", "reported")
                )
                issue_state = "skipped" if twin else "pending"
            diagnosis.write({"incident_id": incident.id, "decision": reason, "issue_state": issue_state})
            if signature:
                signature.incident_id = incident
            escalated |= diagnosis
        if escalated.filtered(lambda d: d.issue_state == "pending"):
            self._ops_trigger_soon("ops_autopilot.ir_cron_ci_report_issues")
        return escalated

    # ------------------------------------------------------------------
    # executing re-runs and rollbacks (cron)
    # ------------------------------------------------------------------
    @api.model
    def _ci_action_due_domain(self):
        now = fields.Datetime.now()
        return [
            ("kind", "in", CI_KINDS),
            ("state", "in", ("proposed", "approved")),
            ("run_id", "!=", False),
            "|",
            ("not_before", "=", False),
            ("not_before", "<=", now),
        ]

    @api.model
    def _cron_ci_remediate(self, batch_size=20):
        """Execute the re-runs and rollbacks whose time has come."""
        Action = self.env["ops.remediation.action"].sudo()
        query = Action._search(self._ci_action_due_domain(), order="not_before, id", limit=batch_size)
        batch = Action.browse(
            [row[0] for row in self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))]
        )
        for action in batch:
            try:
                with self.env.cr.savepoint():
                    action.run_id._ci_execute(action)
            except ServiceError as exc:
                action.run_id._ci_action_failed(action, exc)
        self._ops_notify_progress(done=len(batch), remaining=Action.search_count(self._ci_action_due_domain()))
        return len(batch)

    def _ci_execute(self, action):
        repo = self.repository_id
        payload = dict(action.payload or {})
        if not repo.has_token:
            action._mark_skipped("no API token for this repository")
            return
        client = repo._github_client()
        if action.kind == "rerun_jobs":
            if self.run_attempt != int(payload.get("from_attempt") or 0):
                action._mark_skipped("the run was re-run by someone else meanwhile")
                return
            ci.rerun_failed_jobs(client, repo.full_name, self.github_id)
            action._mark_running(f"POST /repos/{repo.full_name}/actions/runs/{self.github_id}/rerun-failed-jobs")
        else:
            dispatch.dispatch_workflow(
                client, repo.full_name, payload["workflow"], payload["ref"], {"sha": payload["sha"]}
            )
            action._mark_running(f"POST /repos/{repo.full_name}/actions/workflows/{payload['workflow']}/dispatches")
            action._mark_done(
                True, detail=f"rollback to {payload['sha'][:12]} dispatched on {payload['ref']}", status_code=204
            )
        self._ci_store_report()

    def _ci_action_failed(self, action, error):
        payload = dict(action.payload or {})
        calls = int(payload.get("call_attempts") or 0) + 1
        if decisions.is_transient(error):
            at = fields.Datetime.now() + timedelta(seconds=decisions.call_retry_delay(error, calls))
            action.write(
                {
                    "not_before": at,
                    "detail": f"{error}; next try at {at}",
                    "payload": {**payload, "call_attempts": calls},
                }
            )
            self.env.ref("ops_autopilot.ir_cron_ci_remediate").sudo()._trigger(at=at)
            return
        action._mark_done(False, detail=str(error), status_code=error.status)
        self.repository_id._token_refused("reruns", error)
        if action.kind == "rerun_jobs":
            current = self.diagnosis_ids.filtered(lambda d: d.run_attempt == self.run_attempt)
            reason = f"GitHub refused the re-run: {error}"
            self._ci_escalate(current, reason)
            self.write({"ci_state": "escalated", "ci_decision": reason[:250]})
        self._ci_store_report()

    # ------------------------------------------------------------------
    # reports
    # ------------------------------------------------------------------
    def _ci_report_run_info(self):
        self.ensure_one()
        return {
            "repository": self.repository_id.full_name,
            "id": self.github_id,
            "name": self.name,
            "attempt": self.run_attempt,
            "head_sha": self.head_sha,
            "head_branch": self.head_branch,
            "url": self.html_url,
            "conclusion": self.conclusion,
        }

    def _ci_store_report(self):
        if not self.diagnosis_ids and not self.ci_action_ids:
            return
        current = self.diagnosis_ids.filtered(lambda d: d.run_attempt == self.run_attempt).sorted("id")
        entries = []
        for diagnosis in current:
            entry = diagnosis._entry()
            if diagnosis.job_id.log_fetched:
                entry["cache"] = {"hits": diagnosis.job_id.cache_hits, "misses": diagnosis.job_id.cache_misses}
            entries.append(entry)
        actions = [
            {
                "kind": a.kind,
                "state": a.state,
                "attempt": a.attempt,
                "not_before": fields.Datetime.to_string(a.not_before) if a.not_before else None,
                "delay_seconds": (a.payload or {}).get("delay_seconds"),
            }
            for a in self.ci_action_ids.sorted("id")
        ]
        self.ci_report = reports.build_report(
            self._ci_report_run_info(),
            entries,
            {"state": self.ci_state, "reason": self.ci_decision or "", "actions": actions},
            generated_at=fields.Datetime.to_string(fields.Datetime.now()),
        )
