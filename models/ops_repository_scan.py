from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..autopilot.scans.dependencies import DEFAULT_MANIFESTS


class OpsRepository(models.Model):
    """What the scheduled scans need to know about a repository, and their buttons."""

    _inherit = "ops.repository"

    scan_enabled = fields.Boolean(string="Scheduled scans", default=True)
    scan_manifest_paths = fields.Char(
        string="Dependency manifests",
        default=", ".join(DEFAULT_MANIFESTS),
        help="Files read at the default branch head, comma separated; a * in a file name matches every file of "
        "that folder (requirements*.txt, ci/requirements-*.txt); -r includes are followed",
    )
    scan_report_workflow = fields.Char(
        string="Scanner workflow",
        help="Workflow file (security.yml) whose latest successful run uploads scanner reports as an artifact",
    )
    scan_report_artifact = fields.Char(
        string="Report artifact", default="security-reports", help="Name of that run's artifact"
    )
    migration_workflow = fields.Char(
        string="Migration workflow",
        default="migration-dry-run.yml",
        help="Workflow file dispatched by the migration dry-run button",
    )
    scan_run_ids = fields.One2many("ops.scan.run", "repository_id", readonly=True)
    scan_finding_ids = fields.One2many("ops.scan.finding", "repository_id", readonly=True)
    open_finding_count = fields.Integer(compute="_compute_scan_counts")
    high_finding_count = fields.Integer(compute="_compute_scan_counts")
    scan_run_count = fields.Integer(compute="_compute_scan_counts")

    def _compute_scan_counts(self):
        Finding = self.env["ops.scan.finding"]
        groups = Finding._read_group(
            [("repository_id", "in", self.ids), ("status", "=", "open")], ["repository_id", "severity"], ["__count"]
        )
        opened, high = {}, {}
        for repo, severity, count in groups:
            opened[repo.id] = opened.get(repo.id, 0) + count
            if severity in ("high", "critical"):
                high[repo.id] = high.get(repo.id, 0) + count
        runs = dict(
            self.env["ops.scan.run"]._read_group([("repository_id", "in", self.ids)], ["repository_id"], ["__count"])
        )
        for repo in self:
            repo.open_finding_count = opened.get(repo.id, 0)
            repo.high_finding_count = high.get(repo.id, 0)
            repo.scan_run_count = runs.get(repo, 0)

    def _manifest_paths(self):
        self.ensure_one()
        paths = [p.strip() for p in (self.scan_manifest_paths or "").replace("\n", ",").split(",") if p.strip()]
        return tuple(paths) or DEFAULT_MANIFESTS

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_view_scan_runs(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_scan_run_action")
        action["domain"] = [("repository_id", "in", self.ids)]
        action["context"] = {}
        return action

    def action_view_findings(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_scan_finding_action")
        action["domain"] = [("repository_id", "in", self.ids)]
        return action

    def _scan_wizard(self, model, name):
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can run scans."))
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids, "active_id": self[:1].id},
        }

    def action_run_scans(self):
        return self._scan_wizard("ops.scan.launch.wizard", _("Run scans now"))

    def action_migration_dry_run(self):
        self.ensure_one()
        return self._scan_wizard("ops.migration.dry.run.wizard", _("Migration dry-run"))
