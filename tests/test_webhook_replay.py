"""Replayed deliveries, stale signatures, another repository's secret, unknown repositories."""

import json
import uuid

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import BaseCase, new_test_user, tagged
from odoo.tests.common import get_db_name
from odoo.tools import SQL

from ..autopilot.github import signature
from ..autopilot.ingest import gate
from ..autopilot.testing import github_payloads as gp
from .common import SECRET, OpsHttpCase, signed_headers

OTHER_SECRET = "acme-other-secret"


@tagged("post_install", "-at_install")
class TestWebhookReplay(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["ops.repository"].create({"full_name": "acme/other", "webhook_secret": OTHER_SECRET})

    def stored(self):
        self.env.invalidate_all()
        return self.Delivery.search_count([])

    def assert_refused(self, body, headers, status):
        before = self.stored()
        response = self.post(body, headers)
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["status"], "rejected")
        self.assertEqual(self.stored(), before, "a refused delivery stores nothing")
        return response.json()["reason"]

    def test_captured_delivery_replayed_under_new_guids_changes_nothing(self):
        """GitHub signs the body, not the delivery id: a captured body can be sent again, harmlessly."""
        run = json.dumps(self.run_payload(status="completed", conclusion="failure")).encode()
        early = json.dumps(self.run_payload(status="in_progress")).encode()
        push = json.dumps(gp.push_event("acme/erp", commits=[{"added": ["a.py"]}])).encode()
        pull = json.dumps(gp.pull_request_event("acme/erp", number=7)).encode()
        captured = [
            (run, signed_headers(run, "workflow_run")),
            (early, signed_headers(early, "workflow_run")),
            (push, signed_headers(push, "push")),
            (pull, signed_headers(pull, "pull_request")),
        ]
        for body, headers in captured:
            self.assertEqual(self.post(body, headers).status_code, 202)
        self.process()
        run_record = self.Run.search([("github_id", "=", 5550001)])
        self.assertEqual((run_record.status, run_record.conclusion), ("completed", "failure"))
        counts = {m: self.env[m].search_count([]) for m in ("ops.workflow.run", "ops.push", "ops.pull.request")}
        for body, headers in captured * 2:  # the attacker's replays, the stale one last
            replay = headers | {"X-GitHub-Delivery": str(uuid.uuid4())}
            self.assertEqual(self.post(body, replay).status_code, 202)
        self.process()
        self.env.invalidate_all()
        self.assertEqual({m: self.env[m].search_count([]) for m in counts}, counts, "no record twice")
        self.assertEqual((run_record.status, run_record.conclusion), ("completed", "failure"), "no step back")
        self.assertFalse(self.deliveries(state="failed"))

    def test_the_same_delivery_id_replayed_is_a_duplicate_whatever_its_state(self):
        broken = self.run_payload()
        broken["workflow_run"]["id"] = "not-an-id"
        body = json.dumps(broken).encode()
        headers = signed_headers(body, "workflow_run")
        self.assertEqual(self.post(body, headers).status_code, 202)
        self.process()
        failed = self.deliveries(guid=headers["X-GitHub-Delivery"])
        self.assertEqual(failed.state, "failed")
        for _attempt in range(3):
            response = self.post(body, headers)
            self.assertEqual((response.status_code, response.json()["status"]), (200, "duplicate"))
        self.assertEqual(self.deliveries(guid=headers["X-GitHub-Delivery"]), failed)
        self.assertEqual(failed.attempts, 1, "a replay does not trigger processing; the retry schedule does")

    def test_stale_signature_after_the_secret_is_rotated(self):
        body = json.dumps(self.run_payload()).encode()
        old_headers = signed_headers(body, "workflow_run")
        manager = new_test_user(self.env, "rotating_manager", groups="ops_autopilot.group_ops_manager")
        self.repo.with_user(manager).new_webhook_secret = "rotated-secret"
        self.assert_refused(body, old_headers, 401)
        fresh = signed_headers(body, "workflow_run", secret="rotated-secret")
        self.assertEqual(self.post(body, fresh).status_code, 202)

    def test_signature_of_another_body_is_refused(self):
        signed = json.dumps(self.run_payload(status="in_progress")).encode()
        forged = json.dumps(self.run_payload(status="completed", conclusion="success")).encode()
        headers = signed_headers(signed, "workflow_run")
        self.assert_refused(forged, headers, 401)
        self.assert_refused(signed + b" ", headers, 401)
        upper = headers | {"X-Hub-Signature-256": headers["X-Hub-Signature-256"].upper()}
        self.assert_refused(signed, upper, 401)
        sha1 = headers | {"X-Hub-Signature-256": "sha1=" + headers["X-Hub-Signature-256"][7:47]}
        self.assert_refused(signed, sha1, 401)

    def test_secret_of_another_repository_is_refused(self):
        ours = json.dumps(self.run_payload()).encode()
        theirs = json.dumps(gp.workflow_run_event("acme/other", run_id=5550009)).encode()
        reason = self.assert_refused(ours, signed_headers(ours, "workflow_run", secret=OTHER_SECRET), 401)
        self.assertNotIn(OTHER_SECRET, reason)
        self.assert_refused(theirs, signed_headers(theirs, "workflow_run", secret=SECRET), 401)
        self.assertEqual(
            self.post(theirs, signed_headers(theirs, "workflow_run", secret=OTHER_SECRET)).status_code, 202
        )
        self.assertEqual(self.deliveries().repository_id, self.other)

    def test_unknown_repository_and_unknown_organization(self):
        unknown = json.dumps(gp.workflow_run_event("evil/erp")).encode()
        self.assert_refused(unknown, signed_headers(unknown, "workflow_run"), 404)
        org_ping = gp.ping_event("acme/erp", hook_id=555)
        del org_ping["repository"]
        for owner, status in (("nobody", 404), ("acme", 200)):
            org_ping["organization"] = {"login": owner}
            body = json.dumps(org_ping).encode()
            if status == 404:
                self.assert_refused(body, signed_headers(body, "ping"), status)
                continue
            response = self.post(body, signed_headers(body, "ping"))
            self.assertEqual(response.status_code, status, response.text)
        self.env.invalidate_all()
        self.assertEqual(self.repo.hook_id, 555, "the organization hook verified with this repository's secret")
        self.assertFalse(self.other.hook_id, "but not the owner's repository whose secret does not verify")

    def test_repository_without_a_secret_refuses_everything(self):
        self.repo.webhook_secret = False
        body = json.dumps(self.run_payload()).encode()
        for secret in (SECRET, "x"):
            self.assert_refused(body, signed_headers(body, "workflow_run", secret=secret), 401)
        headers = signed_headers(body, "workflow_run") | {"X-Hub-Signature-256": signature.PREFIX}
        self.assert_refused(body, headers, 401)


@tagged("post_install", "-at_install")
class TestReplayRacingTheOriginal(BaseCase):
    """A copy of a delivery arriving while the original is being stored, in real concurrent transactions.

    The second request's snapshot predates the first one's commit, so its
    duplicate check cannot see it; the unique index can, and the second
    copy is answered ``200 duplicate``, not an error GitHub would retry.
    """

    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()
        self.cursors = []
        self.addCleanup(self._cleanup)
        cr = self.cursor()
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(SQL("SELECT coalesce(max(id), 0) FROM ir_cron_trigger"))
        self.last_trigger = cr.fetchone()[0]
        self.full_name = f"acme/replay-{uuid.uuid4().hex[:8]}"
        self.repo_id = env["ops.repository"].create({"full_name": self.full_name, "webhook_secret": "race"}).id
        # real, separately committed transactions: the race needs two of them
        cr.commit()  # pylint: disable=invalid-commit

    def cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        self.cursors.append(cr)
        return cr

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.execute(SQL("DELETE FROM ops_repository WHERE id = %s", self.repo_id))  # deliveries cascade
            cr.execute(SQL("DELETE FROM ir_cron_trigger WHERE id > %s", self.last_trigger))

    def test_a_copy_racing_the_original_is_a_duplicate(self):
        body = json.dumps(gp.workflow_run_event(self.full_name, run_id=4_200_001)).encode()
        headers = signed_headers(body, "workflow_run", secret="race")
        first_cr, second_cr = self.cursor(), self.cursor()
        first = api.Environment(first_cr, SUPERUSER_ID, {})["ops.webhook.delivery"]
        second = api.Environment(second_cr, SUPERUSER_ID, {})["ops.webhook.delivery"]
        verdict = gate.evaluate(headers, body, "application/json", first.env["ops.repository"]._webhook_candidates)
        self.assertIsInstance(verdict, gate.Accepted)
        second.search_count([])  # the second request has started: its snapshot is taken
        self.assertEqual(first._receive(verdict)[0], 202)
        first_cr.commit()  # pylint: disable=invalid-commit
        status, answer = second._receive_from_webhook(verdict)
        second_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual((status, answer["status"]), (200, "duplicate"))
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.execute(SQL("SELECT count(*) FROM ops_webhook_delivery WHERE guid = %s", verdict.guid))
            self.assertEqual(cr.fetchone()[0], 1, "stored once")
