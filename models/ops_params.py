"""Settings stored as ``ir.config_parameter`` (``ops_autopilot.<name>``), with their defaults.

One table of defaults serves the settings screen, the data file and the
code, so a default is written once.
"""

PREFIX = "ops_autopilot."

DEFAULTS = {
    # webhook deliveries
    "delivery_batch_size": 200,
    "delivery_max_attempts": 5,
    "delivery_retry_initial_seconds": 60,
    "delivery_retry_max_seconds": 3600,
    "delivery_retention_days": 30,
    # GitHub API
    "github_timeout_seconds": 15,
    "sync_lookback_days": 3,
}


def get_param(env, name):
    """Read a setting, cast to the type of its default; bad values fall back to the default."""
    default = DEFAULTS[name]
    raw = env["ir.config_parameter"].sudo().get_param(PREFIX + name)
    if raw in (None, False, ""):
        return default
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        return default
