from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ops_delivery_batch_size = fields.Integer(
        string="Deliveries per batch", config_parameter="ops_autopilot.delivery_batch_size", default=200
    )
    ops_delivery_max_attempts = fields.Integer(
        string="Processing attempts", config_parameter="ops_autopilot.delivery_max_attempts", default=5
    )
    ops_delivery_retention_days = fields.Integer(
        string="Keep processed deliveries (days)", config_parameter="ops_autopilot.delivery_retention_days", default=30
    )
    ops_github_timeout_seconds = fields.Integer(
        string="GitHub API timeout (s)", config_parameter="ops_autopilot.github_timeout_seconds", default=15
    )
    ops_sync_lookback_days = fields.Integer(
        string="First sync looks back (days)", config_parameter="ops_autopilot.sync_lookback_days", default=3
    )
