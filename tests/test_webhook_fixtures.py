"""Every published GitHub payload, posted to the real endpoint, lands as GitHub meant it."""

import json
import unittest

from odoo.tests import tagged

from ..autopilot.github import events
from ..autopilot.ingest import lifecycle
from ..autopilot.testing import fixtures
from .common import SECRET, OpsHttpCase, signed_headers

EXPECTED_STATUS = {"ping": 200}


@tagged("post_install", "-at_install")
class TestPublishedPayloads(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        names = set()
        for event, path in fixtures.fixture_files():
            envelope = events.parse_envelope(event, fixtures.load(path)[1])
            if envelope.repository:
                names.add(envelope.repository.full_name)
        cls.fixture_repos = cls.env["ops.repository"].create(
            [{"full_name": name, "webhook_secret": SECRET} for name in sorted(names)]
        )

    def setUp(self):
        super().setUp()
        if not fixtures.available():
            raise unittest.SkipTest(fixtures.MISSING)

    def _repo(self, payload):
        envelope = events.parse_envelope("x", payload)
        if envelope.repository:
            return self.fixture_repos.filtered(lambda r: r.name_key == envelope.repository.full_name.lower())
        return self.fixture_repos.filtered(lambda r: r.owner_key == envelope.organization.lower())

    def test_each_payload_lands(self):
        files = fixtures.fixture_files()
        self.assertGreaterEqual(len(files), 30, "the shared fixtures folder looks incomplete")
        # several examples reuse one run/job id in different states: the newest observation must win
        self.newest = {}
        for event, path in files:
            with self.subTest(fixture=f"{event}/{path.name}"):
                body, payload = fixtures.load(path)
                headers = signed_headers(body, event)
                response = self.post(body, headers)
                self.assertEqual(response.status_code, EXPECTED_STATUS.get(event, 202), response.text)
                delivery = self.deliveries(guid=headers["X-GitHub-Delivery"])
                self.assertTrue(delivery, "the delivery is stored")
                self.assertEqual(json.loads(delivery[0].payload), payload, "stored exactly as sent")
                self.process()
                self.env.invalidate_all()
                self._check_landed(event, payload, delivery)

    def _check_landed(self, event, payload, deliveries):
        obj = events.parse_event(event, payload)
        repos = self._repo(payload)
        self.assertTrue(repos)
        if event not in events.HANDLED_EVENTS:
            self.assertEqual(set(deliveries.mapped("state")), {"ignored"})
            return
        self.assertEqual(set(deliveries.mapped("state")), {"processed"}, deliveries.mapped("error"))
        if event == "ping":
            self.assertTrue(all(repos.mapped("hook_verified_at")))
            self.assertEqual(set(repos.mapped("hook_id")), {obj.hook_id})
        elif event == "workflow_run":
            run = self.Run.search([("repository_id", "in", repos.ids), ("github_id", "=", obj.github_id)])
            self.assertEqual(len(run), 1)
            self.assertEqual(run.name, obj.name)
            self.assertEqual(run.head_sha, obj.head_sha)
            self.assertFalse(run.placeholder)
            newest = self._newest(("run", obj.github_id), obj, obj.run_attempt, obj.updated_at)
            self.assertEqual(run.status, newest.status)
        elif event in ("workflow_job", "check_run"):
            job = self.Job.search([("repository_id", "in", repos.ids), ("github_id", "=", obj.github_id)])
            self.assertEqual(len(job), 1)
            self.assertEqual(job.name, obj.name)
            newest = self._newest(("job", obj.github_id), obj, obj.run_attempt, obj.completed_at or obj.started_at)
            self.assertEqual(job.status, newest.status)
            self.assertEqual(job.conclusion or "", newest.conclusion)
            self.assertTrue(job.run_id)
            self.assertEqual([s["name"] for s in job.steps or []], [s.name for s in newest.steps])
        elif event == "push":
            push = self.env["ops.push"].search([("repository_id", "in", repos.ids), ("after_sha", "=", obj.after)])
            self.assertEqual(len(push), 1)
            self.assertEqual(push.commit_count, len(obj.commits))
            self.assertEqual(set(push.file_ids.mapped("filename")), {f.filename for f in obj.changed_files})
        elif event == "pull_request":
            pr = self.env["ops.pull.request"].search([("repository_id", "in", repos.ids), ("number", "=", obj.number)])
            self.assertEqual(len(pr), 1)
            self.assertEqual(pr.head_sha, obj.head_sha)

    def _newest(self, key, obj, attempt, moment):
        """The observation of ``key`` that should be stored after all those posted so far."""
        progress = lifecycle.progress_key(attempt, obj.status, moment)
        stored = self.newest.get(key)
        if stored is None or not lifecycle.is_stale(stored[0], progress):
            self.newest[key] = (progress, obj)
        return self.newest[key][1]

    def test_each_payload_with_a_wrong_signature_is_refused(self):
        for event, path in fixtures.fixture_files():
            with self.subTest(fixture=f"{event}/{path.name}"):
                body, _payload = fixtures.load(path)
                headers = signed_headers(body, event, secret="not-the-secret")
                response = self.post(body, headers)
                self.assertEqual(response.status_code, 401, response.text)
                self.assertFalse(self.deliveries(guid=headers["X-GitHub-Delivery"]))
