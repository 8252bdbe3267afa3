from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytz

from odoo import _, api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import UserError, ValidationError

from .. import const
from ..autopilot.business import freeze

FREEZE_KINDS = [
    (freeze.ONCE, "One-off"),
    (freeze.MONTH_EDGES, "Month end (working days)"),
    (freeze.YEARLY, "Every year (dates)"),
    (freeze.WEEKLY, "Every week (day and time)"),
    (freeze.FISCAL_CLOSE, "Fiscal year close (working days)"),
]
#: next occurrences listed on a window's form
SHOWN_OCCURRENCES = 5


class _CalendarDays:
    """The working days of a ``resource.calendar``, month by month as the engine asks for them.

    A day works when the calendar has attendance on it that no leave of the
    calendar without a resource (a public holiday) covers entirely. A window
    without calendar works Monday to Friday.
    """

    #: days computed at once: the engine asks about the days around a boundary (the calendar's cost is per day)
    BLOCK = 16

    def __init__(self, calendar, tz):
        self.calendar = calendar
        self.zone = pytz.timezone(tz)  # the resource module works with pytz zones
        self.blocks = {}

    def __call__(self, day):
        if not self.calendar:
            return day.weekday() < 5
        block = day.toordinal() // self.BLOCK
        if block not in self.blocks:
            first = date.fromordinal(block * self.BLOCK)
            following = first + timedelta(days=self.BLOCK)
            start = self.zone.localize(datetime.combine(first, time()))
            stop = self.zone.localize(datetime.combine(following, time()))
            intervals = self.calendar._work_intervals_batch(start, stop, tz=self.zone)[False]
            self.blocks[block] = {begin.astimezone(self.zone).date() for begin, _stop, _meta in intervals}
        return day in self.blocks[block]


class OpsFreezeWindow(models.Model):
    """A change freeze: while it is in force, risky changes wait (see :mod:`autopilot.business.freeze`).

    Dependency-update and auto-fix pull requests are held and opened when it
    ends (``ops.freeze.hold``), deploy runs are flagged, and the open pull
    requests of its repositories carry a pending ``ops-autopilot/freeze``
    commit status. An Ops Manager may override it (``ops.freeze.override``).
    """

    _name = "ops.freeze.window"
    _description = "Change Freeze Window"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(string="Reason", required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    repository_ids = fields.Many2many(
        "ops.repository",
        string="Repositories",
        domain="[('company_id', '=', company_id)]",
        help="Empty: every repository of the company",
    )
    kind = fields.Selection(FREEZE_KINDS, required=True, default=freeze.MONTH_EDGES, tracking=True)
    date_start = fields.Datetime(string="From", help="One-off window: its start")
    date_end = fields.Datetime(string="Until", help="One-off window: its end")
    before_days = fields.Integer(
        string="Working days before", default=2, help="Working days frozen before the month's (or fiscal year's) end"
    )
    after_days = fields.Integer(
        string="Working days after", default=3, help="Working days frozen after the month's (or fiscal year's) end"
    )
    start_day = fields.Integer(default=15)
    start_month = fields.Integer(default=12)
    end_day = fields.Integer(default=6, help="Yearly window: last frozen day; fiscal close: the fiscal year's last day")
    end_month = fields.Integer(default=1)
    start_weekday = fields.Selection(const.WEEKDAYS, default="4")
    start_time = fields.Float(default=15.0, help="Weekly window: start, local time of the window's time zone")
    end_weekday = fields.Selection(const.WEEKDAYS, default="0")
    end_time = fields.Float(default=8.0, help="Weekly window: end, local time of the window's time zone")
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working calendar",
        default=lambda self: self.env.company.resource_calendar_id,
        help="Its attendances and public holidays (leaves without a resource) make the working days",
    )
    tz = fields.Selection(
        _tz_get,
        string="Time zone",
        compute="_compute_tz",
        store=True,
        readonly=False,
        help="Days and times of the window are read in this zone (the calendar's by default)",
    )
    override_ids = fields.One2many("ops.freeze.override", "window_id", string="Overrides")
    hold_ids = fields.One2many("ops.freeze.hold", "window_id", string="Held changes")
    is_active_now = fields.Boolean(string="In force", compute="_compute_now")
    overridden_now = fields.Boolean(string="Overridden", compute="_compute_now")
    next_occurrences = fields.Text(compute="_compute_next_occurrences")
    held_count = fields.Integer(compute="_compute_held_count")

    @api.depends("calendar_id.tz")
    def _compute_tz(self):
        for window in self:
            window.tz = window.calendar_id.tz or window.tz or self.env.user.tz or "UTC"

    def _compute_now(self):
        now = fields.Datetime.now()
        for window in self:
            window.overridden_now = bool(window.override_ids._in_force(now))
            window.is_active_now = bool(window.id) and not window.overridden_now and window._in_force_at(now)

    @api.depends(
        "kind", "date_start", "date_end", "before_days", "after_days", "start_day", "start_month", "end_day",
        "end_month", "start_weekday", "start_time", "end_weekday", "end_time", "calendar_id", "tz",
    )  # fmt: skip
    def _compute_next_occurrences(self):
        now = fields.Datetime.now().replace(tzinfo=timezone.utc)
        for window in self:
            try:
                found = freeze.occurrences(window._engine_window(), now, SHOWN_OCCURRENCES)
            except (freeze.RuleError, ValueError) as exc:
                window.next_occurrences = _("Incomplete rule: %s", exc)
                continue
            zone = ZoneInfo(window.tz or "UTC")
            lines = [
                f"{i.start.astimezone(zone):%a %Y-%m-%d %H:%M} → {i.end.astimezone(zone):%a %Y-%m-%d %H:%M}"
                for i in found
            ]
            window.next_occurrences = "\n".join(lines) or _("None in the next two years.")

    def _compute_held_count(self):
        counts = dict(
            self.env["ops.freeze.hold"]._read_group(
                [("window_id", "in", self.ids), ("state", "in", ("held", "failed"))], ["window_id"], ["__count"]
            )
        )
        for window in self:
            window.held_count = counts.get(window, 0)

    @api.constrains(
        "kind", "date_start", "date_end", "before_days", "after_days", "start_day", "start_month", "end_day",
        "end_month", "start_weekday", "start_time", "end_weekday", "end_time",
    )  # fmt: skip
    def _check_rule(self):
        for window in self:
            try:
                window._engine_rule().check()
            except freeze.RuleError as exc:
                raise ValidationError(_("Freeze window “%(name)s”: %(why)s", name=window.name, why=exc)) from None
            if window.kind == freeze.FISCAL_CLOSE and "account.move" not in self.env:
                raise ValidationError(_("A fiscal close window needs the Accounting (account) module."))

    @api.constrains("repository_ids", "company_id")
    def _check_company(self):
        for window in self:
            if window.repository_ids.filtered(lambda r, w=window: r.company_id != w.company_id):
                raise ValidationError(_("A freeze window covers repositories of its own company only."))

    @api.model_create_multi
    def create(self, vals_list):
        windows = super().create(vals_list)
        self.env["ops.freeze.hold"]._freeze_changed()
        return windows

    def write(self, vals):
        result = super().write(vals)
        self.env["ops.freeze.hold"]._freeze_changed()
        return result

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_use_fiscal_year_end(self):
        """Fill the fiscal close from the company's fiscal year end (when Accounting is installed)."""
        company = self.company_id
        if "fiscalyear_last_day" not in company._fields:
            raise UserError(_("Install Accounting to read the fiscal year end."))
        self.write(
            {
                "kind": freeze.FISCAL_CLOSE,
                "end_day": company.fiscalyear_last_day,
                "end_month": int(company.fiscalyear_last_month),
            }
        )

    def action_freeze_until_lock_date(self):
        """A one-off freeze from now until the end of the company's fiscal lock date's month-end close.

        The accountants set the lock date when a period is closed; until then
        (from now to the day after the lock date), changes wait.
        """
        company = self.company_id or self.env.company
        lock = "fiscalyear_lock_date" in company._fields and company.fiscalyear_lock_date
        if not lock:
            raise UserError(_("The company has no fiscal lock date (Accounting not installed or no date set)."))
        zone = ZoneInfo(self.tz or "UTC")
        end = datetime.combine(lock + timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc)
        now = fields.Datetime.now()
        if end.replace(tzinfo=None) <= now:
            raise UserError(_("The fiscal lock date %s is in the past.", lock))
        self.write({"kind": freeze.ONCE, "date_start": now, "date_end": end.replace(tzinfo=None)})

    def action_open_holds(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Held changes"),
            "res_model": "ops.freeze.hold",
            "view_mode": "list,form",
            "domain": [("window_id", "=", self.id)],
        }

    def action_override(self):
        """Open the emergency override form for this window (Ops Managers only)."""
        self.ensure_one()
        self.env["ops.freeze.override"].check_access("create")
        return {
            "type": "ir.actions.act_window",
            "name": _("Emergency override"),
            "res_model": "ops.freeze.override",
            "view_mode": "form",
            "target": "new",
            "context": {"default_window_id": self.id},
        }

    # ------------------------------------------------------------------
    # the engine
    # ------------------------------------------------------------------
    def _engine_rule(self):
        self.ensure_one()

        def aware(value):
            return value.replace(tzinfo=timezone.utc) if value else None

        def minute(hours):
            return min(max(round((hours or 0.0) * 60), 0), freeze.MINUTES_PER_DAY - 1)

        return freeze.Rule(
            kind=self.kind,
            start=aware(self.date_start),
            end=aware(self.date_end),
            before=self.before_days,
            after=self.after_days,
            start_day=self.start_day,
            start_month=self.start_month,
            end_day=self.end_day,
            end_month=self.end_month,
            start_weekday=int(self.start_weekday or 0),
            start_minute=minute(self.start_time),
            end_weekday=int(self.end_weekday or 0),
            end_minute=minute(self.end_time),
        )

    def _engine_window(self, days=None):
        self.ensure_one()
        tz = self.tz or "UTC"
        working = (days or {}).get((self.calendar_id.id, tz)) if days is not None else None
        if working is None:
            working = _CalendarDays(self.calendar_id.sudo(), tz)
            if days is not None:
                days[(self.calendar_id.id, tz)] = working
        return freeze.Window(self.id, self._engine_rule(), tz, working, self.name)

    def _engine_windows(self):
        """Engine windows of these records, sharing one working-day memo per calendar; bad rules left out."""
        days, out = {}, []
        for window in self:
            engine = window._engine_window(days)
            try:
                engine.rule.check()
            except freeze.RuleError:
                continue
            out.append(engine)
        return out

    def _in_force_at(self, moment):
        self.ensure_one()
        aware = moment.replace(tzinfo=timezone.utc)
        return freeze.active_window(self._engine_windows(), aware) is not None

    # ------------------------------------------------------------------
    # what others call
    # ------------------------------------------------------------------
    @api.model
    def _covering(self, repository):
        """Active windows that cover ``repository`` (its company's, for all repositories or naming it)."""
        return (
            self.sudo()
            .search([("company_id", "=", repository.company_id.id)])
            .filtered(lambda w: not w.repository_ids or repository in w.repository_ids)
        )

    @api.model
    def _active_freeze(self, repository, moment=None):
        """The window in force for ``repository`` at ``moment`` (naive UTC, default now), or an empty recordset.

        A window with an emergency override in force at that moment does not count.
        """
        moment = moment or fields.Datetime.now()
        windows = self._covering(repository)
        windows -= windows.override_ids._in_force(moment).window_id
        found = freeze.active_window(windows._engine_windows(), moment.replace(tzinfo=timezone.utc))
        return self.browse(found.key) if found else self.browse()

    @api.model
    def _freeze_end(self, repository, moment=None):
        """When the freeze in force for ``repository`` ends (naive UTC), following chained windows; or False."""
        moment = moment or fields.Datetime.now()
        windows = self._covering(repository)
        windows -= windows.override_ids._in_force(moment).window_id
        end = freeze.next_end(windows._engine_windows(), moment.replace(tzinfo=timezone.utc))
        return end.replace(tzinfo=None) if end else False

    @api.model
    def _flag_if_frozen(self, record, repository, moment=None):
        """Note on ``record``'s chatter that it deploys during a freeze; True when it does.

        For deploy runs and deployments: ``record`` needs ``message_post``;
        when it has a ``freeze_window_id`` field the window is stored there
        (the dashboard counts those).
        """
        window = self._active_freeze(repository, moment)
        if not window:
            return False
        if "freeze_window_id" in record._fields:
            record.sudo().freeze_window_id = window
        body = _(
            "Deployed to production during the change freeze “%(window)s”. Check that it was agreed "
            "(an emergency override is recorded on the window).",
            window=window.name,
        )
        record.sudo().message_post(body=body, message_type="comment", subtype_xmlid="mail.mt_note")
        window.sudo().message_post(
            body=_("Deploy during the freeze: %(what)s", what=record.display_name),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return True
