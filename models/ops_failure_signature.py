from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const
from ..autopilot.common.errors import ServiceError
from ..autopilot.github import ci
from ..autopilot.selfheal import decisions, reports

ISSUE_LABEL = reports.ISSUE_LABEL


class OpsFailureSignature(models.Model):
    """One failure, as a fingerprint, across the runs and branches of a repository.

    The engine masks what varies between runs (numbers, hashes, paths,
    timestamps, temporary names) so the same failure gets the same
    fingerprint; this record counts its occurrences, knows the runs it hit,
    whether it is flaky (the job failed with it, then passed on the same
    commit), its quarantine, and the GitHub issue that tracks it.
    """

    _name = "ops.failure.signature"
    _description = "CI Failure Signature"
    _inherit = ["ops.cron.mixin"]
    _order = "last_seen desc, id desc"
    _rec_name = "fingerprint"

    fingerprint = fields.Char(required=True, readonly=True, index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    template = fields.Text(readonly=True, help="The masked key lines the fingerprint is computed from")
    category = fields.Selection(const.FAILURE_CATEGORIES, readonly=True, index=True)
    job_name = fields.Char(readonly=True, help="Job where it was last seen")
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True, index=True)
    count = fields.Integer(string="Occurrences", readonly=True, default=0)
    run_ids = fields.Many2many("ops.workflow.run", string="Runs", readonly=True)
    diagnosis_ids = fields.One2many("ops.job.diagnosis", "signature_id", readonly=True)
    incident_id = fields.Many2one("ops.incident", readonly=True, ondelete="set null")
    github_issue_number = fields.Integer(readonly=True, copy=False)
    github_issue_url = fields.Char(string="GitHub issue", readonly=True, copy=False)
    flaky = fields.Boolean(readonly=True, index=True, help="A job failed with it, then passed on the same commit")
    flaky_count = fields.Integer(readonly=True, help="Failures that passed on a retry of the same commit")
    flaky_score = fields.Float(
        readonly=True, digits=(16, 2), help="Share of the recent occurrences that passed on a retry (0-1)"
    )
    flaky_last_seen = fields.Datetime(readonly=True)
    quarantined = fields.Boolean(
        help="Known flaky and owned: retried automatically and not escalated until the quarantine expires"
    )
    quarantine_user_id = fields.Many2one("res.users", string="Quarantine owner")
    quarantine_reason = fields.Text()
    quarantine_until = fields.Date(string="Quarantine expires", help="Empty: until lifted by hand")
    quarantine_active = fields.Boolean(compute="_compute_quarantine_active")

    _sql_constraints = [
        (
            "fingerprint_repository_unique",
            "unique(repository_id, fingerprint)",
            "A failure signature is stored once per repository.",
        ),
    ]

    def _compute_display_name(self):
        for signature in self:
            label = (signature.category or "unknown").replace("_", " ")
            signature.display_name = f"{label} [{(signature.fingerprint or '')[:8]}]"

    @api.depends("quarantined", "quarantine_until")
    def _compute_quarantine_active(self):
        today = fields.Date.context_today(self)
        for signature in self:
            signature.quarantine_active = signature.quarantined and decisions.quarantine_active(
                signature.quarantine_until or None, today
            )

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_quarantine(self):
        """Quarantine these flaky failures, owned by the current user unless an owner is set."""
        for signature in self:
            signature.write(
                {"quarantined": True, "quarantine_user_id": signature.quarantine_user_id.id or self.env.uid}
            )
        return True

    def action_lift_quarantine(self):
        self.write({"quarantined": False})
        return True

    def action_open_github_issue(self):
        self.ensure_one()
        if not self.github_issue_url:
            raise UserError(_("No GitHub issue was opened for this failure."))
        return {"type": "ir.actions.act_url", "url": self.github_issue_url, "target": "new"}

    # ------------------------------------------------------------------
    # recording
    # ------------------------------------------------------------------
    @api.model
    def _upsert(self, repository, fingerprint, template, category, run, job_name, seen_at):
        """Count one occurrence of ``fingerprint`` in ``repository`` (created the first time)."""
        signature = self.sudo().search(
            [("repository_id", "=", repository.id), ("fingerprint", "=", fingerprint)], limit=1
        )
        if not signature:
            return self.sudo().create(
                {
                    "repository_id": repository.id,
                    "fingerprint": fingerprint,
                    "template": template,
                    "category": category,
                    "job_name": job_name,
                    "first_seen": seen_at,
                    "last_seen": seen_at,
                    "count": 1,
                    "run_ids": [fields.Command.link(run.id)] if run else [],
                }
            )
        vals = {
            "count": signature.count + 1,
            "last_seen": max(signature.last_seen or seen_at, seen_at),
            "category": category,
            "job_name": job_name or signature.job_name,
        }
        if run and run not in signature.run_ids:
            vals["run_ids"] = [fields.Command.link(run.id)]
        signature.write(vals)
        return signature

    def _mark_flaky(self, diagnoses, seen_at):
        """These signatures' ``diagnoses`` passed on a retry of the same commit: count them as flaky."""
        for signature in self:
            new = diagnoses.filtered(lambda d, s=signature: d.signature_id == s and not d.flaky)
            if not new:
                continue
            new.write({"flaky": True})
            history = signature.diagnosis_ids.sorted(lambda d: (d.create_date, d.id))
            signature.write(
                {
                    "flaky": True,
                    "flaky_count": signature.flaky_count + len(new),
                    "flaky_last_seen": seen_at,
                    "flaky_score": decisions.signature_flaky_score(history.mapped("flaky")),
                }
            )

    # ------------------------------------------------------------------
    # GitHub issues (cron)
    # ------------------------------------------------------------------
    @api.model
    def _issue_due_domain(self):
        now = fields.Datetime.now()
        return [
            ("issue_state", "=", "pending"),
            "|",
            ("issue_next_attempt_at", "=", False),
            ("issue_next_attempt_at", "<=", now),
        ]

    @api.model
    def _cron_report_issues(self, batch_size=20):
        """Open one GitHub issue per escalated signature, comment on it for each recurrence."""
        Diagnosis = self.env["ops.job.diagnosis"].sudo()
        query = Diagnosis._search(self._issue_due_domain(), order="id", limit=batch_size)
        rows = self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        batch = Diagnosis.browse([row[0] for row in rows])
        for signature in batch.signature_id:
            signature._report_issue(batch.filtered(lambda d, s=signature: d.signature_id == s).sorted("id"))
        (batch - batch.filtered("signature_id")).write({"issue_state": "failed", "issue_error": "no signature"})
        self._ops_notify_progress(done=len(batch), remaining=Diagnosis.search_count(self._issue_due_domain()))
        return len(batch)

    def _report_issue(self, diagnoses):
        self.ensure_one()
        repo = self.repository_id
        if not repo.has_token:
            diagnoses.write({"issue_state": "failed", "issue_error": "no API token for this repository"})
            return
        client = repo._github_client()
        for index, diagnosis in enumerate(diagnoses):
            try:
                with self.env.cr.savepoint():
                    self._report_one(client, diagnosis)
            except ServiceError as exc:
                if not decisions.is_transient(exc):
                    diagnosis.write({"issue_state": "failed", "issue_error": str(exc)[:250]})
                    continue
                later = diagnoses[index:]
                attempts = diagnosis.issue_attempts + 1
                at = fields.Datetime.now() + timedelta(seconds=decisions.call_retry_delay(exc, attempts))
                later.write({"issue_next_attempt_at": at, "issue_error": str(exc)[:250], "issue_attempts": attempts})
                self.env.ref("ops_autopilot.ir_cron_ci_report_issues").sudo()._trigger(at=at)
                return

    def _report_one(self, client, diagnosis):
        repo = self.repository_id
        entry = diagnosis._entry()
        run = diagnosis.run_id
        link = {
            "id": run.github_id,
            "label": f"{run.display_name} (attempt {diagnosis.run_attempt})",
            "url": run.html_url,
        }
        comment = True
        if not self.github_issue_number:
            found = ci.find_issue(
                client, repo.full_name, lambda body: reports.find_signature(body) == self.fingerprint, ISSUE_LABEL
            )
            if found:
                number, url, _state = found
            else:
                runs = [
                    {"id": r.github_id, "label": r.display_name, "url": r.html_url}
                    for r in self.run_ids.sorted(lambda r: (r.started_at or fields.Datetime.now(), r.id))
                ]
                title = reports.issue_title(self.category or "unknown", self.fingerprint, diagnosis.job_name, run.name)
                body = reports.issue_body(
                    entry, runs, self.template or "", fields.Datetime.to_string(self.first_seen), self.count
                )
                number, url = ci.create_issue(client, repo.full_name, title, body, [ISSUE_LABEL])
                comment = False
            self.write({"github_issue_number": number, "github_issue_url": url})
        if comment:
            body = reports.recurrence_comment(entry, link, self.count)
            ci.comment_issue(client, repo.full_name, self.github_issue_number, body)
        incidents = (self.incident_id | diagnosis.incident_id).filtered(lambda i: not i.github_issue_url)
        incidents.write({"github_issue_number": self.github_issue_number, "github_issue_url": self.github_issue_url})
        incidents.filtered(lambda i: i.escalation_step == "none").write({"escalation_step": "github_issue"})
        diagnosis.write({"issue_state": "reported", "issue_error": False})
