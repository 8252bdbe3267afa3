import json
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..autopilot.monitoring import probes, remediation
from .ops_params import get_param

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
#: states that counted as a real attempt for rate limits, cooldown and the circuit breaker
ATTEMPT_STATES = ("running", "succeeded", "failed")
#: states of an action of a round that has not run yet
WAITING_STATES = ("proposed", "approved", "awaiting_approval")


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
    :meth:`_mark_running` / :meth:`_mark_done` (or :meth:`_mark_skipped`).
    Monitoring's rounds are planned, run and verified here
    (:meth:`_plan_round`, :meth:`_run_round`, :meth:`_record_verifications`).
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
    kind = fields.Selection(const.REMEDIATION_KINDS, required=True, default="custom", index=True)
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
        labels = dict(const.REMEDIATION_KINDS)
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
        """Run an approved monitoring action and the rest of its round.

        Actions without a target (CI re-runs, rollbacks) stay ``approved``:
        the code that proposed them picks them up.
        """
        for action in self.filtered("target_id"):
            action._round()._run_round()

    # ------------------------------------------------------------------
    # monitoring: planning, running and verifying a round
    # ------------------------------------------------------------------
    @api.model
    def _engine_attempts(self, target, now):
        """``target``'s past remediation rounds as engine attempts (dry runs and pending approvals excluded)."""
        actions = self.sudo().search(
            [
                ("target_id", "=", target.id),
                ("state", "in", ATTEMPT_STATES),
                ("requested_at", ">=", now - timedelta(days=2)),
            ]
        )
        rounds = {}
        for action in actions:
            rounds.setdefault((action.incident_id.id, action.attempt), []).append(action)
        attempts = []
        for items in rounds.values():
            states = {a.state for a in items}
            succeeded = None if "running" in states else "failed" not in states
            attempts.append(remediation.Attempt(at=min(a.requested_at for a in items), succeeded=succeeded))
        return attempts

    @api.model
    def _plan_round(self, incident, kind, now):
        """Start one remediation round for ``incident`` if its target's policy and the safety rules allow it.

        The round's actions are the policy lines for ``kind`` in order; the
        engine (:func:`autopilot.monitoring.remediation.decide`) applies cooldown, rate
        limit, backoff and circuit breaker over the target's past rounds.
        :return: the actions created (maybe none).
        """
        target = incident.target_id
        Action = self.sudo()
        policy = target.remediation_policy_id
        lines = policy._lines_for(kind) if policy else []
        if not lines:
            return Action
        pending = incident.remediation_action_ids.filtered(lambda a: a.state in (*WAITING_STATES, "running"))
        if pending:
            return Action
        switch = bool(get_param(self.env, "remediation_dry_run"))
        decision = remediation.decide(policy._engine_policy(lines, switch), self._engine_attempts(target, now), now)
        if not decision.allowed:
            if decision.breaker == "open" and not incident.remediation_failed:
                incident.write({"remediation_failed": True})
                incident.message_post(body=_("Auto-heal stopped: %s", decision.reason), subtype_xmlid="mail.mt_note")
            return Action
        if decision.dry_run:
            last_dry = Action.search(
                [("target_id", "=", target.id), ("state", "=", "dry_run")], order="requested_at desc", limit=1
            )
            if last_dry and last_dry.requested_at > now - timedelta(seconds=policy.cooldown_seconds):
                return Action  # a dry run is recorded once per cooldown, not at every check
        round_no = max(incident.remediation_action_ids.mapped("attempt") or [0]) + 1
        actions = Action
        for line in lines:
            actions |= Action._propose(
                {
                    "incident_id": incident.id,
                    "target_id": target.id,
                    "repository_id": (policy.repository_id or target.repository_id).id or False,
                    "policy_id": policy.id,
                    "kind": line.kind,
                    "executor": line.executor,
                    "condition": kind,
                    "attempt": round_no,
                    "payload": line._inputs() or False,
                    "requested_at": now,
                },
                requires_approval=line.destructive and not decision.dry_run,
                dry_run=decision.dry_run,
                reason=_("Dry run (%s): recorded, not executed.", decision.reason),
            )
        if incident.state == "open" and not decision.dry_run:
            incident.write({"state": "remediating"})
        actions._run_round()
        return actions

    def _run_round(self):
        """Execute the runnable actions of this round in order; stop at a failure or at one awaiting approval."""
        queue = self.sorted("id")
        for index, action in enumerate(queue):
            if action.state == "awaiting_approval":
                return
            if action.state not in ("proposed", "approved"):
                continue
            action._execute()
            if action.state == "failed":
                rest = queue[index + 1 :].filtered(lambda a: a.state in WAITING_STATES)
                rest._mark_skipped(_("Not run: an earlier action of this round failed."))
                break
        incident = queue.incident_id[:1]
        if incident and not queue.filtered(lambda a: a.state in WAITING_STATES):
            failed = any(a.state == "failed" for a in queue)
            ran = queue.filtered(lambda a: a.state in ("succeeded", "failed"))
            if ran:
                incident.write({"remediation_failed": failed})
                # no verification ran in this round: the target's next check is the verification
                ran.filtered(lambda a: a.verified == "n/a" and a.executor != "verify").write({"verified": "pending"})
                summary = ", ".join(f"{a.kind}: {a.state}" for a in ran)
                incident.message_post(
                    body=_("Remediation round %(round)s: %(summary)s", round=queue[0].attempt, summary=summary),
                    subtype_xmlid="mail.mt_note",
                )

    def _execute(self):
        """Run this monitoring action with its executor and record the outcome (never raises for a failed call)."""
        self.ensure_one()
        self._mark_running()
        target = self.target_id
        policy = self.policy_id or target.remediation_policy_id
        executor = self.executor
        if executor == "verify":
            sample, _issues = target._verify_now()
            outcome = remediation.Outcome(
                sample.up,
                sample.status_code,
                _("Target healthy again.") if sample.up else _("Target still failing: %s", sample.error or "-"),
                sample.response_ms,
            )
            earlier = self.incident_id.remediation_action_ids.filtered(
                lambda a: a.attempt == self.attempt and a.id != self.id and a.state in ("succeeded", "failed")
            )
            earlier.write({"verified": "healthy" if sample.up else "unhealthy"})
        elif executor == "http_hook":
            if not policy.hook_url:
                self._mark_skipped(_("No HTTP hook URL on the policy: nothing to call."))
                return
            token = policy.sudo().hook_token
            outcome = remediation.run_http_hook(
                policy.hook_url,
                policy.hook_method,
                self._hook_payload(),
                headers={"Authorization": f"Bearer {token}"} if token else None,
                timeout=policy.timeout_seconds,
            )
        elif executor == "github_dispatch":
            repo = policy.repository_id or target.repository_id
            if not repo or not policy.workflow_file or not repo.has_token:
                self._mark_skipped(_("No repository with a token or no workflow file on the policy."))
                return
            outcome = remediation.run_github_dispatch(
                repo.api_url,
                repo.sudo().token,
                repo.full_name,
                policy.workflow_file,
                policy.workflow_ref or repo.default_branch,
                {key: str(value) for key, value in self._hook_payload().items()},
                timeout=policy.timeout_seconds,
            )
        elif executor == "odoo":
            started = time.monotonic()
            self.env.registry.clear_all_caches()
            elapsed = (time.monotonic() - started) * 1000
            outcome = remediation.Outcome(True, None, _("Caches of this Odoo cleared."), elapsed, "clear_all_caches()")
        else:
            outcome = remediation.Outcome(True, None, _("Recorded only (no executor)."), 0.0)
        detail = outcome.detail + (f"\n{outcome.response}" if outcome.response else "")
        self.write({"request_summary": outcome.request or False})
        self._mark_done(
            outcome.succeeded,
            detail=detail,
            status_code=outcome.status_code,
            duration_ms=int(outcome.duration_ms or 0),
        )

    def _hook_payload(self):
        """The JSON an ops agent receives: what to do, on what, why (plus the line's own inputs)."""
        self.ensure_one()
        target, incident = self.target_id, self.incident_id
        return {
            "action": self.kind,
            "target": target.name,
            "target_id": target.id,
            "url": probes.redact_url(target.url) if target.url else None,
            "condition": self.condition,
            "incident": incident.name,
            "severity": incident.severity,
            "attempt": self.attempt,
            **(self.payload or {}),
        }

    @api.model
    def _record_verifications(self, results):
        """A check is the verification of its target's actions that wait for one (``verified = pending``).

        ``results``: ``{target id: (engine Sample, issues)}`` of the checks just made.
        """
        pending = self.sudo().search([("target_id", "in", list(results)), ("verified", "=", "pending")])
        healthy = pending.filtered(lambda a: results[a.target_id.id][0].up)
        healthy.write({"verified": "healthy"})
        (pending - healthy).write({"verified": "unhealthy"})
