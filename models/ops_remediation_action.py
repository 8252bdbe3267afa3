import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

ACTION_KINDS = [
    ("restart_service", "Restart service"),
    ("clear_caches", "Clear caches"),
    ("scale_up", "Scale resources up"),
    ("health_check", "Health check"),
    ("github_dispatch", "Dispatch a workflow"),
    ("rerun_jobs", "Re-run failed jobs"),
    ("rollback", "Roll back a deployment"),
    ("custom", "Custom"),
]
EXECUTORS = [
    ("http_hook", "HTTP hook"),
    ("github_dispatch", "GitHub workflow dispatch"),
    ("odoo", "Internal Odoo action"),
    ("verify", "Verification check"),
    ("github_api", "GitHub API call"),
    ("none", "Record only"),
]
ACTION_STATES = [
    ("proposed", "Proposed"),
    ("awaiting_approval", "Awaiting approval"),
    ("approved", "Approved"),
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("dry_run", "Dry run"),
]
#: states in which an action is finished and counts (or not) as an attempt
DONE_STATES = ("succeeded", "failed", "skipped", "dry_run")
#: states that counted as a real attempt for rate limits, cooldown and the circuit breaker
ATTEMPT_STATES = ("running", "succeeded", "failed")


class OpsRemediationAction(models.Model):
    """One healing step the autopilot took (or proposes), with what it sent and what came back.

    Generic on purpose: monitoring records service restarts, cache clears
    and workflow dispatches here, CI self-healing records re-runs and
    rollbacks. Life cycle::

        proposed ─► running ─► succeeded | failed
           │           ▲
           ├─► awaiting_approval ─► approved ─┘   (manager approves; Reject ─► skipped)
           ├─► dry_run    (recorded, never executed)
           └─► skipped    (policy refused: cooldown, rate limit, circuit breaker, nothing to call)

    Callers create one with :meth:`_propose` and report with
    :meth:`_mark_running` / :meth:`_mark_done` (or :meth:`_mark_skipped`);
    monitoring executes its own through ``ops.health.target``.
    """

    _name = "ops.remediation.action"
    _description = "Remediation Action"
    _order = "requested_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    incident_id = fields.Many2one("ops.incident", ondelete="cascade", index="btree_not_null")
    target_id = fields.Many2one("ops.health.target", ondelete="set null", index="btree_not_null")
    repository_id = fields.Many2one("ops.repository", ondelete="set null", index="btree_not_null")
    run_id = fields.Many2one("ops.workflow.run", ondelete="set null", index="btree_not_null")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    policy_id = fields.Many2one("ops.remediation.policy", ondelete="set null")
    kind = fields.Selection(ACTION_KINDS, required=True, default="custom", index=True)
    executor = fields.Selection(EXECUTORS, required=True, default="none")
    condition = fields.Char(help="The condition this action answers (down, cpu, network_timeout, ...)")
    state = fields.Selection(ACTION_STATES, required=True, default="proposed", index=True)
    destructive = fields.Boolean(help="Needs a manager's approval before it runs")
    attempt = fields.Integer(default=1, help="Remediation round of the incident (or retry number)")
    payload = fields.Json(help="Parameters of the action (inputs, job ids, sha, ...)")
    payload_text = fields.Text(string="Parameters", compute="_compute_payload_text")
    request_summary = fields.Text(string="Request", help="What was sent (method, URL, body), secrets masked")
    response_status = fields.Integer(string="Response status")
    detail = fields.Text(help="Outcome or the reason it was skipped")
    requested_at = fields.Datetime(default=fields.Datetime.now, required=True, index=True)
    not_before = fields.Datetime(help="Earliest time it may run (backoff, retry schedule)")
    started_at = fields.Datetime()
    finished_at = fields.Datetime()
    duration_ms = fields.Integer(string="Duration (ms)", aggregator="avg")
    requested_by = fields.Many2one("res.users", default=lambda self: self.env.user)
    approved_by = fields.Many2one("res.users", readonly=True)
    approved_at = fields.Datetime(readonly=True)
    verified = fields.Selection(
        [("pending", "Pending"), ("healthy", "Healthy"), ("unhealthy", "Still failing"), ("n/a", "Not checked")],
        string="Verification",
        default="n/a",
        help="Check of the target right after the action",
    )

    @api.depends("kind", "incident_id.name", "attempt")
    def _compute_name(self):
        labels = dict(ACTION_KINDS)
        for action in self:
            ref = action.incident_id.name or _("no incident")
            action.name = f"{labels.get(action.kind, action.kind)} ({ref}, #{action.attempt})"

    @api.depends("payload")
    def _compute_payload_text(self):
        for action in self:
            action.payload_text = json.dumps(action.payload, indent=2, sort_keys=True) if action.payload else False

    # ------------------------------------------------------------------
    # buttons
    # ------------------------------------------------------------------
    def action_approve(self):
        """Let an action that waits for approval run now (Ops managers only)."""
        self._check_manager()
        waiting = self.filtered(lambda a: a.state == "awaiting_approval")
        waiting.sudo().write({"state": "approved", "approved_by": self.env.uid, "approved_at": fields.Datetime.now()})
        for action in waiting.sudo():
            action._close_approval_activities(_("Approved by %s.", self.env.user.name))
            action._execute_approved()
        return True

    def action_reject(self):
        """Refuse an action waiting for approval (Ops managers only)."""
        self._check_manager()
        waiting = self.filtered(lambda a: a.state in ("awaiting_approval", "proposed", "approved"))
        for action in waiting.sudo():
            action._close_approval_activities(_("Rejected by %s.", self.env.user.name))
            action._mark_skipped(_("Rejected by %s.", self.env.user.name))
            rest = action._round() - action
            rest.filtered(lambda a: a.state in ("proposed", "approved", "awaiting_approval"))._mark_skipped(
                _("Not run: an earlier action of this round was rejected.")
            )
        return True

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise UserError(_("Only Ops managers can approve or reject remediation actions."))

    # ------------------------------------------------------------------
    # API
    # ------------------------------------------------------------------
    @api.model
    def _propose(self, vals, requires_approval=False, dry_run=False, reason=None):
        """Record an action. ``vals``: incident_id, kind, executor, payload, target/repository/run, ...

        The company follows the incident, target or repository. State is
        ``dry_run`` (recorded, never run), ``awaiting_approval`` (an activity
        asks the managers) or ``proposed`` (the caller runs it now).
        """
        vals = dict(vals)
        for field in ("incident_id", "target_id", "repository_id"):
            record = self.env[self._fields[field].comodel_name].browse(vals.get(field) or [])
            if record and "company_id" not in vals:
                vals["company_id"] = record.sudo().company_id.id
        if dry_run:
            vals.update(state="dry_run", detail=reason or _("Dry run: recorded, not executed."))
            vals.setdefault("finished_at", fields.Datetime.now())
        elif requires_approval:
            vals.update(state="awaiting_approval", destructive=True)
        action = self.sudo().create(vals)
        if action.state == "awaiting_approval":
            action._request_approval()
        return action

    def _mark_running(self, request_summary=None):
        self.write(
            {
                "state": "running",
                "started_at": fields.Datetime.now(),
                "request_summary": request_summary or self.request_summary,
            }
        )

    def _mark_done(self, succeeded, detail=None, status_code=None, duration_ms=None):
        now = fields.Datetime.now()
        for action in self:
            elapsed = duration_ms
            if elapsed is None and action.started_at:
                elapsed = int((now - action.started_at).total_seconds() * 1000)
            action.write(
                {
                    "state": "succeeded" if succeeded else "failed",
                    "detail": detail,
                    "response_status": status_code or False,
                    "finished_at": now,
                    "duration_ms": elapsed or 0,
                }
            )

    def _mark_skipped(self, reason):
        self.write({"state": "skipped", "detail": reason, "finished_at": fields.Datetime.now()})

    def _request_approval(self):
        """One to-do activity per Ops manager on the incident (or on the action's target)."""
        managers = (
            self.env.ref("ops_autopilot.group_ops_manager")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share and u.id != self.env.ref("base.user_root").id)
        )
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        for action in self:
            record = action.incident_id
            if not record:
                continue
            for manager in managers.filtered(lambda u, a=action: a.company_id in u.company_ids):
                record.sudo().activity_schedule(
                    activity_type_id=activity_type.id,
                    summary=_("Approve remediation: %s", action.name),
                    note=_("A destructive remediation waits for approval: %s", action.name),
                    user_id=manager.id,
                )

    def _close_approval_activities(self, feedback):
        for action in self:
            summary = _("Approve remediation: %s", action.name)
            activities = action.incident_id.activity_ids.filtered(lambda a, s=summary: a.summary == s)
            activities.sudo().action_feedback(feedback=feedback)

    def _round(self):
        """The actions of the same remediation round (same incident and attempt number)."""
        self.ensure_one()
        if not self.incident_id:
            return self
        return self.incident_id.remediation_action_ids.filtered(lambda a: a.attempt == self.attempt)

    def _execute_approved(self):
        """Run an approved action and the rest of its round (monitoring actions: their target executes them).

        Actions without a target (CI re-runs, rollbacks) stay ``approved``:
        the code that proposed them picks them up.
        """
        for action in self.filtered("target_id"):
            action.target_id._run_round(action._round())
