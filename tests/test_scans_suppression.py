"""Suppressions: a reason and an expiry; an expired suppression shows its findings again."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .scans_common import ScanCase

LODASH = "GHSA-35jh-r3h4-6jhm"


@tagged("post_install", "-at_install")
class TestSuppressions(ScanCase):
    def test_suppressed_advisory_raises_nothing_until_the_suppression_expires(self):
        suppression = self.Suppression.create(
            {
                "advisory": "CVE-2021-23337",  # an alias of the OSV id: the engine matches aliases
                "repository_id": self.repo.id,
                "reason": "template() is never called with user input",
                "expires_at": fields.Datetime.now() + timedelta(days=30),
            }
        )
        self.assertEqual(suppression.user_id, self.env.user)
        run = self.run_cron("security")
        lodash = self.findings(advisory_id=LODASH)
        self.assertEqual((lodash.status, lodash.suppression_id), ("suppressed", suppression))
        self.assertEqual(run.stats["suppressed"], 1)
        self.assertFalse(lodash.incident_id, "a suppressed advisory pages nobody")
        self.assertFalse(self.gh.calls("POST", r"/repos/acme/erp/issues$"))
        self.assertEqual(suppression.finding_count, 1)

        # time passes: the suppression expires without anyone touching it
        self.env.cr.execute(
            "UPDATE ops_scan_suppression SET expires_at = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(minutes=1), suppression.id),
        )
        self.env.invalidate_all()
        self.assertFalse(suppression.in_force)
        self.assertIn(suppression, self.Suppression.search([("in_force", "=", False)]))
        self.run_cron("security")
        self.assertEqual(lodash.status, "open", "shows again")
        self.assertTrue(lodash.incident_id)
        self.assertEqual(len(self.gh.calls("POST", r"/repos/acme/erp/issues$")), 1)

    def test_suppress_wizard_from_findings_and_removal(self):
        self.run_cron("security")
        requests = self.findings(advisory_id="GHSA-j8r2-6x86-q33q")
        action = requests.action_suppress()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create({"reason": "internal only"})
        self.assertEqual(wizard.finding_ids, requests)
        self.assertGreater(wizard.expires_at, fields.Datetime.now() + timedelta(days=89))
        wizard.action_suppress()
        suppression = requests.suppression_id
        self.assertEqual(requests.status, "suppressed")
        self.assertEqual(
            (suppression.advisory, suppression.package, suppression.ecosystem, suppression.repository_id),
            ("GHSA-j8r2-6x86-q33q", "requests", "PyPI", self.repo),
        )
        self.assertEqual(self.findings(advisory_id=LODASH).status, "open", "only what was chosen")
        suppression.active = False
        self.assertEqual(requests.status, "open")
        suppression.active = True
        self.assertEqual(requests.status, "suppressed")
        suppression.unlink()
        self.assertEqual(requests.status, "open")

    def test_ignored_findings_stay_ignored_and_rules_need_a_target(self):
        self.run_cron("security")
        django = self.findings(advisory_id="PYSEC-2021-439")
        django.action_ignore()
        self.run_cron("security")
        self.assertEqual(django.status, "ignored")
        django.action_reopen()
        self.assertEqual(django.status, "open")
        with self.assertRaises(ValidationError):
            self.Suppression.create({"reason": "everything"})
