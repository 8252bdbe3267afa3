"""The change router in Odoo: every push and pull request update gets a routing decision."""

import unittest

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..autopilot.testing import fixtures
from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_ci_server import CIGitHub
from .common import SECRET, OpsTransactionCase

TOKEN = "ghp_router_token_0123456789abcdefABCDEF0000"
REPO = "acme/erp"


@tagged("post_install", "-at_install")
class TestRouterDecisions(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = CIGitHub(token=TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.Decision = cls.env["ops.route.decision"]

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.repo.write({"api_url": self.github.url, "token": False})

    def route(self):
        while self.Decision._cron_route_changes():
            pass

    def test_push_is_routed_from_its_commits(self):
        payload = gp.push_event(
            REPO,
            commits=[
                {"added": ["addons/sale_x/models/sale.py", "addons/sale_x/__manifest__.py"]},
                {"modified": ["Dockerfile"], "removed": []},
            ],
        )
        self.deliver("push", payload)
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual((decision.event, decision.state), ("push", "pending"), "the webhook only enqueues")
        self.route()
        self.assertEqual(decision.state, "done")
        self.assertEqual(decision.categories, "oca_modules, docker, python")
        self.assertEqual(decision.workflows, "oca-tests.yml, docker-build.yml, python-tests.yml")
        self.assertEqual((decision.complexity, decision.file_count), ("low", 3))
        self.assertFalse(decision.lines_known, "a push payload has no line counts and no token was given")
        self.assertIn("Dockerfile: docker", decision.details_text)
        self.assertFalse(decision.dispatched)
        self.deliver("push", payload)
        self.assertEqual(self.Decision.search_count([("repository_id", "=", self.repo.id)]), 1, "one per push")

    def test_pull_request_files_come_from_github_and_workflows_are_dispatched(self):
        self.repo.write({"token": TOKEN, "ci_dispatch_routed_workflows": True})
        base = self.github.seed_repo(REPO, {"README.md": "erp\n"})
        module = "\n".join(f"x{i} = {i}" for i in range(60)) + "\n"
        head = self.github.commit(REPO, {"custom_addons/acme/models/a.py": module}, parent=base, branch="feature")
        self.github.add_pull(REPO, 7, "feature")
        self.github.add_workflow(REPO, path=".github/workflows/odoo-tests.yml", name="Odoo tests")
        self.deliver("pull_request", gp.pull_request_event(REPO, number=7, head_ref="feature", head_sha=head))
        self.route()
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(decision.categories, "custom_addons, python")
        self.assertEqual((decision.changed_lines, decision.complexity), (60, "medium"))
        self.assertTrue(decision.lines_known)
        self.assertTrue(decision.dispatched)
        self.assertEqual(decision.dispatched_workflows, "odoo-tests.yml")
        self.assertIn("python-tests.yml", decision.dispatch_detail, "a workflow GitHub does not know is reported")
        self.assertEqual([(d[2], d[3]) for d in self.github.dispatches], [("feature", {})])
        self.assertTrue(self.github.calls("GET", r"/pulls/7/files$"))

        # the same head again (labelled, edited...) is not routed twice; a new head is
        self.deliver("pull_request", gp.pull_request_event(REPO, number=7, action="synchronize", head_sha=head))
        self.assertEqual(self.Decision.search_count([("pull_request_id", "=", decision.pull_request_id.id)]), 1)
        closed = gp.pull_request_event(REPO, number=7, action="closed", state="closed", head_sha="e" * 40)
        self.deliver("pull_request", closed)
        self.assertEqual(self.Decision.search_count([("pull_request_id", "=", decision.pull_request_id.id)]), 1)

    def test_a_push_beyond_githubs_300_file_comparison_is_routed_on_what_is_known(self):
        """GitHub's comparison stops at 300 files: the push's own lists fill in, and the decision says so."""
        self.repo.write({"token": TOKEN})
        base = self.github.seed_repo(REPO, {"README.md": "erp\n"})
        many = {f"addons/sale_x/models/m_{i:03}.py": f"x = {i}\n" for i in range(340)}
        # GitHub lists files in path order: docker-compose.yml comes after the 340 files of addons/
        head = self.github.commit(REPO, {**many, "docker-compose.yml": "services: {}\n"}, parent=base, branch="main")
        payload = gp.push_event(
            REPO, before=base, after=head, commits=[{"added": sorted(many)[:5]}, {"added": ["docker-compose.yml"]}]
        )
        self.deliver("push", payload)
        self.route()
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(decision.state, "done", decision.error)
        self.assertIn("docker", decision.categories, "a file past GitHub's cap, known from the push, is routed")
        self.assertTrue(decision.files_partial, "the decision says its file list is partial")
        self.assertGreaterEqual(decision.file_count, 301)
        self.assertFalse(decision.lines_known)

    def test_rate_limited_routing_is_retried_later(self):
        self.repo.write({"token": TOKEN})
        self.github.add_repo(REPO)
        self.github.fail_next(1, status=429, headers={"Retry-After": "30"}, path_re=r"/pulls/3")
        self.deliver("pull_request", gp.pull_request_event(REPO, number=3))
        self.Decision._cron_route_changes()
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(decision.state, "pending")
        self.assertTrue(decision.next_attempt_at)
        self.assertIn("rate limited", decision.error)

    def test_without_files_a_pull_request_is_judged_by_its_totals(self):
        payload = gp.pull_request_event(REPO, number=4)
        payload["pull_request"].update(changed_files=14, additions=500, deletions=20)
        self.deliver("pull_request", payload)
        self.route()
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual((decision.complexity, decision.file_count, decision.changed_lines), ("high", 14, 520))

    def test_routing_rules_are_editable_and_validated(self):
        Rule = self.env["ops.route.rule"]
        Rule.create({"name": "Translations", "category": "translations", "patterns": "*.po\n*.pot", "sequence": 1})
        with self.assertRaises(ValidationError):
            Rule.create({"name": "Bad", "category": "Not An Identifier", "patterns": "*.py"})
        with self.assertRaises(ValidationError):
            Rule.create({"name": "Empty", "category": "empty", "patterns": " , "})
        self.deliver("push", gp.push_event(REPO, commits=[{"added": ["addons/x/i18n/fr.po"]}]))
        self.route()
        decision = self.Decision.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(decision.categories, "translations, oca_modules")

    def test_published_push_payload(self):
        if not fixtures.available():
            raise unittest.SkipTest(fixtures.MISSING)
        _body, payload = fixtures.load(fixtures.FIXTURES / "push" / "with-new-branch.payload.json")
        full_name = payload["repository"]["full_name"]
        repo = self.env["ops.repository"].create({"full_name": full_name, "webhook_secret": SECRET})
        self.deliver("push", payload)
        self.route()
        decision = self.Decision.search([("repository_id", "=", repo.id)])
        self.assertEqual((decision.state, decision.categories), ("done", "documentation"))
