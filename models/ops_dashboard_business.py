from odoo import api, fields, models

from ..autopilot.business import impact
from .ops_dashboard import LIST_LIMIT


class OpsDashboard(models.AbstractModel):
    """The dashboard's business panel (data key ``business``): signals against their baselines, incidents' impact."""

    _inherit = "ops.dashboard"

    @api.model
    def _business_panel(self, scope):
        """Signals (observed vs baseline of their last interval) and open incidents with a business impact.

        As the calling user: a user who may not read signals or incidents gets
        ``available: False`` for that part.
        """
        Signal = self._readable("ops.business.signal")
        Incident = self._readable("ops.incident")
        if Signal is None:
            return {"available": False, "signals": [], "incidents": []}
        signal_rows = [
            {
                "id": signal.id,
                "name": signal.name,
                "state": signal.state,
                "unit": signal.unit_label or "",
                "observed": signal.last_observed,
                "baseline": round(signal.last_baseline, 1),
                "summary": signal.summary,
                "last_check": fields.Datetime.to_string(signal.last_check) if signal.last_check else False,
                "error": bool(signal.last_error),
            }
            for signal in Signal.search([], order="state desc, sequence, id", limit=LIST_LIMIT)
        ]
        incident_rows = []
        if Incident is not None:
            domain = [("state", "!=", "resolved"), ("impact_updated_at", "!=", False), *self._incident_domain(scope)]
            for incident in Incident.search(domain, order="impact_amount desc, impact_count desc", limit=LIST_LIMIT):
                incident_rows.append(
                    {
                        "id": incident.id,
                        "name": incident.display_name,
                        "severity": incident.severity,
                        "impact": incident.impact_text or "",
                        "count": impact.display_round(incident.impact_count),
                    }
                )
        return {
            "available": True,
            "signals": signal_rows,
            "incidents": incident_rows,
            "action": self._records_action(self.env._("Business signals"), "ops.business.signal", []),
        }
