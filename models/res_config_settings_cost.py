from odoo import fields, models

from .ops_params import DEFAULTS


class ResConfigSettings(models.TransientModel):
    """Settings of what CI, AI and incidents cost: the default monthly budget and an incident's hourly cost."""

    _inherit = "res.config.settings"

    ops_cost_default_budget = fields.Float(
        string="Default monthly budget (USD)",
        config_parameter="ops_autopilot.cost_default_budget",
        default=DEFAULTS["cost_default_budget"],
        help="CI minutes + AI calls per repository and calendar month, for repositories without a budget of"
        " their own. 0: no budget.",
    )
    ops_incident_hourly_cost = fields.Float(
        string="Hourly cost of an incident",
        config_parameter="ops_autopilot.incident_hourly_cost",
        default=DEFAULTS["incident_hourly_cost"],
        help="In the company's currency: an incident costs its duration times this. 0: incidents are not priced.",
    )
    ops_cost_company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
