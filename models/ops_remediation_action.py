import json
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..autopilot.common.durations import human_duration
from ..autopilot.common.masking import mask_secrets
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
    request_preview = fields.Text(
        string="What will run",
        compute="_compute_request_preview",
        help="Executor, method, URL (secrets masked), payload, dry run or not, timeout",
    )
    blocked_reason = fields.Char(
        string="Cannot run", compute="_compute_request_preview", help="Why this action cannot run as configured"
    )
    can_approve = fields.Boolean(compute="_compute_request_preview")
    duration_text = fields.Char(string="Duration", compute="_compute_duration_text")
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

    @api.depends(
        "executor",
        "state",
        "payload",
        "policy_id.hook_url",
        "policy_id.hook_method",
        "policy_id.workflow_file",
        "policy_id.dry_run",
        "policy_id.timeout_seconds",
        "target_id.url",
    )
    def _compute_request_preview(self):
        for action in self:
            sudo = action.sudo()
            action.blocked_reason = (sudo._cannot_run_reason() if action.state in WAITING_STATES else None) or False
            action.can_approve = action.state == "awaiting_approval" and not action.blocked_reason
            action.request_preview = sudo._request_preview() if sudo.target_id else False

    @api.depends("duration_ms")
    def _compute_duration_text(self):
        for action in self:
            ran = action.duration_ms or action.state in ("succeeded", "failed")
            action.duration_text = human_duration(action.duration_ms / 1000) if ran else False

    # ------------------------------------------------------------------
    # buttons
    # ------------------------------------------------------------------
    def action_approve(self):
        """Let an action that waits for approval run now (Ops managers only).

        An action that cannot run as configured (no hook URL, no repository
        token, ...) is refused before anything changes: it keeps waiting,
        and the error says what to fix.
        """
        self._check_manager()
        waiting = self.filtered(lambda a: a.state == "awaiting_approval")
        for action in waiting.sudo():
            reason = action._cannot_run_reason()
            if reason:
                raise UserError(_("%(action)s cannot be approved: %(reason)s", action=action.name, reason=reason))
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

    def _policy(self):
        self.ensure_one()
        return self.policy_id or self.target_id.remediation_policy_id

    def _cannot_run_reason(self):
        """Why this monitoring action cannot run as configured (None when it can): checked before approval."""
        self.ensure_one()
        if not self.target_id:
            return None  # CI actions are run by the code that proposed them
        policy = self._policy()
        if self.executor == "http_hook" and not policy.hook_url:
            return _("no HTTP hook URL on the remediation policy %s: set one first", policy.name or "-")
        if self.executor == "github_dispatch":
            repo = policy.repository_id or self.target_id.repository_id
            if not repo or not repo.has_token:
                return _("no repository with an API token for the workflow dispatch")
            if not policy.workflow_file:
                return _("no workflow file on the remediation policy %s", policy.name)
        return None

    def _request_preview(self):
        """Exactly what running this action will do, secrets masked (shown before approval)."""
        self.ensure_one()
        policy = self._policy()
        executors = dict(self._fields["executor"]._description_selection(self.env))
        global_dry = bool(get_param(self.env, "remediation_dry_run"))
        dry = self.state == "dry_run"
        lines = [_("Executor: %s", executors.get(self.executor, self.executor))]
        # the URL's secret parts (the whole raw URL is in the list too: it is shown redacted instead)
        known = [policy.hook_token, *(v for v in probes.url_secrets(policy.hook_url) if v != policy.hook_url)]
        if self.executor == "http_hook":
            url = probes.redact_url(policy.hook_url) if policy.hook_url else _("(no HTTP hook URL: cannot run)")
            lines.append(f"{policy.hook_method or 'POST'} {url}")
            if policy.hook_token:
                lines.append("Authorization: Bearer ***")
            lines.append(_("Payload:"))
            lines.append(json.dumps(self._hook_payload(), indent=2, sort_keys=True, default=str))
        elif self.executor == "github_dispatch":
            repo = policy.repository_id or self.target_id.repository_id
            known.append(repo.token if repo else None)
            inputs = {key: str(value) for key, value in self._hook_payload().items()}
            lines.append(
                _(
                    "workflow_dispatch of %(file)s on %(repo)s, ref %(ref)s",
                    file=policy.workflow_file or "-",
                    repo=repo.full_name or "-",
                    ref=policy.workflow_ref or repo.default_branch or "-",
                )
            )
            lines.append(_("Inputs:"))
            lines.append(json.dumps(inputs, indent=2, sort_keys=True))
        elif self.executor == "verify":
            target = self.target_id
            where = probes.redact_url(target.url) if target.url else target.name
            lines.append(_("One check of %s right away", where))
        elif self.executor == "odoo":
            lines.append(_("clear_all_caches() in this Odoo"))
        else:
            lines.append(_("Nothing is called: recorded only"))
        if dry:
            lines.append(_("Dry run: yes (recorded, never executed)"))
        elif global_dry or policy.dry_run:
            lines.append(_("Dry run: no (this action was requested before dry run was switched on; it runs)"))
        else:
            lines.append(_("Dry run: no"))
        if self.executor in ("http_hook", "github_dispatch"):
            lines.append(_("Timeout: %s s", policy.timeout_seconds))
        reason = self._cannot_run_reason()
        if reason:
            lines.append(_("Cannot run: %s", reason))
        rest = (self._round() - self).filtered(lambda a: a.id > self.id and a.state in WAITING_STATES)
        if rest:
            lines.append(_("Then: %s", ", ".join(a.name.split(" (")[0] for a in rest.sorted("id"))))
        return mask_secrets("\n".join(lines), known=[k for k in known if k])[0]

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
    def _engine_attempts(self, target, now, dry_run=False):
        """``target``'s past remediation rounds as engine attempts (pending approvals excluded).

        With ``dry_run`` (the round to decide would be a dry run) the past dry-run
        rounds count too, as attempts that went well: a dry run obeys the same
        rate limit and cooldown as a real round, so it shows what the policy
        would really do (3 rounds an hour, not one per check). Real rounds
        never count dry runs: switching dry run off does not wait for them.
        """
        states = (*ATTEMPT_STATES, "dry_run") if dry_run else ATTEMPT_STATES
        actions = self.sudo().search(
            [
                ("target_id", "=", target.id),
                ("state", "in", states),
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
    def _plan_round(self, incident, kind, now, explain=None):
        """Start one remediation round for ``incident`` if its target's policy and the safety rules allow it.

        The round's actions are the policy lines for ``kind`` in order; the
        engine (:func:`autopilot.monitoring.remediation.decide`) applies cooldown, rate
        limit, backoff and circuit breaker over the target's past rounds (dry
        runs included when this round would be one). A round that starts is
        written on the incident's timeline; when none starts, the reason is
        appended to the ``explain`` list, if given.
        :return: the actions created (maybe none).
        """
        explain = [] if explain is None else explain
        target = incident.target_id
        Action = self.sudo()
        policy = target.remediation_policy_id
        lines = policy._lines_for(kind) if policy else []
        if not lines:
            explain.append(_("no remediation policy action for %s", kind))
            return Action
        pending = incident.remediation_action_ids.filtered(lambda a: a.state in (*WAITING_STATES, "running"))
        if pending:
            explain.append(_("an earlier round is still waiting or running"))
            return Action
        switch = bool(get_param(self.env, "remediation_dry_run"))
        engine_policy = policy._engine_policy(lines, switch)
        attempts = self._engine_attempts(target, now, dry_run=engine_policy.dry_run)
        decision = remediation.decide(engine_policy, attempts, now)
        if not decision.allowed:
            explain.append(decision.reason)
            if decision.breaker == "open" and not incident.remediation_failed:
                incident.write({"remediation_failed": True})
                incident.message_post(body=_("Auto-heal stopped: %s", decision.reason), subtype_xmlid="mail.mt_note")
            return Action
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
        actions._run_round(now)
        if decision.dry_run:
            summary = _(
                "Auto-heal round %(round)s, dry run (nothing executed): %(actions)s",
                round=round_no,
                actions=actions._states_text(),
            )
            incident._event("auto_heal", "skipped", summary, at=now)
        elif actions.filtered(lambda a: a.state == "awaiting_approval"):
            summary = _(
                "Auto-heal round %(round)s waits for a manager's approval: %(actions)s",
                round=round_no,
                actions=actions._states_text(),
            )
            incident._event("auto_heal", "skipped", summary, at=now)
        return actions

    def _states_text(self):
        """``"Restart service: succeeded, Health check: failed"`` for these actions, in order."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        return ", ".join(f"{a.name.split(' (')[0]}: {labels[a.state].lower()}" for a in self.sorted("id"))

    def _run_round(self, now=None):
        """Execute the runnable actions of this round in order; stop at a failure or at one awaiting approval.

        A round that ran to its end is written on the incident's timeline (and chatter).
        """
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
                summary = _(
                    "Auto-heal round %(round)s: %(actions)s", round=queue[0].attempt, actions=ran._states_text()
                )
                incident._event("auto_heal", "failed" if failed else "done", summary, at=now)

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
