from odoo import fields, models

from .ops_params import DEFAULTS

P = "ops_autopilot."


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ops_probe_batch_size = fields.Integer(
        string="Targets per batch", config_parameter=P + "probe_batch_size", default=DEFAULTS["probe_batch_size"]
    )
    ops_probe_workers = fields.Integer(
        string="Concurrent checks", config_parameter=P + "probe_workers", default=DEFAULTS["probe_workers"]
    )
    ops_sample_retention_days = fields.Integer(
        string="Keep raw samples (days)",
        config_parameter=P + "sample_retention_days",
        default=DEFAULTS["sample_retention_days"],
    )
    ops_hourly_rollup_retention_days = fields.Integer(
        string="Keep hourly rollups (days)",
        config_parameter=P + "hourly_rollup_retention_days",
        default=DEFAULTS["hourly_rollup_retention_days"],
    )
    ops_daily_rollup_retention_days = fields.Integer(
        string="Keep daily rollups (days)",
        config_parameter=P + "daily_rollup_retention_days",
        default=DEFAULTS["daily_rollup_retention_days"],
    )
    ops_remediation_dry_run = fields.Boolean(
        string="Remediation dry run",
        config_parameter=P + "remediation_dry_run",
        help="Record every remediation action without running any (all policies)",
    )
    ops_paging_url = fields.Char(
        string="Paging endpoint", config_parameter=P + "paging_url", default=DEFAULTS["paging_url"]
    )
    ops_paging_routing_key = fields.Char(
        string="Default routing key",
        config_parameter=P + "paging_routing_key",
        groups="base.group_system",
        help="PagerDuty Events v2 integration key used when a target has none",
    )
    ops_escalation_github_delay_minutes = fields.Integer(
        string="GitHub issue after (min)",
        config_parameter=P + "escalation_github_delay_minutes",
        default=DEFAULTS["escalation_github_delay_minutes"],
    )
    ops_escalation_on_call_delay_minutes = fields.Integer(
        string="Then on-call after (min)",
        config_parameter=P + "escalation_on_call_delay_minutes",
        default=DEFAULTS["escalation_on_call_delay_minutes"],
    )
    ops_escalation_page_delay_minutes = fields.Integer(
        string="Then page after (min)",
        config_parameter=P + "escalation_page_delay_minutes",
        default=DEFAULTS["escalation_page_delay_minutes"],
    )
