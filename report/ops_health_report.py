from odoo import _, api, models
from odoo.exceptions import AccessError


class ReportOpsHealth(models.AbstractModel):
    """QWeb values of the weekly health report (HTML and PDF), computed as the reading user."""

    _name = "report.ops_autopilot.report_ops_health"
    _description = "Ops Autopilot health report"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env.user.has_group("ops_autopilot.group_ops_user"):
            raise AccessError(_("Only Ops Autopilot users can read the health report."))
        filters = (data or {}).get("filters") or {"period": "7d"}
        return {
            "doc_ids": docids,
            "docs": [],
            "report": self.env["ops.health.report"]._report_data(filters),
            "pdf_unavailable": self.env["ir.actions.report"]._ops_pdf_unavailable_note(),
        }
