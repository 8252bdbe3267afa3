"""Who may see and do what: groups, secrets, companies."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import SECRET, OpsTransactionCase

MODELS = (
    "ops.repository",
    "ops.webhook.delivery",
    "ops.workflow.run",
    "ops.workflow.job",
    "ops.push",
    "ops.pull.request",
    "ops.change.file",
)


@tagged("post_install", "-at_install")
class TestAccess(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, "ops_user", groups="ops_autopilot.group_ops_user")
        cls.manager = new_test_user(cls.env, "ops_manager", groups="ops_autopilot.group_ops_manager")
        cls.employee = new_test_user(cls.env, "ops_plain_employee", groups="base.group_user")
        cls.portal = new_test_user(cls.env, "ops_portal_user", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")

    def test_ops_user_reads_but_cannot_configure_or_see_secrets(self):
        repo = self.repo.with_user(self.user)
        self.assertEqual(repo.full_name, "acme/erp")
        self.assertTrue(repo.has_webhook_secret)
        with self.assertRaises(AccessError):
            repo.read(["webhook_secret"])
        with self.assertRaises(AccessError):
            repo.read(["token"])
        with self.assertRaises(AccessError):
            repo.write({"default_branch": "develop"})
        with self.assertRaises(AccessError):
            self.env["ops.repository"].with_user(self.user).create({"full_name": "acme/new"})
        for model in MODELS:
            self.env[model].with_user(self.user).search([])  # reading is allowed

    def test_manager_configures_and_sets_secrets_without_reading_them(self):
        repo = self.env["ops.repository"].with_user(self.manager).create({"full_name": "acme/new"})
        repo.write({"new_webhook_secret": "  fresh-secret  ", "new_token": "ghp_manager_set"})
        repo.invalidate_recordset()  # what the form shows once saved
        self.assertTrue(repo.has_webhook_secret and repo.has_token)
        self.assertFalse(repo.new_webhook_secret, "write-only fields never show the value")
        with self.assertRaises(AccessError):
            repo.read(["webhook_secret"])
        with self.assertRaises(UserError):
            repo.action_generate_webhook_secret()
        self.assertEqual(repo.sudo().webhook_secret, "fresh-secret")

    def test_system_administrator_reads_and_generates_secrets(self):
        admin = self.env.ref("base.user_admin")
        repo = self.repo.with_user(admin)
        self.assertEqual(repo.webhook_secret, SECRET)
        repo.action_generate_webhook_secret()
        self.assertNotEqual(repo.webhook_secret, SECRET)
        self.assertGreaterEqual(len(repo.webhook_secret), 40)

    def test_users_outside_the_ops_groups_get_nothing(self):
        for user in (self.employee, self.portal, self.public):
            for model in MODELS:
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])

    def test_companies_do_not_see_each_other(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        theirs = self.env["ops.repository"].create(
            {"full_name": "other/erp", "company_id": other_company.id, "webhook_secret": "x"}
        )
        self.deliver("workflow_run", self.run_payload())
        seen = self.env["ops.repository"].with_user(self.user).search([])
        self.assertIn(self.repo, seen)
        self.assertNotIn(theirs, seen)
        other_user = new_test_user(
            self.env,
            "other_ops",
            groups="ops_autopilot.group_ops_user",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        self.assertFalse(self.env["ops.workflow.run"].with_user(other_user).search([]))
        self.assertFalse(self.env["ops.webhook.delivery"].with_user(other_user).search([]))

    def test_same_repository_in_two_companies(self):
        other_company = self.env["res.company"].create({"name": "Twin Co"})
        twin = self.env["ops.repository"].create(
            {"full_name": "ACME/erp", "company_id": other_company.id, "webhook_secret": "twin-secret"}
        )
        status, _body = self.receive("workflow_run", self.run_payload(), secret="twin-secret")
        self.assertEqual(status, 202)
        self.assertEqual(self.Delivery.search([]).repository_id, twin, "the secret picks the company's repository")
