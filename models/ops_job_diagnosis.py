import base64
import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..autopilot.selfheal import excerpt_view, reports

DIAGNOSIS_SOURCES = [
    ("rule", "Rule"),
    ("model", "Classifier"),
    ("both", "Rule and classifier"),
    ("none", "None (unknown)"),
]
FEEDBACK_STATES = [("none", "Not reviewed"), ("confirmed", "Confirmed"), ("corrected", "Corrected")]
LOG_STATES = [
    ("available", "Read"),
    ("no_token", "Not available: no API token"),
    ("job_unknown", "Not available: job not yet known"),
    ("fetch_failed", "Not available: GitHub could not serve it"),
    ("empty", "Empty"),
]
ISSUE_STATES = [
    ("none", "Not reported"),
    ("pending", "To report"),
    ("reported", "Reported"),
    ("skipped", "Not reported (duplicate in the run)"),
    ("failed", "Report failed"),
]


class OpsJobDiagnosis(models.Model):
    """Why a CI job failed, as the engine read its log, and what ops staff said about it.

    A confirmed or corrected diagnosis becomes a training example of the
    classifier (see ``ops.classifier.model``).
    """

    _name = "ops.job.diagnosis"
    _description = "CI Job Diagnosis"
    _order = "create_date desc, id desc"

    job_id = fields.Many2one("ops.workflow.job", readonly=True, ondelete="cascade", index=True)
    run_id = fields.Many2one("ops.workflow.run", required=True, readonly=True, ondelete="cascade", index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    job_name = fields.Char(readonly=True)
    run_attempt = fields.Integer(readonly=True)
    head_sha = fields.Char(string="Commit", readonly=True, index=True)
    category = fields.Selection(const.FAILURE_CATEGORIES, required=True, readonly=True, index=True)
    confidence = fields.Float(readonly=True, digits=(16, 3))
    suggested_fix = fields.Text(readonly=True)
    retryable = fields.Boolean(readonly=True)
    source = fields.Selection(DIAGNOSIS_SOURCES, readonly=True)
    rule_name = fields.Char(string="Rule", readonly=True)
    step = fields.Char(string="Failed step", readonly=True)
    candidates = fields.Json(readonly=True, help="The three most likely categories with their probabilities")
    excerpt = fields.Text(readonly=True, help="The log lines that explain the failure (secrets masked)")
    excerpt_html = fields.Html(
        string="Log excerpt",
        compute="_compute_excerpt_html",
        sanitize=False,  # rendered by QWeb, which escapes every character of the log
        help="The excerpt with its failing lines highlighted",
    )
    step_number = fields.Integer(readonly=True, help="Number of the failed step in the job (GitHub's numbering)")
    step_line = fields.Integer(readonly=True, help="Line of the step's log where the failure region starts")
    step_log_url = fields.Char(
        string="Step log on GitHub", compute="_compute_step_log_url", help="The failed step's log on GitHub"
    )
    signature_id = fields.Many2one("ops.failure.signature", readonly=True, ondelete="set null", index=True)
    fingerprint = fields.Char(related="signature_id.fingerprint")
    log_size = fields.Integer(string="Log size (bytes)", readonly=True)
    log_truncated = fields.Boolean(readonly=True, help="Only the end of a very long log was read")
    log_error = fields.Char(readonly=True, help="Why the log could not be read (the diagnosis is then 'unknown')")
    log_state = fields.Selection(
        LOG_STATES,
        string="Log",
        default="available",
        required=True,
        readonly=True,
        index=True,
        help="Whether the job's log was read. A log that was not read is never fingerprinted nor merged with "
        "other failures.",
    )
    log_state_message = fields.Char(
        string="Log not available", compute="_compute_log_state_message", help="What is missing and how to fix it"
    )
    decision = fields.Char(readonly=True, help="What the autopilot did about it")
    flaky = fields.Boolean(readonly=True, help="The job passed on a retry of the same commit")
    incident_id = fields.Many2one("ops.incident", readonly=True, ondelete="set null")
    issue_state = fields.Selection(ISSUE_STATES, default="none", required=True, readonly=True, index=True)
    issue_next_attempt_at = fields.Datetime(readonly=True)
    issue_error = fields.Char(readonly=True)
    issue_attempts = fields.Integer(readonly=True)
    feedback_state = fields.Selection(FEEDBACK_STATES, default="none", required=True, readonly=True, index=True)
    confirmed_category = fields.Selection(
        const.FAILURE_CATEGORIES, readonly=True, help="The category ops staff confirmed or corrected: a training label"
    )
    feedback_user_id = fields.Many2one("res.users", string="Reviewed by", readonly=True)
    feedback_at = fields.Datetime(string="Reviewed on", readonly=True, index=True)
    report_file = fields.Binary(string="Report (JSON)", compute="_compute_report_file", attachment=False)
    report_filename = fields.Char(compute="_compute_report_file")

    def _compute_display_name(self):
        for diagnosis in self:
            label = dict(const.FAILURE_CATEGORIES).get(diagnosis.category, diagnosis.category)
            diagnosis.display_name = f"{diagnosis.job_name or _('run')}: {label}"

    @api.depends("log_state", "log_error", "repository_id")
    def _compute_log_state_message(self):
        for diagnosis in self:
            diagnosis.log_state_message = diagnosis._log_state_message()

    def _log_state_message(self):
        """The truth about an unread log, with the fix to apply (False when the log was read)."""
        state = self.log_state
        if state == "no_token":
            return _(
                "Log not available: no API token for this repository. Add one in Ops Autopilot > Configuration > "
                "Repositories > %(repository)s > Credentials > New API token: its unread failures are then "
                "diagnosed again at once. Or paste the log on the job (Paste a log).",
                repository=self.repository_id.display_name,
            )
        if state == "job_unknown":
            return _(
                "Log not available: GitHub has not told which job failed yet. The run is diagnosed again as soon "
                "as its failed job arrives: subscribe the webhook to Workflow jobs so that it does."
            )
        if state == "fetch_failed":
            return _(
                "Log not available: GitHub could not serve it (%(error)s). It is fetched again a few times; logs "
                "expire after the repository's retention period. Paste the log on the job (Paste a log) to "
                "diagnose it now.",
                error=self.log_error or _("no detail"),
            )
        if state == "empty":
            return _(
                "The log is empty: nothing to diagnose. Make the failing step print its error, or paste the log "
                "on the job (Paste a log)."
            )
        return False

    @api.depends("job_id.html_url", "step_number", "step_line")
    def _compute_step_log_url(self):
        for diagnosis in self:
            diagnosis.step_log_url = (
                excerpt_view.step_log_url(diagnosis.job_id.html_url, diagnosis.step_number, diagnosis.step_line)
                or False
            )

    @api.depends("excerpt", "log_state", "category", "confidence", "suggested_fix", "step_log_url")
    def _compute_excerpt_html(self):
        for diagnosis in self:
            diagnosis.excerpt_html = diagnosis._render_cards()

    def _card(self):
        """What a person needs to read this diagnosis (the values of the ``ops_job_diagnosis_cards`` template)."""
        self.ensure_one()
        labels = dict(self._fields["category"]._description_selection(self.env))
        readable = self.log_state == "available"
        return {
            "id": self.id,
            "job": self.job_name or _("run"),
            "category": labels.get(self.category, self.category) if readable or self.category != "unknown" else "",
            "confidence": f"{self.confidence:.0%}" if readable and self.category != "unknown" else "",
            "log_message": self.log_state_message or "",
            "fix": self.suggested_fix or "",
            "step": self.step or "",
            "lines": excerpt_view.marked_lines(self.excerpt),
            "url": self.step_log_url or "",
        }

    def _render_cards(self):
        """The cards of these diagnoses as HTML (every character of the logs escaped by QWeb)."""
        if not self:
            return False
        return self.env["ir.qweb"]._render(
            "ops_autopilot.ops_job_diagnosis_cards", {"cards": [d._card() for d in self]}
        )

    def _compute_report_file(self):
        for diagnosis in self:
            report = diagnosis._report()
            diagnosis.report_file = base64.b64encode(json.dumps(report, indent=2).encode())
            diagnosis.report_filename = f"diagnosis-{diagnosis.id or 'new'}.json"

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def _check_reviewer(self):
        if not self.env.su and not self.env.user.has_group("ops_autopilot.group_ops_user"):
            raise UserError(_("Only Ops users can review diagnoses."))

    def action_confirm(self):
        """The category is right: keep it as a training example."""
        self._check_reviewer()
        self.check_access("read")
        for diagnosis in self.sudo():
            diagnosis._record_feedback(diagnosis.category)
        return True

    def action_open_correct(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Correct the diagnosis"),
            "res_model": "ops.job.diagnosis.correct",
            "view_mode": "form",
            "target": "new",
            "context": {"default_diagnosis_id": self.id},
        }

    def action_correct(self, category):
        """The right category is ``category``: keep that as a training example."""
        self._check_reviewer()
        self.check_access("read")
        if category not in dict(const.FAILURE_CATEGORIES):
            raise UserError(_("Unknown category %s.", category))
        for diagnosis in self.sudo():
            diagnosis._record_feedback(category)
        return True

    def _record_feedback(self, category):
        self.write(
            {
                "feedback_state": "confirmed" if category == self.category else "corrected",
                "confirmed_category": category,
                "feedback_user_id": self.env.uid,
                "feedback_at": fields.Datetime.now(),
            }
        )

    def action_download_report(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/report_file/{self.report_filename}?download=true",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # reports
    # ------------------------------------------------------------------
    def _entry(self):
        """This diagnosis as a report entry (:func:`autopilot.selfheal.reports.diagnosis_entry`)."""
        self.ensure_one()
        return reports.diagnosis_entry(
            self.job_name or "",
            {
                "category": self.category,
                "confidence": self.confidence,
                "suggested_fix": self.suggested_fix or "",
                "signature": self.signature_id.fingerprint or "",
                "retryable": self.retryable,
                "rule": self.rule_name or None,
                "source": self.source or "",
                "step": self.step or "",
                "excerpt": (self.excerpt or "").split("\n") if self.excerpt else [],
            },
            job_url=self.job_id.html_url or "",
            job_id=self.job_id.github_id or 0,
        )

    def _report(self):
        self.ensure_one()
        return reports.build_report(
            self.run_id._ci_report_run_info(),
            [self._entry()],
            {"decision": self.decision or ""},
            generated_at=fields.Datetime.to_string(fields.Datetime.now()),
        )

    @api.model
    def _training_examples(self):
        """``[(excerpt, category), ...]`` that ops staff confirmed or corrected."""
        reviewed = self.sudo().search([("confirmed_category", "!=", False), ("excerpt", "!=", False)])
        return [(diagnosis.excerpt, diagnosis.confirmed_category) for diagnosis in reviewed]
