"""The addon as installed: dependencies declared once, demo data, crons."""

import ast
from pathlib import Path

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..models.ops_params import DEFAULTS, get_param

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


@tagged("post_install", "-at_install")
class TestSettingsForm(TransactionCase):
    """What the settings form saves is what the code reads, zeros included."""

    def save(self, **values):
        self.env["res.config.settings"].create(values).execute()

    def test_a_zero_that_is_a_choice_is_kept(self):
        self.save(ops_ai_monthly_token_budget=0, ops_scan_max_open_update_prs=0, ops_escalation_page_delay_minutes=0)
        self.assertEqual(get_param(self.env, "ai_monthly_token_budget"), 0, "no AI spend, not the 2M default")
        self.assertEqual(get_param(self.env, "scan_max_open_update_prs"), 0)
        self.assertEqual(get_param(self.env, "escalation_page_delay_minutes"), 0)
        self.assertEqual(self.env["res.config.settings"].create({}).ops_ai_monthly_token_budget, 0, "the form shows it")
        self.save(ops_ai_monthly_token_budget=500_000)
        self.assertEqual(get_param(self.env, "ai_monthly_token_budget"), 500_000)

    def test_a_zero_or_a_negative_that_would_stop_the_work_is_refused(self):
        refused = [{"ops_delivery_batch_size": 0}, {"ops_probe_workers": 0}]
        refused.append({"ops_escalation_github_delay_minutes": -5})
        for values in refused:
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.save(**values)
        self.assertEqual(get_param(self.env, "delivery_batch_size"), DEFAULTS["delivery_batch_size"])

    def test_a_ticked_box_reads_true_and_an_unticked_one_false(self):
        self.assertFalse(get_param(self.env, "delivery_ack_after_flush"))
        self.save(ops_delivery_ack_after_flush=True)
        self.assertIs(get_param(self.env, "delivery_ack_after_flush"), True)
        self.save(ops_delivery_ack_after_flush=False)
        self.assertIs(get_param(self.env, "delivery_ack_after_flush"), False)
        # written by hand (ir.config_parameter, a script): "False" is not a ticked box
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.delivery_ack_after_flush", "False")
        self.assertIs(get_param(self.env, "delivery_ack_after_flush"), False)
