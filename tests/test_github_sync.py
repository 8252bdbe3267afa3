"""Recovery: backfill runs and jobs from the GitHub API and ask GitHub to redeliver lost deliveries."""

import json
from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged

from ..autopilot.github import events, rest_api
from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_server import FakeGitHub
from .common import WEBHOOK, OpsHttpCase, signed_headers


@tagged("post_install", "-at_install")
class TestGitHubSync(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = FakeGitHub(token="ghp_sync_token").start()
        cls.addClassCleanup(cls.github.stop)

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.repo.write({"api_url": self.github.url, "token": "ghp_sync_token", "hook_id": 4242})

    def test_backfill_fetches_runs_and_jobs_since_the_last_sync(self):
        recent = datetime.utcnow() - timedelta(hours=2)
        self.github.add_run(
            "acme/erp",
            status="completed",
            conclusion="failure",
            started=recent,
            jobs=[{"name": "lint"}, {"name": "test", "conclusion": "failure"}],
        )
        self.github.add_run(
            "acme/erp", status="in_progress", started=recent, jobs=[{"name": "test", "status": "in_progress"}]
        )
        self.github.add_run("acme/erp", started=datetime.utcnow() - timedelta(days=30), jobs=[{"name": "old"}])
        self.github.deliveries[("acme/erp", 4242)] = []
        self.repo.action_sync_from_github()
        runs = self.Run.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(
            sorted(runs.mapped("outcome")), ["failure", "running"], "the 30-day-old run is outside the window"
        )
        self.assertEqual(len(runs.job_ids), 3)
        self.assertEqual(self.repo.last_sync_state, "ok")
        self.assertTrue(self.repo.last_sync_at)
        call = self.github.calls("GET", r"/actions/runs$")[0]
        self.assertTrue(call.arg("created").startswith(">="))
        self.assertEqual(call.headers["authorization"], "token ghp_sync_token")

        # the running one finishes on GitHub: the next sync refreshes it even if it is outside the window
        running = next(r for r in self.github.runs["acme/erp"].values() if r["status"] == "in_progress")
        running.update(status="completed", conclusion="success", created_at="2020-01-01T00:00:00Z")
        self.repo.last_sync_attempt_at = False
        self.repo.action_sync_from_github()
        self.assertEqual(sorted(runs.mapped("outcome")), ["failure", "success"])

    def test_lost_deliveries_are_redelivered_and_land(self):
        self.github.add_repo("acme/erp")
        self.github.redeliver_to = self.base_url() + WEBHOOK
        lost_body = json.dumps(gp.workflow_run_event("acme/erp", run_id=8080)).encode()
        lost = signed_headers(lost_body, "workflow_run")
        kept_body = json.dumps(gp.push_event("acme/erp")).encode()
        kept = signed_headers(kept_body, "push")
        self.assertEqual(self.post(kept_body, kept).status_code, 202)
        now = datetime.utcnow()
        self.github.add_delivery("acme/erp", 4242, lost["X-GitHub-Delivery"], "workflow_run", lost_body, lost, 502, now)
        self.github.add_delivery("acme/erp", 4242, kept["X-GitHub-Delivery"], "push", kept_body, kept, 0, now)
        self.repo.action_sync_from_github()
        redelivered = self.github.calls("POST", r"/attempts$")
        self.assertEqual(len(redelivered), 1, "only the delivery Odoo never stored is asked again")
        landed = self.deliveries(guid=lost["X-GitHub-Delivery"])
        self.assertEqual(landed.state, "received")
        self.process()
        self.assertTrue(self.Run.search([("github_id", "=", 8080)]))
        self.repo.last_sync_attempt_at = False
        self.repo.action_sync_from_github()
        self.assertEqual(len(self.github.calls("POST", r"/attempts$")), 1, "asked once only")

    def test_a_delivery_acknowledged_and_then_lost_is_asked_again(self):
        """A database restored from a backup, or a crash after an early acknowledgement, lost what GitHub sent."""
        self.github.add_repo("acme/erp")
        self.github.redeliver_to = self.base_url() + WEBHOOK
        body = json.dumps(gp.workflow_run_event("acme/erp", run_id=8181)).encode()
        headers = signed_headers(body, "workflow_run")
        self.assertEqual(self.post(body, headers).status_code, 202)
        self.github.add_delivery("acme/erp", 4242, headers["X-GitHub-Delivery"], "workflow_run", body, headers, 202)
        self.deliveries(guid=headers["X-GitHub-Delivery"]).unlink()  # what the crash or the restore did
        self.repo.action_sync_from_github()
        self.assertEqual(len(self.github.calls("POST", r"/attempts$")), 1)
        self.assertEqual(self.deliveries(guid=headers["X-GitHub-Delivery"]).state, "received", "it came back")

    def test_a_delivery_purged_after_its_retention_is_not_asked_again(self):
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.delivery_retention_days", 1)
        self.github.add_repo("acme/erp")
        now = datetime.utcnow()
        # both within the first check's 3-day window; Odoo holds neither
        self.github.add_delivery("acme/erp", 4242, "purged", "push", b"{}", {}, 202, now - timedelta(days=2))
        self.github.add_delivery("acme/erp", 4242, "lost", "push", b"{}", {}, 202, now - timedelta(hours=20))
        self.repo.action_sync_from_github()
        (call,) = self.github.calls("POST", r"/attempts$")
        lost = next(a for a in self.github.deliveries[("acme/erp", 4242)] if a["guid"] == "lost")
        self.assertEqual(call.path, f"/repos/acme/erp/hooks/4242/deliveries/{lost['id']}/attempts")

    def test_early_acknowledgement_needs_a_recent_check_of_the_delivery_log(self):
        Repository = self.env["ops.repository"]
        self.github.add_repo("acme/erp")
        self.github.deliveries[("acme/erp", 4242)] = []

        def acknowledged_before_flush():
            """What the webhook request set for its own transaction, read in the same (test) transaction."""
            self.assertEqual(self.post_event("workflow_run", gp.workflow_run_event("acme/erp")).status_code, 202)
            self.env.cr.execute("SHOW synchronous_commit")
            acknowledged = self.env.cr.fetchone()[0] == "off"
            self.env.cr.execute("SET LOCAL synchronous_commit TO DEFAULT")
            return acknowledged

        self.assertFalse(Repository._delivery_log_covers(self.repo.ids))
        self.assertFalse(acknowledged_before_flush(), "never checked: every delivery waits for the flush")
        self.repo.action_sync_from_github()
        self.assertEqual(self.repo.delivery_log_mark, self.repo.last_redelivery_check_at)
        self.assertTrue(Repository._delivery_log_covers(self.repo.ids), "the workers' cache saw the new mark")
        self.assertTrue(acknowledged_before_flush())

        # a check 11 hours after the cached mark leaves it alone (no cache clearing); 13 hours after rewrites it
        for hours, rewritten in ((11, False), (13, True)):
            mark = fields.Datetime.now() - timedelta(hours=hours)
            self.repo.delivery_log_mark = mark
            self.repo.last_sync_attempt_at = False
            self.repo.action_sync_from_github()
            self.assertEqual(self.repo.delivery_log_mark != mark, rewritten, hours)
        self.repo.delivery_log_mark = fields.Datetime.now() - timedelta(hours=24, seconds=1)
        self.assertFalse(Repository._delivery_log_covers(self.repo.ids), "a day without a check: no longer")
        self.assertFalse(acknowledged_before_flush())
        self.repo.delivery_log_mark = fields.Datetime.now()

        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.delivery_ack_after_flush", "True")
        self.assertFalse(acknowledged_before_flush(), "the settings ask to always wait for the flush")
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.delivery_ack_after_flush", False)
        self.assertTrue(acknowledged_before_flush())

        other = Repository.create({"full_name": "acme/other", "webhook_secret": "x"})
        self.assertFalse(Repository._delivery_log_covers((self.repo + other).ids), "every repository must be covered")
        self.repo.token = False
        self.assertFalse(self.repo.delivery_log_mark, "no token, no more checks: stop relying on the log at once")
        self.assertFalse(acknowledged_before_flush())

    def test_a_check_that_cannot_read_its_whole_window_neither_moves_on_nor_trusts_the_log(self):
        self.patch(rest_api, "MAX_DELIVERIES_SCANNED", 150)
        self.github.add_repo("acme/erp")
        now = datetime.utcnow()
        self.github.add_delivery("acme/erp", 4242, "refused-early", "push", b"{}", {}, 502, now - timedelta(minutes=30))
        for index in range(200):
            self.github.add_delivery(
                "acme/erp", 4242, f"ok-{index}", "push", b"{}", {}, 202, now - timedelta(seconds=index)
            )
        self.env["ops.webhook.delivery"].create(
            [
                {"guid": f"ok-{index}", "event": "push", "repository_id": self.repo.id, "payload": "{}"}
                for index in range(200)
            ]
        )
        self.repo.delivery_log_mark = fields.Datetime.now()  # trusted until now
        self.repo.action_sync_from_github()
        self.assertEqual(self.repo.last_sync_state, "ok", "the runs and the deliveries it read are fine")
        self.assertIn("150", self.repo.last_sync_message)
        self.assertFalse(self.repo.last_redelivery_check_at, "the next check starts from the same point")
        self.assertFalse(self.repo.delivery_log_mark, "more traffic than a check reads: no longer trusted")
        self.assertFalse(self.env["ops.repository"]._delivery_log_covers(self.repo.ids))
        self.assertEqual(self.github.calls("POST", r"/attempts$"), [], "the refused one was beyond the 150 read")
        # a quieter hour: the whole window fits, the refused delivery is asked again and the log trusted
        self.patch(rest_api, "MAX_DELIVERIES_SCANNED", 1000)
        self.repo.last_sync_attempt_at = False
        self.repo.action_sync_from_github()
        self.assertEqual(len(self.github.calls("POST", r"/attempts$")), 1)
        self.assertTrue(self.repo.delivery_log_mark)

    def test_a_new_hook_starts_without_a_trusted_delivery_log(self):
        self.github.add_repo("acme/erp")
        self.github.deliveries[("acme/erp", 4242)] = []
        self.repo.action_sync_from_github()
        self.assertTrue(self.repo.delivery_log_mark)
        self.repo._mark_hook_verified(events.parse_ping(gp.ping_event("acme/erp", hook_id=4242)))
        self.assertTrue(self.repo.delivery_log_mark, "the same hook pinged again keeps its log")
        self.repo._mark_hook_verified(events.parse_ping(gp.ping_event("acme/erp", hook_id=5353)))
        self.assertFalse(self.repo.delivery_log_mark)
        self.assertFalse(self.env["ops.repository"]._delivery_log_covers(self.repo.ids))

    def test_failures_are_recorded_on_the_repository_without_the_token(self):
        self.github.add_repo("acme/erp")
        self.repo.token = "ghp_wrong_and_secret"
        action = self.repo.action_sync_from_github()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.repo.last_sync_state, "failed")
        self.assertIn("401", self.repo.last_sync_message)
        self.assertNotIn("ghp_wrong_and_secret", self.repo.last_sync_message + json.dumps(action))
        self.assertFalse(self.repo.last_sync_at)

    def test_a_deleted_hook_does_not_lose_the_runs(self):
        self.github.add_run("acme/erp", started=datetime.utcnow(), jobs=[{"name": "t"}])
        self.repo.action_sync_from_github()
        self.assertEqual(self.repo.last_sync_state, "failed")
        self.assertIn("4242", self.repo.last_sync_message)
        self.assertTrue(self.repo.last_sync_at, "the runs part succeeded")
        self.assertFalse(self.repo.last_redelivery_check_at)
        self.assertEqual(len(self.Run.search([("repository_id", "=", self.repo.id)])), 1)

    def test_cron_syncs_repositories_with_a_token_and_goes_on_after_a_failure(self):
        self.github.add_run("acme/erp", started=datetime.utcnow(), jobs=[{"name": "t"}])
        self.github.deliveries[("acme/erp", 4242)] = []
        broken = self.env["ops.repository"].create(
            {"full_name": "acme/gone", "api_url": self.github.url, "token": "ghp_sync_token"}
        )
        no_token = self.env["ops.repository"].create({"full_name": "acme/notoken"})
        self.env["ops.repository"]._cron_sync_from_github()
        self.assertEqual(broken.last_sync_state, "failed")
        self.assertEqual(self.repo.last_sync_state, "ok")
        self.assertEqual(no_token.last_sync_state, "never")
        self.assertTrue(self.Run.search([("repository_id", "=", self.repo.id)]))

    def test_a_delivery_odoo_keeps_refusing_is_asked_again_three_times_then_reported(self):
        """A delivery signed with another secret is refused on every redelivery: the sync stops asking and says so."""
        self.github.add_repo("acme/erp")
        self.github.redeliver_to = self.base_url() + WEBHOOK
        body = json.dumps(gp.push_event("acme/erp")).encode()
        headers = signed_headers(body, "push", secret="the secret GitHub has, not Odoo's")
        self.assertEqual(self.post(body, headers).status_code, 401)
        guid = headers["X-GitHub-Delivery"]
        self.github.add_delivery("acme/erp", 4242, guid, "push", body, headers, 401, datetime.utcnow())
        for _sync in range(6):
            self.repo.last_sync_attempt_at = False
            self.repo.action_sync_from_github()
            self.assertEqual(self.repo.last_sync_state, "ok", self.repo.last_sync_message)
        self.assertEqual(len(self.github.calls("POST", r"/attempts$")), 3, "asked three times, then no more")
        self.assertFalse(self.deliveries(guid=guid))
        self.assertEqual(self.repo.undelivered_count, 1)
        self.assertIn("401", self.repo.undelivered_note)
        self.assertIn("webhook secret", self.repo.undelivered_note)

    def test_an_organization_hook_is_synced_from_the_organizations_delivery_log(self):
        """An org hook's ping is matched by owner; its deliveries are listed and redelivered under /orgs/{org}."""
        self.repo.write({"hook_id": False})
        self.github.add_repo("acme/erp")
        self.github.add_repo("acme/other")
        self.github.redeliver_to = self.base_url() + WEBHOOK
        response = self.post_event("ping", gp.ping_event("acme/erp", hook_id=777, organization_hook=True))
        self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        self.assertEqual(self.repo.hook_id, 777)

        lost_body = json.dumps(gp.workflow_run_event("acme/erp", run_id=9090)).encode()
        lost = signed_headers(lost_body, "workflow_run")
        other_body = json.dumps(gp.workflow_run_event("acme/other", run_id=9191)).encode()
        other = signed_headers(other_body, "workflow_run", secret="acme/other's secret")
        now = datetime.utcnow()
        for guid_headers, body, name in ((lost, lost_body, "acme/erp"), (other, other_body, "acme/other")):
            guid = guid_headers["X-GitHub-Delivery"]
            self.github.add_delivery(
                name, 777, guid, "workflow_run", body, guid_headers, 502, now, organization_hook=True
            )
        self.repo.action_sync_from_github()
        self.assertEqual(self.repo.last_sync_state, "ok", self.repo.last_sync_message)
        self.assertEqual(self.repo.hook_scope, "organization")
        self.assertTrue(self.github.calls("GET", r"^/orgs/acme/hooks/777/deliveries$"), "the org's delivery log")
        self.assertFalse(self.github.calls("GET", r"^/repos/acme/erp/hooks/"), "not the repository's")
        (asked,) = self.github.calls("POST", r"/attempts$")
        self.assertTrue(asked.path.startswith("/orgs/acme/hooks/777/deliveries/"))
        self.assertEqual(self.deliveries(guid=lost["X-GitHub-Delivery"]).state, "received")
        self.assertFalse(self.deliveries(guid=other["X-GitHub-Delivery"]), "another repository's is not asked for")
