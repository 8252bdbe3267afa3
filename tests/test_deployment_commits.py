"""The commits each deployment brought (GitHub's compare through PyGithub) and what waits to be promoted."""

from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_delivery_server import DeliveryGitHub
from .common import OpsTransactionCase

REPO = "acme/erp"
TOKEN = "deploy-token"
MONDAY = datetime(2026, 11, 2, 9, 0)


@tagged("post_install", "-at_install")
class TestDeploymentCommits(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = DeliveryGitHub(token=TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.Deployment = cls.env["ops.deployment"]

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.github.add_repo(REPO)
        self.repo.write({"api_url": self.github.url, "token": TOKEN})
        self._ids = iter(range(9000, 10000))

    # -- helpers ---------------------------------------------------------
    def deploy(self, sha, environment, hours, state="success"):
        """A deployment of ``sha`` to ``environment`` created ``hours`` after Monday 09:00, ending in ``state``."""
        deployment = gp.deployment(
            REPO, next(self._ids), sha=sha, environment=environment, created=MONDAY + timedelta(hours=hours)
        )
        finished = MONDAY + timedelta(hours=hours, minutes=5)
        payload = gp.deployment_status_event(REPO, deployment, state, status_id=next(self._ids), created=finished)
        self.deliver("deployment_status", payload)
        return self.Deployment.search([("github_id", "=", deployment["id"])])

    def fetch(self):
        done = total = 0
        while done := self.Deployment._cron_fetch_commits():
            total += done
        return total

    def environment(self, name):
        return self.env["ops.deployment.environment"].search(
            [("repository_id", "=", self.repo.id), ("name", "=", name)]
        )

    # -- the compare -----------------------------------------------------
    def test_commits_brought_since_the_previous_successful_deploy_paged(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY - timedelta(days=3))
        messages = [f"Change {i}" for i in range(1, 149)] + ["Add login (#12)", "Merge pull request #13 from acme/fix"]
        shas = self.github.history(REPO, messages, MONDAY - timedelta(days=2), step=timedelta(minutes=10))
        first = self.deploy(base, "production", 0)
        failed = self.deploy(shas[100], "production", 1, state="failure")
        second = self.deploy(shas[-1], "production", 2)
        self.assertEqual(self.fetch(), 2, "the failed deployment brought nothing: not compared")
        self.assertEqual((first.commits_state, first.commit_count), ("done", 0))
        self.assertFalse(first.previous_deployment_id)
        self.assertEqual(second.previous_deployment_id, first, "the previous *successful* deploy")
        self.assertEqual(second.commits_state, "done")
        self.assertEqual(second.commit_ids.mapped("sha"), shas)
        oldest = second.commit_ids[0]
        self.assertEqual((oldest.message, oldest.author), ("Change 1", "dev"))
        self.assertEqual(oldest.committed_at, MONDAY - timedelta(days=2))
        self.assertEqual(second.commit_ids[-2:].mapped("pull_request_numbers"), ["12", "13"])
        self.assertEqual(failed.commits_state, "pending")
        pages = self.github.calls("GET", r"/compare/")
        self.assertEqual(len(pages), 2, "150 commits, 100 a page: two pages")

    def test_too_many_commits_are_capped_and_said(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY - timedelta(days=30))
        shas = self.github.history(REPO, [f"Change {i}" for i in range(260)], MONDAY - timedelta(days=20))
        self.deploy(base, "production", 0)
        big = self.deploy(shas[-1], "production", 1)
        self.fetch()
        self.assertEqual(big.commits_state, "too_many")
        self.assertEqual(big.commit_ids.mapped("sha"), shas[:250])
        self.assertIn("250", big.commits_error)

    def test_one_failing_compare_does_not_block_the_others_and_is_retried(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY)
        one, two = self.github.history(REPO, ["One", "Two"], MONDAY + timedelta(hours=1))
        self.deploy(base, "staging", 0)
        self.deploy(base, "production", 0)
        staging = self.deploy(one, "staging", 1)
        production = self.deploy(two, "production", 2)
        self.github.secondary_rate_limit(1, path_re=r"/compare/")
        self.Deployment._cron_fetch_commits()
        failed, fine = (staging, production) if staging.commits_state == "pending" else (production, staging)
        self.assertEqual(fine.commits_state, "done")
        self.assertEqual(failed.commits_state, "pending")
        self.assertEqual(failed.commits_attempts, 1)
        self.assertTrue(failed.commits_next_attempt_at)
        self.assertIn("rate limited", failed.commits_error)
        self.assertGreaterEqual(failed.commits_next_attempt_at, datetime.now() + timedelta(seconds=55))
        self.assertNotIn(TOKEN, failed.commits_error)
        failed.commits_next_attempt_at = datetime(2020, 1, 1)
        self.fetch()
        self.assertEqual(failed.commits_state, "done")
        self.assertEqual(len(failed.commit_ids), 1)

    def test_without_a_token_the_compare_fails_clearly_until_asked_again(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY)
        (one,) = self.github.history(REPO, ["One"], MONDAY + timedelta(hours=1))
        self.repo.sudo().token = False
        self.deploy(base, "production", 0)
        later = self.deploy(one, "production", 1)
        self.fetch()
        self.assertEqual(later.commits_state, "failed")
        self.assertIn("API token", later.commits_error)
        self.repo.sudo().token = TOKEN
        later.action_compare_again()
        self.fetch()
        self.assertEqual((later.commits_state, len(later.commit_ids)), ("done", 1))

    # -- the promotion view ---------------------------------------------
    def test_promotion_shows_what_waits_in_staging_for_production(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY)
        one, two, three = self.github.history(
            REPO, ["Add login (#21)", "Fix typo", "Merge pull request #22 from acme/x"], MONDAY + timedelta(hours=1)
        )
        self.deploy(base, "staging", 0)
        self.deploy(base, "production", 0)
        self.deploy(one, "staging", 2)
        self.deploy(three, "staging", 4)
        self.deploy(one, "production", 5)
        staging, production = self.environment("staging"), self.environment("production")
        self.assertEqual(production.upstream_id, staging)
        self.assertFalse(staging.upstream_id)
        self.assertEqual(production.waiting_state, "unknown", "not compared yet: no guess")
        self.assertEqual(production.waiting_reason, "not compared yet")
        self.fetch()
        self.env.invalidate_all()
        self.assertEqual(production.current_sha, one)
        self.assertEqual(production.waiting_state, "waiting")
        self.assertEqual(production.waiting_commit_ids.mapped("sha"), [two, three])
        self.assertEqual(production.waiting_pull_requests, "#22")
        self.assertTrue(production.waiting_complete)
        self.deploy(three, "production", 6)
        self.env.invalidate_all()
        self.assertEqual(production.waiting_state, "none")
        self.assertEqual(production.waiting_count, 0)

    def test_manager_reorders_environments(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY)
        for name in ("production", "qa", "staging"):
            self.deploy(base, name, 0)
        qa, staging, production = (self.environment(n) for n in ("qa", "staging", "production"))
        self.assertEqual(staging.upstream_id, qa)
        self.assertEqual(production.upstream_id, staging)
        qa.sequence = 30
        self.env.invalidate_all()
        self.assertEqual(qa.upstream_id, production)
        self.assertEqual(production.upstream_id, staging)
        self.assertFalse(staging.upstream_id)

    def test_ops_user_reads_the_promotion_and_others_cannot(self):
        base = self.github.dated_commit(REPO, "Initial", MONDAY)
        (one,) = self.github.history(REPO, ["Add export (#31)"], MONDAY + timedelta(hours=1))
        self.deploy(base, "staging", 0)
        self.deploy(base, "production", 0)
        self.deploy(one, "staging", 1)
        self.fetch()
        reader = new_test_user(self.env, "deploy_reader", groups="ops_autopilot.group_ops_user")
        production = self.environment("production").with_user(reader)
        self.assertEqual(production.waiting_commit_ids.mapped("pull_request_numbers"), ["31"])
        self.assertEqual(production.waiting_pull_requests, "#31")
        with self.assertRaises(AccessError):
            production.write({"sequence": 1})
        outsider = new_test_user(self.env, "deploy_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.environment("production").with_user(outsider).read(["waiting_state"])
        with self.assertRaises(AccessError):
            self.environment("staging").deployment_ids[:1].with_user(reader).action_compare_again()
