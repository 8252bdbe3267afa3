from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    ops_report_subscribed = fields.Boolean(
        string="Weekly ops health report",
        help="Email me the Ops Autopilot weekly health report (PDF) every Monday.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return [*super().SELF_READABLE_FIELDS, "ops_report_subscribed"]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return [*super().SELF_WRITEABLE_FIELDS, "ops_report_subscribed"]
