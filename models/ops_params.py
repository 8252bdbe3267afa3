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
    # True: every delivery waits for PostgreSQL's disk flush before GitHub is answered, even where
    # GitHub's delivery log could give it back after a crash (see autopilot/ingest/delivery_log.py)
    "delivery_ack_after_flush": False,
    # GitHub API
    "github_timeout_seconds": 15,
    "sync_lookback_days": 3,
    # AI code review and auto-fix; the API key is read by system code only
    "anthropic_api_key": "",
    "anthropic_base_url": "https://api.anthropic.com",
    "anthropic_model": "claude-sonnet-5-5",
    "anthropic_max_tokens": 4096,
    "anthropic_timeout_seconds": 60,
    "review_confidence_threshold": 0.85,
    "ai_monthly_token_budget": 2_000_000,
    "ai_input_price_per_mtok": 3.0,
    "ai_output_price_per_mtok": 15.0,
    "review_autofix_enabled": False,
    "ci_autofix_enabled": False,
    "review_bot_login": "",
    "review_batch_size": 10,
    "review_max_attempts": 5,
    "ci_fix_max_wait_hours": 6,
    # scheduled scans
    "scan_batch_size": 5,
    "scan_cron_budget_seconds": 60,
    "scan_http_timeout_seconds": 15,
    "scan_pypi_url": "https://pypi.org",
    "scan_npm_url": "https://registry.npmjs.org",
    "scan_osv_url": "https://api.osv.dev",
    "scan_max_open_update_prs": 5,
    "scan_min_release_age_days": 3,
    "scan_ignore_list": "",
    "scan_vulture_confidence": 60,
    "scan_regression_min_change_pct": 20.0,
    "scan_regression_recent_days": 7,
    "scan_regression_baseline_days": 28,
    # production monitoring; the routing key is read by system code only
    "probe_batch_size": 500,
    # checks wait on the network: a hanging target holds its thread for its whole timeout
    "probe_workers": 64,
    "sample_retention_days": 7,
    "hourly_rollup_retention_days": 180,
    "daily_rollup_retention_days": 1095,
    "remediation_dry_run": False,
    "paging_url": "https://events.pagerduty.com/v2/enqueue",
    "paging_routing_key": "",
    "escalation_github_delay_minutes": 10,
    "escalation_on_call_delay_minutes": 15,
    "escalation_page_delay_minutes": 15,
    # self-healing CI and change routing
    "ci_batch_size": 10,
    "ci_retry_initial_seconds": 30,
    # a timeout or resource exhaustion is re-run only when its diagnosis is at least this confident (calibrated)
    "ci_retry_min_confidence": 0.6,
    "ci_max_log_bytes": 8 * 1024 * 1024,
    # what CI, AI and incidents cost: default monthly budget per repository (USD), incident hourly cost
    "cost_default_budget": 0.0,
    "incident_hourly_cost": 0.0,
    # deployments
    "deployment_compare_batch_size": 20,
    # change freezes
    "freeze_release_batch_size": 20,
    "freeze_status_batch_size": 10,
    # DORA keys: hours after a production deploy a failed status, a rollback or an incident is blamed on it
    "dora_failure_window_hours": 24,
}


#: numeric settings where 0 is a choice (no AI spend, no update PRs, no wait, escalate at once, report
#: everything); for the others 0 would stop the work, and the settings form refuses it
ZERO_ALLOWED = frozenset(
    {
        "ai_monthly_token_budget",
        "ai_input_price_per_mtok",
        "ai_output_price_per_mtok",
        "scan_max_open_update_prs",
        "scan_min_release_age_days",
        "scan_vulture_confidence",
        "scan_regression_min_change_pct",
        "escalation_github_delay_minutes",
        "escalation_on_call_delay_minutes",
        "escalation_page_delay_minutes",
        "cost_default_budget",
        "incident_hourly_cost",
    }
)


def get_param(env, name):
    """Read a setting, cast to the type of its default; bad values fall back to the default."""
    default = DEFAULTS[name]
    raw = env["ir.config_parameter"].sudo().get_param(PREFIX + name)
    if raw in (None, False, ""):
        return default
    if isinstance(default, bool):
        # Odoo's settings store a ticked box as "True" and delete an unticked one; bool("False") is True
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        return default
