from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..autopilot.scans import records


class OpsMigrationDryRunWizard(models.TransientModel):
    """Dispatch the repository's migration workflow with inputs; the scan run records its outcome."""

    _name = "ops.migration.dry.run.wizard"
    _description = "Migration Dry-Run"

    repository_id = fields.Many2one("ops.repository", required=True)
    workflow_file = fields.Char(string="Workflow", required=True, help="File name, e.g. migration-dry-run.yml")
    ref = fields.Char(string="Branch", required=True)
    inputs = fields.Text(help="One name=value per line (or a JSON object): the workflow's inputs")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        repo_id = (
            self.env.context.get("active_id") if self.env.context.get("active_model") == "ops.repository" else None
        )
        repo = self.env["ops.repository"].browse(repo_id or values.get("repository_id")).exists()
        if repo:
            values.setdefault("repository_id", repo.id)
            values.setdefault("workflow_file", repo.migration_workflow or "migration-dry-run.yml")
            values.setdefault("ref", repo.default_branch)
        return values

    @api.onchange("repository_id")
    def _onchange_repository_id(self):
        if self.repository_id:
            self.workflow_file = self.repository_id.migration_workflow or self.workflow_file
            self.ref = self.repository_id.default_branch

    def action_dispatch(self):
        self.ensure_one()
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can dispatch workflows."))
        try:
            inputs = records.parse_workflow_inputs(self.inputs)
        except ValueError as exc:
            raise UserError(_("Workflow inputs: %s", exc)) from exc
        run = (
            self.env["ops.scan.run"]
            .sudo()
            .create(
                {
                    "scan_type": "migration_dry_run",
                    "repository_id": self.repository_id.id,
                    "trigger": "manual",
                    "user_id": self.env.uid,
                    "workflow_file": self.workflow_file.strip(),
                    "workflow_ref": self.ref.strip(),
                    "workflow_inputs": inputs,
                }
            )
        )
        run._execute(commit=False)
        return {
            "type": "ir.actions.act_window",
            "res_model": "ops.scan.run",
            "res_id": run.id,
            "views": [(False, "form")],
            "target": "current",
        }
