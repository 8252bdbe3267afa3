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


@tagged("post_install", "-at_install")
class TestDeploymentDemo(OpsTransactionCase):
    """The demo history the promotion view and the DORA keys show (installed with demo data)."""

    def test_demo_promotion_has_a_rollback_and_commits_waiting(self):
        repository = self.env.ref("ops_autopilot.ops_repository_erp_demo", raise_if_not_found=False)
        if not repository or not repository.deployment_environment_ids:
            self.skipTest("installed without demo data")
        staging, production = repository.deployment_environment_ids.sorted("sequence")
        self.assertEqual((staging.name, production.name), ("staging", "production"))
        self.assertTrue(production.is_production)
        deployments = production.deployment_ids
        self.assertEqual(len(deployments | staging.deployment_ids), 14)
        rollback = deployments.filtered("is_rollback")
        self.assertEqual(len(rollback), 1)
        self.assertEqual(rollback.rollback_of_id.state, "failure")
        self.assertEqual(production.upstream_id, staging)
        self.assertEqual(production.waiting_state, "waiting")
        self.assertEqual(
            production.waiting_commit_ids.mapped("message"), ["Log slow RPC calls (#321)", "Fix portal pager (#322)"]
        )
        self.assertEqual(production.waiting_pull_requests, "#321, #322")
        # after the rollback to #312, the next production deploy brought the rolled-back commits again
        brought = production.current_deployment_id.commit_ids.mapped("pull_request_numbers")
        self.assertEqual(brought, ["314", "316", "318", "319"])
