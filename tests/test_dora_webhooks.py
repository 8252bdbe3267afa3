"""The four DORA keys of deployments that came in as signed deliveries through the real webhook endpoint."""

from datetime import datetime, timedelta

from odoo.tests import tagged

from ..autopilot.testing import github_payloads as gp
from .common import OpsHttpCase

REPO = "acme/erp"
T0 = datetime(2026, 11, 2, 9, 0)
SHA_GOOD, SHA_BAD = "1" * 40, "2" * 40
DAY = {"period": "custom", "date_from": "2026-11-02", "date_to": "2026-11-02"}


def at(minutes):
    return T0 + timedelta(minutes=minutes)


@tagged("post_install", "-at_install")
class TestDoraThroughWebhooks(OpsHttpCase):
    def post_and_process(self, event, payload):
        response = self.post_event(event, payload)
        self.assertIn(response.status_code, (200, 202), response.text)
        self.process()

    def deploy(self, deployment_id, sha, minute, statuses):
        """A production deployment created at ``minute``, then its ``statuses`` [(state, id, minute)] as sent."""
        deployment = gp.deployment(REPO, deployment_id, sha=sha, environment="production", created=at(minute))
        self.post_and_process(
            "deployment",
            gp.deployment_event(
                REPO,
                deployment_id=deployment_id,
                sha=sha,
                environment="production",
                created=at(minute),
            ),
        )
        for state, status_id, when in statuses:
            self.post_and_process(
                "deployment_status",
                gp.deployment_status_event(REPO, deployment, state, status_id=status_id, created=at(when)),
            )
        self.env.invalidate_all()
        return self.env["ops.deployment"].search([("github_id", "=", deployment_id)])

    def test_keys_of_deliveries_with_late_statuses_a_rollback_and_an_incident(self):
        """2 November 2026, production of acme/erp, through signed deliveries:

        - 09:00 deployment 501 of the good commit; success at 09:05;
        - 10:00 deployment 502 of a bad commit; its failure status (10:10) arrives before its in_progress (10:02);
        - 10:20 deployment 503 puts the good commit back: a rollback of 502; success at 10:25;
        - 09:30 an incident opens on the production target (linked to 501, the latest deploy before it) and is
          resolved at 09:50.

        By hand: frequency 1 (501; 503 is a rollback) in 1 day = 1.0 / day -> elite; change failure rate 2 / 2
        (501: incident within 24 h; 502: failure status) = 100 % -> low; time to restore: incident 20 min,
        502 failed 10:10 -> 503 succeeded 10:25 = 15 min; median 17.5 min -> elite. No commits compared yet:
        lead time has no data.
        """
        environment = self.env["ops.deployment.environment"]._find_or_create(self.repo, "production")
        target = self.env["ops.health.target"].create(
            {"name": "erp", "url": "http://127.0.0.1:9/", "deployment_environment_id": environment.id}
        )
        good = self.deploy(501, SHA_GOOD, 0, [("in_progress", 1, 1), ("success", 2, 5)])
        bad = self.deploy(502, SHA_BAD, 60, [("failure", 4, 70), ("in_progress", 3, 62)])
        self.assertEqual((bad.state, bad.failed_at), ("failure", at(70)))
        rollback = self.deploy(503, SHA_GOOD, 80, [("success", 5, 85)])
        self.assertTrue(rollback.is_rollback)
        self.assertEqual(rollback.rollback_of_id, bad)
        incident = self.env["ops.incident"].create(
            {"title": "erp down", "target_id": target.id, "first_seen": at(30), "last_seen": at(30)}
        )
        self.assertEqual(incident.deployment_id, good)
        incident.write({"state": "resolved", "resolved_at": at(50)})

        data = (
            self.env["ops.dashboard"].with_context(tz="UTC").get_dashboard_data({**DAY, "repository_id": self.repo.id})
        )
        keys = {key["key"]: key for key in data["delivery"]["keys"]}
        self.assertEqual((keys["deployment_frequency"]["value"], keys["deployment_frequency"]["band"]), (1.0, "elite"))
        self.assertEqual(keys["deployment_frequency"]["display"], "1.0 / day")
        self.assertEqual((keys["change_failure_rate"]["value"], keys["change_failure_rate"]["band"]), (100.0, "low"))
        self.assertEqual(keys["time_to_restore"]["value"], 17.5 * 60)
        self.assertEqual(keys["time_to_restore"]["band"], "elite")
        self.assertIsNone(keys["lead_time"]["value"])
