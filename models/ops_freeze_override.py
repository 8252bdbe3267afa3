from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError


class OpsFreezeOverride(models.Model):
    """An emergency override of a change freeze: the window does not hold anything until ``date_until``.

    Only Ops Managers create one, with a reason; who and when are recorded
    here and in the window's chatter. Overrides are never edited: a new one
    is recorded instead, so the history stays whole.
    """

    _name = "ops.freeze.override"
    _description = "Change Freeze Override"
    _order = "date_from desc, id desc"
    _rec_name = "reason"

    window_id = fields.Many2one("ops.freeze.window", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="window_id.company_id", store=True, index=True)
    reason = fields.Text(required=True)
    user_id = fields.Many2one(
        "res.users", string="By", required=True, readonly=True, default=lambda self: self.env.user, index=True
    )
    date_from = fields.Datetime(string="From", required=True, readonly=True, default=fields.Datetime.now)
    date_until = fields.Datetime(string="Until", required=True)
    in_force = fields.Boolean(compute="_compute_in_force")

    def _compute_in_force(self):
        now = fields.Datetime.now()
        for override in self:
            override.in_force = override.date_from <= now < override.date_until

    @api.constrains("date_from", "date_until", "reason")
    def _check_override(self):
        for override in self:
            if override.date_until <= override.date_from:
                raise ValidationError(_("An override must end after it starts."))
            if not (override.reason or "").strip():
                raise ValidationError(_("An override needs a reason."))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only an Ops Manager can override a change freeze."))
        for vals in vals_list:
            vals["user_id"] = self.env.uid  # who overrode is never chosen by the form
            vals.pop("date_from", None)
        overrides = super().create(vals_list)
        for override in overrides:
            override.window_id.message_post(
                body=_(
                    "Emergency override by %(user)s until %(until)s: %(reason)s",
                    user=override.user_id.name,
                    until=fields.Datetime.to_string(override.date_until),
                    reason=override.reason,
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self.env["ops.freeze.hold"]._freeze_changed()
        return overrides

    def write(self, vals):
        if set(vals) - {"date_until"}:
            raise AccessError(_("An override is not edited: record a new one (the history stays whole)."))
        if not self.env.su and not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only an Ops Manager can change a freeze override."))
        result = super().write(vals)
        for override in self:
            override.window_id.message_post(
                body=_(
                    "Override by %(user)s now ends at %(until)s (changed by %(by)s).",
                    user=override.user_id.name,
                    until=fields.Datetime.to_string(override.date_until),
                    by=self.env.user.name,
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        self.env["ops.freeze.hold"]._freeze_changed()
        return result

    def _in_force(self, moment):
        return self.filtered(lambda o: o.date_from <= moment < o.date_until)
