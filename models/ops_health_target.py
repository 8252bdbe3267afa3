import dataclasses
import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import const
from ..autopilot.common.durations import human_duration
from ..autopilot.monitoring import alerts, history, host_metrics, native_monitors, probes, prometheus_api, schedule
from .ops_params import get_param

_logger = logging.getLogger(__name__)

TARGET_KINDS = [
    ("http", "HTTP service"),
    ("prometheus", "Prometheus queries"),
    ("odoo_host", "This Odoo server (CPU / memory)"),
    ("odoo_native", "This Odoo's crons and modules"),
]
TARGET_STATUSES = [("up", "Up"), ("degraded", "Degraded"), ("down", "Down"), ("unknown", "Unknown")]
#: the seed's thresholds, written once in the engine
SEED = alerts.Thresholds()
#: the PromQL query of each figure a Prometheus target reads: (field, sample figure, threshold field)
PROMETHEUS_QUERIES = (
    ("query_error_ratio", "error_ratio", "threshold_error_rate"),
    ("query_p95_ms", "p95_ms", "threshold_response_ms"),
    ("query_cpu", "cpu_percent", "threshold_cpu"),
    ("query_memory", "memory_percent", "threshold_memory"),
)
#: the two lanes of checks, each run by its own cron (see autopilot.monitoring.schedule)
NORMAL_CRON = "ops_autopilot.ir_cron_probe_health_targets"
RECHECK_CRON = "ops_autopilot.ir_cron_recheck_health_targets"
#: a cron pass is not woken again sooner than this after the previous one (seconds)
MIN_PASS_GAP = 5
#: the form's history chart: period -> (number of buckets, bucket unit), read from the hourly or daily rollup
HISTORY_PERIODS = {"24h": (24, "hour"), "7d": (7 * 24, "hour"), "30d": (30, "day")}
HISTORY_ROLLUPS = {"hour": "ops.health.sample.hourly", "day": "ops.health.sample.daily"}
SPARK_HOURS = 24


class OpsHealthTarget(models.Model):
    """A service the autopilot checks on a schedule (or this Odoo server itself).

    The probe cron checks due targets (``next_check_at``), stores one
    ``ops.health.sample`` per check, evaluates the thresholds and opens,
    counts and resolves incidents; the target's remediation policy says how
    to heal, its on-call user and paging routing key where to escalate.
    """

    _name = "ops.health.target"
    _description = "Health Check Target"
    _inherit = ["ops.cron.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    kind = fields.Selection(TARGET_KINDS, required=True, default="http")
    url = fields.Char(string="URL", help="The service to check, or the Prometheus server to ask (its base URL)")
    method = fields.Selection([("GET", "GET"), ("HEAD", "HEAD"), ("POST", "POST")], default="GET", required=True)
    expected_statuses = fields.Char(
        string="Expected status codes", default="200", help="Comma separated, e.g. 200,204 (ranges like 200-299)"
    )
    expected_text = fields.Char(help="The body must contain this text")
    timeout_seconds = fields.Float(string="Timeout (s)", default=10.0, required=True)
    interval_minutes = fields.Integer(
        string="Every (min)", default=schedule.DEFAULT_INTERVAL_SECONDS // 60, required=True
    )
    retry_interval_seconds = fields.Integer(
        string="Re-check every (s) while failing",
        default=schedule.DEFAULT_RETRY_SECONDS,
        required=True,
        help="After a failed check, and while an incident of the target is open, it is checked at this "
        "short interval until it is confirmed down or recovered. 0: always the normal interval.",
    )
    metrics_url = fields.Char(
        string="Metrics URL",
        help='CPU / memory of the service: JSON {"cpu_percent", "memory_percent"}, or a Prometheus /metrics '
        "page: node_exporter's, or the service's own http_requests_total and http_request_duration_seconds "
        "(error ratio and p95 latency between two checks). A failed scrape fails the check.",
    )
    # Prometheus queries (see autopilot.monitoring.prometheus_api)
    prometheus_selector = fields.Char(
        string="Label selector",
        help='PromQL label matchers for $selector in the queries, e.g. job="shop" or instance="db1:9100"',
    )
    prometheus_window = fields.Char(
        string="Rate window",
        default=prometheus_api.DEFAULT_WINDOW,
        help="$window in the queries: at least four scrape intervals of the Prometheus server",
    )
    query_error_ratio = fields.Text(
        string="Error ratio query (%)",
        default=prometheus_api.DEFAULT_QUERIES["error_ratio"],
        help="Empty: not read. Compared with Max error rate.",
    )
    query_p95_ms = fields.Text(
        string="P95 latency query (ms)",
        default=prometheus_api.DEFAULT_QUERIES["p95_ms"],
        help="Empty: not read. Compared with Max response time.",
    )
    query_cpu = fields.Text(
        string="CPU query (%)", default=prometheus_api.DEFAULT_QUERIES["cpu_percent"], help="Empty: not read."
    )
    query_memory = fields.Text(
        string="Memory query (%)", default=prometheus_api.DEFAULT_QUERIES["memory_percent"], help="Empty: not read."
    )
    # thresholds (defaults: the seed's, see autopilot.monitoring.alerts.Thresholds)
    threshold_response_ms = fields.Integer(string="Max response time (ms)", default=SEED.response_ms, required=True)
    threshold_error_rate = fields.Float(string="Max error rate (%)", default=SEED.error_rate, required=True)
    threshold_cpu = fields.Float(string="Max CPU (%)", default=SEED.cpu, required=True)
    threshold_memory = fields.Float(string="Max memory (%)", default=SEED.memory, required=True)
    threshold_duration_seconds = fields.Integer(
        string="Must hold for (s)",
        default=SEED.duration_seconds,
        required=True,
        help="A threshold fires once breached this long",
    )
    down_after = fields.Integer(string="Down after (failures)", default=SEED.down_after, required=True)
    recover_after = fields.Integer(string="Up after (successes)", default=SEED.recover_after, required=True)
    error_window_seconds = fields.Integer(string="Error rate window (s)", default=SEED.window_seconds, required=True)
    # people and policies
    on_call_user_id = fields.Many2one("res.users", string="On-call user", domain=[("share", "=", False)])
    remediation_policy_id = fields.Many2one("ops.remediation.policy", string="Remediation policy")
    repository_id = fields.Many2one(
        "ops.repository", help="GitHub repository where escalation opens issues for this service"
    )
    paging_routing_key = fields.Char(
        groups="base.group_system", copy=False, help="PagerDuty Events API v2 integration (routing) key"
    )
    has_routing_key = fields.Boolean(compute="_compute_has_routing_key")
    new_routing_key = fields.Char(
        compute="_compute_new_routing_key",
        inverse="_inverse_new_routing_key",
        help="Write-only: sets the routing key without revealing the current one.",
    )
    # state (written by the probe cron)
    next_check_at = fields.Datetime(index=True, copy=False, default=fields.Datetime.now)
    rechecking = fields.Boolean(
        string="Re-checking",
        readonly=True,
        copy=False,
        index=True,
        help="Failing or firing: checked at the short interval",
    )
    last_checked_at = fields.Datetime(readonly=True, copy=False)
    last_up = fields.Boolean(string="Last check up", readonly=True, copy=False)
    last_status_code = fields.Integer(readonly=True, copy=False)
    last_response_ms = fields.Float(string="Last response (ms)", readonly=True, copy=False, digits=(16, 1))
    last_error = fields.Char(readonly=True, copy=False)
    last_cpu_percent = fields.Float(string="CPU %", readonly=True, copy=False, digits=(16, 1))
    last_memory_percent = fields.Float(string="Memory %", readonly=True, copy=False, digits=(16, 1))
    metrics_counters = fields.Json(
        copy=False, help="Counters of the last metrics scrape (CPU, requests, latency): rates need two scrapes"
    )
    firing_conditions = fields.Char(readonly=True, copy=False, help="Conditions firing at the last evaluation")
    status = fields.Selection(TARGET_STATUSES, compute="_compute_status", store=True, index=True)
    uptime_24h = fields.Float(string="Uptime 24 h (%)", readonly=True, copy=False, digits=(16, 2))
    error_rate = fields.Float(
        string="Failed checks (%)",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="Share of the checks that failed over the error-rate window",
    )
    last_error_ratio = fields.Float(
        string="Error ratio (%)",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="Share of the service's own requests that failed, from its metrics (last check)",
    )
    last_p95_ms = fields.Float(
        string="P95 latency (ms)",
        readonly=True,
        copy=False,
        digits=(16, 1),
        help="The service's own 95th percentile latency, from its metrics (last check)",
    )
    sample_ids = fields.One2many("ops.health.sample", "target_id")
    incident_ids = fields.One2many("ops.incident", "target_id")
    open_incident_count = fields.Integer(compute="_compute_open_incident_count")
    silence_ids = fields.One2many("ops.health.silence", "target_id", string="Silences")
    suppressed = fields.Boolean(compute="_compute_suppressed", help="A silence or maintenance window is in effect")
    suppression_reason = fields.Char(compute="_compute_suppressed")
    history_spark = fields.Json(
        string="Last 24 h",
        compute="_compute_history_spark",
        help="Response time and uptime per hour over the last 24 hours, from the hourly rollups",
    )
    interval_human = fields.Char(string="Checked every", compute="_compute_interval_human")

    _sql_constraints = [
        ("interval_min", "CHECK(interval_minutes >= 1)", "A target is checked at most every minute."),
        ("retry_interval_min", "CHECK(retry_interval_seconds >= 0)", "The re-check interval cannot be negative."),
        ("timeout_positive", "CHECK(timeout_seconds > 0 AND timeout_seconds <= 120)", "Timeout: 0 to 120 s."),
        ("down_after_min", "CHECK(down_after >= 1 AND recover_after >= 1)", "Counts of checks start at 1."),
    ]

    def _compute_has_routing_key(self):
        for target, private in zip(self, self.sudo(), strict=True):
            target.has_routing_key = bool(private.paging_routing_key)

    def _compute_new_routing_key(self):
        self.new_routing_key = False

    def _inverse_new_routing_key(self):
        for target in self.filtered("new_routing_key"):
            target.sudo().paging_routing_key = target.new_routing_key.strip()

    @api.depends("firing_conditions", "last_up", "last_checked_at")
    def _compute_status(self):
        for target in self:
            firing = target._firing()
            if "down" in firing:
                target.status = "down"
            elif firing:
                target.status = "degraded"
            elif not target.last_checked_at:
                target.status = "unknown"
            else:
                target.status = "up" if target.last_up else "degraded"

    def _compute_open_incident_count(self):
        groups = self.env["ops.incident"]._read_group(
            [("target_id", "in", self.ids), ("state", "!=", "resolved")], ["target_id"], ["__count"]
        )
        counts = {target.id: count for target, count in groups}
        for target in self:
            target.open_incident_count = counts.get(target.id, 0)

    def _compute_suppressed(self):
        now = fields.Datetime.now()
        for target in self:
            suppression = target._active_suppression(now)
            target.suppressed = bool(suppression)
            target.suppression_reason = suppression.reason if suppression else False

    def _compute_history_spark(self):
        """The kanban card's sparklines and labelled figures: 24 hourly rollup rows per target, one query."""
        now = fields.Datetime.now()
        starts = history.buckets(now, SPARK_HOURS, "hour")
        rows = self._rollup_buckets("hour", starts[0])
        for target in self:
            buckets = rows.get(target.id, {})
            line = history.series(starts, buckets)
            figures = history.summary(buckets.values())
            target.history_spark = {
                "response": line["avg_ms"],
                "uptime": line["uptime"],
                "uptime_24h": figures["uptime"],
                "p95_ms": figures["p95_ms"],
                "avg_ms": figures["avg_ms"],
                "labels": target._figure_labels(figures),
            }

    def _figure_labels(self, figures):
        # values formatted before the _() calls: the translation extractor evaluates their arguments
        if figures["uptime"] is None:
            uptime = self.env._("Uptime 24 h: no check yet")
        else:
            percent = format(figures["uptime"], ".1f")
            uptime = self.env._("Uptime 24 h %(uptime)s %%", uptime=percent)
        p95 = figures["p95_ms"]
        if p95 is None:
            p95_text = self.env._("p95: no data")
        elif p95 >= 1000:
            seconds = format(p95 / 1000, ".1f")
            p95_text = self.env._("p95 %(value)s s", value=seconds)
        else:
            milliseconds = str(round(p95))
            p95_text = self.env._("p95 %(value)s ms", value=milliseconds)
        return {"uptime": uptime, "p95": p95_text}

    @api.depends("interval_minutes")
    def _compute_interval_human(self):
        for target in self:
            target.interval_human = human_duration((target.interval_minutes or 0) * 60)

    def _rollup_buckets(self, unit, since):
        """``{target id: {bucket start: history.Bucket}}`` of these targets' rollup rows from ``since`` on.

        Read as the user (access rules apply) from the hourly or daily rollup: never the raw samples.
        """
        ids = [target_id for target_id in self.ids if isinstance(target_id, int)]
        result = {}
        if not ids:
            return result
        Rollup = self.env[HISTORY_ROLLUPS[unit]]
        if not Rollup.has_access("read"):
            return result
        since = since if unit == "hour" else fields.Date.to_string(since)
        rows = Rollup.search_read(
            [("target_id", "in", ids), ("bucket", ">=", since)],
            ["target_id", "bucket", "sample_count", "failure_count", "avg_response_ms", "p95_response_ms"],
            order="bucket",
            load=None,
        )
        for row in rows:
            result.setdefault(row["target_id"], {})[row["bucket"]] = history.Bucket(
                checks=row["sample_count"] or 0,
                failed=row["failure_count"] or 0,
                avg_ms=row["avg_response_ms"] if row["sample_count"] > row["failure_count"] else None,
                p95_ms=row["p95_response_ms"] if row["sample_count"] > row["failure_count"] else None,
            )
        return result

    @api.constrains("kind", "url", "metrics_url")
    def _check_url(self):
        for target in self:
            if target.kind in ("http", "prometheus") and not (target.url or "").startswith(("http://", "https://")):
                raise ValidationError(_("An HTTP or Prometheus target needs a URL starting with http:// or https://."))
            if target.metrics_url and not target.metrics_url.startswith(("http://", "https://")):
                raise ValidationError(_("The metrics URL must start with http:// or https://."))

    @api.constrains("kind", "prometheus_window", "query_error_ratio", "query_p95_ms", "query_cpu", "query_memory")
    def _check_prometheus(self):
        for target in self.filtered(lambda t: t.kind == "prometheus"):
            try:
                target._probe_spec()
            except ValueError as exc:
                raise ValidationError(_("Prometheus queries: %s", exc)) from exc

    @api.constrains("on_call_user_id", "company_id")
    def _check_on_call_company(self):
        for target in self.filtered("on_call_user_id"):
            if target.company_id not in target.on_call_user_id.company_ids:
                raise ValidationError(_("The on-call user must belong to the target's company."))

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _firing(self):
        self.ensure_one()
        return frozenset(k for k in (self.firing_conditions or "").split(",") if k)

    def _silences_around(self, now):
        """Silences of these targets' companies (for them or for all targets) that may apply at ``now``."""
        return (
            self.env["ops.health.silence"]
            .sudo()
            .search(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("target_id", "in", [*self.ids, False]),
                    ("date_start", "<=", now),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">", now),
                ]
            )
        )

    def _active_suppression(self, now):
        """The silence or maintenance window in effect on this target at ``now`` (or an empty recordset)."""
        self.ensure_one()
        return self._silences_around(now)._active_suppression(now)

    def action_check_now(self):
        """Check this target now and show the result (Ops users may); several targets: the cron checks them.

        One target is checked right away through the probe cron's own path
        (sample stored, alerts evaluated, incidents opened or resolved), so
        the notification tells what the check saw and the form shows it. The
        row is locked first (SKIP LOCKED): when the cron is checking it at
        this moment, the user is told so instead of checking twice.
        """
        self.check_access("read")
        if len(self) != 1:
            self.sudo().write({"next_check_at": fields.Datetime.now() - timedelta(seconds=1)})
            for lane in {RECHECK_CRON if target.rechecking else NORMAL_CRON for target in self}:
                self._ops_trigger_soon(lane)
            return True
        target = self.sudo()
        locked = self.env.execute_query(
            SQL("SELECT id FROM ops_health_target WHERE id = %s FOR UPDATE SKIP LOCKED", target.id)
        )
        if not locked:
            return self._check_notification(
                "info", self.env._("A check of %s is under way; its result appears in a moment.", target.name)
            )
        now = fields.Datetime.now()
        target._run_checks(now)
        self._schedule_passes(now)
        self._notify_monitoring_clients()
        target.invalidate_recordset()
        return self._check_notification(*target._check_result())

    def _check_result(self):
        """``(notification type, message)`` describing this target's last check."""
        self.ensure_one()
        parts = [self.env._("Up") if self.last_up else self.env._("Down")]
        if self.kind == "http" and self.last_status_code:
            parts.append(f"HTTP {self.last_status_code}")
        if self.last_up and self.last_response_ms:
            parts.append(f"{round(self.last_response_ms)} ms")
        if self.last_error:
            parts.append(self.last_error)
        if self.firing_conditions:
            parts.append(self.env._("firing: %s", self.firing_conditions.replace(",", ", ")))
        kind = "success" if self.last_up and not self.firing_conditions else "warning" if self.last_up else "danger"
        return kind, " · ".join(parts)

    def _check_notification(self, kind, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Check of %s", self.name),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def get_history(self, period="24h"):
        """The form's history chart over ``period`` (24h, 7d hourly; 30d daily), from the rollups only.

        Returns labels in the user's time zone (``"14:00"``, ``"6 Dec"``),
        the series of mean and p95 response time, uptime and checks per
        bucket (``None`` where nothing was checked) and a summary.
        """
        self.ensure_one()
        self.check_access("read")
        if period not in HISTORY_PERIODS:
            period = "24h"
        count, unit = HISTORY_PERIODS[period]
        starts = history.buckets(fields.Datetime.now(), count, unit)
        buckets = self._rollup_buckets(unit, starts[0]).get(self.id, {})
        data = history.series(starts, buckets)
        Dashboard = self.env["ops.dashboard"]
        if unit == "day":
            labels = [Dashboard._short_date(day) for day in starts]
        else:
            tz = Dashboard._tz()
            local = [Dashboard._to_local(start, {"tz": tz}) for start in starts]
            labels = [history.hour_label(moment) for moment in local]
            if period != "24h":
                days = [Dashboard._short_date(moment.date()) for moment in local]
                labels = [f"{day} {label}" for day, label in zip(days, labels, strict=True)]
        figures = history.summary(buckets.values())
        return {"period": period, "unit": unit, "labels": labels, **data, "summary": figures}

    def action_view_incidents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_incident_action")
        action["domain"] = [("target_id", "=", self.id)]
        action["context"] = {"search_default_unresolved": 1}
        return action

    def action_view_samples(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_health_sample_action")
        action["domain"] = [("target_id", "=", self.id)]
        return action

    @api.constrains("expected_statuses")
    def _check_expected_statuses(self):
        for target in self.filtered("expected_statuses"):
            try:
                probes.parse_statuses(target.expected_statuses)
            except ValueError as exc:
                raise ValidationError(_("Expected status codes: %s", exc)) from exc

    # ------------------------------------------------------------------
    # engine inputs
    # ------------------------------------------------------------------
    def _thresholds(self):
        """The engine's thresholds of this target (a threshold of 0 disables its condition)."""
        self.ensure_one()
        return alerts.Thresholds(
            response_ms=self.threshold_response_ms or None,
            error_rate=self.threshold_error_rate or None,
            cpu=self.threshold_cpu or None,
            memory=self.threshold_memory or None,
            duration_seconds=self.threshold_duration_seconds,
            down_after=self.down_after,
            recover_after=self.recover_after,
            window_seconds=self.error_window_seconds,
        )

    def _history_seconds(self, thresholds):
        """How far back alert evaluation reads: the windows, and enough checks to go down and recover."""
        checks = max(thresholds.down_after, thresholds.recover_after, thresholds.min_checks) + 1
        return max(thresholds.window_seconds, thresholds.duration_seconds, checks * self.interval_minutes * 60)

    def _probe_spec(self):
        """What one check of this target runs (raises ValueError on a configuration it cannot run)."""
        self.ensure_one()
        if self.kind == "prometheus":
            queries = tuple(
                (figure, prometheus_api.render(self[query], self.prometheus_selector, self.prometheus_window))
                for query, figure, threshold in PROMETHEUS_QUERIES
                if (self[query] or "").strip() and self[threshold]
            )
            return prometheus_api.PrometheusSpec(url=self.url or "", queries=queries, timeout=self.timeout_seconds)
        return probes.ProbeSpec(
            url=self.url or "",
            method=self.method,
            expected_statuses=self.expected_statuses or (),
            expected_text=self.expected_text or None,
            timeout=self.timeout_seconds,
            metrics_url=self.metrics_url or None,
        )

    def _incident_ref(self):
        self.ensure_one()
        return f"health:{self.id}"

    # ------------------------------------------------------------------
    # probe cron
    # ------------------------------------------------------------------
    @api.model
    def _due_domain(self, now, rechecking=False):
        """Due targets of one lane: normal checks, or the fast re-checks of failing targets."""
        return [("active", "=", True), ("next_check_at", "<=", now), ("rechecking", "=", rechecking)]

    @api.model
    def _claim_due(self, now, limit, rechecking=False):
        """Ids of due targets of a lane, locked (SKIP LOCKED), moved to a later check time, and committed.

        Most overdue first. Committing at once releases the locks: other cron
        workers see these targets as not due, and the checks that follow
        (seconds of network waits) run outside any database transaction. The
        time written is a fallback (the next check after a crash); recording
        the check sets the real one.
        """
        query = self._search(self._due_domain(now, rechecking), order="next_check_at, id", limit=limit)
        ids = [row[0] for row in self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))]
        if ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE ops_health_target SET next_check_at = %s + make_interval(mins => interval_minutes) "
                    "WHERE id = ANY(%s)",
                    now,
                    ids,
                )
            )
            self.invalidate_model(["next_check_at"])
            self._ops_commit()
        return ids

    @api.model
    def _cron_probe_due_targets(self, batch_size=None, now=None):
        """Normal checks: one batch of due targets that are not failing; called again while some remain.

        ``now`` (naive UTC, default: now) is the time the whole pass runs
        at: sample times, alert evaluation, incidents, remediation and
        escalation all use it, so tests can move time without sleeping.
        """
        return self._run_lane(False, batch_size, now)

    @api.model
    def _cron_recheck_due_targets(self, batch_size=None, now=None):
        """Fast re-checks of failing targets (their own cron, so they never hold up the normal checks)."""
        return self._run_lane(True, batch_size, now)

    @api.model
    def _run_lane(self, rechecking, batch_size, now):
        now = now or fields.Datetime.now()
        limit = batch_size or get_param(self.env, "probe_batch_size")
        batch = self.browse(self._claim_due(now, limit, rechecking))
        if batch:
            batch._run_checks(now)
            self._notify_monitoring_clients()
        remaining = self.search_count(self._due_domain(now, rechecking))
        self._schedule_passes(now)
        self._ops_notify_progress(done=len(batch), remaining=remaining)
        return len(batch)

    @api.model
    def _schedule_passes(self, now):
        """Trigger each lane's cron when its earliest check comes due (not sooner than MIN_PASS_GAP)."""
        rows = self.env.execute_query(
            SQL(
                "SELECT rechecking, min(next_check_at) FROM ops_health_target "
                "WHERE active AND next_check_at IS NOT NULL GROUP BY rechecking"
            )
        )
        for rechecking, due in rows:
            at = max(due, now + timedelta(seconds=MIN_PASS_GAP))
            self._ops_trigger_at(RECHECK_CRON if rechecking else NORMAL_CRON, at)
        self._ops_commit()

    def _run_checks(self, now):
        """Probe these targets concurrently, then record, evaluate, heal and escalate each on its own.

        Samples are stored in one statement and what evaluation reads
        (recent samples, open incidents, silences, uptime) is read for the
        whole batch at once; each target is then evaluated in its own
        savepoint, so one broken target never blocks the others.

        Incidents that open in this pass are created together in one
        ``create`` (an outage often takes many targets down at once) and
        their escalation ladder starts in the escalation cron, woken at once;
        incidents already open are counted, healed and escalated here.
        """
        results = self._probe_all(now)
        self.env["ops.health.sample"]._store([(target, results[target.id][0]) for target in self])
        self.env["ops.remediation.action"]._record_verifications(results)
        self._ops_commit()  # the samples are kept whatever happens during evaluation
        context = self._evaluation_context(now)
        touched, opening = [], []
        for target in self:
            sample, issues = results[target.id]
            new = context[target.id]["opening"] = []
            try:
                with self.env.cr.savepoint():
                    touched += target._record_check(sample, issues, now, context)
                opening += [(target, vals) for vals in new]
            except Exception as exc:  # one broken target never blocks the others
                _logger.warning("health target %s: evaluating its check failed: %s", target.id, exc, exc_info=True)
                target.sudo().write({"last_error": f"internal error: {type(exc).__name__}"})
        if opening:
            self._open_new_incidents(opening)
        self._ops_commit()
        for incident, kind in touched:
            try:
                with self.env.cr.savepoint():
                    incident._escalate(now, kind=kind)
            except Exception as exc:
                _logger.warning("incident %s: escalation failed: %s", incident.id, exc, exc_info=True)
            self._ops_commit()

    @api.model
    def _open_new_incidents(self, opening):
        """Open the incidents of ``[(target, vals)]`` in one ``create``, then wake the escalation cron.

        They are created due for escalation (``next_escalation_at``): the
        escalation cron takes their first steps (auto-heal first) as soon as
        this pass commits. When the batch fails (e.g. another transaction
        opened one of the keys meanwhile), each is raised on its own, in its
        own savepoint, so one failure never blocks the others.
        """
        Incident = self.env["ops.incident"].sudo()
        try:
            with self.env.cr.savepoint():
                Incident._open_incidents([vals for _target, vals in opening])
        except Exception as exc:
            _logger.info("opening %s incidents at once failed (%s): one by one", len(opening), exc)
            for target, vals in opening:
                try:
                    with self.env.cr.savepoint():
                        Incident._raise_incident(vals)
                except Exception as exc:
                    _logger.warning("health target %s: opening its incident failed: %s", target.id, exc, exc_info=True)
                    target.sudo().write({"last_error": f"internal error: {type(exc).__name__}"})
        self._ops_trigger_soon("ops_autopilot.ir_cron_escalate_incidents")

    def _evaluation_context(self, now):
        """What evaluating these targets reads, in a few queries for the whole batch."""
        horizon = {target.id: now - timedelta(seconds=target._history_seconds(target._thresholds())) for target in self}
        windows = self.env["ops.health.sample"]._window(self.ids, min(horizon.values(), default=now))
        open_incidents = {target.id: {} for target in self}
        incidents = self.env["ops.incident"].sudo().search([("target_id", "in", self.ids), ("state", "!=", "resolved")])
        for incident in incidents:
            open_incidents[incident.target_id.id][incident.dedup_key] = incident
        silences = self._silences_around(now)
        uptime = self._uptimes(now - timedelta(hours=24), now)
        return {
            target.id: {
                "history": [
                    probes.Sample(**row) for row in windows[target.id] if row["checked_at"] >= horizon[target.id]
                ],
                "open": open_incidents[target.id],
                "suppression": silences.filtered(
                    lambda s, t=target: s.company_id == t.company_id and (not s.target_id or s.target_id == t)
                )._active_suppression(now),
                "uptime": uptime.get(target.id, 100.0),
            }
            for target in self
        }

    def _probe_all(self, now):
        """``{target id: (engine Sample, native issues or None)}`` for these targets.

        HTTP targets are probed on a bounded thread pool with no database
        transaction open; sample times are shifted onto ``now``. Each lane
        has its own pool of ``probe_workers`` threads (both lanes may run at
        once in one Odoo process, whose address space Odoo limits:
        ``limit_memory_hard``, and each thread reserves its stack there).
        """
        results = {}
        http = self.filtered(lambda t: t.kind in ("http", "prometheus"))
        specs, state = {}, host_metrics.MetricsState()
        for target in http:
            if target.metrics_counters:
                state.set(target.id, target.metrics_counters)
            try:
                specs[target.id] = target._probe_spec()
            except ValueError as exc:
                results[target.id] = (probes.Sample(up=False, error=f"configuration: {exc}", checked_at=now), None)
        workers = get_param(self.env, "probe_workers")
        counters_before = {target.id: target.metrics_counters for target in http}
        self._ops_commit()  # end the read transaction: no transaction stays open while probing
        started = probes.utcnow()
        samples = probes.probe_many(specs, max_workers=workers, metrics_state=state) if specs else {}
        shift = now - started
        for target_id, sample in samples.items():
            results[target_id] = (dataclasses.replace(sample, checked_at=sample.checked_at + shift), None)
        for target in http:
            snapshot = state.get(target.id)
            if snapshot and snapshot != counters_before.get(target.id):
                target.sudo().metrics_counters = snapshot
        for target in self - http:
            results[target.id] = target._probe_local(now)
        return results

    def _probe_local(self, now):
        """Check this Odoo server: ``(Sample, issues)``; issues only for Odoo-native targets."""
        self.ensure_one()
        started = time.monotonic()
        if self.kind == "odoo_host":
            cpu, memory = host_metrics.local_host()
            elapsed = (time.monotonic() - started) * 1000
            return probes.Sample(
                up=True, response_ms=elapsed, cpu_percent=cpu, memory_percent=memory, checked_at=now
            ), None
        issues = self._native_issues(now)
        error = "; ".join(issue.message for issue in issues)[: probes.MAX_ERROR_CHARS] or None
        elapsed = (time.monotonic() - started) * 1000
        return probes.Sample(up=not issues, response_ms=elapsed, error=error, checked_at=now), issues

    @api.model
    def _native_issues(self, now):
        """Failing or stuck crons and modules stuck mid-operation, from the engine's rules."""
        fields_read = [
            "name",
            "active",
            "nextcall",
            "lastcall",
            "interval_number",
            "interval_type",
            "failure_count",
            "first_failure_date",
        ]
        crons = self.env["ir.cron"].sudo().search_read([("active", "=", True)], fields_read)
        for cron in crons:
            cron["interval_seconds"] = native_monitors.interval_seconds(cron["interval_number"], cron["interval_type"])
        modules = (
            self.env["ir.module.module"]
            .sudo()
            .search_read([("state", "in", list(native_monitors.PENDING_STATES))], ["name", "state", "write_date"])
        )
        return native_monitors.evaluate_crons(crons, now) + native_monitors.evaluate_modules(modules, now)

    def _record_check(self, sample, issues, now, context):
        """Evaluate alerts over the stored samples, open/count/resolve incidents, update the target.

        :return: ``[(incident, condition kind)]`` of the firing, not
            suppressed incidents, for remediation and escalation.
        """
        self.ensure_one()
        facts = context[self.id]
        thresholds = self._thresholds()
        history = facts["history"]
        # the check ran just after the pass started: judge at its end, so the newest sample counts
        judged_at = max(now, sample.checked_at)
        suppression, open_by_key = facts["suppression"], facts["open"]
        if self.kind == "odoo_native":
            touched, firing = self._apply_native(issues or [], now, suppression, open_by_key, facts.get("opening"))
        else:
            conditions = alerts.evaluate(history, thresholds, judged_at, self._firing())
            touched, firing = self._apply_conditions(conditions, now, suppression, open_by_key, facts.get("opening"))
        rate = alerts.error_rate(history, judged_at, thresholds.window_seconds)
        retry = self.retry_interval_seconds
        self.sudo().write(
            {
                "last_checked_at": sample.checked_at,
                "last_up": sample.up,
                "last_status_code": sample.status_code or 0,
                "last_response_ms": sample.response_ms or 0.0,
                "last_error": sample.error or False,
                "last_cpu_percent": sample.cpu_percent or 0.0,
                "last_memory_percent": sample.memory_percent or 0.0,
                "last_error_ratio": sample.error_ratio or 0.0,
                "last_p95_ms": sample.p95_ms or 0.0,
                "firing_conditions": ",".join(sorted(firing)) or False,
                "error_rate": rate or 0.0,
                "uptime_24h": facts["uptime"],
                "rechecking": schedule.rechecking(retry, sample.up, firing),
                "next_check_at": schedule.next_check(now, self.interval_minutes * 60, retry, sample.up, firing),
            }
        )
        return touched

    def _apply_conditions(self, conditions, now, suppression, open_by_key, opening=None):
        """Raise an incident per firing condition, resolve the ones that recovered.

        With an ``opening`` list, the values of incidents to open (no open
        one for their key) are appended to it for the caller to create
        together (see :meth:`_open_new_incidents`) instead of opened here.

        Recovery resolves the incident (``auto_resolved``, no resolver), so
        its time to resolve counts; ``failing_since`` (the first failing
        check of the breach) gives its time to detect. Under a silence or
        maintenance window a firing condition only counts on an incident
        already open: nothing new opens and nothing is healed or escalated.
        A condition the engine inhibits (error rate and slow while the target
        is down) is left as it is: one outage, one incident.
        """
        touched, firing = [], set()
        for condition in conditions:
            key = alerts.dedup_key(self._incident_ref(), condition.kind)
            if condition.firing:
                firing.add(condition.kind)
            if condition.inhibited:
                continue  # muted by the outage: one outage, one incident
            if condition.firing:
                if suppression and key not in open_by_key:
                    continue
                vals = self._incident_vals(key, condition.kind, condition.severity, condition.message, now)
                vals["failing_since"] = condition.since or now
                if condition.kind == "error_rate" and condition.basis == "checks":
                    vals["title"] = f"{self.name}: {_('failed checks')}"
                if opening is not None and key not in open_by_key:
                    opening.append({**vals, "next_escalation_at": now})
                    continue
                incident = self.env["ops.incident"]._raise_incident(vals)
                if not suppression:
                    touched.append((incident, condition.kind))
            elif key in open_by_key:
                open_by_key[key]._resolve(note=_("Recovered: %s", condition.message), auto=True, now=now)
        return touched, firing

    def _apply_native(self, issues, now, suppression, open_by_key, opening=None):
        """Odoo-native issues: one incident per (kind, ref); issues gone are resolved (``opening``: as above)."""
        touched, current = [], set()
        for issue in issues:
            key = alerts.dedup_key(self._incident_ref(), f"{issue.kind}:{issue.ref}")
            current.add(key)
            if suppression and key not in open_by_key:
                continue
            vals = self._incident_vals(key, issue.kind, issue.severity, issue.message, now)
            if opening is not None and key not in open_by_key:
                opening.append({**vals, "next_escalation_at": now})
                continue
            incident = self.env["ops.incident"]._raise_incident(vals)
            if not suppression:
                touched.append((incident, const.NATIVE_CONDITION))
        for key, incident in open_by_key.items():
            if key not in current:
                incident._resolve(note=_("Recovered: the signal is gone."), auto=True, now=now)
        return touched, {const.NATIVE_CONDITION} if issues else set()

    def _incident_vals(self, key, kind, severity, message, now):
        labels = {
            "down": _("down"),
            "slow": _("slow answers"),
            "error_rate": _("high error rate"),
            "cpu": _("high CPU"),
            "memory": _("high memory"),
        }
        return {
            "dedup_key": key,
            "title": f"{self.name}: {labels.get(kind, kind.replace('_', ' '))}",
            "source": "health",
            "severity": severity if severity in dict(const.SEVERITIES) else "medium",
            "description": message,
            "condition": kind,
            "category": kind,
            "target_id": self.id,
            "repository_id": self.repository_id.id or False,
            "company_id": self.company_id.id,
            "user_id": self.on_call_user_id.id or False,
            "seen_at": now,
        }

    def _uptimes(self, start, end):
        """``{target id: % of successful checks in (start, end]}`` for these targets (those with checks)."""
        rows = self.env.execute_query(
            SQL(
                "SELECT target_id, count(*), count(*) FILTER (WHERE up) FROM ops_health_sample "
                "WHERE target_id = ANY(%s) AND checked_at > %s AND checked_at <= %s GROUP BY target_id",
                self.ids,
                start,
                end,
            )
        )
        return {target_id: round(100.0 * up / total, 2) for target_id, total, up in rows if total}

    @api.model
    def _notify_monitoring_clients(self):
        group = self.env.ref("ops_autopilot.group_ops_user")
        models_changed = [self._name, "ops.incident", "ops.health.sample", "ops.remediation.action"]
        self.env["bus.bus"]._sendone(group, "ops_autopilot/refresh", {"models": models_changed})

    def _verify_now(self):
        """One check of this target right away (not stored as a sample): ``(Sample, issues)``."""
        self.ensure_one()
        now = fields.Datetime.now()
        if self.kind not in ("http", "prometheus"):
            return self._probe_local(now)
        try:
            spec = self._probe_spec()
            return (spec.check() if self.kind == "prometheus" else probes.probe(spec)), None
        except ValueError as exc:
            return probes.Sample(up=False, error=f"configuration: {exc}", checked_at=now), None
