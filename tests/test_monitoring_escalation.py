from datetime import timedelta

from odoo.tests import tagged

from .monitoring_common import ROUTING_KEY, MonitoringCase

RESTART = ("down", "restart_service", "http_hook", False)


@tagged("post_install", "-at_install")
class TestMonitoringEscalation(MonitoringCase):
    def setUp(self):
        super().setUp()
        self.pagerduty.events.clear()
        self.pagerduty.alerts.clear()
        self.github.reset_review_state()
        self.github.scan_issues.clear()
        self.github.requests.clear()

    def escalating_target(self, **values):
        target = self.make_target(
            "/status/500",
            repository_id=self.repo.id,
            on_call_user_id=self.ops_user.id,
            **values,
        )
        target.paging_routing_key = ROUTING_KEY
        return target

    def issues(self):
        return list(self.github.scan_issues.get("acme/shop", {}).values())

    def events(self, action=None):
        return [e for e in self.pagerduty.events if action in (None, e["event_action"])]

    def test_climbs_to_github_issue_once_then_on_call_then_page_and_resolve_closes_all(self):
        # healing "works" (the hook answers 200) but the service stays down
        target = self.escalating_target(remediation_policy_id=self.policy([RESTART]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertEqual(incident.escalation_step, "auto_heal")
        self.assertEqual(incident.next_escalation_at, incident.first_seen + timedelta(minutes=5))
        self.tick(4)
        self.assertFalse(self.issues(), "auto-heal gets its five minutes first")
        self.assertFalse(self.events())
        self.tick()
        [issue] = self.issues()
        self.assertIn("[critical]", issue["title"])
        self.assertIn(incident.name, issue["title"])
        self.assertIn(f"dedup_key={incident.dedup_key}", issue["body"])
        self.assertEqual({label["name"] for label in issue["labels"]}, {"ops-autopilot", "incident"})
        self.assertEqual(incident.github_issue_number, issue["number"])
        activity = incident.activity_ids.filtered(lambda a: a.user_id == self.ops_user)
        self.assertEqual(len(activity), 1)
        [trigger] = self.events("trigger")
        self.assertEqual(trigger["dedup_key"], incident.dedup_key)
        self.assertEqual(trigger["payload"]["severity"], "critical")
        self.assertEqual(self.pagerduty.alerts[incident.dedup_key], "triggered")
        self.assertRecordValues(
            incident, [{"state": "escalated", "escalation_step": "page", "page_state": "triggered"}]
        )
        self.assertNotIn(ROUTING_KEY, str(incident.message_ids.mapped("body")))

        self.tick(5)
        self.assertEqual(len(self.issues()), 1, "one issue per incident")
        self.assertEqual(len(self.events("trigger")), 1)

        incident.resolution_note = "Restarted the database by hand."
        incident.with_user(self.ops_user).action_resolve()
        self.assertEqual(incident.state, "resolved")
        self.assertEqual(incident.resolved_by, self.ops_user)
        self.assertEqual(self.pagerduty.alerts[incident.dedup_key], "resolved")
        self.assertEqual(issue["state"], "closed")
        [comment_call] = self.github.calls("POST", rf"/issues/{issue['number']}/comments$")
        self.assertIn("Restarted the database by hand.", comment_call.json()["body"])
        self.assertFalse(incident.activity_ids)
        self.assertGreater(incident.time_to_resolve, 0)

    def test_acknowledged_incident_stops_climbing_and_acknowledges_the_page(self):
        target = self.escalating_target()  # no healing policy: a critical outage pages at once
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertEqual(incident.page_state, "triggered")
        incident.with_user(self.ops_user).action_acknowledge()
        self.assertRecordValues(
            incident, [{"state": "acknowledged", "acknowledged_by": self.ops_user.id, "page_state": "acknowledged"}]
        )
        self.assertEqual(self.pagerduty.alerts[incident.dedup_key], "acknowledged")
        self.assertFalse(incident.next_escalation_at)
        # recovery resolves it and the page with it
        target.url = self.targets.url_for("/ok")
        self.tick(2)
        self.assertEqual(incident.state, "resolved")
        self.assertEqual(self.pagerduty.alerts[incident.dedup_key], "resolved")

    def test_acknowledged_before_the_issue_is_due_never_opens_one(self):
        target = self.escalating_target(remediation_policy_id=self.policy([RESTART]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        incident.with_user(self.ops_user).action_acknowledge()
        self.tick(10)
        self.assertEqual(incident.count, 11)
        self.assertEqual(incident.state, "acknowledged")
        self.assertFalse(self.issues())
        self.assertFalse(self.events())

    def test_escalation_cron_takes_steps_when_they_come_due(self):
        incident = self.Incident._raise_incident(
            {
                "dedup_key": "ci:acme/shop:deadbeef",
                "title": "Tests fail on main",
                "source": "ci",
                "severity": "high",
                "repository_id": self.repo.id,
                "user_id": self.ops_user.id,
                "seen_at": self.now,
            }
        )
        incident._escalate(self.now)
        self.assertEqual(incident.escalation_step, "github_issue", "nothing heals a CI failure here: issue at once")
        self.assertEqual(len(self.issues()), 1)
        due = incident.next_escalation_at
        self.assertEqual(due, self.now + timedelta(minutes=25))
        self.assertEqual(self.Incident._cron_escalate(now=due - timedelta(minutes=1)), 0)
        self.assertEqual(self.Incident._cron_escalate(now=due), 1)
        self.assertEqual(incident.escalation_step, "on_call")
        self.assertTrue(incident.activity_ids.filtered(lambda a: a.user_id == self.ops_user))
        self.assertFalse(incident.next_escalation_at, "a high incident never pages")
        self.assertFalse(self.events())

    def test_silenced_target_does_not_escalate_its_open_incident(self):
        target = self.escalating_target(remediation_policy_id=self.policy([RESTART]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.env["ops.health.silence"].create(
            {
                "target_id": target.id,
                "reason": "vendor outage",
                "date_start": self.now,
                "date_end": self.now + timedelta(days=1),
            }
        )
        self.tick(10)
        self.assertEqual(incident.count, 11, "still counted")
        self.assertEqual(incident.escalation_step, "auto_heal")
        self.assertFalse(self.issues())
        self.Incident._cron_escalate(now=self.now)
        self.assertEqual(incident.escalation_step, "auto_heal")
