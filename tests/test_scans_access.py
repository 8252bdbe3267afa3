"""Who may see and do what with scans; the crons' schedule."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..models.ops_scan_run import CRON_XMLIDS
from .scans_common import ScanCase

SCAN_MODELS = ("ops.scan.run", "ops.scan.finding", "ops.scan.suppression", "ops.license.policy")


@tagged("post_install", "-at_install")
class TestScanAccess(ScanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "scan_ops_user", groups="ops_autopilot.group_ops_user")
        cls.manager = new_test_user(cls.env, "scan_ops_manager", groups="ops_autopilot.group_ops_manager")
        cls.employee = new_test_user(cls.env, "scan_employee", groups="base.group_user")

    def test_ops_user_reads_but_cannot_configure_or_run(self):
        self.Suppression.create({"advisory": "PYSEC-2021-439", "reason": "not deployed"})
        self.run_cron("security")
        finding = self.findings(advisory_id="GHSA-35jh-r3h4-6jhm").with_user(self.user)
        self.assertEqual(finding.severity, "high")
        self.assertTrue(finding.last_run_id.summary)
        for model in SCAN_MODELS:
            self.assertTrue(self.env[model].with_user(self.user).search([]), model)
        with self.assertRaises(AccessError):
            self.env["ops.scan.suppression"].with_user(self.user).create({"advisory": "X", "reason": "no"})
        with self.assertRaises(AccessError):
            self.env.ref("ops_autopilot.license_policy_mit").with_user(self.user).verdict = "denied"
        with self.assertRaises(AccessError):
            finding.action_suppress()
        with self.assertRaises(AccessError):
            finding.action_ignore()
        with self.assertRaises(AccessError):
            self.repo.with_user(self.user).action_run_scans()
        with self.assertRaises(AccessError):
            self.env["ops.scan.launch.wizard"].with_user(self.user).create({"repository_ids": self.repo.ids})
        with self.assertRaises(AccessError):
            finding.last_run_id.action_retry()

    def test_manager_configures_suppressions_and_the_policy(self):
        self.run_cron("security")
        finding = self.findings(advisory_id="GHSA-35jh-r3h4-6jhm").with_user(self.manager)
        action = finding.action_suppress()
        wizard = self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"])
        wizard.create({"reason": "accepted risk"}).action_suppress()
        self.assertEqual(finding.status, "suppressed")
        self.env.ref("ops_autopilot.license_policy_mit").with_user(self.manager).note = "fine"
        self.env["ops.license.policy"].with_user(self.manager).create({"spdx_id": "WTFPL", "verdict": "review"})
        self.repo.with_user(self.manager).action_run_scans()

    def test_outsiders_see_nothing(self):
        for model in SCAN_MODELS:
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.employee).search([])

    def test_companies_do_not_see_each_others_scans(self):
        self.run_cron("security")
        other = self.env["res.company"].create({"name": "Scan Other Co"})
        stranger = new_test_user(
            self.env, "scan_other", groups="ops_autopilot.group_ops_user", company_id=other.id, company_ids=[other.id]
        )
        for model in ("ops.scan.run", "ops.scan.finding"):
            seen = self.env[model].with_user(stranger).search([("repository_id", "=", self.repo.id)])
            self.assertFalse(seen, model)

    def test_crons_follow_the_published_schedule(self):
        expected = {
            "dependency_updates": ("days", lambda d: d.hour == 2),
            "security": ("days", lambda d: d.hour == 2),
            "performance_regression": ("weeks", lambda d: d.weekday() == 6 and d.hour == 3),
            "dead_code": ("weeks", lambda d: d.weekday() == 6 and d.hour == 3),
            "license_compliance": ("months", lambda d: d.day == 1 and d.hour == 4),
        }
        for scan_type, (interval, when) in expected.items():
            cron = self.env.ref(CRON_XMLIDS[scan_type])
            with self.subTest(scan_type=scan_type):
                self.assertTrue(cron.active)
                self.assertEqual((cron.interval_number, cron.interval_type), (1, interval))
                self.assertTrue(when(cron.nextcall), cron.nextcall)
                self.assertEqual((cron.nextcall.minute, cron.nextcall.second), (0, 0))

    def test_demo_scans_and_their_report(self):
        run = self.env.ref("ops_autopilot.scan_run_license_demo", raise_if_not_found=False)
        if not run:
            self.skipTest("installed without demo data")
        html = (
            self.env["ir.actions.report"]
            .with_user(self.user)
            ._render_qweb_html("ops_autopilot.report_license_compliance", run.ids)[0]
        )
        self.assertIn("ghostscript-wrapper", html.decode())
        repo = self.env.ref("ops_autopilot.ops_repository_erp_demo")
        states = set(self.Run.search([("repository_id", "=", repo.id)]).mapped("state"))
        self.assertTrue({"done", "failed"} <= states, states)
        self.assertEqual(self.env.ref("ops_autopilot.scan_finding_django_demo").status, "suppressed")
