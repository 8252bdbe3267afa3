"""Issue 19, points 2 and 3: a truthful escalation timeline, demo incidents built as real ones, safe approval.

Every test runs the real probe and escalation crons against local servers
(fake PagerDuty, fake GitHub, probe targets on 127.0.0.1), time moved by
:meth:`MonitoringCase.tick`.
"""

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import tagged

from .monitoring_common import ROUTING_KEY, MonitoringCase

ADDON = Path(__file__).resolve().parent.parent
RESTART = ("down", "restart_service", "http_hook", False)
DESTRUCTIVE_RESTART = ("down", "restart_service", "http_hook", True)
VERIFY = ("down", "health_check", "verify", False)


@tagged("post_install", "-at_install")
class TestIncidentTimeline(MonitoringCase):
    def setUp(self):
        super().setUp()
        self.pagerduty.events.clear()
        self.pagerduty.alerts.clear()
        self.github.reset_review_state()
        self.github.scan_issues.clear()
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.paging_routing_key", False)

    def step_events(self, incident, step):
        return incident.event_ids.filtered(lambda e: e.step == step)

    def test_no_routing_key_is_not_paged_and_nothing_says_paged(self):
        target = self.make_target("/status/500", repository_id=self.repo.id, on_call_user_id=self.ops_user.id)
        self.tick(12)
        incident = self.open_incident(target, "down")
        self.assertEqual(incident.severity, "critical", "down is critical: the ladder goes up to paging")
        self.assertFalse(self.pagerduty.events, "nobody was paged")
        self.assertEqual(incident.page_state, "none")
        label = dict(incident._fields["escalation_step"]._description_selection(self.env))[incident.escalation_step]
        self.assertNotIn("paged", label.lower(), "the step's label must not claim a page")
        [page] = self.step_events(incident, "page")
        self.assertEqual(page.outcome, "skipped")
        self.assertIn("not paged: no routing key configured", page.summary.lower())
        self.assertIn("not paged", incident.escalation_status.lower())
        self.assertIn("not paged: no routing key configured", str(incident.message_ids.mapped("body")).lower())

    def test_every_step_is_a_timeline_event_saying_what_happened_and_the_next_step_is_shown(self):
        target = self.make_target("/status/500", repository_id=self.repo.id, on_call_user_id=self.ops_user.id)
        target.paging_routing_key = ROUTING_KEY
        target.remediation_policy_id = self.policy([RESTART])
        self.tick(3)
        incident = self.open_incident(target, "down")
        [heal] = self.step_events(incident, "auto_heal")
        self.assertEqual(heal.outcome, "done")
        self.assertIn("Restart service: succeeded", heal.summary)
        self.assertEqual(incident.next_escalation_step, "github_issue")
        self.assertEqual(incident.next_escalation_at, incident.first_seen + timedelta(minutes=5))
        self.assertIn("GitHub issue", incident.next_step_text)
        self.tick(5)
        [issue_event] = self.step_events(incident, "github_issue")
        self.assertEqual(issue_event.outcome, "done")
        self.assertEqual(issue_event.summary, f"GitHub issue #{incident.github_issue_number} opened")
        self.assertEqual(issue_event.reference, incident.github_issue_url)
        [on_call] = self.step_events(incident, "on_call")
        self.assertEqual(on_call.summary, f"Notified: {self.ops_user.name}")
        [page] = self.step_events(incident, "page")
        self.assertEqual(page.outcome, "done")
        self.assertEqual(page.summary, f"Paged, dedup key {incident.dedup_key}")
        self.assertEqual(incident.page_state, "triggered")
        self.assertNotIn(ROUTING_KEY, str(incident.event_ids.mapped("summary")))
        self.assertFalse(incident.next_escalation_step, "nothing after the page")
        self.assertFalse(incident.next_step_text)
        chatter = str(incident.message_ids.mapped("body"))
        for event in incident.event_ids:
            self.assertIn(event.summary, chatter, "the chatter says what the timeline says")
        self.assertEqual(
            list(dict.fromkeys(incident.event_ids.mapped("step"))),
            ["auto_heal", "github_issue", "on_call", "page"],
            "the timeline is in the order things happened",
        )
        incident.with_user(self.ops_user).action_acknowledge()
        self.assertEqual(incident.event_ids[-1].step, "acknowledge")
        self.assertIn(self.ops_user.name, incident.event_ids[-1].summary)

    def test_no_on_call_user_and_no_repository_are_recorded_as_skipped(self):
        target = self.make_target("/status/500")
        self.tick(12)
        incident = self.open_incident(target, "down")
        self.assertEqual(self.step_events(incident, "auto_heal").outcome, "skipped")
        self.assertIn("no remediation policy action for down", self.step_events(incident, "auto_heal").summary)
        self.assertEqual(self.step_events(incident, "github_issue").outcome, "skipped")
        self.assertEqual(self.step_events(incident, "on_call").outcome, "skipped")
        self.assertIn("nobody notified", self.step_events(incident, "on_call").summary.lower())
        self.assertEqual(incident.state, "open", "no step happened: the incident is not 'escalated'")

    def test_ops_user_reads_the_timeline_but_cannot_write_it(self):
        target = self.make_target("/status/500")
        self.tick(12)
        incident = self.open_incident(target, "down").with_user(self.ops_user)
        self.assertTrue(incident.event_ids.mapped("summary"))
        with self.assertRaises(Exception):  # noqa: B017 - AccessError from the ACL
            incident.event_ids[0].write({"summary": "rewritten"})


@tagged("post_install", "-at_install")
class TestDemoIncidents(MonitoringCase):
    def test_demo_incident_is_continued_by_the_first_real_probe(self):
        target = self.make_target(
            "/status/500",
            repository_id=self.repo.id,
            on_call_user_id=self.ops_user.id,
            remediation_policy_id=self.env.ref("ops_autopilot.remediation_policy_seed").id,
            next_check_at=self.now + timedelta(hours=6),
        )
        demo = self.Incident._demo_raise_from_check(
            target.id, "down", "critical", "down: 4 consecutive failed checks", 20, 1, 4, now=self.now
        )
        self.assertEqual(demo.count, 4)
        self.assertEqual(demo.event_ids.mapped("step")[:1], ["auto_heal"])
        on_call = demo.event_ids.filtered(lambda e: e.step == "on_call")
        self.assertIn(self.ops_user.name, on_call.summary)
        self.assertIn(on_call.summary, str(demo.message_ids.mapped("body")), "on-call notified: the chatter says so")
        target.next_check_at = self.now
        self.tick(2)
        [incident] = self.Incident.search([("target_id", "=", target.id), ("state", "!=", "resolved")])
        self.assertEqual(incident, demo, "the real probe continues the demo incident")
        self.assertEqual(incident.count, 6)

    def test_installed_demo_payment_incident_is_continued_by_a_real_probe(self):
        demo = self.env.ref("ops_autopilot.ops_incident_payments_down_demo", raise_if_not_found=False)
        if not demo:
            self.skipTest("installed without demo data")
        target = demo.target_id
        self.assertEqual(demo.dedup_key, f"health:{target.id}:down", "the key a real probe builds")
        self.assertIn("Notified: ", demo.escalation_status + str(demo.event_ids.mapped("summary")))
        self.assertIn("Not paged: no routing key configured", demo.event_ids.mapped("summary"))
        [waiting] = demo.remediation_action_ids.filtered(lambda a: a.state == "awaiting_approval")
        self.assertTrue(waiting.can_approve, "the demo's restart shows what it calls and may be approved")
        self.assertIn("POST http://127.0.0.1:9/ops-agent/restart", waiting.request_preview)
        count = demo.count
        target.next_check_at = self.now
        self.tick()
        open_incidents = self.Incident.search([("target_id", "=", target.id), ("state", "!=", "resolved")])
        self.assertEqual(open_incidents, demo, "the first real probe continues the demo incident")
        self.assertEqual(demo.count, count + 1)

    def test_demo_file_opens_health_incidents_through_the_probe_path(self):
        tree = ET.parse(ADDON / "demo" / "ops_monitoring_demo.xml")
        for record in tree.iter("record"):
            if record.get("model") != "ops.incident":
                continue
            fields_ = {f.get("name"): f for f in record.iter("field")}
            if "target_id" in fields_:
                self.assertIn(
                    "state",
                    fields_,
                    f"{record.get('id')}: an open health incident is opened by _demo_raise_from_check, "
                    "not written by hand (its dedup key would differ from a real probe's)",
                )
                self.assertEqual(fields_["state"].text, "resolved", record.get("id"))
        calls = [f for f in tree.iter("function") if f.get("name") == "_demo_raise_from_check"]
        self.assertGreaterEqual(len(calls), 2)


@tagged("post_install", "-at_install")
class TestSafeApproval(MonitoringCase):
    def setUp(self):
        super().setUp()
        self.targets.requests.clear()

    def waiting_action(self, **policy_values):
        policy = self.policy([DESTRUCTIVE_RESTART, VERIFY], **policy_values)
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        waiting = incident.remediation_action_ids.filtered(lambda a: a.state == "awaiting_approval")
        self.assertEqual(len(waiting), 1)
        return waiting

    def test_awaiting_action_shows_exactly_what_will_run_secrets_masked(self):
        url = self.targets.url_for("/hook?token=hooksecret0123456789")
        waiting = self.waiting_action(hook_url=url, timeout_seconds=12)
        waiting.policy_id.sudo().hook_token = "bearer0123456789secret"
        waiting.invalidate_recordset()
        preview = waiting.with_user(self.manager).request_preview
        self.assertIn("Executor: HTTP hook", preview)
        self.assertIn("POST " + self.targets.url_for("/hook?token=REDACTED"), preview)
        self.assertIn('"action": "restart_service"', preview)
        self.assertIn("Dry run: no", preview)
        self.assertIn("Timeout: 12 s", preview)
        self.assertIn("Authorization: Bearer ***", preview)
        self.assertNotIn("hooksecret0123456789", preview)
        self.assertNotIn("bearer0123456789secret", preview)
        self.assertTrue(waiting.can_approve)
        self.assertFalse(waiting.blocked_reason)

    def test_action_that_cannot_run_cannot_be_approved_and_says_why_before(self):
        waiting = self.waiting_action(hook_url=False)
        self.assertFalse(waiting.can_approve)
        self.assertIn("no HTTP hook URL", waiting.blocked_reason)
        self.assertIn("no HTTP hook URL", waiting.request_preview)
        with self.assertRaisesRegex(UserError, "no HTTP hook URL"):
            waiting.with_user(self.manager).action_approve()
        self.assertEqual(waiting.state, "awaiting_approval", "nothing is lost: it still waits")
        self.assertFalse(self.targets.calls("POST", "^/hook$"))
        waiting.policy_id.hook_url = self.targets.url_for("/hook")
        self.assertTrue(waiting.can_approve)
        waiting.with_user(self.manager).action_approve()
        self.assertEqual(waiting.state, "succeeded")


@tagged("post_install", "-at_install")
class TestDryRunRate(MonitoringCase):
    def test_seed_dry_run_rounds_obey_the_rate_limit_at_the_cron_cadence(self):
        seed = self.env.ref("ops_autopilot.remediation_policy_seed")
        target = self.make_target("/status/500", remediation_policy_id=seed.id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.tick(8)  # 8 cron passes over 8 minutes
        rounds = set(incident.remediation_action_ids.mapped("attempt"))
        self.assertEqual(set(incident.remediation_action_ids.mapped("state")), {"dry_run"})
        self.assertLessEqual(len(rounds), seed.max_attempts_per_hour, "3 rounds per hour, dry run or not")
        self.tick(60)
        times = sorted(set(incident.remediation_action_ids.mapped("requested_at")))
        for index, at in enumerate(times):
            within = [t for t in times[index:] if t < at + timedelta(hours=1)]
            self.assertLessEqual(len(within), seed.max_attempts_per_hour, f"rounds in the hour from {at}")
