"""Diagnoses tell the truth about the log they read: unavailable logs, late jobs, late logs, excerpts."""

import base64
from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..autopilot.testing import github_payloads as gp
from .common import OpsHttpCase, OpsTransactionCase
from .test_self_healing import NETWORK_LOG, QUOTA_LOG, REPO, TEST_LOG, TOKEN, SelfHealingCase, recent

TOKEN_VALUE = TOKEN


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
        self.repo.sudo().token = TOKEN
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

    def test_a_late_job_while_a_re_run_is_scheduled_changes_nothing(self):
        """The re-run re-runs every failed job: no second decision, no second re-run."""
        run = self.fail_run(NETWORK_LOG)
        self.diagnose()
        self.assertEqual(run.ci_state, "retrying")
        late = gp.workflow_job(REPO, run.github_id, conclusion="failure", name="docs", api_url=self.github.url)
        self.deliver("workflow_job", {"action": "completed", "workflow_job": late, "repository": gp.repository(REPO)})
        self.assertEqual(run.ci_state, "retrying")
        self.diagnose()
        self.assertEqual(len(run.ci_action_ids), 1)


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


XSS_LOG = """2026-01-05T10:00:00.0000000Z ##[group]Run pytest -q
2026-01-05T10:00:00.0000000Z pytest -q
2026-01-05T10:00:00.0000000Z ##[endgroup]
2026-01-05T10:00:05.0000000Z =================================== FAILURES ===================================
2026-01-05T10:00:05.0000000Z E       AssertionError: <script>alert('xss')</script> != <img src=x onerror=alert(1)>
2026-01-05T10:00:05.0000000Z FAILED tests/test_page.py::test_title - AssertionError: <script>alert('xss')</script>
2026-01-05T10:00:05.0000000Z 1 failed, 7 passed in 0.52s
2026-01-05T10:00:05.0000000Z ##[error]Process completed with exit code 1.
"""


@tagged("post_install", "-at_install")
class TestDiagnosisOnForms(SelfHealingCase):
    def test_the_excerpt_is_escaped_highlighted_and_links_to_the_step(self):
        run = self.fail_run(XSS_LOG)
        self.diagnose()
        diagnosis = run.diagnosis_ids
        job = diagnosis.job_id
        for html in (str(diagnosis.excerpt_html), str(job.diagnosis_html), str(run.ci_diagnosis_html)):
            self.assertNotIn("<script>", html, "a log is text, never markup")
            self.assertNotIn("<img", html)
            self.assertIn("&lt;script&gt;alert(", html)
            self.assertIn('class="o_ops_failing_line', html, "failing lines are highlighted")
            self.assertIn(f"{job.html_url}#step:3:", html, "the failed step (3rd, 'Run tests') of the job")
        failing = str(diagnosis.excerpt_html).split('class="o_ops_failing_line')
        self.assertIn("FAILED tests/test_page.py", "".join(failing[1:]))
        self.assertEqual(diagnosis.step_number, 3)
        self.assertEqual(job.diagnosis_id, diagnosis)
        # the forms show it
        self.env["ops.workflow.job"].get_views([(False, "form")])
        self.env["ops.workflow.run"].get_views([(False, "form")])

    def test_an_unreadable_log_shows_the_fix_not_a_confidence(self):
        self.repo.sudo().token = False
        run = self.fail_run(TEST_LOG)
        self.diagnose()
        html = str(run.ci_diagnosis_html)
        self.assertIn("Log not available: no API token", html)
        self.assertNotIn("confidence", html)
        self.assertNotIn("read the excerpt", html)


@tagged("post_install", "-at_install")
class TestLogPaste(SelfHealingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ops_user = new_test_user(cls.env, "ops_paster", groups="base.group_user,ops_autopilot.group_ops_user")
        cls.outsider = new_test_user(cls.env, "not_ops", groups="base.group_user")

    def test_a_log_pasted_on_a_job_becomes_its_diagnosis(self):
        self.repo.sudo().token = False
        run = self.fail_run(TEST_LOG)
        self.diagnose()
        job = run.diagnosis_ids.job_id
        self.assertEqual(run.diagnosis_ids.log_state, "no_token")
        action = job.with_user(self.ops_user).action_open_log_paste()
        Paste = self.env["ops.job.log.paste"].with_user(self.ops_user).with_context(**action["context"])
        wizard = Paste.create({"log_text": TEST_LOG})
        wizard.action_diagnose()
        diagnosis = job.diagnosis_id
        self.assertEqual(wizard.diagnosis_id, diagnosis)
        self.assertEqual((diagnosis.log_state, diagnosis.category), ("available", "test_failure"))
        self.assertTrue(diagnosis.signature_id, "a pasted log is read like a fetched one")
        self.assertNotIn(TOKEN_VALUE, diagnosis.excerpt, "secrets masked")
        self.assertIn("test_invoice_total", str(wizard.result_html))
        self.assertIn("whole log", wizard.kept_note)

    def test_a_standalone_paste_is_shown_not_stored(self):
        before = self.Diagnosis.search_count([])
        wizard = self.env["ops.job.log.paste"].with_user(self.ops_user).create({"log_text": NETWORK_LOG})
        wizard.action_diagnose()
        self.assertEqual(wizard.category, "network_timeout")
        self.assertTrue(wizard.signature)
        self.assertIn("o_ops_failing_line", str(wizard.result_html))
        self.assertEqual(self.Diagnosis.search_count([]), before)

    def test_an_uploaded_log_keeps_its_end_and_an_empty_one_is_refused(self):
        noise = "".join(f"2026-01-05T10:00:00.0000000Z line {i} of the build\n" for i in range(30_000))
        data = (noise + QUOTA_LOG).encode()
        wizard = (
            self.env["ops.job.log.paste"]
            .with_user(self.ops_user)
            .create({"log_file": base64.b64encode(data), "log_filename": "job.txt"})
        )
        wizard.action_diagnose()
        self.assertEqual(wizard.category, "resource_exhaustion")
        self.assertIn("end of the log", wizard.kept_note)
        empty = self.env["ops.job.log.paste"].with_user(self.ops_user).create({"log_text": "  \n\n "})
        with self.assertRaisesRegex(UserError, "empty"):
            empty.action_diagnose()
        self.assertEqual(empty.state, "draft")

    def test_only_ops_users_diagnose_logs(self):
        with self.assertRaises(AccessError):
            self.env["ops.job.log.paste"].with_user(self.outsider).create({"log_text": TEST_LOG})


@tagged("post_install", "-at_install")
class TestDemoDiagnoses(OpsTransactionCase):
    """The demo's failed runs carry diagnoses the engine made from their logs, a flaky and a quarantined failure."""

    def test_demo_failures_are_diagnosed_by_the_engine(self):
        tests = self.env.ref("ops_autopilot.run_ci_main_2_test_demo")
        lint = self.env.ref("ops_autopilot.run_ci_main_3_lint_demo")
        e2e = self.env.ref("ops_autopilot.run_ci_pr_3_e2e_1_demo")
        expected = {tests: "test_failure", lint: "syntax_error", e2e: "network_timeout"}
        for job, category in expected.items():
            diagnosis = job.diagnosis_id
            self.assertEqual((diagnosis.category, diagnosis.log_state), (category, "available"), job.name)
            self.assertTrue(diagnosis.signature_id, job.name)
            self.assertTrue(diagnosis.excerpt, job.name)
            self.assertIn("o_ops_failing_line", str(job.diagnosis_html), job.name)
            self.assertIn("#step:3:", str(job.diagnosis_html), job.name)
            self.assertTrue(job.run_id.ci_report, job.name)
            self.assertTrue(diagnosis.decision, job.name)
        self.assertEqual(e2e.diagnosis_id.step_line, 5, "the failure region's line in the step, as GitHub numbers it")
        self.assertIn("AssertionError: 100.0 != 90.0", tests.diagnosis_id.excerpt)
        signature = e2e.diagnosis_id.signature_id
        self.assertTrue(signature.flaky, "attempt 2 passed on the same commit")
        self.assertTrue(signature.quarantine_active)
        self.assertTrue(signature.quarantine_reason)
        self.assertFalse(self.env["ops.failure.signature"].search([("fingerprint", "=like", "e3b0c442%")]))


@tagged("post_install", "-at_install")
class TestReadableRunNumbers(OpsTransactionCase):
    def test_durations_read_in_minutes_not_raw_seconds(self):
        run = self.env.ref("ops_autopilot.run_ci_main_2_demo")
        job = self.env.ref("ops_autopilot.run_ci_main_2_test_demo")
        run.duration, job.duration = 1440, 3900
        self.assertEqual((run.duration_display, job.duration_display), ("24 min", "1 h 05 min"))
        self.assertIn("2 min", str(job.steps_html), "the 120 s step")
        self.assertNotIn(">120<", str(job.steps_html))
        for model in ("ops.workflow.run", "ops.workflow.job"):
            arch = self.env[model].get_views([(False, "list"), (False, "form")])["views"]
            for view in arch.values():
                self.assertIn("duration_display", view["arch"], model)
