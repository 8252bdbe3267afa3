import logging
import uuid
from datetime import timedelta

from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger, plaintext2html

from .. import const
from ..autopilot.common.durations import human_duration
from ..autopilot.common.masking import mask_secrets
from ..autopilot.github import rest_api
from ..autopilot.monitoring import alerts, escalation, paging
from .ops_params import PREFIX, get_param

_logger = logging.getLogger(__name__)

SOURCES = [
    ("health", "Health check"),
    ("ci", "CI"),
    ("scan", "Scheduled scan"),
    ("review", "Code review"),
]
SEVERITY_RANK = {key: rank for rank, (key, _label) in enumerate(const.SEVERITIES)}
STATES = [
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("remediating", "Remediating"),
    ("escalated", "Escalated"),
    ("resolved", "Resolved"),
]
#: how far up the ladder the incident went: the step's position, not its outcome (a page with no routing
#: key reaches the "page" step and pages nobody); what each step did is in the timeline (``event_ids``)
ESCALATION_STEPS = [
    ("none", "Not escalated"),
    ("auto_heal", "Step 1: auto-heal"),
    ("github_issue", "Step 2: GitHub issue"),
    ("on_call", "Step 3: notify on-call"),
    ("page", "Step 4: page on-call"),
]
NEXT_STEPS = [
    ("auto_heal", "auto-heal"),
    ("github_issue", "open a GitHub issue"),
    ("on_call", "notify on-call"),
    ("page", "page on-call"),
]
PAGE_STATES = [
    ("none", "Not paged"),
    ("triggered", "Triggered"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
]
OPEN_KEY_INDEX = "ops_incident_open_dedup_key_uniq"


class OpsIncident(models.Model):
    """Something wrong that people (and the autopilot) have to deal with.

    Incidents come from health checks (this module's probe cron), CI
    failures, scans and reviews. At most one unresolved incident exists per
    ``dedup_key`` (a partial unique index enforces it); a repeat bumps its
    ``count`` and ``last_seen`` instead of opening another one. Open or bump
    one with :meth:`_raise_incident`.

    Who may do what: Ops users acknowledge, resolve (with a resolution
    note) and comment; marking a false positive is for Ops managers, since it
    changes the quality figures (false-positive rate) everyone is judged on.
    """

    _name = "ops.incident"
    _description = "Incident"
    _inherit = ["mail.thread", "mail.activity.mixin", "ops.cron.mixin"]
    _order = "state_rank, severity_rank desc, last_seen desc, id desc"
    _mail_post_access = "read"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram")
    title = fields.Char(required=True, tracking=True)
    description = fields.Text(help="What was observed, latest occurrence")
    source = fields.Selection(SOURCES, required=True, default="health", index=True, tracking=True)
    severity = fields.Selection(const.SEVERITIES, required=True, default="medium", index=True, tracking=True)
    severity_rank = fields.Integer(compute="_compute_ranks", store=True)
    state = fields.Selection(
        STATES, required=True, default="open", index=True, tracking=True, group_expand="_group_expand_state"
    )
    state_rank = fields.Integer(compute="_compute_ranks", store=True)
    dedup_key = fields.Char(
        string="Dedup key",
        required=True,
        index=True,
        copy=False,
        default=lambda self: f"manual:{uuid.uuid4()}",
        help="Occurrences with the same key while the incident is unresolved are counted on it",
    )
    condition = fields.Char(help="What fired, e.g. down, slow, cpu, a failure category or an advisory id")
    # indexed: every incident KPI of the dashboard and the report filters on it
    first_seen = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    last_seen = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    count = fields.Integer(string="Occurrences", default=1, required=True, readonly=True, aggregator="sum")
    target_id = fields.Many2one("ops.health.target", ondelete="set null", index="btree_not_null")
    run_id = fields.Many2one("ops.workflow.run", ondelete="set null", index="btree_not_null")
    repository_id = fields.Many2one("ops.repository", ondelete="set null", index="btree_not_null")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    user_id = fields.Many2one("res.users", string="Responsible", tracking=True, help="Who handles it (on-call)")
    category = fields.Char(index=True, help="Failure category (CI), condition family (health), scanner (scan)")
    root_cause = fields.Text(tracking=True)
    resolution_note = fields.Text(tracking=True)
    false_positive = fields.Boolean(string="False positive", readonly=True, tracking=True)
    false_positive_ratio = fields.Float(
        string="False positive (%)",
        compute="_compute_false_positive_ratio",
        store=True,
        aggregator="avg",
        help="100 for a false positive, else 0: its average over incidents is the false-positive rate",
    )
    auto_resolved = fields.Boolean(readonly=True, help="Resolved by the autopilot when the condition recovered")
    acknowledged_at = fields.Datetime(readonly=True)
    acknowledged_by = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True, index=True)
    resolved_by = fields.Many2one("res.users", readonly=True)
    time_to_acknowledge = fields.Float(
        string="Time to acknowledge (min)",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        digits=(16, 1),
    )
    time_to_resolve = fields.Float(
        string="Time to resolve (min)",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        digits=(16, 1),
        help="Minutes from the incident opening (first seen) to its resolution; its average is the MTTR",
    )
    time_to_acknowledge_text = fields.Char(string="Time to acknowledge", compute="_compute_duration_texts")
    time_to_resolve_text = fields.Char(string="Time to resolve", compute="_compute_duration_texts")
    time_to_detect_text = fields.Char(string="Time to detect", compute="_compute_duration_texts")
    failing_since = fields.Datetime(
        string="Failing since",
        readonly=True,
        help="When the problem began: the first failing check of the breach that opened the incident",
    )
    time_to_detect = fields.Float(
        string="Time to detect (min)",
        compute="_compute_durations",
        store=True,
        aggregator="avg",
        digits=(16, 1),
        help="Minutes from the first failing check to the incident opening; its average is the MTTD",
    )
    escalation_step = fields.Selection(
        ESCALATION_STEPS,
        string="Escalation step",
        default="none",
        required=True,
        readonly=True,
        tracking=True,
        help="How far up the ladder the incident went; what each step really did is in the timeline",
    )
    escalation_status = fields.Char(
        string="Escalation", compute="_compute_escalation_status", help="What the last escalation step really did"
    )
    next_escalation_at = fields.Datetime(readonly=True, index="btree_not_null")
    next_escalation_step = fields.Selection(NEXT_STEPS, readonly=True, copy=False)
    next_step_text = fields.Char(string="Next step", compute="_compute_next_step_text")
    event_ids = fields.One2many("ops.incident.event", "incident_id", string="Timeline", readonly=True)
    github_issue_number = fields.Integer(readonly=True, copy=False)
    github_issue_url = fields.Char(string="GitHub issue", readonly=True, copy=False)
    github_issue_synced_count = fields.Integer(
        readonly=True, copy=False, help="Occurrences written in the escalation's GitHub issue (0: not ours)"
    )
    github_issue_synced_at = fields.Datetime(readonly=True, copy=False)
    github_issue_severity = fields.Selection(const.SEVERITIES, readonly=True, copy=False)
    github_issue_attempts = fields.Integer(
        readonly=True, copy=False, help="Failed tries to open the GitHub issue (passing failures)"
    )
    github_issue_retry_at = fields.Datetime(
        readonly=True, copy=False, help="When opening the GitHub issue is tried again (GitHub failed for now)"
    )
    github_issue_error = fields.Char(
        string="GitHub issue error", readonly=True, copy=False, help="Why the GitHub issue could not be opened"
    )
    page_state = fields.Selection(PAGE_STATES, default="none", required=True, readonly=True, copy=False)
    page_attempts = fields.Integer(readonly=True, copy=False, help="Failed tries to page (retryable failures)")
    page_retry_at = fields.Datetime(readonly=True, copy=False, help="When paging is tried again")
    remediation_failed = fields.Boolean(
        readonly=True,
        help="The last auto-heal round failed or the safety policy stopped it: escalation does not wait",
    )
    remediation_action_ids = fields.One2many("ops.remediation.action", "incident_id", string="Remediation")
    remediation_count = fields.Integer(compute="_compute_remediation_count")

    @api.model
    def _group_expand_state(self, values, domain):
        return [key for key, _label in STATES]

    @api.depends("state", "severity")
    def _compute_ranks(self):
        order = {key: rank for rank, (key, _label) in enumerate(STATES)}
        for incident in self:
            incident.state_rank = order.get(incident.state, 0)
            incident.severity_rank = SEVERITY_RANK.get(incident.severity, 0)

    @api.depends("false_positive")
    def _compute_false_positive_ratio(self):
        for incident in self:
            incident.false_positive_ratio = 100.0 if incident.false_positive else 0.0

    @api.depends("first_seen", "acknowledged_at", "resolved_at", "failing_since")
    def _compute_durations(self):
        for incident in self:
            start = incident.first_seen
            ack = incident.acknowledged_at
            done = incident.resolved_at
            since = incident.failing_since
            incident.time_to_acknowledge = (ack - start).total_seconds() / 60 if start and ack else 0.0
            incident.time_to_resolve = (done - start).total_seconds() / 60 if start and done else 0.0
            incident.time_to_detect = max((start - since).total_seconds() / 60, 0.0) if start and since else 0.0

    @api.depends("time_to_acknowledge", "time_to_resolve", "time_to_detect")
    def _compute_duration_texts(self):
        pairs = (
            ("time_to_acknowledge", "acknowledged_at"),
            ("time_to_resolve", "resolved_at"),
            ("time_to_detect", "failing_since"),
        )
        for incident in self:
            for name, stamp in pairs:
                shown = incident[stamp] and incident.first_seen
                incident[f"{name}_text"] = human_duration(incident[name] * 60) if shown else False

    @api.depends("event_ids.summary", "event_ids.step")
    def _compute_escalation_status(self):
        ladder = dict(NEXT_STEPS)
        for incident in self:
            steps = incident.event_ids.filtered(lambda e: e.step in ladder)
            incident.escalation_status = steps.sorted(lambda e: (e.at, e.id))[-1:].summary or False

    @api.depends("next_escalation_step", "next_escalation_at", "state")
    @api.depends_context("tz")
    def _compute_next_step_text(self):
        labels = dict(self._fields["next_escalation_step"]._description_selection(self.env))
        for incident in self:
            at = incident.next_escalation_at
            if incident.state in ("resolved", "acknowledged") or not (incident.next_escalation_step and at):
                incident.next_step_text = False
                continue
            local = fields.Datetime.context_timestamp(incident, at)
            today = fields.Datetime.context_timestamp(incident, fields.Datetime.now()).date()
            when = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
            incident.next_step_text = self.env._(
                "Next step: %(step)s at %(when)s", step=labels[incident.next_escalation_step], when=when
            )

    def _compute_remediation_count(self):
        groups = self.env["ops.remediation.action"]._read_group(
            [("incident_id", "in", self.ids)], ["incident_id"], ["__count"]
        )
        counts = {incident.id: count for incident, count in groups}
        for incident in self:
            incident.remediation_count = counts.get(incident.id, 0)

    def _compute_display_name(self):
        for incident in self:
            incident.display_name = f"{incident.name} {incident.title}" if incident.title else incident.name

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON ops_incident (dedup_key) WHERE state <> 'resolved'",
                SQL.identifier(OPEN_KEY_INDEX),
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        todo = [vals for vals in vals_list if vals.get("name", "/") == "/"]
        if todo:
            # as ir.sequence.next_by_code, with the sequence looked up once for the whole batch
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .search(
                    [("code", "=", "ops.incident"), ("company_id", "in", [self.env.company.id, False])],
                    order="company_id",
                    limit=1,
                )
            )
            for vals in todo:
                vals["name"] = (sequence._next() if sequence else None) or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # actions (buttons)
    # ------------------------------------------------------------------
    def action_acknowledge(self):
        """Someone is on it: stop the escalation (Ops users may do it)."""
        self._check_ops_group("ops_autopilot.group_ops_user")
        todo = self.filtered(lambda i: i.state in ("open", "remediating", "escalated"))
        now = fields.Datetime.now()
        todo.sudo().write(
            {
                "state": "acknowledged",
                "acknowledged_at": now,
                "acknowledged_by": self.env.uid,
                "next_escalation_at": False,
                "next_escalation_step": False,
            }
        )
        for incident in todo.sudo():
            incident._event("acknowledge", "done", _("Acknowledged by %s", self.env.user.name), at=now, note=False)
        todo.sudo()._after_acknowledge()
        return True

    def action_resolve(self):
        """Close the incident with the resolution note written on it (Ops users may do it)."""
        self._check_ops_group("ops_autopilot.group_ops_user")
        self.filtered(lambda i: i.state != "resolved").sudo()._resolve(user=self.env.user)
        return True

    def action_mark_false_positive(self):
        """Not a real problem: resolve it and count it as a false positive (Ops managers only)."""
        self._check_ops_group("ops_autopilot.group_ops_manager")
        for incident in self.sudo():
            note = incident.resolution_note or _("Marked as a false positive.")
            if incident.state == "resolved":
                incident.write({"false_positive": True})
            else:
                incident.write({"false_positive": True, "resolution_note": note})
                incident._resolve(user=self.env.user)
        return True

    def action_view_remediation(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_remediation_action_action")
        action["domain"] = [("incident_id", "=", self.id)]
        action["context"] = {"default_incident_id": self.id}
        return action

    def action_open_github_issue(self):
        self.ensure_one()
        if not self.github_issue_url:
            raise UserError(_("No GitHub issue was opened for this incident."))
        return {"type": "ir.actions.act_url", "url": self.github_issue_url, "target": "new"}

    def _check_ops_group(self, xmlid):
        if not self.env.su and not self.env.user.has_group(xmlid):
            group = self.env.ref(xmlid)
            raise UserError(_("Only members of %s can do this.", group.full_name))

    # ------------------------------------------------------------------
    # API for the rest of the addon (monitoring, CI, scans, reviews)
    # ------------------------------------------------------------------
    @api.model
    def _raise_incident(self, vals):
        """Open an incident, or count a repeat on the unresolved one with the same ``dedup_key``.

        :param dict vals: field values of a new incident. ``dedup_key`` (required)
            names the problem, e.g. ``health:target:42:down`` or
            ``ci:acme/erp:<fingerprint>``; ``title`` (required), ``source``
            (health/ci/scan/review), ``severity`` (low/medium/high/critical),
            ``description``, ``condition``, ``category``, ``target_id``,
            ``run_id``, ``repository_id``, ``company_id``, ``user_id``.
            ``seen_at`` (datetime, default now) is when it was observed.
        :return: the ``ops.incident`` (sudo). A new one has ``count == 1``; a
            repeat gets ``count + 1``, ``last_seen = max(last_seen, seen_at)``,
            its severity raised (never lowered), its description, run and
            condition replaced by the new ones; state, notes, escalation and
            the rest are left alone.

        Concurrency: the partial unique index on ``dedup_key`` (unresolved
        incidents) guarantees one open incident per key. When another
        transaction opens the same key first, the insert waits for it, then
        an ``INSERT .. ON CONFLICT DO UPDATE`` counts the repeat; under
        Odoo's REPEATABLE READ isolation PostgreSQL answers that with a
        ``SerializationFailure`` (the other incident is not in this
        transaction's snapshot), which Odoo's request/cron retry handles, and
        callers working item by item in a savepoint (the webhook queue, the
        probe cron) retry on their next pass. Nothing half-written either way.
        """
        vals = dict(vals)
        key = vals.get("dedup_key")
        if not key:
            raise ValueError("_raise_incident needs a dedup_key")
        seen_at = vals.pop("seen_at", None) or fields.Datetime.now()
        Incident = self.sudo()
        existing = Incident.search([("dedup_key", "=", key), ("state", "!=", "resolved")], limit=1)
        if existing:
            return existing._bump(vals, seen_at)
        create_vals = {**vals, "first_seen": seen_at, "last_seen": seen_at, "count": 1}
        try:
            # a lost race is expected here: keep it out of the error log (as Odoo's own code does)
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return Incident.with_context(mail_create_nosubscribe=True).create(create_vals)
        except pg_errors.UniqueViolation as exc:
            if exc.diag.constraint_name != OPEN_KEY_INDEX:
                raise
        return Incident._upsert_after_conflict(key, create_vals, seen_at)

    @api.model
    def _demo_raise_from_check(
        self,
        target_id,
        kind,
        severity,
        message,
        first_minutes_ago,
        last_minutes_ago=0,
        count=1,
        now=None,
        xmlid=None,
        acknowledge_as=None,
        resolved_minutes_ago=None,
        resolution=None,
        false_positive_by=None,
    ):
        """Demo data: a target's failing checks as the probe cron records them, so demo incidents are real ones.

        The incident is opened and counted with the values and dedup key the
        probe builds (``ops.health.target._incident_vals``, the engine's
        ``alerts.dedup_key``) and escalated at each occurrence exactly as the
        crons do: its timeline, chatter, activities and remediation rounds
        come from the real code paths, and the first real probe of the target
        continues this incident instead of opening another one. ``count``
        occurrences are spread from ``first_minutes_ago`` to
        ``last_minutes_ago`` before ``now``; ``xmlid`` (module.name) names the
        incident for the other demo records. Then, as people do it:
        ``acknowledge_as`` (user id) acknowledges it; ``resolved_minutes_ago``
        resolves it then, automatically (the condition recovered, ``resolution``
        as the note) or, with ``false_positive_by`` (user id), as that user's
        false positive.
        """
        now = now or fields.Datetime.now()
        target = self.env["ops.health.target"].browse(target_id)
        key = alerts.dedup_key(target._incident_ref(), kind)
        first = now - timedelta(minutes=first_minutes_ago)
        last = now - timedelta(minutes=last_minutes_ago)
        incident = self.browse()
        for index in range(max(count, 1)):
            at = first + (last - first) * index / (count - 1) if count > 1 else first
            vals = target._incident_vals(key, kind, severity, message, at)
            vals["failing_since"] = first
            incident = self._raise_incident(vals)
            # what the probe records on the target: the condition fires (a recovery needs successful checks)
            target.sudo().firing_conditions = ",".join(sorted(target._firing() | {kind}))
            incident._escalate(at, kind=kind)
        if acknowledge_as:
            incident.with_user(acknowledge_as).action_acknowledge()
        if resolved_minutes_ago is not None:
            done = now - timedelta(minutes=resolved_minutes_ago)
            target.sudo().firing_conditions = ",".join(sorted(target._firing() - {kind})) or False
            if false_positive_by:
                user = self.env["res.users"].browse(false_positive_by)
                incident.write({"false_positive": True, "resolution_note": resolution or False})
                incident._resolve(user=user, now=done)
            else:
                incident._resolve(note=resolution, auto=True, now=done)
        if xmlid:
            module, name = xmlid.split(".", 1)
            self.env["ir.model.data"]._update_xmlids(
                [{"xml_id": f"{module}.{name}", "record": incident, "noupdate": True}]
            )
        return incident

    @api.model
    def _open_incidents(self, vals_list):
        """Open new incidents in one ``create`` (one batch of inserts and creation messages).

        For keys with no unresolved incident (the caller checked): each of
        ``vals_list`` is as for :meth:`_raise_incident` and opens with
        ``count == 1``. When another transaction opened one of the keys
        meanwhile, the unique index refuses the whole batch (nothing is
        written) and the error is raised: raise them one by one then.
        :return: the new incidents (sudo), in the order of ``vals_list``.
        """
        create_list = []
        for given in vals_list:
            vals = dict(given)
            if not vals.get("dedup_key"):
                raise ValueError("_open_incidents needs a dedup_key")
            seen_at = vals.pop("seen_at", None) or fields.Datetime.now()
            create_list.append({**vals, "first_seen": seen_at, "last_seen": seen_at, "count": 1})
        with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            return self.sudo().with_context(mail_create_nosubscribe=True).create(create_list)

    def _bump(self, vals, seen_at):
        """Count one more occurrence on this (locked) incident."""
        self.ensure_one()
        # lock the row: concurrent bumps wait (or fail to serialize) instead of losing a count
        self.env.cr.execute(SQL("SELECT id FROM ops_incident WHERE id = %s FOR UPDATE", self.id), log_exceptions=False)
        self.invalidate_recordset()
        update = {"count": self.count + 1, "last_seen": max(self.last_seen, seen_at)}
        severity = vals.get("severity")
        if severity and SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(self.severity, 0):
            update["severity"] = severity
        for field in ("description", "condition", "run_id"):
            if vals.get(field):
                update[field] = vals[field]
        self.write(update)
        return self

    @api.model
    def _upsert_after_conflict(self, key, create_vals, seen_at):
        """The other transaction's incident won the race: count this occurrence on it."""
        now = fields.Datetime.now()
        query = SQL(
            """
            INSERT INTO ops_incident (name, title, source, severity, state, dedup_key, company_id, first_seen,
                                      last_seen, count, escalation_step, page_state, create_uid, create_date,
                                      write_uid, write_date)
            VALUES (%(name)s, %(title)s, %(source)s, %(severity)s, 'open', %(key)s, %(company)s, %(seen)s,
                    %(seen)s, 1, 'none', 'none', %(uid)s, %(now)s, %(uid)s, %(now)s)
            ON CONFLICT (dedup_key) WHERE state <> 'resolved'
            DO UPDATE SET count = ops_incident.count + 1,
                          last_seen = GREATEST(ops_incident.last_seen, EXCLUDED.last_seen),
                          write_date = EXCLUDED.write_date
            RETURNING id
            """,
            name=self.env["ir.sequence"].sudo().next_by_code("ops.incident") or "/",
            title=create_vals.get("title") or key,
            source=create_vals.get("source") or "health",
            severity=create_vals.get("severity") or "medium",
            key=key,
            company=create_vals.get("company_id") or self.env.company.id,
            seen=seen_at,
            uid=self.env.uid,
            now=now,
        )
        self.env.cr.execute(query, log_exceptions=False)  # a SerializationFailure here is retried, not a bug
        [(incident_id,)] = self.env.cr.fetchall()
        self.invalidate_model()
        return self.browse(incident_id)

    def _resolve(self, user=None, note=None, auto=False, now=None):
        """Resolve these incidents (manually by ``user``, or ``auto`` when the condition recovered)."""
        now = now or fields.Datetime.now()
        for incident in self.filtered(lambda i: i.state != "resolved"):
            vals = {
                "state": "resolved",
                "resolved_at": now,
                "resolved_by": user.id if user else False,
                "auto_resolved": auto,
                "next_escalation_at": False,
                "next_escalation_step": False,
            }
            if note and not incident.resolution_note:
                vals["resolution_note"] = note
            incident.write(vals)
            if auto:
                what = self.env._("Resolved automatically: the condition recovered")
            elif user:
                what = self.env._("Resolved by %s", user.name)
            else:
                what = self.env._("Resolved")
            incident._event("resolve", "done", what, at=now, note=False)
            incident._after_resolve()
        return True

    def _after_acknowledge(self):
        """Someone owns it: acknowledge the page too (escalation already stopped)."""
        for incident in self.filtered(lambda i: i.page_state == "triggered"):
            result = incident._pager_call("acknowledge")
            if result and result.ok:
                incident.page_state = "acknowledged"
        return True

    def _after_resolve(self):
        """Close what the escalation opened: on-call activities, the page, the GitHub issue."""
        self.activity_ids.sudo().action_feedback(feedback=_("Incident resolved."))
        pending = self.remediation_action_ids.filtered(
            lambda a: a.target_id and a.state in ("proposed", "awaiting_approval", "approved")
        )
        pending._mark_skipped(_("Not needed any more: the incident is resolved."))
        for incident in self:
            if incident.page_state in ("triggered", "acknowledged"):
                result = incident._pager_call("resolve")
                if result and result.ok:
                    incident.page_state = "resolved"
            if incident.github_issue_number:
                incident._close_github_issue()
        return True

    @api.model
    def _kpis(self, domain=None):
        """MTTA/MTTR (minutes) and false-positive rate (%) over the incidents matching ``domain``."""
        domain = list(domain or [])
        [(count, fp_rate)] = self._read_group(domain, aggregates=["__count", "false_positive_ratio:avg"])
        resolved = self._read_group(
            [*domain, ("state", "=", "resolved")], aggregates=["__count", "time_to_resolve:avg"]
        )[0]
        acked = self._read_group(
            [*domain, ("acknowledged_at", "!=", False)], aggregates=["__count", "time_to_acknowledge:avg"]
        )[0]
        return {
            "count": count,
            "resolved": resolved[0],
            "mttr_minutes": resolved[1] or 0.0,
            "mtta_minutes": acked[1] or 0.0,
            "false_positive_rate": fp_rate or 0.0,
        }

    # ------------------------------------------------------------------
    # escalation: auto-heal -> GitHub issue -> on-call -> page
    # ------------------------------------------------------------------
    @api.model
    def _escalation_delays(self):
        return {
            "auto_heal": 0,
            "github_issue": get_param(self.env, "escalation_github_delay_minutes") * 60,
            "on_call": get_param(self.env, "escalation_on_call_delay_minutes") * 60,
            "page": get_param(self.env, "escalation_page_delay_minutes") * 60,
        }

    def _can_heal(self, kind):
        """Is there anything to auto-heal with? (a target policy line for ``kind``, or actions of the source)"""
        self.ensure_one()
        policy = self.target_id.remediation_policy_id
        if policy and policy._lines_for(kind or self.condition or ""):
            return True
        return bool(self.remediation_action_ids)

    def _escalate(self, now=None, kind=None):
        """Take every escalation step that is due, then plan the next one (``next_escalation_at``).

        Called by the probe cron for each firing incident already open
        (``kind``: the condition that fired) and by the escalation cron for
        incidents whose next step came due (those a probe pass opens are
        created due, and the cron is woken at once). Auto-heal runs again at
        each call while the condition fires (the safety policy decides
        whether a round may start); the other steps are taken once each. Acknowledged, resolved
        and silenced incidents do not climb.
        """
        now = now or fields.Datetime.now()
        delays = self._escalation_delays()
        for incident in self.sudo():
            if incident.state == "resolved":
                continue
            target = incident.target_id
            if target and target._active_suppression(now):
                continue
            # the notes of one pass ("no repository", "paged", ...) make one chatter message: an internal
            # note logged without the notification machinery (a note notifies nobody anyway)
            notes = []
            incident.with_context(ops_note_buffer=notes)._climb(kind, now, delays)
            if notes:
                incident._message_log(body=Markup("<br/>").join(notes))
        self._schedule_escalation_cron()
        return True

    def _climb(self, kind, now, delays):
        """One incident's escalation pass (see :meth:`_escalate`)."""
        for incident in self:
            target = incident.target_id
            incident._sync_github_issue(now)
            if incident.state == "acknowledged":
                continue
            cond = kind or incident.condition or ""
            if target and incident.escalation_step != "none" and cond:
                self.env["ops.remediation.action"]._plan_round(incident, incident._heal_kind(cond), now)
            if incident.github_issue_retry_at and incident.github_issue_retry_at <= now:
                incident._retry_github_issue(now)
            current = incident.escalation_step if incident.escalation_step != "none" else None
            healed_before = incident.event_ids.filtered(lambda e: e.step == "auto_heal")
            if current is None and not healed_before and not incident._can_heal(incident._heal_kind(cond)):
                # the ladder starts at step 2: say once why step 1 did nothing
                why = _("Auto-heal: nothing to run (no remediation policy action for %s)", cond or "-")
                incident._event("auto_heal", "skipped", why, at=now)
            while True:
                step, due = escalation.next_step(
                    current,
                    incident.severity,
                    incident.first_seen,
                    now,
                    incident.remediation_failed,
                    incident.state == "acknowledged",
                    delays,
                    can_heal=incident._can_heal(incident._heal_kind(cond)),
                )
                if step == "page" and incident.page_retry_at:
                    due = max(due, incident.page_retry_at)
                if step is None or due > now:
                    # a pending GitHub issue is retried on its own schedule, beside the ladder's
                    retry = incident.github_issue_retry_at
                    if retry and (not due or retry < due):
                        step, due = "github_issue", retry
                    incident.write({"next_escalation_at": due or False, "next_escalation_step": step or False})
                    break
                if not incident._take_step(step, cond, now):
                    continue  # not taken yet: tried again later (page_retry_at)
                current = step
                incident.escalation_step = step

    def _heal_kind(self, kind):
        """The policy condition an incident's kind maps to (Odoo-native kinds share one)."""
        return kind if kind in alerts.KINDS else const.NATIVE_CONDITION

    def _take_step(self, step, kind, now):
        """Take ``step``; False when it must be tried again later (a page that failed for now)."""
        self.ensure_one()
        if step == "auto_heal":
            why = []
            started = self.target_id and self.env["ops.remediation.action"]._plan_round(
                self, self._heal_kind(kind), now, explain=why
            )
            if not started:
                reason = why[0] if why else _("no remediation action for this condition")
                self._event("auto_heal", "skipped", _("Auto-heal: nothing run (%s)", reason), at=now)
            return True
        taken = getattr(self, f"_escalate_{step}")(now)
        if taken == "retry":
            return False
        if self.state in ("open", "remediating") and taken:
            self.state = "escalated"
        return True

    def _escalate_github_issue(self, now):
        """Open one GitHub issue for this incident (never a second one). Returns whether it was opened.

        When GitHub fails for a passing reason (5xx, timeout, rate limits) the
        issue stays pending: ``github_issue_retry_at`` says when it is tried
        again (the engine's backoff, :func:`autopilot.monitoring.escalation.issue_retry_delay`,
        ``Retry-After`` honoured, bounded tries), while the ladder climbs on to
        on-call and page on its own schedule. A permanent failure (404, bad
        credentials, 422) is recorded and not retried. The reason is kept in
        ``github_issue_error``, masked.
        """
        if self.github_issue_number:
            return True
        repo = self.repository_id or self.target_id.repository_id
        if not repo or not repo.has_token:
            self._event("github_issue", "skipped", _("No GitHub issue opened: no repository with a token"), at=now)
            return False
        title, body = escalation.github_issue_body(self._issue_facts())
        try:
            client = repo._github_client()
            issue = client.get_repo(repo.full_name).create_issue(
                title=title, body=body, labels=["ops-autopilot", "incident"]
            )
        except rest_api.TRANSIENT_ERRORS as exc:
            self._github_issue_failed(exc, repo, now)
            return False
        self.write(
            {
                "github_issue_number": issue.number,
                "github_issue_url": issue.html_url,
                "github_issue_synced_count": self.count,
                "github_issue_synced_at": now,
                "github_issue_severity": self.severity,
                "github_issue_attempts": 0,
                "github_issue_retry_at": False,
                "github_issue_error": False,
            }
        )
        self._event(
            "github_issue",
            "done",
            _("GitHub issue #%(number)s opened", number=issue.number),
            reference=issue.html_url,
            at=now,
        )
        return True

    def _github_issue_failed(self, exc, repo, now):
        """Record why the issue could not be opened; schedule the next try when the failure is passing."""
        failure = escalation.issue_failure(exc, known_secrets=[repo.sudo().token])
        attempts = self.github_issue_attempts + 1
        delay = escalation.issue_retry_delay(attempts, failure.retry_after) if failure.transient else None
        retry_at = now + timedelta(seconds=delay) if delay is not None else False
        self.write(
            {"github_issue_attempts": attempts, "github_issue_retry_at": retry_at, "github_issue_error": failure.reason}
        )
        if retry_at:
            text = _(
                "The GitHub issue could not be opened (%(reason)s); trying again at %(at)s UTC",
                reason=failure.reason,
                at=fields.Datetime.to_string(retry_at),
            )
            self._event("github_issue", "retry", text, at=now)
        elif failure.transient:
            text = _(
                "The GitHub issue could not be opened after %(count)s tries: %(reason)s",
                count=attempts,
                reason=failure.reason,
            )
            self._event("github_issue", "failed", text, at=now)
        else:
            self._event("github_issue", "failed", _("The GitHub issue could not be opened: %s", failure.reason), at=now)

    def _retry_github_issue(self, now):
        """Try again to open the GitHub issue that failed for a passing reason (its retry came due)."""
        self.ensure_one()
        self.github_issue_retry_at = False
        if self._escalate_github_issue(now) and self.state in ("open", "remediating"):
            self.state = "escalated"

    def _sync_github_issue(self, now):
        """Recurrence: rewrite the escalation's GitHub issue with the new count, last seen and severity.

        Only issues the escalation opened (their synced count is set); when
        (throttled) is the engine's rule, :func:`autopilot.monitoring.escalation.issue_update_due`.
        A raised severity is also said in a comment, so the issue's watchers hear of it.
        """
        self.ensure_one()
        if not (self.github_issue_number and self.github_issue_synced_count):
            return False
        raised = SEVERITY_RANK.get(self.severity, 0) > SEVERITY_RANK.get(self.github_issue_severity or "low", 0)
        if not escalation.issue_update_due(
            self.github_issue_synced_count, self.count, self.github_issue_synced_at, now, severity_raised=raised
        ):
            return False
        repo = self.repository_id or self.target_id.repository_id
        if not repo or not repo.has_token:
            return False
        title, body = escalation.github_issue_body(self._issue_facts())
        try:
            issue = repo._github_client().get_repo(repo.full_name).get_issue(self.github_issue_number)
            issue.edit(title=title, body=body)
            if raised:
                issue.create_comment(
                    _(
                        "Severity raised to **%(severity)s** (%(count)s occurrences).",
                        severity=self.severity,
                        count=self.count,
                    )
                )
        except rest_api.TRANSIENT_ERRORS as exc:
            # try again after the usual interval, not at every check (the next edit carries the severity)
            self.write({"github_issue_synced_at": now, "github_issue_severity": self.severity})
            self._note(_("The GitHub issue could not be updated: %s", rest_api.describe_error(exc)))
            return False
        self.write(
            {
                "github_issue_synced_count": self.count,
                "github_issue_synced_at": now,
                "github_issue_severity": self.severity,
            }
        )
        return True

    def _escalate_on_call(self, now):
        """A to-do activity and an e-mail for the on-call user.

        Odoo e-mails the assignee of an activity when their notifications
        are handled by e-mail; one who handles them in Odoo (inbox) is sent
        the e-mail explicitly, since being on call means being reachable.
        """
        user = self.target_id.on_call_user_id or self.user_id
        if not user:
            self._event(
                "on_call", "skipped", _("Nobody notified: no on-call user on the target or the incident"), at=now
            )
            return False
        summary = _("On call: %s", self.display_name)
        note = plaintext2html(
            _(
                "Incident %(ref)s (%(severity)s) needs you: %(what)s",
                ref=self.name,
                severity=self.severity,
                what=mask_secrets(self.description or self.title)[0],
            )
        )
        self.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=note, user_id=user.id)
        if user.notification_type != "email" and user.email:
            self.env["mail.mail"].sudo().create(
                {
                    "subject": summary,
                    "body_html": note,
                    "email_to": user.email_formatted,
                    "model": self._name,
                    "res_id": self.id,
                    "auto_delete": True,
                }
            )
        if not self.user_id:
            self.user_id = user
        self._event("on_call", "done", _("Notified: %s", user.name), reference=user.email or False, at=now)
        return True

    def _escalate_page(self, now):
        """Trigger the page: True when paged, False when not (no key, refused), ``"retry"`` to try again later.

        Throttling, server errors and timeouts are tried again with the
        engine's backoff (:func:`autopilot.monitoring.paging.retry_delay`), a bounded
        number of times.
        """
        result = self._pager_call("trigger")
        if result is None:
            self._event("page", "skipped", _("Not paged: no routing key configured"), at=now)
            return False
        if result.ok:
            self.write({"page_state": "triggered", "page_attempts": 0, "page_retry_at": False})
            self._event(
                "page", "done", _("Paged, dedup key %s", self.dedup_key), reference=result.detail or False, at=now
            )
            return True
        attempts = self.page_attempts + 1
        delay = paging.retry_delay(attempts, result.retry_after) if result.retryable else None
        if delay is None:
            self.write({"page_attempts": attempts, "page_retry_at": False})
            self._event("page", "failed", _("Not paged: paging failed: %s", result.detail), at=now)
            return False
        retry_at = now + timedelta(seconds=delay)
        self.write({"page_attempts": attempts, "page_retry_at": retry_at})
        text = _(
            "Not paged yet: paging failed (%(detail)s); trying again at %(at)s UTC",
            detail=result.detail,
            at=fields.Datetime.to_string(retry_at),
        )
        self._event("page", "retry", text, at=now)
        return "retry"

    def _pager(self):
        """The PagerDuty Events v2 client for this incident (target's routing key, else the global one)."""
        self.ensure_one()
        key = self.target_id.sudo().paging_routing_key or self.env["ir.config_parameter"].sudo().get_param(
            PREFIX + "paging_routing_key"
        )
        if not key:
            return None
        return paging.PagerDutyEvents(url=get_param(self.env, "paging_url"), routing_key=key, timeout=10.0)

    def _pager_call(self, action):
        """``trigger`` / ``acknowledge`` / ``resolve`` the page of this incident; None when paging is not set up."""
        self.ensure_one()
        pager = self._pager()
        if pager is None:
            return None
        if action == "trigger":
            target = self.target_id
            return pager.trigger(
                self.dedup_key,
                f"{self.name} {self.title}",
                self.severity,
                target.name or self.repository_id.full_name or "ops_autopilot",
                custom_details={
                    "reference": self.name,
                    "source": self.source,
                    "condition": self.condition,
                    "count": self.count,
                    "first_seen": str(self.first_seen),
                    "description": self.description,
                },
            )
        result = getattr(pager, action)(self.dedup_key)
        if not result.ok:
            self._note(_("Paging %(action)s failed: %(detail)s", action=action, detail=result.detail))
        return result

    def _close_github_issue(self):
        repo = self.repository_id or self.target_id.repository_id
        if not repo or not repo.has_token:
            return
        how = _("automatically, the condition recovered") if self.auto_resolved else _("in Odoo")
        comment = _("Resolved %(how)s.", how=how)
        if self.resolution_note:
            comment += "\n\n" + mask_secrets(self.resolution_note)[0]
        try:
            issue = repo._github_client().get_repo(repo.full_name).get_issue(self.github_issue_number)
            issue.create_comment(comment)
            issue.edit(state="closed")
        except rest_api.TRANSIENT_ERRORS as exc:
            self._note(_("The GitHub issue could not be closed: %s", rest_api.describe_error(exc)))

    def _issue_facts(self):
        """The plain dict the engine turns into the GitHub issue text."""
        self.ensure_one()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return {
            "reference": self.name,
            "name": self.title,
            "severity": self.severity,
            "state": self.state,
            "source": self.source,
            "kind": self.condition,
            "target": self.target_id.name,
            "url": self.target_id.url,
            "dedup_key": self.dedup_key,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "count": self.count,
            "message": self.description,
            "error": self.target_id.last_error,
            "root_cause": self.root_cause,
            "link": f"{base}/odoo/action-ops_autopilot.ops_incident_action/{self.id}" if base else None,
            "remediation": [
                {"at": a.requested_at, "action": a.kind, "state": a.state, "detail": a.detail}
                for a in self.remediation_action_ids.sorted("id")
            ],
        }

    def _event(self, step, outcome, summary, reference=None, at=None, note=True):
        """Record what an escalation step really did on the timeline (and, with ``note``, in the chatter)."""
        self.ensure_one()
        self.env["ops.incident.event"].sudo().create(
            {
                "incident_id": self.id,
                "step": step,
                "outcome": outcome,
                "summary": summary,
                "reference": reference or False,
                "at": at or fields.Datetime.now(),
            }
        )
        if note:
            self._note(_("Escalation: %s", summary))

    def _note(self, text):
        """An internal note; inside :meth:`_escalate` the notes of one pass are gathered into one message."""
        buffer = self.env.context.get("ops_note_buffer")
        if buffer is not None:
            buffer.append(text)
            return
        self.message_post(body=text, subtype_xmlid="mail.mt_note")

    @api.model
    def _escalation_due_domain(self, now):
        return [("state", "in", ("open", "remediating", "escalated")), ("next_escalation_at", "<=", now)]

    @api.model
    def _cron_escalate(self, batch_size=100, now=None):
        """Take the escalation steps that came due, one incident at a time (a failure never blocks the rest)."""
        now = now or fields.Datetime.now()
        due = self.sudo().search(self._escalation_due_domain(now), order="next_escalation_at, id", limit=batch_size)
        for incident in due:
            try:
                with self.env.cr.savepoint():
                    incident._escalate(now)
            except Exception as exc:
                _logger.warning("incident %s: escalation failed: %s", incident.id, exc, exc_info=True)
                incident.next_escalation_at = now + timedelta(minutes=5)
            self._ops_commit()
        self._ops_notify_progress(done=len(due), remaining=self.sudo().search_count(self._escalation_due_domain(now)))
        return len(due)

    def _schedule_escalation_cron(self):
        """Wake the escalation cron when the earliest next step comes due."""
        times = [t for t in self.sudo().mapped("next_escalation_at") if t]
        if times and not self._ops_in_test():
            self.env.ref("ops_autopilot.ir_cron_escalate_incidents").sudo()._trigger(at=min(times))
