"""Security scan end to end: OSV and a workflow's report artifact → findings, incidents, one issue per advisory."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .scans_common import SAMPLES, TOKEN, ScanCase

LODASH = "GHSA-35jh-r3h4-6jhm"  # high (CVSS 7.2) in lodash 4.17.20
REQUESTS = "GHSA-j8r2-6x86-q33q"  # medium in requests 2.28.2
QUIET = mute_logger("odoo.addons.ops_autopilot.models.ops_scan_run")


@tagged("post_install", "-at_install")
class TestSecurityScan(ScanCase):
    def test_cron_records_findings_raises_incidents_and_opens_one_issue_per_advisory(self):
        self.env["ops.repository"].create({"full_name": "acme/no-token", "api_url": self.gh.url})
        runs = self.run_cron("security", all_repositories=True)
        self.assertEqual(len(runs), 1, "one run per repository with a token")
        run = runs
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual((run.trigger, run.ref), ("cron", self.sha))
        self.assertEqual((run.progress_done, run.progress_total), (4, 4))  # 3 pinned + babel unpinned
        found = {f.advisory_id: f for f in self.findings(repository_id=self.repo.id, scan_type="security")}
        self.assertEqual(set(found), {LODASH, REQUESTS, "PYSEC-2021-439"})
        lodash = found[LODASH]
        self.assertEqual((lodash.severity, lodash.package, lodash.version), ("high", "lodash", "4.17.20"))
        self.assertEqual(lodash.fixed_version, "4.17.21")
        self.assertEqual(lodash.status, "open")
        self.assertIn("/blob/", lodash.github_url)
        self.assertEqual(found[REQUESTS].fixed_version, "2.31.0")
        self.assertIn("1 high or critical", run.summary)

        incident = lodash.incident_id
        self.assertTrue(incident, "high finding → incident")
        self.assertEqual((incident.source, incident.severity, incident.condition), ("scan", "high", LODASH))
        self.assertFalse(found[REQUESTS].incident_id, "medium findings do not page anyone")
        issues = self.gh.calls("POST", r"/repos/acme/erp/issues$")
        self.assertEqual(len(issues), 1, "one GitHub issue, for the high advisory only")
        self.assertIn(LODASH, issues[0].json()["title"])
        self.assertTrue(lodash.github_issue_url)

        # the next night: same findings, no second issue, the incident counts the repeat
        second = self.run_cron("security")
        self.assertEqual(second.state, "done")
        self.assertEqual(len(self.findings(repository_id=self.repo.id, scan_type="security")), 3, "deduplicated")
        self.assertEqual(lodash.run_ids, run | second)
        self.assertEqual(len(self.gh.calls("POST", r"/repos/acme/erp/issues$")), 1, "issue opened once")
        self.assertEqual(lodash.incident_id, incident)
        self.assertEqual(incident.count, 2)
        self.assertEqual(self.env["ops.incident"].search_count([("condition", "=", LODASH)]), 1)

        # lodash upgraded on GitHub: the finding is fixed and its incident resolves itself
        self.gh.commit("acme/erp", {"package.json": '{"dependencies": {"lodash": "4.17.21"}}'}, branch="main")
        third = self.run_cron("security")
        self.assertEqual(third.state, "done")
        self.assertEqual(lodash.status, "fixed")
        self.assertTrue(lodash.fixed_at)
        self.assertEqual(incident.state, "resolved")
        self.assertTrue(incident.auto_resolved)

    def test_an_issue_closed_on_github_is_not_opened_again(self):
        self.gh.add_issue(
            "acme/erp", "handled", body=f"<!-- ops-autopilot:advisory:{LODASH} -->", labels=["security"], state="closed"
        )
        run = self.run_cron("security")
        self.assertEqual(run.state, "done")
        self.assertFalse(self.gh.calls("POST", r"/repos/acme/erp/issues$"))
        self.assertTrue(self.findings(advisory_id=LODASH).github_issue_url.endswith("/issues/1"))

    def test_workflow_report_artifact_findings_are_merged(self):
        run_payload = self.gh.add_run("acme/erp", run_id=4401, path=".github/workflows/security.yml", name="Security")
        self.gh.add_artifact(
            "acme/erp", 4401, "security-reports", {"trivy.json": (SAMPLES / "trivy.json").read_bytes()}
        )
        self.repo.scan_report_workflow = "security.yml"
        self.env["ops.workflow.run"].create(
            {
                "repository_id": self.repo.id,
                "github_id": run_payload["id"],
                "name": "Security",
                "workflow_path": ".github/workflows/security.yml",
                "status": "completed",
                "conclusion": "success",
                "outcome": "success",
                "started_at": fields.Datetime.now() - timedelta(hours=3),
            }
        )
        run = self.run_cron("security")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual(run.stats["report_run"], 4401)
        advisories = set(self.findings(repository_id=self.repo.id).mapped("advisory_id"))
        self.assertIn("CVE-2024-2961", advisories, "only Trivy saw the OS package")
        self.assertNotIn("CVE-2023-32681", advisories, "Trivy's alias of the OSV advisory is merged")
        self.assertIn("trivy", self.findings(advisory_id="CVE-2024-2961").source)

    def test_an_artifact_that_cannot_be_downloaded_keeps_the_osv_findings(self):
        """The artifact's storage host fails: what OSV found is recorded, the run is partial and says why."""
        self.repo.scan_report_workflow = "security.yml"
        self.scanner_run(4601, "success", 2, {"trivy.json": (SAMPLES / "trivy.json").read_bytes()})
        self.gh.storage.fail_next(1, status=503, path_re=r"^/artifacts/")
        run = self.run_cron("security")
        self.assertEqual(run.state, "partial", run.reason)
        self.assertIn("503", run.reason)
        self.assertTrue(self.findings(advisory_id=LODASH), "OSV's findings are kept")
        self.assertFalse(self.findings(advisory_id="CVE-2024-2961"), "the report that was not read adds nothing")

    def scanner_run(self, run_id, conclusion, hours_ago, reports):
        """A finished run of the repository's scanner workflow whose artifact holds ``reports``."""
        payload = self.gh.add_run("acme/erp", run_id=run_id, path=".github/workflows/security.yml", name="Security")
        self.gh.add_artifact("acme/erp", run_id, "security-reports", reports)
        self.env["ops.workflow.run"].create(
            {
                "repository_id": self.repo.id,
                "github_id": payload["id"],
                "name": "Security",
                "workflow_path": ".github/workflows/security.yml",
                "status": "completed",
                "conclusion": conclusion,
                "outcome": "success" if conclusion == "success" else conclusion,
                "started_at": fields.Datetime.now() - timedelta(hours=hours_ago),
            }
        )

    def test_a_scanner_run_failed_by_its_findings_is_read_and_a_cancelled_one_is_not(self):
        """pip-audit exits 1 when it finds something: that failed run holds the reports that matter."""
        self.repo.scan_report_workflow = "security.yml"
        self.scanner_run(4501, "failure", 5, {"pip-audit.json": (SAMPLES / "pip-audit.json").read_bytes()})
        self.scanner_run(4502, "cancelled", 1, {"trivy.json": (SAMPLES / "trivy.json").read_bytes()})
        run = self.run_cron("security")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual(run.stats["report_run"], 4501)
        pillow = self.findings(advisory_id="PYSEC-2022-168")
        self.assertEqual((pillow.package.lower(), pillow.version), ("pillow", "9.0.0"))
        self.assertIn("pip-audit", pillow.source)
        self.assertFalse(self.findings(advisory_id="CVE-2024-2961"), "the cancelled run's artifact is not read")
        self.assertEqual(len(self.findings(advisory_id="PYSEC-2021-439")), 1, "OSV and pip-audit agree: one finding")

    def test_rate_limited_osv_fails_the_run_writes_nothing_and_retries_after_retry_after(self):
        self.osv.fail_next(1, status=429, headers={"Retry-After": "7200"}, path_re="querybatch")
        with QUIET:
            run = self.run_cron("security")
        self.assertEqual(run.state, "failed")
        self.assertEqual(run.error_kind, "rate_limited")
        self.assertIn("rate limited", run.reason)
        self.assertFalse(self.findings(repository_id=self.repo.id), "nothing half-written")
        self.assertFalse(self.env["ops.incident"].search([("source", "=", "scan")]))
        retry = self.Run.search([("retry_of_id", "=", run.id)])
        self.assertEqual((retry.state, retry.trigger, retry.attempt), ("queued", "retry", 1))
        self.assertGreaterEqual(retry.scheduled_at, fields.Datetime.now() + timedelta(seconds=7000))
        # when it is due, the cron runs it (no new cycle: only the retry)
        retry.scheduled_at = fields.Datetime.now() - timedelta(seconds=1)
        self.Run._cron_run_scans("security")
        self.assertEqual(retry.state, "done")
        self.assertEqual(len(self.findings(repository_id=self.repo.id)), 3)

    def test_osv_failing_midway_keeps_what_was_found_and_fixes_nothing(self):
        self.run_cron("security")
        django = self.findings(advisory_id="PYSEC-2021-439")
        self.osv.fail_next(5, status=503, path_re=r"/v1/vulns/PYSEC")
        with QUIET:
            partial = self.run_cron("security")
        self.assertEqual(partial.state, "partial")
        self.assertIn("503", partial.reason)
        self.assertEqual(django.status, "open", "a partial run never marks findings fixed")
        self.assertIn(partial, self.findings(advisory_id=REQUESTS).run_ids)

    def test_garbage_answers_and_unreachable_services_fail_the_run(self):
        self.osv.fail_next(1, status=200, body="<html>maintenance</html>", path_re="querybatch")
        with QUIET:
            run = self.run_cron("security")
        self.assertEqual((run.state, run.error_kind), ("failed", "bad_answer"))
        self.assertIn("not JSON", run.reason)
        self.set_params(scan_osv_url="http://127.0.0.1:9")
        with QUIET:
            run = self.run_cron("security")
        self.assertEqual((run.state, run.error_kind), ("failed", "unavailable"))
        self.assertIn("OSV: unreachable", run.reason)
        self.repo.api_url = "http://127.0.0.1:9"  # GitHub down
        with QUIET:
            run = self.run_cron("security")
        self.assertEqual((run.state, run.error_kind), ("failed", "unavailable"))
        self.assertIn("GitHub", run.reason)
        self.assertFalse(self.findings(), "nothing half-written")

    def test_one_failing_repository_never_blocks_the_others_and_progress_is_reported(self):
        self.set_params(scan_batch_size=2)
        broken = self.env["ops.repository"].create(
            {"full_name": "acme/broken", "api_url": self.gh.url, "token": "ghp_wrong_token_00000000000000000000000"}
        )
        self.gh.seed_repo("acme/other", FILES_OTHER)
        other = self.env["ops.repository"].create({"full_name": "acme/other", "api_url": self.gh.url, "token": TOKEN})
        cron = self.env.ref("ops_autopilot.ir_cron_scan_security")
        cron.nextcall = fields.Datetime.now() - timedelta(minutes=5)
        cron, progress = cron._add_progress()
        with QUIET:
            cron.ir_actions_server_id.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id).run()
        self.assertEqual((progress.done, progress.remaining), (2, 1), "a batch of two, one left")
        with QUIET:
            self.Run.with_context(cron_id=cron.id)._cron_run_scans("security")
        mine = (self.repo | broken | other).ids
        runs = {
            r.repository_id: r for r in self.Run.search([("scan_type", "=", "security"), ("repository_id", "in", mine)])
        }
        self.assertEqual(set(runs), {self.repo, broken, other})
        self.assertEqual(runs[broken].state, "failed")
        self.assertIn("401", runs[broken].reason)
        self.assertNotIn("ghp_wrong", runs[broken].reason)
        self.assertEqual(runs[broken].error_kind, "rejected")
        self.assertFalse(self.Run.search([("retry_of_id", "=", runs[broken].id)]), "a refusal waits for tomorrow")
        self.assertEqual(runs[self.repo].state, "done")
        self.assertEqual(runs[other].state, "done")

    def test_a_cron_call_starts_no_run_once_its_time_budget_is_spent(self):
        """Odoo kills a cron worker after limit_time_real_cron: what a call cannot start waits for the next."""
        self.set_params(scan_cron_budget_seconds=0)  # spent as soon as one run is done
        self.gh.seed_repo("acme/other", FILES_OTHER)
        other = self.env["ops.repository"].create({"full_name": "acme/other", "api_url": self.gh.url, "token": TOKEN})
        cron = self.env.ref("ops_autopilot.ir_cron_scan_security")
        cron.nextcall = fields.Datetime.now() - timedelta(minutes=5)
        cron, progress = cron._add_progress()
        cron.ir_actions_server_id.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id).run()
        runs = self.Run.search([("scan_type", "=", "security"), ("repository_id", "in", (self.repo | other).ids)])
        self.assertEqual((progress.done, progress.remaining), (1, 1), "one run started, one left for the next call")
        self.assertEqual(sorted(runs.mapped("state")), ["done", "queued"])
        cron, progress = cron._add_progress()
        self.Run.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id)._cron_run_scans("security")
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(set(runs.mapped("state")), {"done"}, "the same cycle: nothing queued twice")
        self.assertEqual(len(runs), 2)

    def test_run_now_queues_and_skips_repositories_already_waiting(self):
        wizard = self.env["ops.scan.launch.wizard"].with_context(
            active_model="ops.repository", active_ids=self.repo.ids
        )
        wizard.create({"security": True, "dependency_updates": False}).action_launch()
        wizard.create({"security": True, "dependency_updates": False}).action_launch()
        queued = self.Run.search([("state", "=", "queued"), ("repository_id", "=", self.repo.id)])
        self.assertEqual((len(queued), queued.trigger, queued.scan_type), (1, "manual", "security"))
        self.assertEqual(queued.user_id, self.env.user)
        self.Run._cron_run_scans("security")
        self.assertEqual(queued.state, "done")


FILES_OTHER = {"requirements.txt": "flask==3.0.3\n"}
