import json
import uuid

from odoo.tests import HttpCase, TransactionCase

from ..autopilot.github import signature
from ..autopilot.ingest import gate
from ..autopilot.testing import contracts
from ..autopilot.testing import github_payloads as gp

SECRET = "it's-a-secret-to-everybody"
WEBHOOK = "/ops/github/webhook"


def signed_headers(body, event, secret=SECRET, guid=None, content_type="application/json"):
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "Content-Type": content_type,
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature.sign(secret, body)
    return headers


def hold_fakes_to_contracts(case):
    """Fail ``case`` when a fake it used received or answered what the service's published contract forbids."""
    case.addCleanup(contracts.LOG.check_since, contracts.LOG.mark())


class OpsDataMixin:
    """A repository with a secret, and helpers to feed it deliveries without HTTP."""

    def setUp(self):
        super().setUp()
        hold_fakes_to_contracts(self)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.repo = cls.env["ops.repository"].create({"full_name": "acme/erp", "webhook_secret": SECRET})
        cls.Delivery = cls.env["ops.webhook.delivery"]
        cls.Run = cls.env["ops.workflow.run"]
        cls.Job = cls.env["ops.workflow.job"]

    def receive(self, event, payload, guid=None, secret=SECRET):
        """Go through the same gate and storage as the controller; return ``(status, body)``."""
        body = json.dumps(payload).encode()
        verdict = gate.evaluate(
            signed_headers(body, event, secret=secret, guid=guid),
            body,
            "application/json",
            self.env["ops.repository"].sudo()._webhook_candidates,
        )
        if isinstance(verdict, gate.Rejected):
            return verdict.status, {"reason": verdict.reason}
        return self.Delivery._receive(verdict)

    def process(self):
        total = 0
        while True:
            done = self.Delivery._cron_process_deliveries()
            total += done
            if not done:
                return total

    def deliver(self, event, payload, guid=None):
        status, body = self.receive(event, payload, guid=guid)
        self.assertIn(status, (200, 202), body)
        self.process()
        return status

    def run_payload(self, **kwargs):
        kwargs.setdefault("run_id", 5550001)
        return gp.workflow_run_event("acme/erp", **kwargs)


class OpsTransactionCase(OpsDataMixin, TransactionCase):
    pass


class OpsHttpCase(OpsDataMixin, HttpCase):
    def post(self, body, headers, path=WEBHOOK, timeout=30):
        """POST exactly these bytes (url_open turns an empty body into a GET)."""
        return self.opener.post(self.base_url() + path, data=body, headers=headers, timeout=timeout)

    def post_event(self, event, payload, secret=SECRET, guid=None):
        body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        return self.post(body, signed_headers(body, event, secret=secret, guid=guid))

    def deliveries(self, **domain):
        self.env.invalidate_all()
        return self.Delivery.search([(key, "=", value) for key, value in domain.items()])
