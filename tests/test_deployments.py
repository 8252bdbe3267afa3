"""Deployments from GitHub's webhooks and from deploying workflow runs, through the real endpoint."""

from datetime import datetime, timedelta

from odoo.tests import tagged

from ..autopilot.testing import fixtures
from ..autopilot.testing import github_payloads as gp
from .common import SECRET, OpsHttpCase, OpsTransactionCase, signed_headers

REPO = "acme/erp"
T0 = datetime(2026, 11, 2, 9, 0)
SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40


def at(minutes):
    return T0 + timedelta(minutes=minutes)


class DeploymentCase:
    """Helpers that build deliveries the way GitHub sends them for one deployment."""

    def deployment(self, deployment_id, sha=SHA_A, environment="production", minute=0, **fields):
        return gp.deployment(REPO, deployment_id, sha=sha, environment=environment, created=at(minute), **fields)

    def status(self, deployment, state, status_id, minute, **fields):
        return gp.deployment_status_event(REPO, deployment, state, status_id=status_id, created=at(minute), **fields)

    def deployed(self, github_id):
        self.env.invalidate_all()
        return self.env["ops.deployment"].search([("repository_id", "=", self.repo.id), ("github_id", "=", github_id)])

    def environment(self, name):
        return self.env["ops.deployment.environment"].search(
            [("repository_id", "=", self.repo.id), ("name", "=", name)]
        )


@tagged("post_install", "-at_install")
class TestDeploymentWebhooks(DeploymentCase, OpsHttpCase):
    def post_and_process(self, event, payload, guid=None):
        response = self.post_event(event, payload, guid=guid)
        self.assertIn(response.status_code, (200, 202), response.text)
        self.process()
        return response

    def test_deployment_and_its_statuses_through_the_endpoint(self):
        deployment = self.deployment(1001, creator="alice", ref="v1.0", description="Release 1.0")
        self.post_and_process("deployment", gp.deployment_event(REPO, **_args(deployment)))
        record = self.deployed(1001)
        self.assertEqual(
            (record.state, record.source, record.sha, record.ref), ("pending", "deployment", SHA_A, "v1.0")
        )
        self.assertEqual((record.creator, record.created_at), ("alice", at(0)))
        production = self.environment("production")
        self.assertTrue(production.is_production)
        self.assertTrue(record.is_production)
        for state, status_id, minute in (("queued", 1, 1), ("in_progress", 2, 2), ("success", 3, 6)):
            self.post_and_process("deployment_status", self.status(deployment, state, status_id, minute))
        record = self.deployed(1001)
        self.assertEqual(record.state, "success")
        self.assertEqual((record.succeeded_at, record.finished_at), (at(6), at(6)))
        self.assertEqual(record.status_ids.mapped("state"), ["queued", "in_progress", "success"])
        self.assertTrue(all(record.status_ids.mapped("applied")))
        self.assertEqual(production.current_deployment_id, record)
        delivery = self.deliveries(event="deployment_status")
        self.assertEqual(set(delivery.mapped("state")), {"processed"})

    def test_out_of_order_and_redelivered_statuses_change_nothing_twice(self):
        deployment = self.deployment(1002, environment="staging")
        success = self.status(deployment, "success", 12, 5)
        self.post_and_process("deployment_status", success, guid="guid-success")
        self.post_and_process("deployment_status", self.status(deployment, "in_progress", 11, 2))
        # GitHub's redelivery (same GUID) is refused as a duplicate; the same status under a new GUID changes nothing
        self.assertEqual(
            self.post_event("deployment_status", success, guid="guid-success").json()["status"], "duplicate"
        )
        self.post_and_process("deployment_status", success)
        record = self.deployed(1002)
        self.assertEqual(record.state, "success")
        self.assertEqual(record.succeeded_at, at(5))
        self.assertEqual(len(record.status_ids), 2)
        self.assertEqual(record.status_ids.mapped("state"), ["in_progress", "success"])
        self.assertEqual(record.status_ids.mapped("applied"), [False, True])
        self.assertFalse(self.environment("staging").is_production)
        self.assertEqual(self.env["ops.deployment"].search_count([("github_id", "=", 1002)]), 1)

    def test_a_failed_deploy_rolled_back_to_the_previous_commit(self):
        good, bad, back = (
            self.deployment(2001, sha=SHA_A, minute=0),
            self.deployment(2002, sha=SHA_B, minute=60),
            self.deployment(2003, sha=SHA_A, minute=75),
        )
        self.post_and_process("deployment_status", self.status(good, "success", 21, 5))
        self.post_and_process("deployment_status", self.status(bad, "failure", 22, 70))
        self.post_and_process("deployment_status", self.status(back, "success", 23, 80))
        rollback = self.deployed(2003)
        self.assertTrue(rollback.is_rollback)
        self.assertEqual(rollback.rollback_of_id, self.deployed(2002))
        self.assertFalse(self.deployed(2002).is_rollback)
        self.assertEqual(self.environment("production").current_deployment_id, rollback)
        self.assertEqual(self.deployed(2002).rolled_back_by_ids, rollback)

    def test_rollback_that_arrives_before_the_failure_is_recognised_when_the_failure_comes(self):
        good, bad, back = (
            self.deployment(2101, sha=SHA_A, minute=0),
            self.deployment(2102, sha=SHA_B, minute=60),
            self.deployment(2103, sha=SHA_A, minute=75),
        )
        self.post_and_process("deployment_status", self.status(good, "success", 31, 5))
        self.post_and_process("deployment_status", self.status(bad, "in_progress", 32, 61))
        self.post_and_process("deployment_status", self.status(back, "success", 34, 80))
        self.assertFalse(self.deployed(2103).is_rollback, "no failure known yet: a redeploy, not a rollback")
        self.post_and_process("deployment_status", self.status(bad, "failure", 33, 70))
        self.assertTrue(self.deployed(2103).is_rollback)
        self.assertEqual(self.deployed(2103).rollback_of_id, self.deployed(2102))

    def test_deployment_made_by_the_rollback_workflow_is_a_rollback(self):
        self.repo.ci_rollback_workflow = "rollback.yml"
        run = {"run_id": 7301, "name": "Rollback", "path": ".github/workflows/rollback.yml", "sha": SHA_C}
        self.post_and_process("workflow_run", self.run_payload(**run, status="in_progress", started=at(1)))
        payload = gp.deployment_event(REPO, deployment_id=2201, sha=SHA_C, created=at(2), run=run)
        self.post_and_process("deployment", payload)
        record = self.deployed(2201)
        self.assertEqual(record.run_id.github_id, 7301)
        self.assertTrue(record.is_rollback)
        self.assertEqual(record.rollback_reason, "made by the rollback workflow")

    def test_malformed_deployment_is_recorded_with_its_reason(self):
        payload = gp.deployment_event(REPO, deployment_id=2301)
        payload["deployment"]["environment"] = "   "
        self.post_event("deployment", payload)
        self.process()
        delivery = self.deliveries(event="deployment")
        self.assertEqual(delivery.state, "failed")
        self.assertIn("payload.deployment.environment", delivery.error)
        self.assertFalse(self.deployed(2301))

    def test_published_deployment_status_payloads_land(self):
        if not fixtures.available():
            self.skipTest(fixtures.MISSING)
        self.env["ops.repository"].create({"full_name": "Codertocat/Hello-World", "webhook_secret": SECRET})
        for name in ("payload.json", "with-installation.payload.json"):
            body, _payload = fixtures.load(fixtures.FIXTURES / "deployment_status" / name)
            response = self.post(body, signed_headers(body, "deployment_status"))
            self.assertEqual(response.status_code, 202, response.text)
        self.process()
        record = self.env["ops.deployment"].search([("github_id", "=", 145988746)])
        self.assertEqual((record.state, record.environment_id.name), ("success", "production"))
        self.assertEqual(record.succeeded_at, datetime(2019, 5, 15, 15, 20, 55))
        self.assertEqual(len(record.status_ids), 1, "the second example repeats the same status")


def _args(deployment):
    """gp.deployment_event's keywords that rebuild ``deployment``."""
    return {
        "deployment_id": deployment["id"],
        "sha": deployment["sha"],
        "ref": deployment["ref"],
        "environment": deployment["environment"],
        "creator": deployment["creator"]["login"],
        "description": deployment["description"],
        "created": datetime.strptime(deployment["created_at"], "%Y-%m-%dT%H:%M:%SZ"),
    }


@tagged("post_install", "-at_install")
class TestRunDeployments(DeploymentCase, OpsTransactionCase):
    """Teams without GitHub Deployments: completed runs of a workflow an environment names."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Environment = cls.env["ops.deployment.environment"]
        cls.staging = Environment.create(
            {"repository_id": cls.repo.id, "name": "staging", "sequence": 10, "workflow_patterns": "deploy-staging.yml"}
        )

    def deploy_run(self, run_id=7401, **run):
        run.setdefault("path", ".github/workflows/deploy-staging.yml")
        run.setdefault("name", "Deploy staging")
        return self.run_payload(run_id=run_id, **run)

    def test_completed_deploying_run_is_a_deployment_once(self):
        self.deliver("workflow_run", self.deploy_run(status="in_progress", sha=SHA_B, started=at(0)))
        self.assertFalse(self.staging.deployment_ids, "a running deploy is not a deployment yet")
        completed = self.deploy_run(sha=SHA_B, started=at(0), updated=at(4))
        self.deliver("workflow_run", completed)
        self.deliver("workflow_run", completed)  # a redelivery under a new GUID
        record = self.staging.deployment_ids
        self.assertEqual(len(record), 1)
        self.assertEqual((record.source, record.state, record.sha), ("workflow_run", "success", SHA_B))
        self.assertEqual((record.created_at, record.succeeded_at), (at(0), at(4)))
        self.assertEqual(record.run_id.github_id, 7401)
        self.assertEqual(len(record.status_ids), 1)
        self.assertFalse(record.github_id)

    def test_failed_attempt_then_successful_rerun(self):
        self.deliver("workflow_run", self.deploy_run(conclusion="failure", started=at(0), updated=at(3)))
        record = self.staging.deployment_ids
        self.assertEqual(record.state, "failure")
        rerun = self.deploy_run(run_attempt=2, started=at(10), updated=at(14))
        self.deliver("workflow_run", rerun)
        self.env.invalidate_all()
        self.assertEqual(record.state, "success")
        self.assertEqual((record.finished_at, record.succeeded_at), (at(3), at(14)))
        self.assertEqual(record.status_ids.mapped("state"), ["failure", "success"])

    def test_other_workflows_and_cancelled_runs_deploy_nothing(self):
        self.deliver("workflow_run", self.run_payload(run_id=7402, sha=SHA_C))
        self.deliver("workflow_run", self.deploy_run(run_id=7403, conclusion="cancelled"))
        self.assertFalse(self.staging.deployment_ids)

    def test_a_manager_s_new_patterns_apply_to_the_next_run(self):
        self.staging.workflow_patterns = "ship-*.yml"
        self.deliver("workflow_run", self.deploy_run(run_id=7404))
        self.assertFalse(self.staging.deployment_ids, "the old pattern no longer deploys")
        self.deliver("workflow_run", self.deploy_run(run_id=7405, path=".github/workflows/ship-staging.yml"))
        self.assertEqual(self.staging.deployment_ids.run_id.github_id, 7405)
        production = self.env["ops.deployment.environment"].create(
            {"repository_id": self.repo.id, "name": "production", "workflow_patterns": "release.yml"}
        )
        self.deliver("workflow_run", self.deploy_run(run_id=7406, path=".github/workflows/release.yml"))
        self.assertEqual(production.deployment_ids.run_id.github_id, 7406)

    def test_github_deployment_of_the_same_run_replaces_the_run_based_one(self):
        self.deliver("workflow_run", self.deploy_run(sha=SHA_B, started=at(0), updated=at(4)))
        self.assertEqual(self.staging.deployment_ids.source, "workflow_run")
        deployment = self.deployment(3001, sha=SHA_B, environment="staging", minute=1)
        payload = gp.deployment_status_event(
            REPO, deployment, "success", status_id=41, created=at(4), run={"run_id": 7401, "sha": SHA_B}
        )
        self.deliver("deployment_status", payload)
        self.env.invalidate_all()
        self.assertEqual(self.staging.deployment_ids.mapped("source"), ["deployment"])
        self.assertEqual(self.staging.deployment_ids.run_id.github_id, 7401)

    def test_deployment_finds_its_run_by_commit_and_time(self):
        deployment = self.deployment(3101, sha=SHA_C, environment="qa", minute=2)
        self.deliver("deployment", gp.deployment_event(REPO, **_args(deployment)))
        self.assertFalse(self.deployed(3101).run_id)
        self.deliver("workflow_run", self.run_payload(run_id=7501, sha=SHA_C, started=at(0), updated=at(5)))
        self.assertEqual(self.deployed(3101).run_id.github_id, 7501)
        self.deliver("workflow_run", self.run_payload(run_id=7502, sha=SHA_C, started=at(300), updated=at(305)))
        self.assertEqual(self.deployed(3101).run_id.github_id, 7501, "a run hours later is not the one")


@tagged("post_install", "-at_install")
class TestPromotionTour(DeploymentCase, OpsHttpCase):
    def test_promotion_view_in_the_browser(self):
        def deliver(github_id, sha, environment, minute, state):
            deployment = self.deployment(github_id, sha=sha, environment=environment, minute=minute)
            self.deliver("deployment_status", self.status(deployment, state, github_id * 10, minute + 3))
            return self.deployed(github_id)

        deliver(5001, SHA_A, "staging", 0, "success")
        deliver(5002, SHA_A, "production", 10, "success")
        deliver(5003, SHA_B, "production", 20, "failure")
        deliver(5004, SHA_A, "production", 30, "success")
        staged = deliver(5005, SHA_C, "staging", 40, "success")
        self.env["ops.deployment"].search([("repository_id", "=", self.repo.id)]).write({"commits_state": "done"})
        self.env["ops.deployment.commit"].create(
            {
                "deployment_id": staged.id,
                "sha": SHA_C,
                "message": "Add tour feature (#77)",
                "pull_request_numbers": "77",
            }
        )
        self.assertTrue(self.deployed(5004).is_rollback)
        self.start_tour(f"/odoo/ops.repository/{self.repo.id}", "ops_autopilot_promotion_tour", login="admin")
