from odoo import api, fields, models

from .ops_params import DEFAULTS, get_param


class ResConfigSettings(models.TransientModel):
    """Settings of the AI code review and auto-fix.

    The API key is a ``base.group_system`` field: Ops Managers configure the
    rest of the block without ever reading it.
    """

    _inherit = "res.config.settings"

    ops_anthropic_api_key = fields.Char(
        string="Anthropic API key", config_parameter="ops_autopilot.anthropic_api_key", groups="base.group_system"
    )
    ops_anthropic_base_url = fields.Char(
        string="Anthropic API URL",
        config_parameter="ops_autopilot.anthropic_base_url",
        default=DEFAULTS["anthropic_base_url"],
    )
    ops_anthropic_model = fields.Char(
        string="Claude model", config_parameter="ops_autopilot.anthropic_model", default=DEFAULTS["anthropic_model"]
    )
    ops_anthropic_max_tokens = fields.Integer(
        string="Max answer tokens",
        config_parameter="ops_autopilot.anthropic_max_tokens",
        default=DEFAULTS["anthropic_max_tokens"],
    )
    ops_review_confidence_threshold = fields.Float(
        string="Confidence threshold",
        config_parameter="ops_autopilot.review_confidence_threshold",
        default=DEFAULTS["review_confidence_threshold"],
        help="Findings at or above it are posted inline; patches at or above it are auto-fixed.",
    )
    ops_ai_monthly_token_budget = fields.Integer(
        string="Monthly token budget",
        config_parameter="ops_autopilot.ai_monthly_token_budget",
        default=DEFAULTS["ai_monthly_token_budget"],
        help="Input + output tokens per calendar month (UTC); AI calls stop when it is spent. 0 disables AI calls.",
    )
    ops_ai_input_price_per_mtok = fields.Float(
        string="Input price (USD / million tokens)",
        config_parameter="ops_autopilot.ai_input_price_per_mtok",
        default=DEFAULTS["ai_input_price_per_mtok"],
    )
    ops_ai_output_price_per_mtok = fields.Float(
        string="Output price (USD / million tokens)",
        config_parameter="ops_autopilot.ai_output_price_per_mtok",
        default=DEFAULTS["ai_output_price_per_mtok"],
    )
    ops_review_autofix_enabled = fields.Boolean(
        string="Auto-fix review findings", config_parameter="ops_autopilot.review_autofix_enabled"
    )
    ops_ci_autofix_enabled = fields.Boolean(
        string="Auto-fix CI failures", config_parameter="ops_autopilot.ci_autofix_enabled"
    )
    ops_review_bot_login = fields.Char(
        string="Bot login",
        config_parameter="ops_autopilot.review_bot_login",
        help="GitHub login of the token's account: only its comment is taken as the sticky review comment.",
    )
    ops_ai_tokens_this_month = fields.Integer(string="Tokens used this month", compute="_compute_ops_ai_spend")
    ops_ai_cost_this_month = fields.Float(
        string="Cost this month (USD)", digits=(12, 2), compute="_compute_ops_ai_spend"
    )
    ops_ai_budget_left = fields.Integer(string="Tokens left this month", compute="_compute_ops_ai_spend")

    @api.depends("ops_ai_monthly_token_budget")
    def _compute_ops_ai_spend(self):
        Review = self.env["ops.review"].sudo()
        used = Review._tokens_used_this_month()
        groups = Review._read_group([("ai_called_at", ">=", Review._month_start())], [], ["cost:sum"])
        cost = (groups[0][0] if groups else 0.0) or 0.0
        for settings in self:
            settings.ops_ai_tokens_this_month = used
            settings.ops_ai_cost_this_month = cost
            settings.ops_ai_budget_left = max(settings.ops_ai_monthly_token_budget - used, 0)

    def set_values(self):
        before = (get_param(self.env, "anthropic_api_key"), get_param(self.env, "ai_monthly_token_budget"))
        result = super().set_values()
        after = (get_param(self.env, "anthropic_api_key"), get_param(self.env, "ai_monthly_token_budget"))
        if after != before and all(after):
            self.env["ops.review"]._requeue_for_settings()
        return result
