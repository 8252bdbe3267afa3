from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

from ..autopilot.scans import licenses

#: worst first
VERDICT_ORDER = tuple(reversed(licenses.VERDICTS))


class ReportLicenseCompliance(models.AbstractModel):
    """QWeb values of the monthly license compliance report of a repository (one license scan run)."""

    _name = "report.ops_autopilot.report_license_compliance"
    _description = "Ops Autopilot license compliance report"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env.user.has_group("ops_autopilot.group_ops_user"):
            raise AccessError(_("Only Ops Autopilot users can read compliance reports."))
        runs = self.env["ops.scan.run"].browse(docids).exists()
        runs.check_access("read")
        runs = runs.filtered(lambda r: r.scan_type == "license_compliance" and r.state == "done")
        if not runs:
            raise UserError(_("Only a finished license compliance scan has a compliance report."))
        return {
            "doc_ids": runs.ids,
            "doc_model": "ops.scan.run",
            "docs": runs,
            "reports": self._reports(runs),
            "pdf_unavailable": self.env["ir.actions.report"]._ops_pdf_unavailable_note(),
        }

    @api.model
    def _reports(self, runs):
        reports = {}
        for run in runs:
            stats = run.stats or {}
            counts = stats.get("counts") or {}
            packages = [
                {"ecosystem": row[0], "name": row[1], "version": row[2], "license": row[3], "verdict": row[4]}
                for row in stats.get("packages") or []
                if isinstance(row, list) and len(row) == 5
            ]
            packages.sort(
                key=lambda p: (
                    VERDICT_ORDER.index(p["verdict"]) if p["verdict"] in VERDICT_ORDER else 9,
                    str(p["ecosystem"]),
                    str(p["name"]).lower(),
                )
            )
            findings = run.finding_ids.filtered(lambda f: f.status != "fixed")
            reports[run.id] = {
                "period": stats.get("period") or "",
                "total": stats.get("total", len(packages)),
                "counts": [(verdict, counts.get(verdict, 0)) for verdict in VERDICT_ORDER],
                "by_license": sorted((stats.get("by_license") or {}).items(), key=lambda kv: (-kv[1], kv[0])),
                "packages": packages,
                "listed": len(packages),
                "suppressed": findings.filtered(lambda f: f.status in ("suppressed", "ignored")),
            }
        return reports
