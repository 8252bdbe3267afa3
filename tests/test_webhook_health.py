"""Refused deliveries are visible in Odoo, on the repository they name, in bounded storage.

Everything goes through the real endpoint (HTTP, the Odoo request stack,
PostgreSQL), with deliveries built and signed in GitHub's format.
"""

import json
import unittest
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..autopilot.ingest import gate
from ..autopilot.testing import fixtures
from ..autopilot.testing import github_payloads as gp
from ..models.ops_webhook_refusal import MAX_PER_REPOSITORY, MAX_UNKNOWN
from .common import SECRET, OpsHttpCase, signed_headers

#: a string in every refused body: it must never be stored anywhere
MARKER = "zz-body-marker-7f3c"


def forget_demo_refusals(env):
    """The tests count refusals from nothing: the demo data has some."""
    env["ops.webhook.refusal"].search([]).unlink()
    env["ops.webhook.refusal.hour"].search([]).unlink()


@tagged("post_install", "-at_install")
class TestWebhookRefusals(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Refusal = cls.env["ops.webhook.refusal"]
        cls.Hour = cls.env["ops.webhook.refusal.hour"]
        forget_demo_refusals(cls.env)

    def marked(self, repo="acme/erp", run_id=5550001):
        payload = gp.workflow_run_event(repo, run_id=run_id)
        payload["workflow_run"]["display_title"] = MARKER
        return json.dumps(payload).encode()

    def refusals(self, **domain):
        self.env.invalidate_all()
        return self.Refusal.search([(key, "=", value) for key, value in domain.items()])

    def assert_no_body_kept(self):
        """No column of any refusal row holds anything of a refused body."""
        self.env.flush_all()
        for table in ("ops_webhook_refusal", "ops_webhook_refusal_hour"):
            self.env.cr.execute(f"SELECT row_to_json(t)::text FROM {table} t")
            for (row,) in self.env.cr.fetchall():
                self.assertNotIn(MARKER, row)
                self.assertNotIn("workflow_run", row.replace('"event":"workflow_run"', ""))

    def test_a_wrong_secret_shows_on_the_repository(self):
        body = self.marked()
        headers = signed_headers(body, "workflow_run", secret="not the secret")
        response = self.post(body, headers)
        self.assertEqual(response.status_code, 401)
        refusal = self.refusals(guid=headers["X-GitHub-Delivery"])
        self.assertEqual(len(refusal), 1, "the refusal is recorded")
        self.assertEqual(refusal.repository_id, self.repo, "on the repository the payload names")
        self.assertEqual(
            (refusal.reason, refusal.status, refusal.event, refusal.size, refusal.remote_addr),
            (gate.BAD_SIGNATURE, 401, "workflow_run", len(body), "127.0.0.1"),
        )
        self.assertEqual(self.repo.webhook_refusal_ids, refusal)
        self.assertEqual(self.repo.refused_24h_count, 1)
        self.assertIn("Bad signature", self.repo.webhook_refusals_24h_html)
        self.assertFalse(
            self.deliveries(guid=headers["X-GitHub-Delivery"]), "and nothing of it is stored as a delivery"
        )
        self.assert_no_body_kept()

    def test_each_reason_is_recorded(self):
        good = self.marked()
        nosecret = self.env["ops.repository"].create({"full_name": "acme/nosecret"})
        unknown = self.marked("evil/repo")
        cases = [
            ("no signature", good, signed_headers(good, "workflow_run", secret=None), gate.NO_SIGNATURE, self.repo),
            ("bad event", good, signed_headers(good, "Workflow Run!"), gate.BAD_EVENT, self.repo),
            ("no secret", self.marked("acme/nosecret"), None, gate.NO_SECRET, nosecret),
            ("unknown", unknown, signed_headers(unknown, "workflow_run"), gate.UNKNOWN_REPOSITORY, False),
            ("bad JSON", b'{"repository": ', None, gate.MALFORMED, False),
            ("text", b"hello " + MARKER.encode(), None, gate.CONTENT_TYPE, False),
        ]
        for label, body, given_headers, reason, repo in cases:
            with self.subTest(label):
                content_type = "text/plain" if reason == gate.CONTENT_TYPE else "application/json"
                headers = given_headers or signed_headers(body, "workflow_run", content_type=content_type)
                response = self.post(body, headers)
                self.assertGreaterEqual(response.status_code, 400)
                refusal = self.refusals(reason=reason)
                self.assertEqual(len(refusal), 1)
                self.assertEqual(refusal.repository_id, repo or self.env["ops.repository"])
                self.assertEqual(refusal.size, len(body))
        self.assertEqual(self.refusals(reason=gate.UNKNOWN_REPOSITORY).claimed_name, "evil/repo")
        self.assertEqual(self.refusals(reason=gate.BAD_EVENT).event, "Workflow Run!", "as sent, to be recognised")
        self.assert_no_body_kept()

    def test_payload_too_large(self):
        """Refused by ir.http before the controller; recorded in a transaction of its own.

        That transaction commits in a real server (``bench/webhook_refusals`` counts the rows); under the
        test server it is part of the test's transaction, which the refused request rolls back: so the
        answer is checked through HTTP and the recording by the same call ir.http makes.
        """
        body = b"{" + b" " * gate.MAX_BODY + b"}"
        response = self.post(body, signed_headers(body, "workflow_run"), timeout=120)
        self.assertEqual(response.status_code, 413)
        # the addon's answer (where it records the refusal), not the HTML page of werkzeug's form parser
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/json")
        self.assertEqual(response.json()["status"], "rejected")
        refused = gate.Rejected(413, "too large", gate.TOO_LARGE)
        self.Refusal.sudo()._record(refused, {"X-GitHub-Event": "push"}, "10.0.0.7", len(body))
        refusal = self.refusals(reason=gate.TOO_LARGE)
        self.assertEqual(
            (len(refusal), refusal.repository_id.id, refusal.size, refusal.event, refusal.remote_addr),
            (1, False, len(body), "push", "10.0.0.7"),
        )

    def test_counts_per_reason_over_24_hours(self):
        for _index in range(3):
            self.post_event("workflow_run", self.run_payload(), secret="wrong")
        self.post_event("workflow_run", self.run_payload(), secret=None)
        old = self.Hour.sudo().create(
            {
                "repository_id": self.repo.id,
                "reason": gate.BAD_SIGNATURE,
                "hour": fields.Datetime.now() - timedelta(hours=30),
                "count": 50,
            }
        )
        self.env.invalidate_all()
        self.assertEqual(self.repo.refused_24h_count, 4, "the hour 30 hours ago is not counted")
        html = str(self.repo.webhook_refusals_24h_html)
        self.assertRegex(html, r"Bad signature</td><td[^>]*>3<")
        self.assertRegex(html, r"No signature</td><td[^>]*>1<")
        rows = self.Hour.search([("repository_id", "=", self.repo.id), ("reason", "=", gate.BAD_SIGNATURE)])
        self.assertEqual(len(rows), 2, "one counter row per hour, updated in place")
        self.assertEqual(sorted(rows.mapped("count")), [3, 50])
        old.hour = fields.Datetime.now() - timedelta(days=30)
        self.env["ops.webhook.delivery"]._cron_purge_deliveries()
        self.assertFalse(old.exists(), "old counters are purged with the deliveries")

    def test_a_flood_of_refusals_stays_bounded(self):
        """Many senders with bad signatures, and as many made-up repositories: the rows stay capped."""
        flood = 3 * max(MAX_PER_REPOSITORY, MAX_UNKNOWN)
        body = self.marked()
        for index in range(flood):
            self.assertEqual(self.post(body, signed_headers(body, "workflow_run", secret="guess")).status_code, 401)
            made_up = json.dumps(gp.workflow_run_event(f"evil/repo-{index}")).encode()
            self.assertEqual(self.post(made_up, signed_headers(made_up, "workflow_run")).status_code, 404)
        self.env.invalidate_all()
        kept = self.refusals(repository_id=self.repo.id)
        self.assertEqual(len(kept), MAX_PER_REPOSITORY, "only the last refusals of the repository are kept")
        self.assertEqual(len(self.refusals(repository_id=False)), MAX_UNKNOWN, "the unknown bucket is capped too")
        names = self.refusals(repository_id=False).mapped("claimed_name")
        self.assertIn(f"evil/repo-{flood - 1}", names, "the newest are the ones kept")
        self.assertNotIn("evil/repo-0", names)
        counters = self.Hour.search([])
        self.assertLessEqual(len(counters), 4, "one counter per (bucket, reason, hour), at most an hour boundary more")
        self.assertEqual(sum(counters.mapped("count")), 2 * flood, "yet every refusal is counted")
        self.assertEqual(self.repo.refused_24h_count, flood)
        self.assert_no_body_kept()

    def test_published_payloads_with_a_wrong_secret_are_recorded_with_their_event(self):
        if not fixtures.available():
            raise unittest.SkipTest(fixtures.MISSING)
        events_seen = set()
        for event, path in fixtures.fixture_files()[:12]:
            body, _payload = fixtures.load(path)
            headers = signed_headers(body, event, secret="wrong")
            self.assertGreaterEqual(self.post(body, headers).status_code, 400)
            refusal = self.refusals(guid=headers["X-GitHub-Delivery"])
            self.assertEqual(len(refusal), 1, path.name)
            self.assertEqual((refusal.event, refusal.size), (event, len(body)))
            events_seen.add(event)
        self.assertGreater(len(events_seen), 1)


@tagged("post_install", "-at_install")
class TestWebhookChecklist(OpsHttpCase):
    def test_checklist_follows_the_set_up(self):
        forget_demo_refusals(self.env)
        repo = self.env["ops.repository"].create({"full_name": "acme/fresh"})
        html = str(repo.webhook_checklist_html)
        self.assertIn("No webhook secret", html)
        self.assertIn("No ping received", html)
        self.assertIn("No API token", html)
        self.assertIn("No delivery accepted yet", html)
        repo.write({"webhook_secret": SECRET, "token": "ghp_token"})
        ping = gp.ping_event("acme/fresh", hook_id=4242)
        self.assertEqual(self.post_event("ping", ping).status_code, 200)
        self.assertEqual(self.post_event("workflow_run", gp.workflow_run_event("acme/fresh")).status_code, 202)
        self.env.invalidate_all()
        self.assertTrue(repo.hook_verified_at)
        self.assertTrue(repo.last_delivery_at)
        html = str(repo.webhook_checklist_html)
        self.assertIn("Webhook secret set", html)
        self.assertIn("Hook 4242 verified by a ping", html)
        self.assertIn("min ago", html)
        self.assertIn("Token not checked yet", html)
        self.assertNotIn("ghp_token", html)
        self.assertNotIn(SECRET, html)
        repo.token_check = {
            "checked_at": "2026-12-06 10:00:00",
            "features": [
                {"feature": "sync", "state": "ok", "detail": ""},
                {"feature": "deliveries", "state": "missing", "detail": "needs Webhooks: write"},
            ],
        }
        self.assertIn("1 of 2 features", str(repo.webhook_checklist_html))

    def test_a_bad_signature_on_a_ping_does_not_verify_the_hook(self):
        self.post_event("ping", gp.ping_event("acme/erp", hook_id=99), secret="wrong")
        self.env.invalidate_all()
        self.assertFalse(self.repo.hook_verified_at)
        self.assertIn("No ping received", str(self.repo.webhook_checklist_html))
        self.assertEqual(self.repo.webhook_refusal_ids.event, "ping")


@tagged("post_install", "-at_install")
class TestWebhookRefusalAccess(OpsHttpCase):
    def test_ops_users_read_refusals_and_nobody_writes_them(self):
        forget_demo_refusals(self.env)
        self.post_event("workflow_run", self.run_payload(), secret="wrong")
        user = new_test_user(self.env, "ops_refusal_user", groups="ops_autopilot.group_ops_user")
        manager = new_test_user(self.env, "ops_refusal_manager", groups="ops_autopilot.group_ops_manager")
        refusals = self.env["ops.webhook.refusal"].with_user(user).search([])
        self.assertEqual(len(refusals), 1)
        self.assertEqual(self.repo.with_user(user).refused_24h_count, 1)
        for who in (user, manager):
            with self.subTest(who.login), self.assertRaises(AccessError):
                self.env["ops.webhook.refusal"].with_user(who).create({"reason": gate.BAD_SIGNATURE})
            with self.subTest(who.login), self.assertRaises(AccessError):
                refusals.with_user(who).write({"reason": gate.MALFORMED})
        outsider = new_test_user(self.env, "ops_refusal_outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["ops.webhook.refusal"].with_user(outsider).search([])
