from odoo import api, models

MAX_IMPACT_ROWS = 10


class OpsHealthReport(models.AbstractModel):
    """The weekly report's business impact section: one line per incident of the period with an impact."""

    _inherit = "ops.health.report"

    @api.model
    def _business_impact(self, scope):
        """``{available, rows}``: incidents open during the period whose business impact was measured."""
        Incident = self.env["ops.dashboard"]._readable("ops.incident")
        if Incident is None:
            return {"available": False, "rows": []}
        window = scope["window"]
        domain = [
            ("impact_updated_at", "!=", False),
            ("first_seen", "<", window.end),
            "|",
            ("resolved_at", "=", False),
            ("resolved_at", ">=", window.start),
            *self.env["ops.dashboard"]._incident_domain(scope),
        ]
        incidents = Incident.search(domain, order="impact_amount desc, impact_count desc, id", limit=MAX_IMPACT_ROWS)
        return {
            "available": True,
            "rows": [
                {
                    "name": incident.display_name,
                    "severity": incident.severity,
                    "state": dict(incident._fields["state"]._description_selection(self.env))[incident.state],
                    "opened": self._to_local_string(incident.first_seen, scope),
                    "impact": incident.impact_text or "",
                    "paged": incident.page_state != "none",
                }
                for incident in incidents
            ],
        }
