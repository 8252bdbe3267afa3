"""Fuzz of the real webhook endpoint (HTTP, the Odoo request stack, PostgreSQL).

Every request gets one of the documented status codes (never a 500),
refusals store nothing, and a stored delivery is either processed into
whole records or failed with nothing written. The engine suite fuzzes the
gate and the parsers with many more examples
(``autopilot/tests/test_webhook_fuzz.py``); this one proves the same
through the server, a few hundred requests.
"""

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..autopilot.github import signature
from ..autopilot.testing.webhook_fuzz import bodies, content_types, examples, header_text, mutated_deliveries
from .common import SECRET, OpsHttpCase, signed_headers

DOCUMENTED = {200, 202, 400, 401, 404, 413}
OTHER_SECRET = "acme-other-secret"
RECORD_MODELS = (
    "ops.workflow.run",
    "ops.workflow.job",
    "ops.push",
    "ops.pull.request",
    "ops.change.file",
    "ops.deployment",
    "ops.deployment.status",
    "ops.deployment.environment",
)
HANDLED_WITH_RECORD = {"workflow_run", "workflow_job", "check_run", "push", "pull_request", "deployment_status"}


def fuzz_settings(count):
    # derandomized: the suite runs the same requests every time; the engine fuzz explores at random
    return settings(
        max_examples=examples(count),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


def http_header(value):
    """What an HTTP client can put in a header: latin-1, no control characters, no outer spaces."""
    return "".join(char for char in value if " " <= char <= "\xff" and char != "\x7f").strip()


@tagged("post_install", "-at_install")
class TestWebhookFuzz(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["ops.repository"].create({"full_name": "acme/other", "webhook_secret": OTHER_SECRET})

    def counts(self):
        self.env.invalidate_all()
        return {model: self.env[model].search_count([]) for model in RECORD_MODELS}

    @fuzz_settings(100)
    @given(
        body=bodies,
        content_type=content_types.map(http_header),
        event=st.one_of(st.sampled_from(["workflow_run", "push", "ping", "issues"]), header_text.map(http_header)),
        guid=st.one_of(st.uuids().map(str), header_text.map(http_header)),
        hook_id=st.one_of(st.none(), header_text.map(http_header)),
        signer=st.sampled_from(["valid", "other_repository", "garbage", "missing", "truncated"]),
        garbage=header_text.map(http_header),
        query=st.sampled_from(["", "?self=1", "?payload=x&db=other"]),
    )
    def test_any_request_gets_a_documented_answer_and_refusals_store_nothing(
        self, body, content_type, event, guid, hook_id, signer, garbage, query
    ):
        valid = signature.sign(SECRET, body)
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "Content-Type": content_type,
            "X-Hub-Signature-256": {
                "valid": valid,
                "other_repository": signature.sign(OTHER_SECRET, body),
                "garbage": garbage,
                "missing": "",
                "truncated": valid[:-1],
            }[signer],
        }
        if hook_id is not None:
            headers["X-GitHub-Hook-ID"] = hook_id
        stored = self.Delivery.search_count([])
        response = self.post(body, headers, path=f"/ops/github/webhook{query}")
        self.assertIn(response.status_code, DOCUMENTED, response.text[:500])
        answer = response.json()
        self.env.invalidate_all()
        if response.status_code >= 400:
            self.assertEqual(answer["status"], "rejected")
            self.assertTrue(answer["reason"])
            self.assertEqual(self.Delivery.search_count([]), stored, "a refused request stores nothing")
            return
        self.assertEqual(signer, "valid", "only the repository's own secret lets a delivery in")
        self.assertEqual(answer["delivery"], guid)
        added = self.Delivery.search_count([]) - stored
        self.assertEqual(added, 0 if answer["status"] == "duplicate" else 1)
        delivery = self.Delivery.search([("guid", "=", guid)])
        self.assertEqual(delivery.repository_id, self.repo)
        self.assertIsInstance(json.loads(delivery.payload), dict)

    @fuzz_settings(40)
    @given(delivery=mutated_deliveries(), form=st.booleans())
    def test_signed_payloads_of_any_shape_are_processed_whole_or_failed_whole(self, delivery, form):
        event, payload = delivery
        text = json.dumps(payload)
        if form:
            body = urlencode({"payload": text}).encode()
            headers = signed_headers(body, event, content_type="application/x-www-form-urlencoded")
        else:
            body = text.encode()
            headers = signed_headers(body, event)
        response = self.post(body, headers)
        self.assertIn(response.status_code, {200, 202, 400, 404}, response.text[:500])
        guid = headers["X-GitHub-Delivery"]
        if response.status_code >= 400:
            self.assertFalse(self.deliveries(guid=guid))
            return
        before = self.counts()
        with mute_logger("odoo.addons.ops_autopilot.models.ops_webhook_delivery"):  # one warning per failure
            self.process()
        delivery = self.deliveries(guid=guid)
        self.assertEqual(len(delivery), 1)
        self.assertEqual(delivery.payload, text)
        if delivery.state == "failed":
            self.assertTrue(delivery.error)
            self.assertFalse(delivery.res_id)
            self.assertEqual(self.counts(), before, f"{event}: a failed delivery leaves no record behind")
            return
        self.assertIn(delivery.state, ("processed", "ignored"))
        if delivery.state == "processed" and event in HANDLED_WITH_RECORD:
            record = self.env[delivery.res_model].browse(delivery.res_id).exists()
            self.assertTrue(record, f"{event}: processed without its record")
            self.assertEqual(record.repository_id, self.repo)
