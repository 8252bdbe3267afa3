"""The repository form says which features the token can serve; a refusal names the missing permission."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..autopilot.common.errors import ServiceError
from ..autopilot.github import ci
from ..autopilot.testing.github_ci_server import CIGitHub
from .common import OpsTransactionCase

TOKEN = "github_pat_token_check_0123456789abcdefABCDEF"
REPO = "acme/erp"


@tagged("post_install", "-at_install")
class TestTokenPermissions(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = CIGitHub(token=TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.manager = new_test_user(cls.env, login="token_manager", groups="ops_autopilot.group_ops_manager")
        cls.viewer = new_test_user(cls.env, login="token_viewer", groups="ops_autopilot.group_ops_user")

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.github.seed_repo(REPO, {"README.md": "erp\n"})
        self.repo.write({"api_url": self.github.url, "token": TOKEN, "hook_id": 4242})
        self.github.deliveries[(REPO, 4242)] = []

    def check(self):
        self.repo.with_user(self.manager).action_check_token()
        return {line["feature"]: line for line in self.repo.token_check["features"]}

    def test_a_fine_grained_token_is_checked_feature_by_feature(self):
        self.github.token_permissions = {"metadata": "read", "actions": "read", "contents": "read"}
        lines = self.check()
        self.assertEqual(lines["sync"]["state"], "ok")
        self.assertEqual(lines["deliveries"]["state"], "missing")
        self.assertIn("repository_hooks=read", lines["deliveries"]["detail"])
        self.assertEqual(lines["reruns"]["state"], "unchecked", "a write is known only once tried")
        self.assertIn("Re-run failed jobs", self.repo.token_check_html)
        self.assertFalse(self.github.writes(), "checking writes nothing on GitHub")
        with self.assertRaises(AccessError):
            self.repo.with_user(self.viewer).action_check_token()

    def test_a_classic_tokens_scopes_answer_for_every_feature(self):
        self.github.token_scopes = "repo"
        lines = self.check()
        self.assertEqual(
            {key: line["state"] for key, line in lines.items() if line["state"] != "not_applicable"},
            dict.fromkeys(("sync", "deliveries", "reruns", "contents", "issues", "pull_requests"), "ok"),
        )

    def test_a_refused_rerun_names_the_missing_permission_and_is_shown_on_the_repository(self):
        self.github.token_permissions = {"metadata": "read", "actions": "read", "contents": "read"}
        self.repo._token_refused("reruns", _refusal(self.github, self.repo))
        lines = {line["feature"]: line for line in self.repo.token_check["features"]}
        self.assertEqual(lines["reruns"]["state"], "missing")
        self.assertIn("actions=write", lines["reruns"]["detail"])

    def test_a_new_token_forgets_the_last_check(self):
        self.github.token_scopes = "repo"
        self.check()
        self.repo.new_token = "github_pat_another_one_0123456789"
        self.assertFalse(self.repo.token_check)


def _refusal(github, repo):
    """The error a re-run gets from GitHub when the token lacks Actions: write."""
    run = github.add_run(REPO, conclusion="failure", jobs=[{"name": "test", "conclusion": "failure"}])
    try:
        ci.rerun_failed_jobs(repo._github_client(), REPO, run["id"])
    except ServiceError as exc:
        return exc
    raise AssertionError("GitHub did not refuse the re-run")
