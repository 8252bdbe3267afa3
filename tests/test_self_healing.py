"""Self-healing CI end to end: webhooks in, GitHub (a local API server) called back through PyGithub."""

import base64
import json
import unittest
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import tagged

from ..autopilot.selfheal import reports
from ..autopilot.testing import fixtures
from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_ci_server import CIGitHub
from .common import SECRET, OpsTransactionCase

TOKEN = "ghp_selfhealing_token_0123456789abcdefABCDEF"
REPO = "acme/erp"


def recent():
    """Runs of these tests happen now: self-healing does not act on old failures."""
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)


NETWORK_LOG = """2026-01-05T10:00:00.0000000Z ##[group]Run pip install -r requirements.txt
2026-01-05T10:00:00.0000000Z pip install -r requirements.txt
2026-01-05T10:00:00.0000000Z ##[endgroup]
2026-01-05T10:00:01.0000000Z ##[group]Run actions/cache@v4
2026-01-05T10:00:01.0000000Z with:
2026-01-05T10:00:01.0000000Z   key: pip-abc
2026-01-05T10:00:01.0000000Z ##[endgroup]
2026-01-05T10:00:01.0000000Z Cache restored from key: pip-abc
2026-01-05T10:00:01.0000000Z ##[group]Run pip install -r requirements.txt
2026-01-05T10:00:01.0000000Z ##[endgroup]
2026-01-05T10:00:01.0000000Z Collecting requests==2.31.0
2026-01-05T10:01:31.0000000Z ERROR: Could not install packages due to an OSError: \
HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Max retries exceeded with url: \
/packages/requests-2.31.0.tar.gz (Caused by ReadTimeoutError("HTTPSConnectionPool(host='files.pythonhosted.org', \
port=443): Read timed out. (read timeout=15)"))
2026-01-05T10:01:31.0000000Z ##[error]Process completed with exit code 1.
"""

TEST_LOG = """2026-01-05T10:00:00.0000000Z ##[group]Run pytest -q
2026-01-05T10:00:00.0000000Z pytest -q
2026-01-05T10:00:00.0000000Z ##[endgroup]
2026-01-05T10:00:05.0000000Z ....F...
2026-01-05T10:00:05.0000000Z =================================== FAILURES ===================================
2026-01-05T10:00:05.0000000Z     def test_invoice_total():
2026-01-05T10:00:05.0000000Z >       assert invoice.total() == 118
2026-01-05T10:00:05.0000000Z E       assert 117 == 118
2026-01-05T10:00:05.0000000Z tests/test_invoice.py:42: AssertionError
2026-01-05T10:00:05.0000000Z FAILED tests/test_invoice.py::test_invoice_total - assert 117 == 118 (token {token})
2026-01-05T10:00:05.0000000Z 1 failed, 7 passed in 0.52s
2026-01-05T10:00:05.0000000Z ##[error]Process completed with exit code 1.
""".replace("{token}", TOKEN)

QUOTA_LOG = """2026-01-05T10:00:00.0000000Z ##[group]Run actions/upload-artifact@v4
2026-01-05T10:00:00.0000000Z ##[endgroup]
2026-01-05T10:00:02.0000000Z ##[error]Failed to CreateArtifact: Artifact storage quota has been hit. \
Unable to upload any new artifacts.
"""


class SelfHealingCase(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = CIGitHub(token=TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.Diagnosis = cls.env["ops.job.diagnosis"]
        cls.Signature = cls.env["ops.failure.signature"]
        cls.Action = cls.env["ops.remediation.action"]
        cls.Incident = cls.env["ops.incident"]

    def setUp(self):
        super().setUp()
        self.github.reset()
        self.github.seed_repo(REPO, {"README.md": "erp\n"})
        self.repo.write({"api_url": self.github.url, "token": TOKEN, "ci_max_retries": 3})

    # -- helpers ---------------------------------------------------------
    def deliver_all(self, deliveries):
        for event, payload in deliveries:
            self.receive(event, payload)
        self.process()

    def fail_run(self, log, job_name="test", run_id=None, sha="a" * 40, branch="main", **run):
        """A run whose job ``job_name`` failed with ``log``, as GitHub announces it."""
        obj = self.github.add_run(
            REPO,
            run_id=run_id,
            conclusion="failure",
            sha=sha,
            branch=branch,
            started=run.pop("started", recent()),
            jobs=[{"name": "lint"}, {"name": job_name, "conclusion": "failure"}],
            **run,
        )
        jobs = self.github.latest_jobs(REPO, obj["id"])
        self.github.set_log(jobs[1]["id"], log)
        deliveries = [
            ("workflow_job", {"action": "completed", "workflow_job": job, "repository": gp.repository(REPO)})
            for job in jobs
        ]
        deliveries.append(("workflow_run", self.github.run_event(REPO, obj["id"])))
        self.deliver_all(deliveries)
        return self.Run.search([("github_id", "=", obj["id"])])

    def diagnose(self):
        while self.Run._cron_ci_diagnose():
            pass

    def remediate(self, time_passes=True):
        """Run the remediation cron, after the scheduled delays have passed (``time_passes``)."""
        due = self.Action.search([("kind", "in", ("rerun_jobs", "rollback")), ("state", "=", "proposed")])
        if time_passes:
            due.write({"not_before": fields.Datetime.now() - timedelta(seconds=1)})
        return self.Run._cron_ci_remediate()

    def report_issues(self):
        return self.Signature._cron_report_issues()

    def finish_attempt(self, run, conclusion, logs=None):
        self.deliver_all(self.github.complete_attempt(REPO, run.github_id, conclusion, logs=logs))

    def assertTriggeredAt(self, xmlid, moment):
        cron = self.env.ref(xmlid)
        times = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertTrue(
            any(abs((t - moment).total_seconds()) < 1 for t in times), f"{xmlid} is triggered at {moment}: {times}"
        )


@tagged("post_install", "-at_install")
class TestSelfHealingLoop(SelfHealingCase):
    def test_transient_failure_is_retried_with_backoff_then_healed(self):
        run = self.fail_run(NETWORK_LOG)
        self.assertEqual(run.ci_state, "pending", "the webhook only enqueues")
        self.assertFalse(run.diagnosis_ids)
        self.diagnose()

        diagnosis = run.diagnosis_ids
        self.assertEqual(len(diagnosis), 1)
        self.assertEqual((diagnosis.category, diagnosis.job_name), ("network_timeout", "test"))
        self.assertTrue(diagnosis.retryable)
        self.assertGreaterEqual(diagnosis.confidence, 0.85)
        self.assertIn("Read timed out", diagnosis.excerpt)
        self.assertEqual((diagnosis.job_id.cache_hits, diagnosis.job_id.cache_misses), (1, 0))
        self.assertTrue(diagnosis.job_id.log_fetched)

        action = run.ci_action_ids
        self.assertEqual((action.kind, action.state, action.attempt), ("rerun_jobs", "proposed", 1))
        self.assertEqual(run.ci_state, "retrying")
        delay = action.payload["delay_seconds"]
        self.assertTrue(24 <= delay <= 30, f"first retry after 30 s less jitter, not {delay}")
        wait = (action.not_before - fields.Datetime.now()).total_seconds()
        self.assertAlmostEqual(wait, delay, delta=5)
        self.assertTriggeredAt("ops_autopilot.ir_cron_ci_remediate", action.not_before)

        self.assertEqual(self.remediate(time_passes=False), 0, "nothing runs before its time")
        self.assertEqual(self.github.reruns, [])
        self.remediate()
        self.assertEqual(self.github.reruns, [(REPO, run.github_id, "failed")], "re-run failed jobs was called")
        self.assertEqual(action.state, "running")

        self.finish_attempt(run, "success")
        self.assertEqual((run.run_attempt, run.ci_state), (2, "pending"))
        self.diagnose()
        self.assertEqual(action.state, "succeeded")
        self.assertEqual(run.ci_state, "healed")
        self.assertTrue(action.finished_at and action.duration_ms >= 0)
        self.assertTrue(diagnosis.signature_id.flaky, "failed then passed on the same commit")
        self.assertFalse(self.Incident.search([("run_id", "=", run.id)]), "a healed run raises no incident")
        report = json.loads(base64.b64decode(run.ci_report_file))
        self.assertEqual(report["schema"], reports.SCHEMA)
        self.assertEqual(report["decision"]["state"], "healed")
        self.assertEqual(report["decision"]["actions"][0]["state"], "succeeded")

    def test_a_transient_cause_diagnosed_without_enough_confidence_is_escalated_not_re_run(self):
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.ci_retry_min_confidence", "0.999")
        run = self.fail_run(NETWORK_LOG)
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertEqual(diagnosis.category, "network_timeout")
        self.assertLess(diagnosis.confidence, 0.999)
        self.assertFalse(run.ci_action_ids, "no re-run on a guess")
        self.assertEqual(run.ci_state, "escalated")
        self.assertIn("confidence", run.ci_decision)
        self.assertEqual(self.Incident.search([("run_id", "=", run.id)]).category, "network_timeout")

    def test_retries_stop_at_the_repository_maximum_then_escalate(self):
        self.repo.ci_max_retries = 2
        run = self.fail_run(NETWORK_LOG)
        delays = []
        for attempt in (1, 2):
            self.diagnose()
            action = run.ci_action_ids.filtered(lambda a, n=attempt: a.attempt == n)
            self.assertEqual(action.state, "proposed", f"retry {attempt} scheduled")
            delays.append(action.payload["delay_seconds"])
            self.remediate()
            self.finish_attempt(run, "failure", logs={"test": NETWORK_LOG})
        self.diagnose()
        self.assertTrue(24 <= delays[0] <= 30 and 48 <= delays[1] <= 60, f"exponential backoff: {delays}")
        self.assertEqual(run.ci_action_ids.mapped("state"), ["failed", "failed"])
        self.assertEqual(run.ci_retry_count, 2)
        self.assertEqual(run.ci_state, "escalated")
        self.assertIn("exhausted", run.ci_decision)
        self.assertEqual(len(run.diagnosis_ids), 3, "each attempt's failed job is diagnosed")
        incident = self.Incident.search([("run_id", "=", run.id)])
        self.assertEqual((incident.source, incident.category), ("ci", "network_timeout"))
        self.report_issues()
        self.assertEqual(len(self.github.scan_issues[REPO]), 1)

    def test_unrecoverable_failure_opens_one_incident_and_one_issue_then_comments(self):
        first = self.fail_run(TEST_LOG)
        self.diagnose()
        self.assertFalse(first.ci_action_ids, "a test failure is not re-run")
        self.assertEqual(first.ci_state, "escalated")
        diagnosis = first.diagnosis_ids
        self.assertEqual(diagnosis.category, "test_failure")
        self.assertNotIn(TOKEN, diagnosis.excerpt, "the repository token is masked in the excerpt")
        incident = diagnosis.incident_id
        self.assertEqual(incident.dedup_key, f"ci:{REPO}:{diagnosis.signature_id.fingerprint}")
        self.assertEqual(incident.source, "ci")
        self.assertEqual(diagnosis.issue_state, "pending")

        self.report_issues()
        issues = self.github.scan_issues[REPO]
        self.assertEqual(len(issues), 1)
        issue = next(iter(issues.values()))
        self.assertEqual([label["name"] for label in issue["labels"]], ["workflow-automation"])
        self.assertEqual(reports.find_signature(issue["body"]), diagnosis.signature_id.fingerprint)
        self.assertIn("test_failure", issue["body"])
        self.assertIn("assert 117 == 118", issue["body"])
        self.assertNotIn(TOKEN, issue["body"])
        self.assertIn(first.html_url, issue["body"])
        self.assertEqual(diagnosis.issue_state, "reported")
        self.assertEqual(incident.github_issue_number, issue["number"])
        self.assertEqual(diagnosis.signature_id.github_issue_url, issue["html_url"])

        # the same failure on another branch and commit: same signature, same incident, a comment
        second = self.fail_run(TEST_LOG.replace("0.52s", "0.61s"), sha="b" * 40, branch="feature/x")
        self.diagnose()
        self.assertEqual(second.diagnosis_ids.signature_id, diagnosis.signature_id)
        self.assertEqual(diagnosis.signature_id.count, 2)
        self.assertEqual(diagnosis.signature_id.run_ids, first | second)
        self.assertEqual(second.diagnosis_ids.incident_id, incident)
        self.assertEqual(incident.count, 2)
        self.report_issues()
        self.assertEqual(len(self.github.scan_issues[REPO]), 1, "one issue per fingerprint")
        comments = self.github.issue_comments[(REPO, issue["number"])]
        self.assertEqual(len(comments), 1)
        self.assertIn(second.html_url, comments[0]["body"])

    def test_a_pattern_that_says_not_retryable_beats_a_transient_category(self):
        run = self.fail_run(QUOTA_LOG, job_name="upload")
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertEqual((diagnosis.category, diagnosis.rule_name), ("resource_exhaustion", "quota-exhausted"))
        self.assertFalse(diagnosis.retryable)
        self.assertFalse(run.ci_action_ids, "a re-run cannot refill an exhausted quota")
        self.assertEqual(run.ci_state, "escalated")
        self.assertEqual(diagnosis.issue_state, "pending")

        # a manager decides such failures are worth a re-run after all: the pattern's flag decides
        self.env["ops.failure.pattern"].search([("name", "=", "quota-exhausted")]).retryable = True
        again = self.fail_run(QUOTA_LOG, job_name="upload", sha="e" * 40)
        self.diagnose()
        self.assertTrue(again.diagnosis_ids.retryable)
        self.assertEqual(again.ci_state, "retrying")
        self.assertEqual(again.ci_action_ids.kind, "rerun_jobs")

    def test_two_jobs_with_one_failure_report_it_once(self):
        obj = self.github.add_run(
            REPO,
            conclusion="failure",
            started=recent(),
            jobs=[{"name": "test-py310", "conclusion": "failure"}, {"name": "test-py311", "conclusion": "failure"}],
        )
        for job in self.github.latest_jobs(REPO, obj["id"]):
            self.github.set_log(job["id"], TEST_LOG)
        self.deliver_all([("workflow_run", self.github.run_event(REPO, obj["id"]))])
        self.diagnose()
        run = self.Run.search([("github_id", "=", obj["id"])])
        self.assertEqual(len(run.job_ids), 2, "jobs are fetched from GitHub when only the run was delivered")
        self.assertEqual(len(run.diagnosis_ids.signature_id), 1)
        self.assertEqual(sorted(run.diagnosis_ids.mapped("issue_state")), ["pending", "skipped"])
        self.report_issues()
        self.assertEqual(len(self.github.scan_issues[REPO]), 1)
        self.assertFalse(self.github.issue_comments.get((REPO, 1)))

    def test_flaky_failure_is_detected_then_quarantined(self):
        run = self.fail_run(TEST_LOG)
        self.diagnose()
        signature = run.diagnosis_ids.signature_id
        self.assertFalse(signature.flaky)
        # someone re-runs it by hand and it passes on the same commit
        self.github._new_attempt(REPO, run.github_id, only_failed=True)
        self.finish_attempt(run, "success")
        self.diagnose()
        self.assertTrue(signature.flaky)
        self.assertEqual(signature.flaky_count, 1)
        self.assertEqual(signature.flaky_score, 1.0)
        self.assertEqual(self.repo.ci_flaky_count, 1)

        signature.write({"quarantine_reason": "timing-dependent total", "quarantine_until": "2999-01-01"})
        signature.action_quarantine()
        self.assertTrue(signature.quarantine_active)
        self.assertEqual(signature.quarantine_user_id, self.env.user)
        incidents = self.Incident.search_count([("source", "=", "ci")])
        again = self.fail_run(TEST_LOG, sha="c" * 40)
        self.diagnose()
        self.assertEqual(again.diagnosis_ids.signature_id, signature)
        self.assertEqual(again.ci_state, "retrying", "a known flaky failure is re-run")
        self.assertIn("quarantined", again.ci_decision)
        self.assertEqual(self.Incident.search_count([("source", "=", "ci")]), incidents)

    def test_rate_limits_and_server_errors_reschedule_never_drop(self):
        run = self.fail_run(NETWORK_LOG)
        self.github.fail_next(1, status=429, headers={"Retry-After": "120"}, path_re=r"/logs$")
        self.diagnose()
        self.assertEqual(run.ci_state, "pending")
        self.assertFalse(run.diagnosis_ids)
        self.assertIn("rate limited", run.ci_error)
        wait = (run.ci_next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertAlmostEqual(wait, 120, delta=5)
        self.assertTriggeredAt("ops_autopilot.ir_cron_ci_diagnose", run.ci_next_attempt_at)

        run.ci_next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.diagnose()
        action = run.ci_action_ids
        self.assertEqual(action.state, "proposed")
        self.github.fail_next(1, status=403, headers={"Retry-After": "90"}, path_re="rerun-failed-jobs")
        self.remediate()
        self.assertEqual(action.state, "proposed", "a rate-limited re-run stays scheduled")
        wait = (action.not_before - fields.Datetime.now()).total_seconds()
        self.assertAlmostEqual(wait, 90, delta=5)
        self.remediate()
        self.assertEqual(action.state, "running")
        self.assertEqual(len(self.github.reruns), 1)

    def test_a_secondary_rate_limit_reschedules_the_rerun_a_minute_later(self):
        """GitHub's secondary limit (403, no retry-after, primary limit not spent) means wait, not 'refused'."""
        run = self.fail_run(NETWORK_LOG)
        self.diagnose()
        action = run.ci_action_ids
        self.github.secondary_rate_limit(1, path_re="rerun-failed-jobs")
        self.remediate()
        self.assertEqual(action.state, "proposed", "the re-run stays scheduled")
        self.assertNotEqual(run.ci_state, "escalated")
        self.assertFalse(self.Incident.search([("run_id", "=", run.id)]))
        wait = (action.not_before - fields.Datetime.now()).total_seconds()
        self.assertGreaterEqual(wait, 55)
        self.remediate()
        self.assertEqual(action.state, "running")

    def test_one_failing_run_never_blocks_the_others(self):
        blocked = self.fail_run(TEST_LOG, job_name="blocked")
        other = self.fail_run(TEST_LOG, job_name="other", sha="d" * 40)
        blocked_job = blocked.job_ids.filtered(lambda j: j.name == "blocked")
        self.github.fail_next(
            3, status=429, headers={"Retry-After": "60"}, path_re=rf"/jobs/{blocked_job.github_id}/logs$"
        )
        self.Run._cron_ci_diagnose()
        self.assertEqual(blocked.ci_state, "pending")
        self.assertEqual(other.ci_state, "escalated")

    def test_refused_rerun_escalates(self):
        run = self.fail_run(NETWORK_LOG)
        self.diagnose()
        self.github.fail_next(
            1,
            status=403,
            body={"message": "Resource not accessible by integration"},
            headers={"X-Accepted-GitHub-Permissions": "actions=write"},
            path_re="rerun",
        )
        self.remediate()
        action = run.ci_action_ids
        self.assertEqual((action.state, action.response_status), ("failed", 403))
        self.assertEqual(run.ci_state, "escalated")
        self.assertIn("actions=write", run.ci_decision, "the refusal names the permission the token lacks")
        reruns = next(line for line in self.repo.token_check["features"] if line["feature"] == "reruns")
        self.assertEqual(reruns["state"], "missing", "and the repository's token check shows it")
        self.assertTrue(self.Incident.search([("run_id", "=", run.id)]))
        report = run.ci_report["decision"]
        self.assertEqual((report["state"], report["actions"][0]["state"]), ("escalated", "failed"))

    def test_old_failures_are_diagnosed_but_not_acted_on(self):
        run = self.fail_run(NETWORK_LOG, started=gp.EPOCH)
        self.diagnose()
        self.assertEqual(run.diagnosis_ids.category, "network_timeout")
        self.assertEqual(run.ci_state, "diagnosed")
        self.assertIn("too long ago", run.ci_decision)
        self.assertFalse(run.ci_action_ids)
        self.assertFalse(self.Incident.search([("run_id", "=", run.id)]))

    def test_without_a_token_the_failure_is_diagnosed_unknown_and_escalated(self):
        self.repo.sudo().token = False
        run = self.fail_run(TEST_LOG)
        self.diagnose()
        diagnosis = run.diagnosis_ids
        self.assertEqual(diagnosis.category, "unknown")
        self.assertIn("no API token", diagnosis.log_error)
        self.assertEqual(diagnosis.issue_state, "none", "no issue without a token")
        self.assertEqual(run.ci_state, "escalated")
        self.assertFalse(self.github.requests)

    def test_published_failed_job_payload(self):
        if not fixtures.available():
            raise unittest.SkipTest(fixtures.MISSING)
        _body, job_payload = fixtures.load(
            fixtures.FIXTURES / "workflow_job" / "completed.failure.with-organization.payload.json"
        )
        full_name = job_payload["repository"]["full_name"]
        repo = self.env["ops.repository"].create(
            {"full_name": full_name, "webhook_secret": SECRET, "api_url": self.github.url, "token": TOKEN}
        )
        job = dict(job_payload["workflow_job"])
        self.github.add_repo(full_name)
        self.github.runs[full_name][job["run_id"]] = gp.workflow_run(
            full_name,
            run_id=job["run_id"],
            conclusion="failure",
            sha=job["head_sha"],
            name=job["workflow_name"] or "CI",
        )
        self.github.jobs[(full_name, job["run_id"])] = [job]
        self.github.set_log(job["id"], TEST_LOG)
        self.deliver_all(
            [
                ("workflow_job", job_payload),
                ("workflow_run", gp.workflow_run_event(full_name, **_run_kwargs(job))),
            ]
        )
        run = self.Run.search([("repository_id", "=", repo.id), ("github_id", "=", job["run_id"])])
        self.assertEqual(run.ci_state, "pending")
        self.diagnose()
        self.assertEqual(run.diagnosis_ids.job_name, job["name"])
        self.assertEqual(run.diagnosis_ids.category, "test_failure")


def _run_kwargs(job):
    return {
        "run_id": job["run_id"],
        "conclusion": "failure",
        "sha": job["head_sha"],
        "branch": job["head_branch"] or "main",
        "name": job["workflow_name"] or "CI",
        "started": recent(),
    }


@tagged("post_install", "-at_install")
class TestSelfHealingRollback(SelfHealingCase):
    def setUp(self):
        super().setUp()
        self.repo.write(
            {
                "ci_auto_rollback": True,
                "ci_deployment_workflows": "deploy.yml",
                "ci_rollback_workflow": "rollback.yml",
            }
        )
        self.github.add_workflow(REPO, path=".github/workflows/rollback.yml", name="Rollback")
        self.deploy = {"name": "Deploy", "path": ".github/workflows/deploy.yml"}

    def _deploy(self, sha, conclusion):
        if conclusion == "success":
            obj = self.github.add_run(REPO, sha=sha, jobs=[{"name": "deploy"}], started=recent(), **self.deploy)
            self.deliver_all([("workflow_run", self.github.run_event(REPO, obj["id"]))])
            return self.Run.search([("github_id", "=", obj["id"])])
        return self.fail_run("Error: UPGRADE FAILED: release erp failed\n", job_name="deploy", sha=sha, **self.deploy)

    def test_failed_deployment_rolls_back_once(self):
        self._deploy("1" * 40, "success")
        failed = self._deploy("2" * 40, "failure")
        self.diagnose()
        self.assertEqual(failed.ci_state, "rolled_back")
        self.assertFalse(failed.ci_action_ids.filtered(lambda a: a.kind == "rerun_jobs"), "deployments are not re-run")
        self.assertEqual(self.Incident.search([("run_id", "=", failed.id)]).severity, "high")
        self.remediate()
        self.assertEqual(len(self.github.dispatches), 1)
        _repo, _workflow, ref, inputs = self.github.dispatches[0]
        self.assertEqual((ref, inputs), ("main", {"sha": "1" * 40}), "rolled back to the last successful commit")
        self.assertEqual(failed.ci_action_ids.state, "succeeded")

        # the same deployment re-run by hand fails again: never a second rollback in a row
        self.github._new_attempt(REPO, failed.github_id, only_failed=True)
        self.finish_attempt(failed, "failure", logs={"deploy": "Error: UPGRADE FAILED again\n"})
        self.diagnose()
        self.remediate()
        self.assertEqual(len(self.github.dispatches), 1)
        self.assertEqual(failed.ci_state, "escalated")
        self.assertIn("already rolled back", failed.ci_decision)

        # a new deployment may roll back again
        self._deploy("3" * 40, "failure")
        self.diagnose()
        self.remediate()
        self.assertEqual(len(self.github.dispatches), 2)
        self.assertEqual(self.github.dispatches[1][3], {"sha": "1" * 40})

    def test_other_workflows_follow_the_retry_policy(self):
        run = self.fail_run(NETWORK_LOG, name="CI", path=".github/workflows/ci.yml")
        self.diagnose()
        self.assertEqual(run.ci_state, "retrying")

    def test_a_first_deployment_without_history_is_escalated_not_rolled_back(self):
        failed = self._deploy("2" * 40, "failure")
        self.diagnose()
        self.assertEqual(failed.ci_state, "escalated")
        self.assertIn("no earlier successful deployment", failed.ci_decision)
