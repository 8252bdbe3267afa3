from odoo import fields, models

from .ops_params import DEFAULTS


class ResConfigSettings(models.TransientModel):
    """Settings of the scheduled scans; defaults come from ``ops_params.DEFAULTS``."""

    _inherit = "res.config.settings"

    ops_scan_pypi_url = fields.Char(
        string="PyPI JSON API", config_parameter="ops_autopilot.scan_pypi_url", default=DEFAULTS["scan_pypi_url"]
    )
    ops_scan_npm_url = fields.Char(
        string="npm registry", config_parameter="ops_autopilot.scan_npm_url", default=DEFAULTS["scan_npm_url"]
    )
    ops_scan_osv_url = fields.Char(
        string="OSV API", config_parameter="ops_autopilot.scan_osv_url", default=DEFAULTS["scan_osv_url"]
    )
    ops_scan_http_timeout_seconds = fields.Integer(
        string="Index/OSV timeout (s)",
        config_parameter="ops_autopilot.scan_http_timeout_seconds",
        default=DEFAULTS["scan_http_timeout_seconds"],
    )
    ops_scan_batch_size = fields.Integer(
        string="Repositories per batch",
        config_parameter="ops_autopilot.scan_batch_size",
        default=DEFAULTS["scan_batch_size"],
    )
    ops_scan_cron_budget_seconds = fields.Integer(
        string="Seconds per cron call",
        config_parameter="ops_autopilot.scan_cron_budget_seconds",
        default=DEFAULTS["scan_cron_budget_seconds"],
        help="A cron call starts no further scan after this long (the rest run in the next call); keep it well "
        "under the server's limit_time_real_cron",
    )
    ops_scan_max_open_update_prs = fields.Integer(
        string="Open update pull requests (max)",
        config_parameter="ops_autopilot.scan_max_open_update_prs",
        default=DEFAULTS["scan_max_open_update_prs"],
    )
    ops_scan_min_release_age_days = fields.Integer(
        string="Minimum release age (days)",
        config_parameter="ops_autopilot.scan_min_release_age_days",
        default=DEFAULTS["scan_min_release_age_days"],
        help="Releases younger than this are not proposed (hijacked packages show up in fresh releases first)",
    )
    ops_scan_ignore_list = fields.Char(
        string="Ignored updates",
        config_parameter="ops_autopilot.scan_ignore_list",
        help="Comma separated: django (all updates), django:major, lodash@>=5, @babel/core:minor,major",
    )
    ops_scan_vulture_confidence = fields.Integer(
        string="Dead code confidence (%)",
        config_parameter="ops_autopilot.scan_vulture_confidence",
        default=DEFAULTS["scan_vulture_confidence"],
    )
    ops_scan_regression_min_change_pct = fields.Float(
        string="Slowdown threshold (%)",
        config_parameter="ops_autopilot.scan_regression_min_change_pct",
        default=DEFAULTS["scan_regression_min_change_pct"],
    )
    ops_scan_regression_recent_days = fields.Integer(
        string="Recent window (days)",
        config_parameter="ops_autopilot.scan_regression_recent_days",
        default=DEFAULTS["scan_regression_recent_days"],
    )
    ops_scan_regression_baseline_days = fields.Integer(
        string="Baseline window (days)",
        config_parameter="ops_autopilot.scan_regression_baseline_days",
        default=DEFAULTS["scan_regression_baseline_days"],
    )
