from datetime import time

from odoo import _, api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import ValidationError

from .. import const
from ..autopilot.monitoring import alerts


class OpsHealthSilence(models.Model):
    """A silence (until a time) or a maintenance window (once or weekly) on one target or all.

    While one is active, checks still run and samples are stored, but no
    new incident opens and nothing is notified, remediated or escalated.
    """

    _name = "ops.health.silence"
    _description = "Silence / Maintenance Window"
    _order = "date_start desc, id desc"
    _rec_name = "reason"

    reason = fields.Char(required=True)
    kind = fields.Selection(
        [("silence", "Silence"), ("maintenance", "Maintenance window")], required=True, default="silence"
    )
    active = fields.Boolean(default=True)
    target_id = fields.Many2one(
        "ops.health.target", ondelete="cascade", index=True, help="Empty: every target of the company"
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    date_start = fields.Datetime(string="From", required=True, default=fields.Datetime.now)
    date_end = fields.Datetime(string="Until", help="Required for a one-off window; empty for a weekly one: forever")
    weekly = fields.Boolean(string="Every week", help="Repeats weekly between From and Until")
    weekday = fields.Selection(const.WEEKDAYS, string="Day", help="Day of the weekly window, in its time zone")
    time_from = fields.Float(string="At", help="Start time of the weekly window, in its time zone")
    tz = fields.Selection(
        _tz_get,
        string="Time zone",
        default=lambda self: self.env.user.tz or "UTC",
        help="The weekly window follows this zone's clock, summer time included (02:00 stays 02:00 local)",
    )
    duration_minutes = fields.Integer(string="Lasts (min)", default=60)
    is_active_now = fields.Boolean(string="In effect", compute="_compute_is_active_now")

    def _compute_is_active_now(self):
        now = fields.Datetime.now()
        for silence in self:
            silence.is_active_now = bool(silence._active_suppression(now))

    @api.constrains("date_start", "date_end", "weekly", "weekday", "time_from", "duration_minutes", "tz")
    def _check_window(self):
        for silence in self:
            if not silence.weekly and not silence.date_end:
                raise ValidationError(_("A one-off silence needs an end ('Until')."))
            if silence.date_end and silence.date_end <= silence.date_start:
                raise ValidationError(_("A silence must end after it starts."))
            if silence.weekly:
                if not silence.weekday:
                    raise ValidationError(_("A weekly window needs a day."))
                if not 0 <= silence.time_from < 24 or not 0 < silence.duration_minutes <= 7 * 24 * 60:
                    raise ValidationError(_("A weekly window starts between 0:00 and 24:00 and lasts up to a week."))

    @api.constrains("target_id", "company_id")
    def _check_company(self):
        for silence in self.filtered("target_id"):
            if silence.target_id.company_id != silence.company_id:
                raise ValidationError(_("A silence belongs to the company of its target."))

    def _engine_suppression(self):
        self.ensure_one()
        weekly = None
        if self.weekly and self.weekday:
            hours = int(self.time_from)
            minutes = min(round((self.time_from - hours) * 60), 59)
            weekly = alerts.WeeklyWindow(
                int(self.weekday), time(hours, minutes), self.duration_minutes * 60, tz=self.tz or "UTC"
            )
        return alerts.Suppression(
            start=self.date_start,
            end=self.date_end or None,
            reason=self.reason,
            kind=self.kind,
            weekly=weekly,
            created_by=self.create_uid.name,
        )

    def _active_suppression(self, now):
        """The silence among these that is in effect at ``now`` (the longest lasting), or an empty recordset."""
        engine = {}
        for silence in self:
            try:
                engine[silence._engine_suppression()] = silence
            except ValueError:
                continue  # an inconsistent record (bad window) never silences anything
        chosen = alerts.active_suppression(list(engine), now)
        return engine[chosen] if chosen is not None else self.browse()
