"""Dead code (one cleanup issue per scan) and license compliance (SBOM, policy, monthly report)."""

import copy
import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .scans_common import SAMPLES, ScanCase

QUIET = mute_logger("odoo.addons.ops_autopilot.models.ops_scan_run")
SBOM = json.loads((SAMPLES / "github-sbom.json").read_text())["sbom"]
HOSTILE = "<script>alert('pwned')</script>"


@tagged("post_install", "-at_install")
class TestDeadCodeScan(ScanCase):
    def test_one_cleanup_issue_per_scan_with_links_to_the_lines(self):
        run = self.run_cron("dead_code")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual(run.ref, self.sha)
        found = {f.title: f for f in self.findings(repository_id=self.repo.id, scan_type="dead_code")}
        self.assertEqual(set(found), {"unused import 'os'", "unused function 'orphan_helper'"})
        orphan = found["unused function 'orphan_helper'"]
        self.assertEqual((orphan.path, orphan.line, orphan.confidence), ("erp/tools.py", 8, 60))
        self.assertTrue(orphan.github_url.endswith(f"/acme/erp/blob/{self.sha}/erp/tools.py#L8"))
        issues = self.gh.calls("POST", r"/repos/acme/erp/issues$")
        self.assertEqual(len(issues), 1, "one issue for the whole scan")
        self.assertIn("orphan_helper", issues[0].json()["body"])
        self.assertEqual(run.github_issue_url, orphan.github_issue_url)
        self.assertEqual((run.progress_done, run.progress_total), (3, 3))

        # same commit next week: nothing new on GitHub
        again = self.run_cron("dead_code")
        self.assertEqual(again.state, "done")
        self.assertEqual(len(self.gh.calls("POST", r"/issues")), 1, "no new issue, no new comment")
        self.assertEqual(len(self.findings(repository_id=self.repo.id)), 2)

        # the import is removed and unused imports are suppressed: the update lists what is left
        self.Suppression.create(
            {"advisory": "vulture:unused-function", "reason": "kept for the API", "scan_type": "dead_code"}
        )
        self.assertEqual(orphan.status, "suppressed")
        self.gh.commit("acme/erp", {"erp/tools.py": "import os\n\nprint(os.sep)\n"}, branch="main")
        third = self.run_cron("dead_code")
        self.assertEqual(orphan.status, "fixed", "gone from the code")
        self.assertFalse(third.finding_ids)
        self.assertEqual(len(self.gh.calls("POST", r"/repos/acme/erp/issues$")), 1)

    def test_a_large_repository_is_read_over_several_cron_calls(self):
        """Each call stops reading once its time budget is spent; the run goes on in the next call, same commit."""
        self.set_params(scan_cron_budget_seconds=0)  # spent after each file: one Python file per call
        cron = self.env.ref("ops_autopilot.ir_cron_scan_dead_code")
        cron.nextcall = fields.Datetime.now() - timedelta(minutes=5)
        cron, progress = cron._add_progress()
        cron.ir_actions_server_id.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id).run()
        run = self.Run.search([("scan_type", "=", "dead_code"), ("repository_id", "=", self.repo.id)])
        self.assertEqual((run.state, run.progress_done, run.progress_total), ("queued", 1, 3))
        self.assertEqual((run.ref, run.scan_state["sha"]), (self.sha, self.sha))
        self.assertTrue(run.started_at)
        self.assertFalse(run.finished_at)
        self.assertEqual(progress.remaining, 1, "the framework calls again")
        self.assertFalse(self.findings(repository_id=self.repo.id), "nothing decided on part of the code")
        self.gh.commit("acme/erp", {"erp/late.py": "def late():\n    pass\n"}, branch="main")  # pushed meanwhile
        Run = self.Run.with_context(cron_id=cron.id)
        for _call in range(5):
            if run.state != "queued":
                break
            Run._cron_run_scans("dead_code")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual((run.progress_done, run.progress_total), (3, 3))
        self.assertFalse(run.scan_state)
        titles = set(self.findings(repository_id=self.repo.id, scan_type="dead_code").mapped("title"))
        self.assertEqual(titles, {"unused import 'os'", "unused function 'orphan_helper'"}, "same as one pass")
        self.assertEqual({c.path for c in self.gh.calls("GET", r"/tarball/")}, {f"/repos/acme/erp/tarball/{self.sha}"})
        self.assertEqual(len(self.gh.calls("POST", r"/repos/acme/erp/issues$")), 1)

    def test_download_trouble_fails_the_run(self):
        self.gh.tarballs[("acme/erp", self.sha)] = b"\x1f\x8b not a tarball"
        with QUIET:
            run = self.run_cron("dead_code")
        self.assertEqual((run.state, run.error_kind), ("failed", "bad_answer"))
        self.assertFalse(self.findings(repository_id=self.repo.id))


@tagged("post_install", "-at_install")
class TestLicenseCompliance(ScanCase):
    def setUp(self):
        super().setUp()
        sbom = copy.deepcopy(SBOM)
        sbom["packages"].append(
            {
                "name": f"pip:{HOSTILE}",
                "SPDXID": "SPDXRef-pip-hostile",
                "versionInfo": "1.0<b>",
                "licenseConcluded": "SSPL-1.0",
                "externalRefs": [],
            }
        )
        self.gh.sboms["acme/erp"] = sbom

    def test_policy_verdicts_findings_and_the_monthly_report(self):
        run = self.run_cron("license_compliance")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual(run.stats["total"], 9)
        self.assertEqual(run.stats["counts"], {"allowed": 4, "review": 1, "unknown": 2, "denied": 2})
        verdicts = {f.package: f.license_verdict for f in self.findings(scan_type="license_compliance")}
        self.assertEqual(verdicts["ghostscript-wrapper"], "denied")
        self.assertEqual(verdicts["chardet"], "review")
        self.assertEqual(verdicts[HOSTILE], "denied")
        self.assertNotIn("requests", verdicts, "allowed packages are no finding")

        html = self.env["ir.actions.report"]._render_qweb_html("ops_autopilot.report_license_compliance", run.ids)[0]
        html = html.decode()
        self.assertIn("acme/erp", html)
        self.assertIn("ghostscript-wrapper", html)
        self.assertIn("&lt;script&gt;alert(", html, "hostile names are escaped")
        self.assertNotIn(HOSTILE, html)
        self.assertNotIn("1.0<b>", html)
        self.assertIn(run.stats["period"], html)
        action = run.with_context(discard_logo_check=True).action_print_license_report()
        pdf = "qweb-html" if self.env["ir.actions.report"]._ops_pdf_unavailable_note() else "qweb-pdf"  # no wkhtmltopdf
        self.assertEqual(
            (action["report_name"], action["report_type"]), ("ops_autopilot.report_license_compliance", pdf)
        )

        # the policy is editable: chardet's license becomes allowed next month
        self.env.ref("ops_autopilot.license_policy_lgpl_2_1_only").verdict = "allowed"
        self.run_cron("license_compliance")
        self.assertEqual(self.findings(package="chardet").status, "fixed")

    def test_no_dependency_graph_fails_without_retry_and_has_no_report(self):
        del self.gh.sboms["acme/erp"]
        with QUIET:
            run = self.run_cron("license_compliance")
        self.assertEqual((run.state, run.error_kind), ("failed", "not_found"))
        self.assertFalse(self.Run.search([("retry_of_id", "=", run.id)]))
        with self.assertRaises(UserError):
            self.env["ir.actions.report"]._render_qweb_html("ops_autopilot.report_license_compliance", run.ids)
