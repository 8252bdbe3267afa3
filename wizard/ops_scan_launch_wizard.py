from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const


class OpsScanLaunchWizard(models.TransientModel):
    """Run now: queue scans of the chosen types for the chosen repositories (the cron runs them at once)."""

    _name = "ops.scan.launch.wizard"
    _description = "Run Scans Now"

    repository_ids = fields.Many2many("ops.repository", string="Repositories", required=True)
    dependency_updates = fields.Boolean(default=True)
    security = fields.Boolean(default=True)
    performance_regression = fields.Boolean()
    dead_code = fields.Boolean()
    license_compliance = fields.Boolean()

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "ops.repository" and "repository_ids" in fields_list:
            values["repository_ids"] = [fields.Command.set(self.env.context.get("active_ids") or [])]
        return values

    def action_launch(self):
        self.ensure_one()
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can run scans."))
        types = [scan_type for scan_type in const.SCHEDULED_SCAN_TYPES if self[scan_type]]
        if not types:
            raise UserError(_("Choose at least one scan."))
        Run = self.env["ops.scan.run"].sudo()
        runs = Run.browse()
        for scan_type in types:
            runs |= Run._enqueue(self.repository_ids, scan_type, "manual", user=self.env.user)
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_scan_run_action")
        action["domain"] = [("repository_id", "in", self.repository_ids.ids), ("state", "in", ("queued", "running"))]
        action["context"] = {}
        return action
