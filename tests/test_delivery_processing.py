"""Turning stored deliveries into runs, jobs, pushes and pull requests."""

import time
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from ..autopilot.testing import github_payloads as gp
from ..models import ops_cron_mixin as cron_mixin
from .common import OpsTransactionCase

T0 = datetime(2026, 11, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestDeliveryProcessing(OpsTransactionCase):
    def test_a_job_before_its_run_creates_a_placeholder_that_the_run_completes(self):
        self.deliver("workflow_job", gp.workflow_job_event("acme/erp", 777, job_id=9001, status="in_progress"))
        run = self.Run.search([("github_id", "=", 777)])
        self.assertTrue(run.placeholder)
        self.assertEqual((run.status, run.outcome, run.name), ("in_progress", "running", "CI"))
        self.deliver("workflow_job", gp.workflow_job_event("acme/erp", 777, job_id=9001, conclusion="failure"))
        self.assertEqual((run.status, run.conclusion), ("completed", "failure"), "derived from its jobs")
        self.deliver(
            "workflow_run", gp.workflow_run_event("acme/erp", run_id=777, status="completed", conclusion="failure")
        )
        self.assertFalse(run.placeholder)
        self.assertEqual(run.workflow_path, ".github/workflows/ci.yml")
        self.assertEqual(run.job_ids.github_id, 9001)
        self.assertEqual(run.failed_job_count, 1)
        self.assertEqual(run.job_ids.failed_step, "Run tests")

    def test_a_rerun_attempt_replaces_a_completed_attempt(self):
        self.deliver("workflow_run", self.run_payload(status="completed", conclusion="failure", run_attempt=1))
        self.deliver("workflow_run", self.run_payload(status="queued", run_attempt=2, started=T0 + timedelta(hours=1)))
        run = self.Run.search([("github_id", "=", 5550001)])
        self.assertEqual((run.run_attempt, run.status, run.outcome), (2, "queued", "queued"))
        self.assertFalse(run.conclusion)
        # a late event of the first attempt changes nothing
        self.deliver("workflow_run", self.run_payload(status="in_progress", run_attempt=1))
        self.assertEqual((run.run_attempt, run.status), (2, "queued"))

    def test_unknown_statuses_are_stored_as_unknown(self):
        # a conclusion GitHub may add one day: not in its published schema yet, on purpose
        payload = self.run_payload(status="completed", conclusion="brand_new_conclusion", off_contract=True)
        self.deliver("workflow_run", payload)
        run = self.Run.search([("github_id", "=", 5550001)])
        self.assertEqual((run.conclusion, run.outcome), ("unknown", "other"))

    def test_check_run_of_another_ci_app_is_grouped_by_suite(self):
        payload = {
            "action": "completed",
            "check_run": {
                "id": 31,
                "name": "circleci: build",
                "status": "completed",
                "conclusion": "success",
                "started_at": "2026-11-02T09:00:00Z",
                "completed_at": "2026-11-02T09:05:00Z",
                "details_url": "https://circleci.com/gh/acme/erp/12",
                "check_suite": {"id": 4040, "head_branch": "main"},
                "app": {"slug": "circleci", "name": "CircleCI"},
            },
            "repository": gp.repository("acme/erp"),
        }
        self.deliver("check_run", payload)
        job = self.Job.search([("github_id", "=", 31)])
        self.assertEqual(
            (job.source, job.app_slug, job.run_id.source, job.run_id.github_id),
            ("check_run", "circleci", "check_suite", 4040),
        )
        self.assertEqual((job.run_id.status, job.run_id.conclusion, job.run_id.duration), ("completed", "success", 300))

    def test_pull_request_updates_never_go_back_in_time(self):
        newer = gp.pull_request_event(
            "acme/erp", number=7, action="synchronize", head_sha="f" * 40, updated=T0 + timedelta(hours=2)
        )
        older = gp.pull_request_event("acme/erp", number=7, action="opened", head_sha="e" * 40, updated=T0)
        self.deliver("pull_request", newer)
        self.deliver("pull_request", older)
        pr = self.env["ops.pull.request"].search([("number", "=", 7)])
        self.assertEqual((pr.head_sha, pr.last_action, pr.state), ("f" * 40, "synchronize", "open"))
        self.deliver(
            "pull_request",
            gp.pull_request_event(
                "acme/erp", number=7, action="closed", state="closed", merged=True, updated=T0 + timedelta(hours=3)
            ),
        )
        self.assertEqual(pr.state, "merged")
        fork = gp.pull_request_event("acme/erp", number=8, head_full_name="mallory/erp")
        self.deliver("pull_request", fork)
        self.assertTrue(self.env["ops.pull.request"].search([("number", "=", 8)]).is_fork)

    def test_the_same_push_from_two_hooks_is_recorded_once(self):
        payload = gp.push_event("acme/erp", commits=[{"added": ["addons/x/__init__.py"], "modified": ["README.md"]}])
        self.deliver("push", payload)
        self.deliver("push", payload)  # another hook, another GUID, same push
        push = self.env["ops.push"].search([("repository_id", "=", self.repo.id)])
        self.assertEqual(len(push), 1)
        self.assertEqual(sorted(push.file_ids.mapped("filename")), ["README.md", "addons/x/__init__.py"])
        self.assertEqual(push.file_ids.company_id, self.repo.company_id)

    def test_batches_and_progress(self):
        for run_id in range(1, 8):
            self.receive("workflow_run", self.run_payload(run_id=run_id))
        self.assertEqual(self.Delivery._cron_process_deliveries(batch_size=3), 3)
        self.assertEqual(self.Delivery.search_count([("state", "=", "received")]), 4)
        self.assertEqual(self.process(), 4)
        self.assertEqual(self.Run.search_count([("repository_id", "=", self.repo.id)]), 7)
        self.assertEqual(set(self.Delivery.search([]).mapped("res_model")) - {False}, {"ops.workflow.run"})

    def test_processing_notifies_open_views(self):
        self.receive("workflow_job", gp.workflow_job_event("acme/erp", 42))
        self.env["bus.bus"].search([]).unlink()
        self.process()
        self.env.cr.precommit.run()  # the bus writes its messages when the transaction commits
        messages = self.env["bus.bus"].search([])
        self.assertTrue(any("ops_autopilot/refresh" in m.message and "ops.workflow.run" in m.message for m in messages))

    def test_replay_is_for_managers(self):
        _status, body = self.receive("workflow_run", self.run_payload())
        self.process()
        delivery = self.Delivery.search([("guid", "=", body["delivery"])])
        user = new_test_user(self.env, "ops_user", groups="ops_autopilot.group_ops_user")
        manager = new_test_user(self.env, "ops_manager", groups="ops_autopilot.group_ops_manager")
        with self.assertRaises(UserError):
            delivery.with_user(user).action_replay()
        self.Run.search([("github_id", "=", 5550001)]).unlink()
        delivery.with_user(manager).action_replay()
        self.assertEqual(delivery.state, "processed")
        self.assertEqual(delivery.attempts, 2)
        self.assertTrue(self.Run.search([("github_id", "=", 5550001)]), "replay rebuilt the run")

    def test_purge_keeps_recent_and_failed_deliveries(self):
        self.receive("workflow_run", self.run_payload(run_id=1))
        self.receive("workflow_run", self.run_payload(run_id=2))
        broken = self.run_payload(run_id=3)
        broken["workflow_run"]["status"] = 5
        self.receive("workflow_run", broken)
        self.process()
        old, recent, failed = self.Delivery.search([], order="id")
        self.assertEqual(failed.state, "failed")
        (old | failed).write({"received_at": datetime.now() - timedelta(days=90)})
        self.Delivery._cron_purge_deliveries()
        self.assertEqual(self.Delivery.search([]), recent | failed)


@tagged("post_install", "-at_install")
class TestCronTrigger(OpsTransactionCase):
    def setUp(self):
        super().setUp()
        cron_mixin._last_wake.clear()  # this process's wake-ups of earlier tests must not count
        self.cron = self.env.ref("ops_autopilot.ir_cron_process_webhook_deliveries")
        self.Trigger = self.env["ir.cron.trigger"]
        self.Trigger.search([("cron_id", "=", self.cron.id)]).unlink()
        self.env.cr.postcommit.clear()
        self.addCleanup(self.env.cr.postcommit.clear)  # a test transaction never commits: nothing may run

    def wake_ups(self):
        """The NOTIFYs to cron workers this transaction would send at its commit."""
        return [f for f in self.env.cr.postcommit._funcs if getattr(f, "__name__", "") == "_notifydb"]

    def test_workers_are_notified_once_while_a_trigger_is_pending(self):
        # however slow the machine, the deliveries below come within one wake-again interval
        self.patch(cron_mixin, "WAKE_AGAIN_AFTER", 3600.0)
        self.receive("workflow_run", self.run_payload(run_id=1))
        self.assertEqual(len(self.wake_ups()), 1)
        self.receive("workflow_run", self.run_payload(run_id=2))
        self.receive("workflow_run", self.run_payload(run_id=3))
        self.assertEqual(len(self.wake_ups()), 1, "a pending trigger means the workers are already awake")

    def test_every_delivery_leaves_its_own_trigger(self):
        """Even within one second: a run that began before a delivery committed may delete another's trigger."""
        second = datetime.now().replace(microsecond=0)
        for run_id in (1, 2, 3):
            with freeze_time(second + timedelta(microseconds=run_id * 1000)):
                self.receive("workflow_run", self.run_payload(run_id=run_id))
        triggers = self.Trigger.search([("cron_id", "=", self.cron.id)])
        self.assertEqual(triggers.mapped("call_at"), [second] * 3)

    def test_a_trigger_planned_for_later_does_not_count_as_pending(self):
        self.Trigger.create({"cron_id": self.cron.id, "call_at": datetime.now() + timedelta(hours=1)})
        self.receive("workflow_run", self.run_payload(run_id=1))
        woken = self.wake_ups()
        self.assertEqual(len(woken), 1, "a retry planned in an hour does not wake anyone now")
        self.assertEqual(woken[0].__self__, self.cron)

    def test_workers_are_woken_again_when_the_last_wake_up_is_old(self):
        """A recycled cron worker sleeps a minute before its first poll: pending triggers must not leave it asleep."""
        self.Trigger.create({"cron_id": self.cron.id, "call_at": datetime.now() - timedelta(minutes=5)})
        key = (self.env.cr.dbname, self.cron.id)
        cron_mixin._last_wake[key] = time.monotonic()
        self.receive("workflow_run", self.run_payload(run_id=1))
        self.assertEqual(self.wake_ups(), [], "a trigger is pending and this process woke the workers just now")
        cron_mixin._last_wake[key] = time.monotonic() - cron_mixin.WAKE_AGAIN_AFTER - 1
        self.receive("workflow_run", self.run_payload(run_id=2))
        self.assertEqual(len(self.wake_ups()), 1, "the last wake-up is old: wake them again")
        self.receive("workflow_run", self.run_payload(run_id=3))
        self.assertEqual(len(self.wake_ups()), 1, "and not at every delivery after that")
