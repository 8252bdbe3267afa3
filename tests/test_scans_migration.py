"""Migration dry-run: the button dispatches the workflow with inputs; the webhook (or the poll) records the outcome."""

import json
from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..autopilot.ingest import gate
from ..autopilot.testing import github_payloads as gp
from .common import SECRET, signed_headers
from .scans_common import ScanCase

WORKFLOW = ".github/workflows/migration-dry-run.yml"
QUIET = mute_logger("odoo.addons.ops_autopilot.models.ops_scan_run")


@tagged("post_install", "-at_install")
class TestMigrationDryRun(ScanCase):
    def setUp(self):
        super().setUp()
        self.gh.add_workflow("acme/erp", path=WORKFLOW)
        self.repo.webhook_secret = SECRET

    def dispatch(self, inputs="target_version=18.0\ndatabase=staging"):
        wizard = (
            self.env["ops.migration.dry.run.wizard"]
            .with_context(active_model="ops.repository", active_id=self.repo.id)
            .create({"inputs": inputs})
        )
        self.assertEqual((wizard.workflow_file, wizard.ref), (self.repo.migration_workflow, "main"))
        action = wizard.action_dispatch()
        return self.Run.browse(action["res_id"])

    def deliver(self, run_payload):
        body = json.dumps(gp.workflow_run_event("acme/erp", **run_payload)).encode()
        verdict = gate.evaluate(
            signed_headers(body, "workflow_run"),
            body,
            "application/json",
            self.env["ops.repository"].sudo()._webhook_candidates,
        )
        status, answer = self.env["ops.webhook.delivery"]._receive(verdict)
        self.assertEqual(status, 202, answer)
        self.env["ops.webhook.delivery"]._cron_process_deliveries()

    def github_run(self):
        [run] = [r for r in self.gh.runs["acme/erp"].values() if r["event"] == "workflow_dispatch"]
        return run

    def test_dispatch_then_the_webhook_records_the_outcome(self):
        run = self.dispatch()
        self.assertEqual((run.state, run.scan_type, run.trigger), ("running", "migration_dry_run", "manual"))
        self.assertTrue(run.dispatched_at)
        self.assertEqual(
            self.gh.dispatches,
            [
                (
                    "acme/erp",
                    next(iter(self.gh.workflows["acme/erp"])),
                    "main",
                    {"target_version": "18.0", "database": "staging"},
                )
            ],
        )
        self.assertEqual(run.workflow_inputs_text, "database=staging\ntarget_version=18.0")
        github_run = self.github_run()
        started = datetime.utcnow()
        common = {
            "run_id": github_run["id"],
            "path": WORKFLOW,
            "name": "Migration dry-run",
            "event": "workflow_dispatch",
        }
        self.deliver({**common, "status": "in_progress", "started": started})
        self.assertEqual(run.state, "running")
        self.assertEqual(run.github_run_id, github_run["id"])
        self.deliver({**common, "status": "completed", "conclusion": "success", "started": started})
        self.assertEqual(run.state, "done")
        self.assertEqual(run.workflow_outcome, "success")
        self.assertIn("succeeded", run.summary)
        self.assertTrue(run.finished_at)

        # a push-triggered run of the same workflow is not a dry-run's
        other = self.dispatch("")
        self.deliver({**common, "run_id": 991199, "event": "push", "status": "completed", "started": started})
        self.assertEqual(other.state, "running")

    def test_the_poll_finds_the_run_when_no_webhook_comes(self):
        run = self.dispatch()
        self.Run._cron_check_migration_runs()
        self.assertEqual(run.github_run_id, self.github_run()["id"], "found through the API")
        self.assertEqual(run.state, "running")
        self.github_run().update(
            status="completed", conclusion="failure", updated_at=gp.ts(datetime.utcnow() + timedelta(minutes=3))
        )
        self.Run._cron_check_migration_runs()
        self.assertEqual(run.state, "failed")
        self.assertIn("failure", run.reason)
        self.assertEqual(run.workflow_run_id.outcome, "failure")

    def test_dispatch_trouble_and_bad_inputs(self):
        self.repo.migration_workflow = "missing.yml"
        with QUIET:
            run = self.dispatch()
        self.assertEqual((run.state, run.error_kind), ("failed", "not_found"))
        self.repo.migration_workflow = "migration-dry-run.yml"
        with self.assertRaises(UserError):
            self.dispatch("no equals sign here")
