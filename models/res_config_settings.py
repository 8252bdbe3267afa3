from odoo import fields, models

from .ops_params import DEFAULTS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ops_delivery_batch_size = fields.Integer(
        string="Deliveries per batch",
        config_parameter="ops_autopilot.delivery_batch_size",
        default=DEFAULTS["delivery_batch_size"],
    )
    ops_delivery_max_attempts = fields.Integer(
        string="Processing attempts",
        config_parameter="ops_autopilot.delivery_max_attempts",
        default=DEFAULTS["delivery_max_attempts"],
    )
    ops_delivery_retention_days = fields.Integer(
        string="Keep processed deliveries (days)",
        config_parameter="ops_autopilot.delivery_retention_days",
        default=DEFAULTS["delivery_retention_days"],
    )
    ops_github_timeout_seconds = fields.Integer(
        string="GitHub API timeout (s)",
        config_parameter="ops_autopilot.github_timeout_seconds",
        default=DEFAULTS["github_timeout_seconds"],
    )
    ops_sync_lookback_days = fields.Integer(
        string="First sync looks back (days)",
        config_parameter="ops_autopilot.sync_lookback_days",
        default=DEFAULTS["sync_lookback_days"],
    )
