from odoo import api, fields, models

from ..autopilot.delivery import cost
from .ops_params import get_param


class OpsIncident(models.Model):
    """What an incident costs: its duration (to resolution, or so far) times the hourly cost of an incident.

    The hourly cost is a setting in the company's currency (0: incidents are
    not priced). Computed on read, so a new hourly cost applies to every
    incident at once; sums over many incidents are computed from the stored
    ``time_to_resolve`` (see ``ops.dashboard._cost_data``), never per record.
    """

    _inherit = "ops.incident"

    cost_currency_id = fields.Many2one("res.currency", related="company_id.currency_id", string="Cost currency")
    cost = fields.Monetary(
        currency_field="cost_currency_id",
        compute="_compute_cost",
        help="Duration (opening to resolution, or to now while open) x the hourly incident cost of the settings",
    )

    @api.depends("time_to_resolve", "first_seen", "resolved_at")
    def _compute_cost(self):
        hourly = get_param(self.env, "incident_hourly_cost")
        now = fields.Datetime.now()
        for incident in self:
            if incident.resolved_at:
                minutes = incident.time_to_resolve
            else:
                minutes = (now - incident.first_seen).total_seconds() / 60.0 if incident.first_seen else 0.0
            incident.cost = cost.incident_cost(minutes, hourly)
