"""Diagnoses tell the truth about the log they read: unavailable logs, late jobs, late logs, excerpts."""

from datetime import timedelta

from odoo.tests import tagged

from ..autopilot.testing import github_payloads as gp
from .common import OpsHttpCase
from .test_self_healing import NETWORK_LOG, QUOTA_LOG, REPO, TEST_LOG, SelfHealingCase, recent


@tagged("post_install", "-at_install")
class TestUnavailableLogs(SelfHealingCase):
    def test_two_unreadable_logs_never_share_a_signature_or_an_incident(self):
        """Without a token both logs are unreadable: the hash of empty text once merged them (e3b0c442)."""
        self.repo.sudo().token = False
        first = self.fail_run(TEST_LOG, job_name="unit", sha="1" * 40)
        second = self.fail_run(QUOTA_LOG, job_name="upload", sha="2" * 40)
        self.diagnose()
        diagnoses = first.diagnosis_ids | second.diagnosis_ids
        self.assertEqual(len(diagnoses), 2)
        incidents = self.Incident.search([("run_id", "in", (first | second).ids)])
        self.assertNotIn("e3b0c442", " ".join(incidents.mapped("dedup_key")))
        self.assertEqual(len(incidents), 2, "one incident per run, never merged")
        self.assertFalse(diagnoses.signature_id, "an unreadable log is never fingerprinted")
        self.assertFalse(self.Signature.search([("repository_id", "=", self.repo.id)]))
        self.assertEqual(set(diagnoses.mapped("log_state")), {"no_token"})
        message = diagnoses[0].log_state_message
        self.assertIn("no API token", message)
        self.assertIn("Configuration > Repositories", message, "the message says where to fix it")
        self.assertNotIn("read the excerpt", str(diagnoses.mapped("suggested_fix")))

    def test_an_empty_log_is_its_own_state(self):
        run = self.fail_run("\n\n   \n")
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertFalse(diagnosis.signature_id)
        self.assertEqual(diagnosis.log_state, "empty")
        self.assertIn("empty", diagnosis.log_state_message)

    def test_a_readable_log_is_available_and_fingerprinted(self):
        run = self.fail_run(NETWORK_LOG)
        self.diagnose()
        self.assertEqual(run.diagnosis_ids.log_state, "available")
        self.assertTrue(run.diagnosis_ids.signature_id)
        self.assertFalse(run.diagnosis_ids.log_state_message)

    def test_a_log_that_could_not_be_fetched_is_read_again_once_it_can_be(self):
        run = self.fail_run(TEST_LOG)
        job = run.job_ids.filtered(lambda j: j.outcome == "failure")
        self.github.expired_logs.add(job.github_id)
        self.diagnose()
        self.assertFalse(run.diagnosis_ids.signature_id)
        self.assertEqual(run.ci_state, "pending", "a failed fetch is tried again later")
        self.assertTrue(run.ci_next_attempt_at)
        self.assertEqual(run.diagnosis_ids.log_state, "fetch_failed")
        self.github.expired_logs.discard(job.github_id)
        run.ci_next_attempt_at = False
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertEqual(len(diagnosis), 1, "the unreadable diagnosis is replaced, not kept beside")
        self.assertEqual((diagnosis.log_state, diagnosis.category), ("available", "test_failure"))
        self.assertTrue(diagnosis.signature_id)

    def test_a_token_added_later_re_diagnoses_the_runs_it_could_not_read(self):
        self.repo.sudo().token = False
        run = self.fail_run(TEST_LOG)
        self.diagnose()
        incident = self.Incident.search([("run_id", "=", run.id)])
        self.assertEqual(len(incident), 1)
        self.repo.sudo().token = "ghp_selfhealing_token_0123456789abcdefABCDEF"
        self.assertEqual(run.ci_state, "pending", "adding a token queues the runs whose log it could not read")
        self.assertEqual(run.diagnosis_ids.log_state, "no_token")
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertEqual(len(diagnosis), 1)
        self.assertEqual((diagnosis.log_state, diagnosis.category), ("available", "test_failure"))
        open_incidents = self.Incident.search([("run_id", "=", run.id), ("state", "!=", "resolved")])
        self.assertEqual(len(open_incidents), 1, "the run's first incident is superseded, not duplicated")
        self.assertEqual(incident.state, "resolved")
        self.diagnose()
        self.assertEqual(len(run.diagnosis_ids), 1, "idempotent")


@tagged("post_install", "-at_install")
class TestLateJob(SelfHealingCase, OpsHttpCase):
    def test_a_failed_job_arriving_after_the_diagnosis_re_diagnoses_the_run(self):
        """GitHub lists the job 2 s after the run completed: the run is diagnosed again with it."""
        obj = self.github.add_run(REPO, conclusion="failure", started=recent(), jobs=[])
        response = self.post_event("workflow_run", self.github.run_event(REPO, obj["id"]))
        self.assertEqual(response.status_code, 202, response.text)
        self.process()
        run = self.Run.search([("github_id", "=", obj["id"])])
        self.diagnose()
        self.assertFalse(run.diagnosis_ids.job_id, "no failed job known yet")
        first_incidents = self.Incident.search([("run_id", "=", run.id)])

        job = gp.workflow_job(
            REPO,
            obj["id"],
            conclusion="failure",
            started=recent() + timedelta(seconds=2),
            api_url=self.github.url,
        )
        self.github.jobs[(REPO, obj["id"])].append(job)
        self.github.set_log(job["id"], TEST_LOG)
        payload = {"action": "completed", "workflow_job": job, "repository": gp.repository(REPO)}
        response = self.post_event("workflow_job", payload)
        self.assertEqual(response.status_code, 202, response.text)
        self.process()
        self.env.invalidate_all()
        self.assertEqual(run.ci_state, "pending", "the late job queues the run again")
        self.assertEqual(run.diagnosis_ids.log_state, "job_unknown")
        self.assertFalse(run.diagnosis_ids.signature_id)
        self.diagnose()
        self.env.invalidate_all()
        diagnosis = run.diagnosis_ids
        self.assertEqual(len(diagnosis), 1, "the placeholder is replaced by the job's diagnosis")
        self.assertEqual(diagnosis.job_id.github_id, job["id"])
        self.assertEqual((diagnosis.log_state, diagnosis.category), ("available", "test_failure"))
        open_incidents = self.Incident.search([("run_id", "=", run.id), ("state", "!=", "resolved")])
        self.assertLessEqual(len(open_incidents), 1, "no duplicate incident")
        self.assertTrue(all(i.state == "resolved" for i in first_incidents - open_incidents))

        # the same delivery again (GitHub retries): nothing new
        self.post_event("workflow_job", payload)
        self.process()
        self.diagnose()
        self.env.invalidate_all()
        self.assertEqual(run.diagnosis_ids, diagnosis)
        self.assertEqual(self.Incident.search([("run_id", "=", run.id), ("state", "!=", "resolved")]), open_incidents)
