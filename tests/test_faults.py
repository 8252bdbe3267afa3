"""Faults injected for real: two processors on one queue, GitHub failing in the middle of a sync.

Process-level faults (PostgreSQL restarted under traffic, a worker killed
with SIGKILL mid-batch, two Odoo servers) need their own servers and
database cluster: they are scenarios of ``bench/faults/run.py``.
"""

import json
import uuid
from datetime import datetime, timedelta

from psycopg2 import errors

from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import SQL, mute_logger

from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_server import FakeGitHub
from ..autopilot.testing.probe_targets import closed_port_url
from .common import OpsTransactionCase

DELIVERIES = 24
SYNC_LOGGERS = ("odoo.addons.ops_autopilot.models.ops_repository", "urllib3.connectionpool")
BATCH = 5


@tagged("post_install", "-at_install")
class TestTwoProcessorsShareTheQueue(BaseCase):
    """Two processing crons at once, in real, separately committed transactions.

    Deliveries are locked ``FOR UPDATE SKIP LOCKED``: a second processor
    skips the rows the first one holds and takes others, never the same.
    When it read the queue before the first one committed, PostgreSQL
    refuses its lock with a serialization failure (repeatable read); the
    cron framework rolls that call back and calls again, and nothing is lost.
    """

    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()
        self.full_name = f"acme/race-{uuid.uuid4().hex[:8]}"
        self.cursors = []
        self.addCleanup(self._cleanup)
        cr = self.cursor()
        env = api.Environment(cr, SUPERUSER_ID, {})
        due = env["ops.webhook.delivery"].search_count(env["ops.webhook.delivery"]._due_domain())
        self.assertEqual(due, 0, "the committed queue must be empty before this test")
        repo = env["ops.repository"].create({"full_name": self.full_name, "webhook_secret": "race"})
        self.repo_id = repo.id
        now = fields.Datetime.now()
        payloads = [
            gp.workflow_run_event(self.full_name, run_id=7_000_000 + i, status="in_progress") for i in range(DELIVERIES)
        ]
        deliveries = env["ops.webhook.delivery"].create(
            [
                {
                    "guid": str(uuid.uuid4()),
                    "event": "workflow_run",
                    "action": payload["action"],
                    "repository_id": repo.id,
                    "payload": json.dumps(payload),
                    "received_at": now + timedelta(seconds=i),
                }
                for i, payload in enumerate(payloads)
            ]
        )
        self.ids = set(deliveries.ids)
        # the processors below are other transactions: they must see these rows committed
        cr.commit()  # pylint: disable=invalid-commit

    def cursor(self):
        cr = sql_db.db_connect(self.dbname).cursor()
        self.cursors.append(cr)
        return cr

    def _cleanup(self):
        for cr in self.cursors:
            cr.close()
        with sql_db.db_connect(self.dbname).cursor() as cr:
            # runs and deliveries go with their repository (ondelete cascade)
            cr.execute(SQL("DELETE FROM ops_repository WHERE id = %s", self.repo_id))

    def processor(self):
        cr = self.cursor()
        return cr, api.Environment(cr, SUPERUSER_ID, {})["ops.webhook.delivery"]

    def state(self):
        with sql_db.db_connect(self.dbname).cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT id, state, attempts FROM ops_webhook_delivery WHERE repository_id = %s",
                    self.repo_id,
                )
            )
            rows = cr.fetchall()
            cr.execute(
                SQL(
                    "SELECT count(*), count(DISTINCT github_id) FROM ops_workflow_run WHERE repository_id = %s",
                    self.repo_id,
                )
            )
            return rows, cr.fetchone()

    def assertProcessedExactlyOnce(self):
        rows, (runs, distinct_runs) = self.state()
        self.assertEqual({row[0] for row in rows}, self.ids)
        self.assertEqual({(state, attempts) for _id, state, attempts in rows}, {("processed", 1)})
        self.assertEqual((runs, distinct_runs), (DELIVERIES, DELIVERIES), "one run per delivery, none twice")

    def test_a_second_processor_skips_the_rows_the_first_holds(self):
        first_cr, first = self.processor()
        second_cr, second = self.processor()
        held = first._lock_due_batch(BATCH)  # the first processor is in the middle of its batch
        self.assertEqual(len(held), BATCH)
        taken = second._lock_due_batch(BATCH)
        self.assertEqual(len(taken), BATCH, "the second one does not wait")
        self.assertFalse(set(held) & set(taken), "and takes other deliveries")
        second.browse(taken)._process()
        second_cr.commit()
        first.browse(held)._process()
        first_cr.commit()

        # then both drain the queue, turn about, each call one committed batch
        done = [2 * BATCH]
        while True:
            counts = [worker._cron_process_deliveries(batch_size=BATCH) for worker in (first, second)]
            first_cr.commit()
            second_cr.commit()
            done += counts
            if not any(counts):
                break
        self.assertEqual(sum(done), DELIVERIES, "no delivery counted twice")
        self.assertProcessedExactlyOnce()

    def test_a_serialization_failure_is_rolled_back_and_loses_nothing(self):
        first_cr, first = self.processor()
        second_cr, second = self.processor()
        # the second processor read the queue (its snapshot) before the first one committed a batch
        self.assertEqual(
            second.search_count([("repository_id", "=", self.repo_id), ("state", "=", "received")]), DELIVERIES
        )
        self.assertEqual(first._cron_process_deliveries(batch_size=BATCH), BATCH)
        first_cr.commit()
        with self.assertRaises(errors.SerializationFailure), mute_logger("odoo.sql_db"):
            second._cron_process_deliveries(batch_size=BATCH)
            second.env.flush_all()
        # what Odoo's cron framework does with a failed call: roll back, call again later
        second_cr.rollback()
        second.env.invalidate_all(flush=False)
        rows, _runs = self.state()
        self.assertEqual(sum(1 for row in rows if row[1] == "processed"), BATCH, "the failed call left nothing behind")
        total = BATCH
        while count := second._cron_process_deliveries(batch_size=BATCH):
            second_cr.commit()
            total += count
        self.assertEqual(total, DELIVERIES)
        self.assertProcessedExactlyOnce()


@tagged("post_install", "-at_install")
class TestGitHubSyncFaults(OpsTransactionCase):
    """GitHub failing in the middle of a sync: nothing is marked done that was not, the next sync resumes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = FakeGitHub(token="ghp_fault_token").start()
        cls.addClassCleanup(cls.github.stop)

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.repo.write({"api_url": self.github.url, "token": "ghp_fault_token", "hook_id": 4242})
        self.github.deliveries[("acme/erp", 4242)] = []
        recent = datetime.utcnow() - timedelta(minutes=5)  # inside the next sync's overlap too
        self.github_runs = [self.github.add_run("acme/erp", started=recent, jobs=[{"name": "t"}]) for _ in range(3)]

    def sync(self):
        self.repo._sync_from_github()

    def stored_runs(self):
        return self.Run.search([("repository_id", "=", self.repo.id)])

    @mute_logger(*SYNC_LOGGERS)
    def test_primary_rate_limit_exhausted_mid_sync_stores_nothing_and_the_next_sync_resumes(self):
        reset = int(datetime.now().timestamp()) + 900
        second = self.github_runs[1]["id"]
        self.github.fail_next(
            1,
            status=403,
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            body={"message": "API rate limit exceeded"},
            path_re=rf"/runs/{second}/jobs$",
        )
        self.sync()
        self.assertEqual(self.repo.last_sync_state, "failed")
        self.assertIn("403", self.repo.last_sync_message)
        self.assertFalse(self.stored_runs(), "half a sync is not stored as if it were the whole")
        self.assertFalse(self.repo.last_sync_at, "the window is not moved past runs never fetched")
        self.assertFalse(self.repo.last_redelivery_check_at)
        self.assertNotIn("ghp_fault_token", self.repo.last_sync_message)

        self.sync()
        self.assertEqual(self.repo.last_sync_state, "ok")
        self.assertEqual(len(self.stored_runs()), 3)
        self.assertEqual(len(self.stored_runs().job_ids), 3)

    @mute_logger(*SYNC_LOGGERS)
    def test_github_unreachable_marks_nothing_done(self):
        # (a hanging GitHub cannot be shown here: Odoo's test mode raises every outgoing timeout to 10 s;
        # the engine's tests show the client's timeout and retry)
        self.repo.api_url = closed_port_url()
        self.sync()
        self.assertEqual(self.repo.last_sync_state, "failed")
        self.assertIn("unreachable", self.repo.last_sync_message)
        self.assertFalse(self.repo.last_sync_at)
        self.assertFalse(self.stored_runs())

        self.repo.api_url = self.github.url
        self.sync()
        self.assertEqual((self.repo.last_sync_state, len(self.stored_runs())), ("ok", 3))

    @mute_logger(*SYNC_LOGGERS)
    def test_github_down_while_asking_redeliveries_keeps_their_window_open(self):
        lost = {"X-GitHub-Delivery": str(uuid.uuid4()), "X-GitHub-Event": "push"}
        self.github.add_delivery("acme/erp", 4242, lost["X-GitHub-Delivery"], "push", b"{}", lost, 502)
        self.github.fail_next(1, status=502, path_re=r"/attempts$")  # POST: never repeated blindly
        self.sync()
        self.assertEqual(self.repo.last_sync_state, "failed")
        self.assertIn("502", self.repo.last_sync_message)
        self.assertEqual(len(self.stored_runs()), 3, "the runs part succeeded and is kept")
        self.assertTrue(self.repo.last_sync_at)
        self.assertFalse(self.repo.last_redelivery_check_at, "the redelivery window is not marked checked")

        self.sync()
        self.assertEqual(self.repo.last_sync_state, "ok")
        self.assertTrue(self.repo.last_redelivery_check_at)
        self.assertEqual(len(self.github.calls("POST", r"/attempts$")), 2, "asked again, successfully this time")
        self.assertEqual(len(self.stored_runs()), 3, "runs fetched twice are stored once")


@tagged("post_install", "-at_install")
class TestProcessingWakesTheWorkersAgain(OpsTransactionCase):
    """Deliveries stored while a processing run works sent no NOTIFY (a trigger was pending): each
    committed batch wakes the cron workers once more, so they are not left for the next poll."""

    def notifications(self):
        return [f for f in self.env.cr.postcommit._funcs if getattr(f, "__name__", "") == "_notifydb"]

    def test_a_committed_batch_wakes_the_workers_and_an_empty_run_does_not(self):
        self.receive("workflow_run", self.run_payload(run_id=4242001))
        self.env.cr.postcommit.clear()
        self.assertGreaterEqual(self.Delivery._cron_process_deliveries(), 1)
        self.assertEqual(len(self.notifications()), 1)
        self.env.cr.postcommit.clear()
        self.assertEqual(self.Delivery._cron_process_deliveries(), 0)
        self.assertFalse(self.notifications(), "nothing processed: nobody is woken")
