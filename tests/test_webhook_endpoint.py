"""The webhook endpoint's answers and what it stores (or not) for each kind of request."""

import json
from urllib.parse import urlencode

from odoo.tests import tagged

from ..autopilot.ingest import gate
from ..autopilot.testing import github_payloads as gp
from .common import SECRET, WEBHOOK, OpsHttpCase, signed_headers


@tagged("post_install", "-at_install")
class TestWebhookEndpoint(OpsHttpCase):
    def test_accepted_delivery_is_stored_raw_and_triggers_the_cron(self):
        cron = self.env.ref("ops_autopilot.ir_cron_process_webhook_deliveries")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        body = json.dumps(self.run_payload(status="in_progress")).encode()
        headers = signed_headers(body, "workflow_run") | {"X-GitHub-Hook-ID": "31337"}
        with self.assertNoLogs("odoo.http", level="WARNING"):  # e.g. a read-only cursor retried read/write
            response = self.post(body, headers)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json(), {"status": "received", "delivery": headers["X-GitHub-Delivery"]})
        delivery = self.deliveries(guid=headers["X-GitHub-Delivery"])
        self.assertEqual(delivery.state, "received")
        self.assertEqual(delivery.payload.encode(), body)
        self.assertEqual((delivery.event, delivery.action, delivery.hook_id), ("workflow_run", "in_progress", 31337))
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before + 1)
        self.assertFalse(self.Run.search([("github_id", "=", 5550001)]), "nothing is processed inside the request")
        self.process()
        self.assertEqual(self.Run.search([("github_id", "=", 5550001)]).status, "in_progress")

    def test_redelivery_of_a_stored_delivery_is_not_processed_twice(self):
        body = json.dumps(gp.push_event("acme/erp", commits=[{"added": ["a.py"]}])).encode()
        headers = signed_headers(body, "push")
        self.assertEqual(self.post(body, headers).status_code, 202)
        self.process()
        second = self.post(body, headers)
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.json()["status"], "duplicate")
        self.assertEqual(len(self.deliveries(guid=headers["X-GitHub-Delivery"])), 1)
        self.assertEqual(self.process(), 0)
        self.assertEqual(self.env["ops.push"].search_count([("repository_id", "=", self.repo.id)]), 1)

    def test_out_of_order_deliveries_keep_the_newest_state(self):
        completed = self.run_payload(status="completed", conclusion="failure")
        late = self.run_payload(status="in_progress")
        self.assertEqual(self.post_event("workflow_run", completed).status_code, 202)
        self.assertEqual(self.post_event("workflow_run", late).status_code, 202)
        self.process()
        run = self.Run.search([("github_id", "=", 5550001)])
        self.assertEqual((run.status, run.conclusion, run.outcome), ("completed", "failure", "failure"))
        self.assertTrue(run.finished_at)

    def test_refusals_store_nothing(self):
        good = json.dumps(self.run_payload()).encode()
        unknown = json.dumps(gp.workflow_run_event("evil/repo")).encode()
        cases = {
            "bad JSON": (b'{"repository": ', signed_headers(b'{"repository": ', "workflow_run"), 400),
            "not an object": (b"[]", signed_headers(b"[]", "workflow_run"), 400),
            "no signature": (good, signed_headers(good, "workflow_run", secret=None), 401),
            "wrong secret": (good, signed_headers(good, "workflow_run", secret="nope"), 401),
            "unknown repository": (unknown, signed_headers(unknown, "workflow_run"), 404),
            "no event header": (
                good,
                {k: v for k, v in signed_headers(good, "x").items() if k != "X-GitHub-Event"},
                400,
            ),
        }
        for label, (body, headers, status) in cases.items():
            with self.subTest(label):
                response = self.post(body, headers)
                self.assertEqual(response.status_code, status, response.text)
                self.assertEqual(response.json()["status"], "rejected")
                self.assertTrue(response.json()["reason"])
                if "X-GitHub-Delivery" in headers:
                    self.assertFalse(self.deliveries(guid=headers["X-GitHub-Delivery"]))

    def test_archived_repository_is_unknown(self):
        self.assertEqual(self.post_event("workflow_run", self.run_payload()).status_code, 202)
        self.repo.active = False  # after a delivery: the cached answer for this name must not outlive it
        response = self.post_event("workflow_run", self.run_payload())
        self.assertEqual(response.status_code, 404)

    def test_repository_changes_apply_to_the_next_delivery(self):
        self.assertEqual(self.post_event("workflow_run", self.run_payload()).status_code, 202)
        self.repo.webhook_secret = "rotated"
        self.assertEqual(self.post_event("workflow_run", self.run_payload()).status_code, 401, "the old secret")
        self.assertEqual(self.post_event("workflow_run", self.run_payload(), secret="rotated").status_code, 202)
        self.repo.full_name = "acme/renamed"
        renamed = gp.workflow_run_event("acme/renamed", run_id=5550002)
        self.assertEqual(self.post_event("workflow_run", self.run_payload(), secret="rotated").status_code, 404)
        self.assertEqual(self.post_event("workflow_run", renamed, secret="rotated").status_code, 202)
        other = self.env["ops.repository"].create({"full_name": "acme/new-one", "webhook_secret": "fresh"})
        fresh = gp.workflow_run_event("acme/new-one", run_id=5550003)
        self.assertEqual(self.post_event("workflow_run", fresh, secret="fresh").status_code, 202)
        other.unlink()
        self.assertEqual(self.post_event("workflow_run", fresh, secret="fresh").status_code, 404)

    def test_oversize_body_is_refused_before_reading_it(self):
        body = b"{" + b" " * gate.MAX_BODY + b"}"
        headers = signed_headers(body, "workflow_run")
        response = self.post(body, headers, timeout=120)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.deliveries(guid=headers["X-GitHub-Delivery"]))

    def test_unknown_event_is_stored_as_ignored(self):
        payload = {"action": "created", "starred_at": None, "repository": gp.repository("acme/erp")}
        body = json.dumps(payload).encode()
        headers = signed_headers(body, "star")
        response = self.post(body, headers)
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json()["status"], "ignored")
        delivery = self.deliveries(guid=headers["X-GitHub-Delivery"])
        self.assertEqual(delivery.state, "ignored")
        self.assertEqual(self.process(), 0)

    def test_an_organization_event_with_digits_in_its_name_is_stored_as_ignored(self):
        """An organization hook set to send everything delivers ``projects_v2_item``: 202, stored, ignored."""
        response = self.post_event("projects_v2_item", gp.projects_v2_item_event("acme"))
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["status"], "ignored")
        delivery = self.deliveries(event="projects_v2_item")
        self.assertEqual(delivery.state, "ignored")
        self.assertEqual(delivery.repository_id, self.repo)
        self.assertEqual(self.process(), 0)

    def test_ping_verifies_the_hook(self):
        response = self.post_event("ping", gp.ping_event("acme/erp", hook_id=987654321))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["status"], "pong")
        self.env.invalidate_all()
        self.assertEqual(self.repo.hook_id, 987654321)
        self.assertTrue(self.repo.hook_verified_at)
        self.assertIn("workflow_run", self.repo.hook_events)

    def test_form_encoded_delivery_is_verified_on_its_raw_bytes(self):
        payload = json.dumps(self.run_payload(status="queued"))
        body = urlencode({"payload": payload}).encode()
        headers = signed_headers(body, "workflow_run", content_type="application/x-www-form-urlencoded")
        response = self.post(body, headers)
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(self.deliveries(guid=headers["X-GitHub-Delivery"]).payload, payload)

    def test_get_is_not_a_delivery(self):
        response = self.url_open(WEBHOOK)
        self.assertIn(response.status_code, (404, 405))
        self.assertFalse(self.deliveries(repository_id=self.repo.id))

    def test_a_delivery_whose_processing_raises_fails_alone_and_is_retried(self):
        broken = self.run_payload()
        broken["workflow_run"]["id"] = "not-an-id"  # passes the gate, fails in processing
        bad = self.post_event("workflow_run", broken)
        good = self.post_event("workflow_run", self.run_payload(run_id=5550002))
        self.assertEqual((bad.status_code, good.status_code), (202, 202))
        self.process()
        failed = self.deliveries(state="failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("payload.workflow_run.id", failed.error)
        self.assertEqual(failed.attempts, 1)
        self.assertTrue(failed.next_attempt_at)
        self.assertTrue(self.Run.search([("github_id", "=", 5550002)]), "the other delivery was processed")
        cron = self.env.ref("ops_autopilot.ir_cron_process_webhook_deliveries")
        retry = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", ">", failed.received_at)])
        self.assertTrue(retry, "a trigger is scheduled for the retry")
        # not due yet: untouched; due: retried with its attempts counted, until the limit
        self.assertEqual(self.process(), 0)
        for attempt in range(2, 6):
            failed.next_attempt_at = "2000-01-01 00:00:00"
            self.process()
            self.assertEqual(failed.attempts, attempt)
        self.assertFalse(failed.next_attempt_at, "after the last attempt it is not retried any more")
        self.assertEqual(failed.state, "failed")


@tagged("post_install", "-at_install")
class TestWebhookSecretsStayOutOfAnswers(OpsHttpCase):
    def test_no_answer_echoes_the_secret(self):
        body = json.dumps(self.run_payload()).encode()
        for secret in (SECRET, "wrong"):
            response = self.post(body, signed_headers(body, "workflow_run", secret=secret))
            self.assertNotIn(SECRET, response.text)
