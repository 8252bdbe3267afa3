import logging
from datetime import datetime, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools.misc import formatLang
from odoo.tools.safe_eval import safe_eval

from ..autopilot.business import impact, signals
from ..autopilot.common.masking import mask_secrets

_logger = logging.getLogger(__name__)

DIRECTIONS = [("drop", "Drop"), ("rise", "Rise"), ("both", "Drop or rise")]
STATES = [("learning", "Learning"), ("ok", "OK"), ("anomaly", "Anomaly")]
#: intervals a late check catches up on (older ones are left unchecked: their moment has passed)
MAX_CATCH_UP = 8
#: checked intervals are kept this long (a year of weekly comparisons and reports, then pruned)
POINT_RETENTION_DAYS = 400
PRUNE_BATCH = 10_000
DEDUP_PREFIX = "business:signal:"


def _tz_get(self):
    return [(tz, tz) for tz in sorted(pytz.all_timezones, key=lambda tz: tz if not tz.startswith("Etc/") else "_")]


class OpsBusinessSignal(models.Model):
    """A business count watched against its seasonal baseline (confirmed orders, posted invoices, new customers).

    Every interval (15 min by default) the cron counts the records of the
    watched model matching the manager's domain whose time column falls in
    the last interval, compares the count with the same weekday and time
    slot of the last weeks (:mod:`..autopilot.business.signals`), and opens
    one incident (source "business") when the count stays abnormal for
    ``k_fire`` intervals; it resolves it when the count is back for
    ``k_clear`` intervals. While an incident of this signal, or of one of its
    linked health targets, is open, the signal's shortfall is its impact
    (``ops.incident`` ``impact_count`` / ``impact_amount``).

    Counting runs as superuser, restricted to the domain (and the signal's
    company when the model has one): the signal sees what the manager who
    configured it chose to watch, and only its counts are shown.
    """

    _name = "ops.business.signal"
    _description = "Business signal"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="What is watched and why (shown on the form)")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    model_id = fields.Many2one(
        "ir.model",
        required=True,
        ondelete="cascade",
        domain=[("transient", "=", False), ("abstract", "=", False)],
        help="The records counted, e.g. Sales Order or Contact",
    )
    model_name = fields.Char(related="model_id.model", string="Model name")
    domain = fields.Char(default="[]", required=True, help="Which records count, e.g. confirmed orders only")
    time_field_id = fields.Many2one(
        "ir.model.fields",
        string="Time column",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'datetime'), ('store', '=', True)]",
        help="When a record counts: e.g. the order date or the creation date",
    )
    amount_field_id = fields.Many2one(
        "ir.model.fields",
        string="Amount field",
        ondelete="set null",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('monetary', 'float', 'integer')), ('store', '=', True)]",
        help="Optional: summed per interval as an amount in the company's currency (e.g. untaxed total)",
    )
    unit_label = fields.Char(string="Unit", translate=True, default=lambda self: self.env._("records"))
    tz = fields.Selection(
        _tz_get,
        string="Time zone",
        required=True,
        default=lambda self: self._default_tz(),
        help="Slots follow this wall clock: 11:00 on Mondays stays 11:00 across daylight-saving changes",
    )
    interval_minutes = fields.Integer(string="Interval (min)", default=signals.DEFAULT_INTERVAL, required=True)
    history_weeks = fields.Integer(string="Weeks of history", default=signals.DEFAULT_WEEKS, required=True)
    direction = fields.Selection(DIRECTIONS, default="drop", required=True)
    threshold = fields.Float(
        string="Robust z-score",
        default=signals.DEFAULT_THRESHOLD,
        required=True,
        help="How many spreads (MAD x 1.4826) from the median an interval must be",
    )
    min_change_pct = fields.Float(
        string="Minimum change (%)",
        default=signals.DEFAULT_MIN_CHANGE * 100,
        required=True,
        help="And at least this share of the median: a 5 % dip is not an outage, however regular the volume",
    )
    min_baseline = fields.Float(
        string="Minimum baseline",
        default=signals.DEFAULT_MIN_BASELINE,
        required=True,
        help="Slots whose median is below this (quiet hours at night) never fire a drop",
    )
    k_fire = fields.Integer(string="Intervals to fire", default=signals.DEFAULT_K, required=True)
    k_clear = fields.Integer(string="Intervals to clear", default=signals.DEFAULT_K, required=True)
    target_ids = fields.Many2many(
        "ops.health.target",
        string="Health targets",
        help="Incidents of these targets (down, slow ...) get this signal's shortfall as their impact too",
    )
    impact_level_count = fields.Float(
        string="Impact level (count)",
        help="An incident whose impact reaches this many records becomes critical and pages (half: high). 0: off",
    )
    impact_level_amount = fields.Monetary(
        string="Impact level (amount)", help="The same, in money (company currency). 0: off"
    )
    state = fields.Selection(STATES, default="learning", required=True, readonly=True, index=True)
    streak = fields.Integer(readonly=True, help="Consecutive intervals arguing for a change of state")
    fired = fields.Selection([(signals.LOW, "Low"), (signals.HIGH, "High")], readonly=True)
    anomaly_since = fields.Datetime(readonly=True, help="Start of the first interval of the current anomaly")
    next_check_at = fields.Datetime(readonly=True, index=True, default=fields.Datetime.now)
    last_check = fields.Datetime(readonly=True)
    last_interval_start = fields.Datetime(readonly=True)
    last_observed = fields.Float(string="Observed", readonly=True, digits=(16, 0))
    last_baseline = fields.Float(string="Baseline", readonly=True, digits=(16, 1))
    last_observed_amount = fields.Monetary(string="Observed amount", readonly=True)
    last_baseline_amount = fields.Monetary(string="Baseline amount", readonly=True)
    last_verdict = fields.Char(string="Last verdict", readonly=True)
    last_error = fields.Text(readonly=True, help="Why the last check failed (e.g. the domain no longer validates)")
    error_count = fields.Integer(readonly=True, help="Failed checks in a row")
    point_ids = fields.One2many("ops.business.signal.point", "signal_id", string="Intervals", readonly=True)
    incident_ids = fields.One2many("ops.incident", "signal_id", string="Incidents", readonly=True)
    open_incident_count = fields.Integer(compute="_compute_open_incident_count")
    summary = fields.Char(compute="_compute_summary", help="Observed vs baseline of the last interval")

    @api.model
    def _default_tz(self):
        name = self.env.company.partner_id.tz or self.env.user.tz or "UTC"
        return name if name in pytz.all_timezones_set else "UTC"

    def _compute_open_incident_count(self):
        groups = dict(
            self.env["ops.incident"]._read_group(
                [("signal_id", "in", self.ids), ("state", "!=", "resolved")], ["signal_id"], ["__count"]
            )
        )
        for signal in self:
            signal.open_incident_count = groups.get(signal, 0)

    @api.depends("state", "last_observed", "last_baseline", "last_check", "last_verdict", "unit_label")
    def _compute_summary(self):
        for signal in self:
            if not signal.last_check:
                signal.summary = self.env._("Not checked yet")
            elif signal.last_verdict == signals.LEARNING:
                signal.summary = self.env._("Learning: not enough history for a baseline")
            else:
                signal.summary = self.env._(
                    "%(observed)s %(unit)s against a usual %(baseline)s",
                    observed=formatLang(self.env, signal.last_observed, digits=0),
                    unit=signal.unit_label or "",
                    baseline=formatLang(self.env, signal.last_baseline, digits=0),
                )

    @api.constrains("interval_minutes", "history_weeks", "threshold", "k_fire", "k_clear", "min_change_pct")
    def _check_rule(self):
        for signal in self:
            try:
                signals.check_interval(signal.interval_minutes)
                signal._rule()
            except ValueError as exc:
                raise ValidationError(
                    _("The signal %(name)s is not valid: %(error)s", name=signal.name, error=exc)
                ) from exc
            if not 1 <= signal.history_weeks <= 52:
                raise ValidationError(_("Weeks of history must be between 1 and 52."))

    @api.constrains("model_id", "domain", "time_field_id", "amount_field_id")
    def _check_watch(self):
        for signal in self:
            if signal.time_field_id.model_id != signal.model_id:
                raise ValidationError(_("The time column must be a field of the watched model."))
            if signal.amount_field_id and signal.amount_field_id.model_id != signal.model_id:
                raise ValidationError(_("The amount field must be a field of the watched model."))
            try:
                signal._watched_domain()
            except (ValueError, SyntaxError, NameError, KeyError) as exc:
                raise ValidationError(_("The domain does not validate: %s", exc)) from exc
            # who configures a signal sees its counts: they must be allowed to read the model themselves
            if not self.env.su:
                self.env[signal.model_name].check_access("read")

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_check_now(self):
        """Check the last interval now (Ops managers)."""
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise UserError(_("Only Ops managers can check a signal by hand."))
        for signal in self.sudo():
            signal._check_safely(fields.Datetime.now())
        return True

    def action_view_incidents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_incident_action")
        action["domain"] = [("signal_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # the cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_check_signals(self, batch_size=50, now=None):
        """Check the signals that are due, one at a time: one failing signal never blocks the others."""
        now = now or fields.Datetime.now()
        domain = [("next_check_at", "<=", now)]
        # the batch helpers are used, not inherited: this file loads before the mixin's
        helpers = self.env["ops.cron.mixin"]
        due = self.sudo().search(domain, order="next_check_at, id", limit=batch_size)
        for signal in due:
            signal._check_safely(now)
            helpers._ops_commit()
        helpers._ops_notify_progress(done=len(due), remaining=self.sudo().search_count(domain))
        self._prune_points(now)
        return len(due)

    @api.model
    def _prune_points(self, now):
        """Delete checked intervals older than POINT_RETENTION_DAYS (a batch per run)."""
        cutoff = now - timedelta(days=POINT_RETENTION_DAYS)
        Point = self.env["ops.business.signal.point"].sudo()
        old = Point.search([("start", "<", cutoff)], limit=PRUNE_BATCH)
        old.unlink()
        return len(old)

    def _check_safely(self, now):
        """Check one signal in a savepoint; a failure is recorded on it (and retried next interval)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._check(now)
        except Exception as exc:  # one broken signal (e.g. its domain after an upgrade) must not stop the rest
            error = mask_secrets(f"{type(exc).__name__}: {exc}")[0]
            _logger.warning("business signal %s: check failed: %s", self.id, error)
            self.write(
                {
                    "last_error": error,
                    "error_count": self.error_count + 1,
                    "last_check": now,
                    "next_check_at": now + timedelta(minutes=self.interval_minutes),
                }
            )
            return False
        return True

    def _rule(self):
        return signals.Rule(
            direction=self.direction,
            threshold=self.threshold,
            min_change=self.min_change_pct / 100.0,
            min_baseline=self.min_baseline,
            k=self.k_fire,
            k_clear=self.k_clear,
        )

    def _pending_intervals(self, now):
        """The intervals to check, oldest first: those since the last one checked (at most MAX_CATCH_UP)."""
        start, end = signals.last_interval(now, self.interval_minutes, self.tz)
        pending = []
        while len(pending) < MAX_CATCH_UP and (not self.last_interval_start or start > self.last_interval_start):
            pending.append((start, end))
            start, end = signals.last_interval(start, self.interval_minutes, self.tz)
        return list(reversed(pending))

    def _check(self, now):
        """Count, judge and record the pending intervals; open, resolve and score incidents."""
        self.ensure_one()
        rule = self._rule()
        state = signals.State(self.state, self.streak, self.fired or "")
        before = state.state
        anomaly_since = self.anomaly_since
        points = []
        pending = self._pending_intervals(now)
        history_start = self._history_start() if pending else None
        for start, end in pending:
            observed, base, verdict = self._evaluate(start, end, rule, history_start)
            state = signals.step(state, verdict, rule)
            if state.state != "anomaly":
                anomaly_since = False
            elif not anomaly_since:
                # the anomaly began with the first interval of the run that fired
                anomaly_since = start - timedelta(minutes=self.interval_minutes * (rule.k - 1))
            points.append(
                {
                    "signal_id": self.id,
                    "start": start,
                    "end": end,
                    "observed": observed[0],
                    "observed_amount": observed[1],
                    "has_baseline": base is not None,
                    "baseline": base.median if base else 0.0,
                    "spread": base.spread if base else 0.0,
                    "baseline_amount": base.amount if base else 0.0,
                    "history": base.points if base else 0,
                    "verdict": verdict,
                }
            )
        vals = {
            "state": state.state,
            "streak": state.streak,
            "fired": state.fired or False,
            "anomaly_since": anomaly_since,
            "last_check": now,
            "last_error": False,
            "error_count": 0,
            "next_check_at": signals.last_interval(now, self.interval_minutes, self.tz)[1]
            + timedelta(minutes=self.interval_minutes),
        }
        if points:
            last = points[-1]
            self.env["ops.business.signal.point"].create(points)
            vals.update(
                {
                    "last_interval_start": last["start"],
                    "last_observed": last["observed"],
                    "last_baseline": last["baseline"],
                    "last_observed_amount": last["observed_amount"],
                    "last_baseline_amount": last["baseline_amount"],
                    "last_verdict": last["verdict"],
                }
            )
        self.write(vals)
        self._sync_incident(before, now)
        return True

    def _history_start(self):
        """When the watched records begin (the earliest time column matching the domain), or None when none do.

        Slots before it are no history (a zero there means "not yet", not "no
        orders"): a new shop, or a signal on a model whose records began last
        week, learns instead of comparing with empty weeks. One indexed query.
        """
        Model = self.env[self.model_name].sudo()
        column = self.time_field_id.name
        first = Model.search_fetch(
            expression.AND([self._watched_domain(), [(column, "!=", False)]]), [column], order=f"{column} asc", limit=1
        )
        return first[column] if first else None

    def _evaluate(self, start, end, rule, history_start=None):
        """``((count, amount), baseline, verdict)`` of the interval ``[start, end)``.

        Only the seasonal slots after ``history_start`` (see :meth:`_history_start`) make the baseline.
        """
        slots = signals.seasonal_slots(start, self.interval_minutes, self.tz, self.history_weeks)
        slots = [slot for slot in slots if history_start and slot[0] >= history_start]
        counts = self._count_slots([(start, end), *slots])
        observed = counts[0]
        history = counts[1:]
        base = signals.baseline([c for c, _a in history], [a for _c, a in history])
        return observed, base, signals.judge(observed[0], base, rule)

    def _watched_domain(self):
        """The manager's domain (validated against the model), plus the signal's company when the model has one."""
        Model = self.env[self.model_name]
        domain = safe_eval(self.domain or "[]", {"uid": self.env.uid})
        if not isinstance(domain, (list, tuple)):
            raise ValueError(_("A domain is a list of conditions, got %s", type(domain).__name__))
        domain = list(domain)
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            domain = expression.AND([[("company_id", "in", [self.company_id.id, False])], domain])
        Model.sudo()._search(domain)  # raises ValueError on an unknown field or a bad operator
        return domain

    def _count_slots(self, slots):
        """``[(count, amount)]`` of records whose time column falls in each of ``slots``, in one grouped query.

        The slots are the same wall-clock slot on different days (:func:`signals.seasonal_slots`),
        so grouping by local day separates them: one ``_read_group`` over an
        OR of indexed ranges, instead of one count per slot.
        """
        Model = self.env[self.model_name].sudo().with_context(tz=self.tz)
        column = self.time_field_id.name
        ranges = expression.OR([[(column, ">=", start), (column, "<", end)] for start, end in slots])
        aggregates = ["__count"]
        if self.amount_field_id:
            aggregates.append(f"{self.amount_field_id.name}:sum")
        groups = Model._read_group(expression.AND([self._watched_domain(), ranges]), [f"{column}:day"], aggregates)
        by_day = {}
        for day, count, *amount in groups:
            key = day.date() if isinstance(day, datetime) else day
            by_day[key] = (count, float(amount[0] or 0.0) if amount else 0.0)
        zone = pytz.timezone(self.tz)
        result = []
        for start, _end in slots:
            local_day = pytz.utc.localize(start).astimezone(zone).date()
            result.append(by_day.get(local_day, (0, 0.0)))
        return result

    # ------------------------------------------------------------------
    # incidents
    # ------------------------------------------------------------------
    def _dedup_key(self):
        return f"{DEDUP_PREFIX}{self.id}"

    def _sync_incident(self, before, now):
        """Open (or count on) this signal's incident while in anomaly, resolve it on recovery, score impact."""
        Incident = self.env["ops.incident"].sudo()
        key = self._dedup_key()
        incident = Incident.search([("dedup_key", "=", key), ("state", "!=", "resolved")], limit=1)
        if self.state == "anomaly":
            incident = Incident._raise_incident(self._incident_vals(now))
            if before != "anomaly":
                incident._escalate(now)
        elif incident:
            incident._update_business_impact(now)
            incident._resolve(
                note=self.env._("Recovered: %(name)s is back within its usual range.", name=self.name),
                auto=True,
                now=now,
            )
        targets_open = Incident.search(
            [("target_id", "in", self.target_ids.ids), ("state", "!=", "resolved")]
            if self.target_ids
            else [(0, "=", 1)]
        )
        (incident.filtered(lambda i: i.state != "resolved") | targets_open)._update_business_impact(now)

    def _incident_vals(self, now):
        low = self.fired != signals.HIGH
        what = (
            self.env._("fewer %s than usual", self.unit_label)
            if low
            else self.env._("more %s than usual", self.unit_label)
        )
        return {
            "dedup_key": self._dedup_key(),
            "title": f"{self.name}: {what}",
            "source": "business",
            "severity": "medium",
            "description": self.env._(
                "%(observed)s %(unit)s in the last %(minutes)s minutes, against a usual %(baseline)s "
                "(median of the same slot over %(weeks)s weeks).",
                observed=formatLang(self.env, self.last_observed, digits=0),
                unit=self.unit_label or "",
                minutes=self.interval_minutes,
                baseline=formatLang(self.env, self.last_baseline, digits=0),
                weeks=self.history_weeks,
            ),
            "condition": "drop" if low else "rise",
            "category": "business",
            "signal_id": self.id,
            "company_id": self.company_id.id,
            "failing_since": self.anomaly_since or now,
            "seen_at": now,
        }

    def _impact_of(self, since, until):
        """The :class:`impact.Impact` of this signal over ``[since, until)`` from its stored intervals."""
        self.ensure_one()
        domain = [("signal_id", "=", self.id), ("end", ">", since)]
        if until:
            domain.append(("start", "<", until))
        points = self.env["ops.business.signal.point"].sudo().search(domain, order="start")
        return impact.incident_impact(points._as_engine_points(), since, until, self.direction)

    def _impact_text(self, count, amount, currency):
        """``≈ 42 orders, ≈ 12,300 EUR not taken`` (or ``above usual`` for a rise signal)."""
        parts = [
            self.env._(
                "≈ %(count)s %(unit)s",
                count=formatLang(self.env, impact.display_round(count), digits=0),
                unit=self.unit_label or self.env._("records"),
            )
        ]
        if self.amount_field_id:
            parts.append(f"≈ {formatLang(self.env, impact.display_round(amount), digits=0)} {currency.name}")
        if self.direction == "rise":
            return self.env._("%s above usual", ", ".join(parts))
        return self.env._("%s not taken", ", ".join(parts))

    @api.model
    def _demo_signal(self):
        """Demo data: a signal on confirmed sale orders when Sales is installed, else on new contacts."""
        existing = self.env.ref("ops_autopilot.ops_business_signal_demo", raise_if_not_found=False)
        if existing:
            return existing
        if "sale.order" in self.env and "date_order" in self.env["sale.order"]._fields:
            model, column, domain, unit = "sale.order", "date_order", "[('state', '=', 'sale')]", "orders"
            amount = "amount_untaxed"
            description = _(
                "Demo: confirmed sales orders (Sales is installed), by order date, compared with the same "
                "slot of the last 6 weeks."
            )
        else:
            model, column, domain, unit, amount = "res.partner", "create_date", "[]", "contacts", None
            description = _(
                "Demo: new contacts by creation date (Sales is not installed; with Sales, the demo watches "
                "confirmed orders instead), compared with the same slot of the last 6 weeks."
            )
        ir_model = self.env["ir.model"]._get(model)
        Fields = self.env["ir.model.fields"]
        vals = {
            "name": _("Orders taken") if model == "sale.order" else _("New contacts"),
            "description": description,
            "model_id": ir_model.id,
            "domain": domain,
            "time_field_id": Fields._get(model, column).id,
            "amount_field_id": Fields._get(model, amount).id if amount else False,
            "unit_label": unit,
            "impact_level_count": 50,
        }
        signal = self.create(vals)
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "ops_autopilot.ops_business_signal_demo", "record": signal, "noupdate": True}]
        )
        return signal
