from datetime import timedelta

from odoo.tests import tagged

from ..autopilot.testing.paging_server import FakePagerDuty
from .monitoring_common import GITHUB_TOKEN, ROUTING_KEY, MonitoringCase

RESTART = ("down", "restart_service", "http_hook", False)
#: the create-issue call only (reading the repository first is not failed)
CREATE_ISSUE = r"^/repos/acme/shop/issues$"


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

    def test_incidents_opened_in_one_pass_start_their_ladder_in_the_escalation_cron(self):
        targets = self.escalating_target(name="svc a") | self.escalating_target(name="svc b")
        for _i in range(3):  # the probe crons alone
            self.now += timedelta(minutes=1)
            self.Target._cron_recheck_due_targets(now=self.now)
            self.Target._cron_probe_due_targets(now=self.now)
        incidents = self.Incident.search([("target_id", "in", targets.ids), ("state", "!=", "resolved")])
        self.assertEqual(len(incidents), 2)
        self.assertEqual(incidents.mapped("count"), [1, 1])
        self.assertEqual(set(incidents.mapped("escalation_step")), {"none"})
        self.assertEqual(set(incidents.mapped("next_escalation_at")), {self.now}, "due for escalation at once")
        self.assertTrue(all(incident.message_ids for incident in incidents), "each has its creation message")
        cron = self.env.ref("ops_autopilot.ir_cron_escalate_incidents")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "escalation cron woken")
        self.assertFalse(self.issues())
        self.assertEqual(self.Incident._cron_escalate(now=self.now), 2)
        self.assertEqual(len(self.issues()), 2, "one GitHub issue per incident")
        self.assertNotIn("none", incidents.mapped("escalation_step"))
        self.tick()
        self.assertEqual(incidents.mapped("count"), [2, 2])
        self.assertEqual(len(self.issues()), 2)

    def test_throttled_page_is_tried_again_when_the_server_allows(self):
        target = self.escalating_target()  # no healing policy: a critical outage pages at once
        self.pagerduty.fail_next(status=429, body=FakePagerDuty.THROTTLED, headers={"Retry-After": "120"})
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertRecordValues(incident, [{"escalation_step": "on_call", "page_state": "none", "page_attempts": 1}])
        self.assertEqual(incident.next_escalation_at, self.now + timedelta(seconds=120), "Retry-After is honoured")
        self.assertTrue(incident.message_ids.filtered(lambda m: "trying again" in str(m.body)))
        self.tick()
        self.assertFalse(self.events(), "not before the server allows it")
        self.Incident._cron_escalate(now=self.now + timedelta(minutes=1))
        [trigger] = self.events("trigger")
        self.assertEqual(trigger["dedup_key"], incident.dedup_key)
        self.assertRecordValues(incident, [{"escalation_step": "page", "page_state": "triggered", "page_attempts": 0}])

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
        emailed = self.env["mail.notification"].search(
            [
                ("res_partner_id", "=", self.ops_user.partner_id.id),
                ("notification_type", "=", "email"),
                ("mail_message_id.model", "=", "ops.incident"),
                ("mail_message_id.res_id", "=", incident.id),
                ("mail_message_id.subject", "ilike", "On call"),
            ]
        )
        self.assertEqual(len(emailed), 1, "the on-call user is e-mailed about the activity")

    def test_on_call_user_reading_notifications_in_odoo_is_still_emailed(self):
        self.ops_user.notification_type = "inbox"
        incident = self.raise_ci_incident(severity="high")
        incident._escalate(self.now + timedelta(minutes=25))
        self.assertEqual(incident.escalation_step, "on_call")
        mail = self.env["mail.mail"].search([("model", "=", "ops.incident"), ("res_id", "=", incident.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn(self.ops_user.email, mail.email_to)
        self.assertIn(incident.name, mail.subject)

    def raise_ci_incident(self, minutes=0, **values):
        vals = {
            "dedup_key": "ci:acme/shop:cafe",
            "title": "Deploy smoke test fails",
            "source": "ci",
            "severity": "medium",
            "repository_id": self.repo.id,
            "user_id": self.ops_user.id,
            "seen_at": self.now + timedelta(minutes=minutes),
            **values,
        }
        return self.Incident._raise_incident(vals)

    def test_recurrence_updates_the_one_issue_quietly_and_says_when_severity_rises(self):
        incident = self.raise_ci_incident()
        incident._escalate(self.now)
        [issue] = self.issues()
        self.assertIn("| Occurrences | 1 |", issue["body"])

        def edits():
            return self.github.calls("PATCH", rf"/issues/{issue['number']}$")

        def comments():
            return self.github.calls("POST", rf"/issues/{issue['number']}/comments$")

        for minute in (1, 2, 3):
            self.raise_ci_incident(minute)
            incident._escalate(self.now + timedelta(minutes=minute))
        self.assertEqual(incident.count, 4)
        self.assertFalse(edits(), "repeats of the same severity wait for the update interval")
        minute = 15
        self.raise_ci_incident(minute)
        incident._escalate(self.now + timedelta(minutes=minute))
        self.assertEqual(len(edits()), 1)
        self.assertIn("| Occurrences | 5 |", issue["body"])
        self.assertFalse(comments(), "a plain recurrence notifies nobody")
        self.raise_ci_incident(16, severity="high")
        incident._escalate(self.now + timedelta(minutes=16))
        self.assertEqual(len(edits()), 2, "a raised severity is written at once")
        self.assertTrue(issue["title"].startswith("[high]"), issue["title"])
        [comment] = comments()
        self.assertIn("high", comment.json()["body"])
        self.assertEqual(len(self.issues()), 1, "still one issue per incident")
        incident._resolve(note="flaky smoke test fixed")
        self.assertEqual(issue["state"], "closed")

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

    def test_github_outage_retries_the_issue_with_backoff_and_never_holds_the_page_back(self):
        target = self.escalating_target()  # critical, nothing heals: every step is due at once
        self.github.fail_next(status=502, body={"message": f"Bad gateway for {GITHUB_TOKEN}"}, path_re=CREATE_ISSUE)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertFalse(self.issues())
        self.assertRecordValues(
            incident,
            [
                {
                    "escalation_step": "page",
                    "page_state": "triggered",
                    "github_issue_number": 0,
                    "github_issue_attempts": 1,
                }
            ],
        )
        self.assertEqual(len(self.events("trigger")), 1, "a GitHub outage does not hold the page back")
        self.assertTrue(incident.activity_ids.filtered(lambda a: a.user_id == self.ops_user))
        self.assertIn("502", incident.github_issue_error)
        retry_at = incident.github_issue_retry_at
        self.assertEqual(retry_at, self.now + timedelta(seconds=60), "first retry after the backoff's first delay")
        self.assertEqual(incident.next_escalation_at, retry_at)

        self.github.fail_next(
            status=429,
            body={"message": "API rate limit exceeded"},
            headers={"Retry-After": "300"},
            path_re=CREATE_ISSUE,
        )
        self.assertEqual(self.Incident._cron_escalate(now=retry_at), 1)
        self.assertFalse(self.issues())
        self.assertEqual(incident.github_issue_attempts, 2)
        self.assertIn("429", incident.github_issue_error)
        retry_at = incident.github_issue_retry_at
        self.assertEqual(retry_at, self.now + timedelta(seconds=60 + 300), "Retry-After is honoured")
        self.assertEqual(self.Incident._cron_escalate(now=retry_at - timedelta(seconds=1)), 0)

        self.assertEqual(self.Incident._cron_escalate(now=retry_at), 1)
        [issue] = self.issues()
        self.assertRecordValues(
            incident,
            [
                {
                    "github_issue_number": issue["number"],
                    "github_issue_attempts": 0,
                    "github_issue_retry_at": False,
                    "github_issue_error": False,
                }
            ],
        )
        self.now = retry_at
        self.tick(3)
        self.Incident._cron_escalate(now=self.now + timedelta(hours=2))
        self.assertEqual(len(self.issues()), 1, "opened exactly once after recovery")
        self.assertEqual(len(self.github.calls("POST", CREATE_ISSUE)), 3, "502, 429, then opened")
        self.assertEqual(len(self.events("trigger")), 1)
        notes = str(incident.message_ids.mapped("body"))
        self.assertIn("trying again", notes)
        self.assertNotIn(GITHUB_TOKEN, notes + str(incident.github_issue_error))

    def test_github_refusing_the_issue_is_recorded_and_not_retried(self):
        self.github.fail_next(status=404, body={"message": "Not Found"}, path_re=CREATE_ISSUE)
        incident = self.raise_ci_incident(severity="high")
        incident._escalate(self.now)
        self.assertRecordValues(
            incident,
            [
                {
                    "escalation_step": "github_issue",
                    "github_issue_number": 0,
                    "github_issue_attempts": 1,
                    "github_issue_retry_at": False,
                }
            ],
        )
        self.assertIn("404", incident.github_issue_error)
        self.assertEqual(incident.next_escalation_at, self.now + timedelta(minutes=25), "on to the on-call user")
        self.Incident._cron_escalate(now=self.now + timedelta(minutes=25))
        self.assertEqual(incident.escalation_step, "on_call")
        self.Incident._cron_escalate(now=self.now + timedelta(days=1))
        self.assertFalse(self.issues())
        self.assertEqual(len(self.github.calls("POST", CREATE_ISSUE)), 1, "a 404 is not retried")
        self.assertIn("404", str(incident.message_ids.mapped("body")))
