"""The addon as installed: dependencies declared once, demo data, crons."""

import ast
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parent.parent


@tagged("post_install", "-at_install")
class TestSetup(TransactionCase):
    def test_requirements_and_manifest_declare_the_same_packages(self):
        manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
        lines = [
            line.split("#")[0].strip()
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()
        ]
        self.assertEqual(sorted(manifest["external_dependencies"]["python"]), sorted(lines))

    def test_demo_shows_successful_failed_and_running_workflows(self):
        repo = self.env.ref("ops_autopilot.ops_repository_erp_demo", raise_if_not_found=False)
        if not repo:
            self.skipTest("installed without demo data")
        outcomes = set(self.env["ops.workflow.run"].search([("repository_id", "=", repo.id)]).mapped("outcome"))
        self.assertTrue({"success", "failure", "running"} <= outcomes, outcomes)

    def test_crons_are_active_and_scheduled(self):
        for xmlid in (
            "ops_autopilot.ir_cron_process_webhook_deliveries",
            "ops_autopilot.ir_cron_sync_from_github",
            "ops_autopilot.ir_cron_purge_webhook_deliveries",
        ):
            cron = self.env.ref(xmlid)
            self.assertTrue(cron.active, xmlid)
