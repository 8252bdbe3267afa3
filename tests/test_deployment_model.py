from datetime import datetime

from odoo.tests import tagged

from .common import OpsTransactionCase


@tagged("post_install", "-at_install")
class TestDeploymentModel(OpsTransactionCase):
    """The stored shape other features (DORA keys, cost) build on."""

    def test_environment_created_on_the_fly_in_promotion_order(self):
        Environment = self.env["ops.deployment.environment"]
        production = Environment._find_or_create(self.repo, "production")
        staging = Environment._find_or_create(self.repo, "staging")
        self.assertEqual(Environment._find_or_create(self.repo, "production"), production)
        self.assertTrue(production.is_production)
        self.assertFalse(staging.is_production)
        self.assertEqual(Environment.search([("repository_id", "=", self.repo.id)]), staging | production)

    def test_current_deployment_is_the_last_success(self):
        environment = self.env["ops.deployment.environment"]._find_or_create(self.repo, "production")
        Deployment = self.env["ops.deployment"]
        first, second, failed = Deployment.create(
            [
                {
                    "repository_id": self.repo.id,
                    "environment_id": environment.id,
                    "github_id": 100 + i,
                    "sha": sha,
                    "created_at": datetime(2026, 11, 1 + i),
                    "state": state,
                    "succeeded_at": datetime(2026, 11, 1 + i, 0, 5) if state == "success" else False,
                }
                for i, (sha, state) in enumerate([("a" * 40, "success"), ("b" * 40, "success"), ("c" * 40, "failure")])
            ]
        )
        self.assertEqual(environment.current_deployment_id, second)
        self.assertTrue(second.is_production)
        self.assertEqual(second.company_id, self.repo.company_id)
        second.state = "error"
        self.assertEqual(environment.current_deployment_id, first)
        self.assertNotEqual(failed, environment.current_deployment_id)
