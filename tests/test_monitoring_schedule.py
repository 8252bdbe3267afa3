from datetime import timedelta

from odoo.tests import tagged

from .monitoring_common import MonitoringCase

RECHECK_CRON = "ops_autopilot.ir_cron_recheck_health_targets"


@tagged("post_install", "-at_install")
class TestMonitoringSchedule(MonitoringCase):
    """The scheduling rules of fast confirmation and recovery, with time passed to the crons (no sleeping)."""

    def normal(self, at):
        return self.Target._cron_probe_due_targets(now=at)

    def recheck(self, at):
        return self.Target._cron_recheck_due_targets(now=at)

    def triggers(self, xmlid, at):
        cron = self.env.ref(xmlid)
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", "=", at)])

    def test_fast_confirmation_and_recovery_then_back_to_the_normal_interval(self):
        target = self.make_target("/ok", interval_minutes=5)
        self.assertEqual(target.retry_interval_seconds, 30, "the default retry interval")
        t0 = self.now
        self.assertEqual(self.normal(t0), 1)
        self.assertRecordValues(target, [{"rechecking": False, "next_check_at": t0 + timedelta(minutes=5)}])

        target.url = self.targets.url_for("/status/503")
        t1 = t0 + timedelta(minutes=5)
        self.normal(t1)
        self.assertRecordValues(target, [{"rechecking": True, "next_check_at": t1 + timedelta(seconds=30)}])
        self.assertTrue(self.triggers(RECHECK_CRON, t1 + timedelta(seconds=30)), "re-check scheduled by a cron trigger")
        self.assertEqual(self.normal(t1 + timedelta(seconds=30)), 0, "the normal lane leaves failing targets alone")
        self.assertEqual(self.recheck(t1 + timedelta(seconds=29)), 0, "not due yet")
        self.assertEqual(self.recheck(t1 + timedelta(seconds=30)), 1)
        self.assertFalse(self.incidents(target), "two failures are not an outage yet")
        self.recheck(t1 + timedelta(seconds=60))
        incident = self.open_incident(target, "down")
        self.assertEqual(len(incident), 1, "confirmed down 60 s after the first failure")
        self.assertRecordValues(incident, [{"first_seen": t1 + timedelta(seconds=60), "time_to_detect": 1.0}])
        self.assertEqual(incident.failing_since.replace(microsecond=0), t1, "the first failing check")
        self.assertRecordValues(target, [{"rechecking": True, "next_check_at": t1 + timedelta(seconds=90)}])

        self.recheck(t1 + timedelta(seconds=90))
        self.assertEqual(incident.count, 2, "checked at the short interval while the incident is open")
        target.url = self.targets.url_for("/ok")
        self.recheck(t1 + timedelta(seconds=120))
        self.assertEqual(incident.state, "open", "one success does not clear an outage")
        self.recheck(t1 + timedelta(seconds=150))
        self.assertEqual(incident.state, "resolved")
        self.assertAlmostEqual(incident.time_to_resolve, 1.5)
        back = t1 + timedelta(seconds=150)
        self.assertRecordValues(target, [{"rechecking": False, "next_check_at": back + timedelta(minutes=5)}])
        self.assertEqual(self.recheck(back + timedelta(minutes=1)), 0)
        self.assertEqual(self.normal(back + timedelta(minutes=5)), 1, "back in the normal lane")

        # the weekly report shows both: 1 minute to detect, 1.5 minutes to remediate
        # scoped to this target: the demo data has health incidents of its own
        filters = {"period": "7d", "target_id": target.id}
        summary = self.env["ops.health.report"]._report_data(filters)["incidents"]
        self.assertEqual(
            (summary["health_resolved"], summary["mttd"], summary["health_mttr"]), (1, "1 min", "1 min 30 s")
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("ops_autopilot.action_report_ops_health", [], data={"filters": filters})[0]
            .decode()
        )
        self.assertIn("mean time to detect", html)
        self.assertIn("1 min 30 s", html)

    def test_a_check_that_passes_ends_the_re_checks_without_an_incident(self):
        target = self.make_target("/flapping/DU?id=schedule-blip", interval_minutes=5)
        self.normal(self.now)
        self.assertTrue(target.rechecking)
        self.recheck(self.now + timedelta(seconds=30))
        self.assertFalse(target.rechecking)
        self.assertEqual(target.next_check_at, self.now + timedelta(seconds=30, minutes=5))
        self.assertFalse(self.incidents(target))

    def test_retry_interval_zero_keeps_the_normal_interval(self):
        target = self.make_target("/status/503", interval_minutes=5, retry_interval_seconds=0)
        self.normal(self.now)
        self.assertRecordValues(target, [{"rechecking": False, "next_check_at": self.now + timedelta(minutes=5)}])

    def test_re_checks_never_hold_up_the_normal_checks(self):
        hanging = self.make_target("/hang", timeout_seconds=1.0, interval_minutes=5)
        healthy = self.make_target("/ok", interval_minutes=1)
        self.normal(self.now)
        self.assertTrue(hanging.rechecking)
        # both due a minute later: each lane takes only its own
        later = self.now + timedelta(minutes=1)
        samples = self.Sample.search_count([("target_id", "=", hanging.id)])
        self.assertEqual(self.normal(later), 1)
        self.assertEqual(healthy.last_checked_at.replace(microsecond=0), later)
        self.assertEqual(self.Sample.search_count([("target_id", "=", hanging.id)]), samples)
        self.assertEqual(self.recheck(later), 1)
        self.assertEqual(self.Sample.search_count([("target_id", "=", hanging.id)]), samples + 1)

    def test_an_outage_is_one_incident_even_at_the_old_defaults(self):
        # the seed's report: 15-minute checks, five failures, then recovery
        target = self.make_target("/status/503", interval_minutes=15, retry_interval_seconds=0)
        self.tick(5, minutes=15)
        target.url = self.targets.url_for("/ok")
        self.tick(6, minutes=15)
        incidents = self.incidents(target)
        self.assertEqual(len(incidents), 1, incidents.mapped("title"))
        self.assertEqual((incidents.condition, incidents.state), ("down", "resolved"))

    def test_derived_alerts_are_inhibited_while_down(self):
        target = self.make_target("/flapping/UDUD?id=schedule-inhibit")
        self.tick(6)
        error_rate = self.open_incident(target, "error_rate")
        self.assertEqual(len(error_rate), 1)
        self.assertIn("failed checks", error_rate.title)
        target.url = self.targets.url_for("/status/503")
        self.tick(3)
        self.assertTrue(self.open_incident(target, "down"))
        count = error_rate.count
        self.tick(3)
        self.assertEqual(error_rate.count, count, "muted while down: neither counted nor resolved")
        self.assertEqual(error_rate.state, "open")
