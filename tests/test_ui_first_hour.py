"""A new user's first hour, in real headless Chromium (tour ``ops_autopilot_first_hour``).

Everything the tour sees is made through the addon's real paths: a failed run
announced by signed webhooks whose log the CI cron fetches from the local
GitHub server and diagnoses; a target on a local server that answers 500,
checked by the probe crons until it is down, its incident escalated by the
escalation cron (no paging routing key: nobody is paged, and the timeline
says so) and its restart waiting for a manager; an hour of checks rolled up
for its history. The tour then walks dashboard -> failed run -> excerpt and
diagnosis -> paste a log -> incident timeline -> approve the restart that
shows its request -> target history -> weekly report as PDF.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..autopilot.testing.probe_targets import ProbeTargets
from .common import OpsHttpCase
from .test_self_healing import TEST_LOG, SelfHealingCase


@tagged("post_install", "-at_install")
class TestUiFirstHour(SelfHealingCase, OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.probe_targets = ProbeTargets().start()
        cls.addClassCleanup(cls.probe_targets.stop)

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # the probes pass requests' (connect, read) timeout tuple; Odoo's test guard compares one number
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    def make_failed_run(self):
        run = self.fail_run(TEST_LOG, job_name="unit", name="First hour CI")
        self.diagnose()
        self.assertEqual(run.diagnosis_ids.log_state, "available")
        return run

    def make_down_target(self):
        """A shop that answers 500: checked until down, escalated with no routing key, its restart awaiting approval."""
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.paging_routing_key", False)
        policy = self.env["ops.remediation.policy"].create(
            {
                "name": "first hour: restart through the ops agent",
                "hook_url": self.probe_targets.url_for("/hook"),
                "line_ids": [
                    (
                        0,
                        0,
                        {"condition": "down", "kind": "restart_service", "executor": "http_hook", "destructive": True},
                    )
                ],
            }
        )
        now = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=40)
        target = self.env["ops.health.target"].create(
            {
                "name": "First hour shop",
                "url": self.probe_targets.url_for("/status/500"),
                "interval_minutes": 1,
                "timeout_seconds": 3.0,
                "next_check_at": now,
                "remediation_policy_id": policy.id,
                "on_call_user_id": self.env.ref("base.user_admin").id,
            }
        )
        Target, Incident = self.env["ops.health.target"], self.env["ops.incident"]
        for _minute in range(30):
            now += timedelta(minutes=1)
            Target._cron_recheck_due_targets(now=now)
            Target._cron_probe_due_targets(now=now)
            Incident._cron_escalate(now=now)
        start = now - timedelta(hours=2)
        self.env["ops.health.sample.hourly"]._rollup(start, now + timedelta(hours=1))
        self.env["ops.health.sample.daily"]._rollup(start, now + timedelta(days=1))
        incident = Incident.search([("target_id", "=", target.id), ("state", "!=", "resolved")])
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.page_state, "none")
        restart = incident.remediation_action_ids.filtered(lambda a: a.kind == "restart_service")
        self.assertEqual(restart.mapped("state"), ["awaiting_approval"])
        return target, incident, restart

    def test_first_hour(self):
        run = self.make_failed_run()
        target, incident, restart = self.make_down_target()
        hook_calls = len(self.probe_targets.calls("POST", r"^/hook$"))
        self.start_tour("/odoo", "ops_autopilot_first_hour", login="admin", timeout=240)
        # what the tour did, seen from the server
        job = run.job_ids.filtered(lambda j: j.name == "unit")
        self.assertEqual(job.diagnosis_id.category, "network_timeout", "the pasted log became the job's diagnosis")
        self.assertEqual(restart.state, "succeeded", "the approved restart ran")
        self.assertEqual(restart.approved_by, self.env.ref("base.user_admin"))
        self.assertEqual(len(self.probe_targets.calls("POST", r"^/hook$")), hook_calls + 1, "the hook was called once")
        self.assertTrue(incident.event_ids.filtered(lambda e: e.step == "page" and e.outcome == "skipped"))
        self.assertTrue(target.history_spark)
