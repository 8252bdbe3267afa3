from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const


class OpsScanSuppressWizard(models.TransientModel):
    """Suppress the selected findings' advisory (or rule) and package, with a reason and an expiry."""

    _name = "ops.scan.suppress.wizard"
    _description = "Suppress Scan Findings"

    finding_ids = fields.Many2many("ops.scan.finding", string="Findings", readonly=True)
    scope = fields.Selection(
        [
            ("advisory_package", "This advisory in this package"),
            ("advisory", "This advisory / rule everywhere"),
            ("package", "Everything in this package"),
        ],
        default="advisory_package",
        required=True,
    )
    all_repositories = fields.Boolean(help="Apply to every repository of the company, not only the findings' own")
    reason = fields.Text(required=True)
    expires_at = fields.Datetime(string="Expires", default=lambda self: fields.Datetime.now() + timedelta(days=90))

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "ops.scan.finding" and "finding_ids" in fields_list:
            values["finding_ids"] = [fields.Command.set(self.env.context.get("active_ids") or [])]
        return values

    def action_suppress(self):
        self.ensure_one()
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can suppress findings."))
        ecosystems = {key for key, _label in const.ECOSYSTEMS}
        wanted = {}
        for finding in self.finding_ids:
            advisory = finding.advisory_id if self.scope in ("advisory_package", "advisory") else ""
            package = finding.package if self.scope in ("advisory_package", "package") else ""
            if not advisory and not package:
                continue
            ecosystem = finding.ecosystem if package and finding.ecosystem in ecosystems else False
            repo = False if self.all_repositories else finding.repository_id.id
            wanted[(advisory, package, ecosystem, repo, finding.scan_type)] = finding.repository_id.company_id.id
        if not wanted:
            raise UserError(_("These findings name no advisory, rule or package to suppress."))
        self.env["ops.scan.suppression"].create(
            [
                {
                    "advisory": advisory or False,
                    "package": package or False,
                    "ecosystem": ecosystem,
                    "repository_id": repo,
                    "company_id": company,
                    "scan_type": scan_type,
                    "reason": self.reason,
                    "expires_at": self.expires_at,
                }
                for (advisory, package, ecosystem, repo, scan_type), company in wanted.items()
            ]
        )
        return {"type": "ir.actions.act_window_close"}
