from odoo import api, models

#: the addon's PDF reports: printed as HTML, with a note, when this server cannot make a PDF
OPS_PDF_REPORTS = ("ops_autopilot.report_ops_health", "ops_autopilot.report_license_compliance")
#: states of Odoo's wkhtmltopdf check in which a PDF can be printed
PDF_READY_STATES = ("ok", "upgrade")


class IrActionsReport(models.Model):
    """PDF availability of the addon's reports, from Odoo's own check (``get_wkhtmltopdf_state``).

    Without a usable wkhtmltopdf Odoo answers ``/report/pdf`` with an error: the addon's report
    actions then open the HTML report, which says why there is no PDF and how to get one.
    """

    _inherit = "ir.actions.report"

    @api.model
    def _ops_pdf_unavailable_note(self):
        """Why this server cannot print a PDF and what to do, or an empty string when it can."""
        state = self.get_wkhtmltopdf_state()
        if state in PDF_READY_STATES:
            return ""
        if state == "workers":
            return self.env._(
                "PDF is not available on this server: Odoo runs with a single worker and printing a PDF "
                "needs at least two. This is the HTML report; start Odoo with --workers=2 or more (or "
                "without workers) to print it as PDF."
            )
        if state == "broken":
            return self.env._(
                "PDF is not available on this server: wkhtmltopdf is installed but does not run. This is "
                "the HTML report; reinstall wkhtmltopdf and restart Odoo to print it as PDF."
            )
        return self.env._(
            "PDF is not available on this server: wkhtmltopdf is not installed. This is the HTML report; "
            "install wkhtmltopdf (Debian/Ubuntu: apt-get install wkhtmltopdf) and restart Odoo to print "
            "it as PDF."
        )

    def report_action(self, docids, data=None, config=True):
        action = super().report_action(docids, data=data, config=config)
        if self.report_type == "qweb-pdf" and self.report_name in OPS_PDF_REPORTS and self._ops_pdf_unavailable_note():
            action["report_type"] = "qweb-html"
        return action
