from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged

from .monitoring_common import MonitoringCase


@tagged("post_install", "-at_install")
class TestMonitoringAlerts(MonitoringCase):
    def test_down_after_three_failures_opens_one_incident_and_repeats_count(self):
        target = self.make_target("/status/503")
        self.tick(2)
        self.assertEqual(self.Sample.search_count([("target_id", "=", target.id)]), 2)
        self.assertFalse(self.incidents(target), "two failures are not an outage yet")
        self.assertEqual(target.status, "degraded")
        self.tick()
        incident = self.incidents(target)
        self.assertEqual(len(incident), 1)
        self.assertRecordValues(
            incident,
            [{"condition": "down", "severity": "critical", "source": "health", "count": 1, "state": "open"}],
        )
        self.assertEqual(incident.dedup_key, f"health:{target.id}:down")
        self.assertTrue(incident.name.startswith("INC-"))
        self.assertEqual(target.status, "down")
        self.assertIn("503", target.last_error)
        self.tick(2)
        self.assertEqual(len(self.incidents(target)), 1, "repeats never open a second incident")
        self.assertEqual(incident.count, 3)
        self.assertEqual(incident.last_seen, self.now)
        self.assertEqual(incident.first_seen, self.now - timedelta(minutes=2))

    def test_recovery_needs_two_successes_and_resolves_automatically(self):
        target = self.make_target("/status/500")
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertTrue(incident)
        target.url = self.targets.url_for("/ok")
        self.tick()
        self.assertEqual(incident.state, "open", "one success does not clear an outage")
        self.tick()
        self.assertEqual(incident.state, "resolved")
        self.assertTrue(incident.auto_resolved)
        self.assertFalse(incident.resolved_by)
        self.assertIn("Recovered", incident.resolution_note)
        self.assertEqual(target.status, "up")
        self.assertFalse(target.firing_conditions)

    def test_flapping_target_never_opens_an_outage(self):
        target = self.make_target("/flapping/UUD?id=alerts-flap")
        self.tick(9)
        self.assertFalse(self.open_incident(target, "down"))
        self.assertAlmostEqual(target.error_rate, 100 / 3, places=1)
        # ... but the intermittent errors are an error-rate incident
        incident = self.open_incident(target, "error_rate")
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.severity, "high")

    def test_slow_answers_fire_only_after_the_duration(self):
        target = self.make_target("/slow/150", threshold_response_ms=50, threshold_duration_seconds=230)
        self.tick(4)
        self.assertFalse(self.open_incident(target, "slow"), "breached for 3 minutes only")
        self.assertEqual(target.status, "up")
        self.tick()
        incident = self.open_incident(target, "slow")
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.severity, "high", "three times the threshold is far over")
        self.assertEqual(target.status, "degraded")

    def test_silence_suppresses_new_incidents_and_is_shown_on_the_target(self):
        target = self.make_target("/status/500")
        silence = self.env["ops.health.silence"].create(
            {
                "target_id": target.id,
                "reason": "migrating the database",
                "date_start": self.now,
                "date_end": self.now + timedelta(hours=1),
            }
        )
        self.assertEqual(target._active_suppression(self.now), silence)
        self.assertFalse(target.suppressed, "test time runs in the past: that silence is over in real time")
        real_now = fields.Datetime.now()
        silence.copy({"reason": "shown on the form", "date_start": real_now, "date_end": real_now + timedelta(hours=1)})
        target.invalidate_recordset()
        self.assertTrue(target.suppressed)
        self.assertEqual(target.suppression_reason, "shown on the form")
        self.assertIn(silence, target.silence_ids)
        self.tick(4)
        self.assertFalse(self.incidents(target))
        self.assertEqual(target.status, "down", "checks go on while silenced")
        self.assertEqual(self.Sample.search_count([("target_id", "=", target.id)]), 4)
        self.now += timedelta(hours=1)
        self.tick()
        self.assertEqual(len(self.open_incident(target, "down")), 1, "still down once the silence ends")

    def test_weekly_maintenance_window_for_all_targets_suppresses(self):
        target = self.make_target("/status/500")
        start = self.now - timedelta(minutes=5)
        self.env["ops.health.silence"].create(
            {
                "kind": "maintenance",
                "reason": "weekly patching",
                "date_start": self.now - timedelta(days=30),
                "weekly": True,
                "weekday": str(start.weekday()),
                "time_from": start.hour + start.minute / 60,
                "duration_minutes": 60,
                "tz": "UTC",
            }
        )
        self.assertTrue(target._active_suppression(self.now))
        self.tick(4)
        self.assertFalse(self.incidents(target))
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other = self.make_target("/status/500", company_id=other_company.id)
        self.assertFalse(other._active_suppression(self.now), "a window covers its own company only")

    def test_a_weekly_window_keeps_its_local_time_across_summer_time(self):
        window = self.env["ops.health.silence"].create(
            {
                "kind": "maintenance",
                "reason": "Sunday 02:00 Brussels time",
                "date_start": datetime(2025, 12, 1),
                "weekly": True,
                "weekday": "6",
                "time_from": 2.0,
                "duration_minutes": 60,
                "tz": "Europe/Brussels",
            }
        )
        # winter: 02:00-03:00 CET is 01:00-02:00 UTC; summer: 02:00-03:00 CEST is 00:00-01:00 UTC
        self.assertTrue(window._active_suppression(datetime(2026, 1, 4, 1, 30)))
        self.assertFalse(window._active_suppression(datetime(2026, 1, 4, 2, 30)))
        self.assertTrue(window._active_suppression(datetime(2026, 7, 5, 0, 30)))
        self.assertFalse(window._active_suppression(datetime(2026, 7, 5, 1, 30)))
        window.tz = "UTC"
        self.assertTrue(window._active_suppression(datetime(2026, 7, 5, 2, 30)))
        self.assertFalse(window._active_suppression(datetime(2026, 7, 5, 0, 30)))

    def test_one_broken_target_never_blocks_the_others(self):
        refused = self.make_target("/ok", url="http://127.0.0.1:9/nothing-listens")
        healthy = self.make_target("/ok")
        self.tick()
        self.assertFalse(refused.last_up)
        self.assertTrue(refused.last_error)
        self.assertTrue(healthy.last_up, healthy.last_error)
        self.assertEqual(healthy.last_status_code, 200)
        self.assertGreater(healthy.last_response_ms, 0)

    def test_only_due_targets_are_checked(self):
        every_minute = self.make_target("/ok")
        every_15 = self.make_target("/ok", interval_minutes=15)
        self.tick(3)
        self.assertEqual(self.Sample.search_count([("target_id", "=", every_minute.id)]), 3)
        self.assertEqual(self.Sample.search_count([("target_id", "=", every_15.id)]), 1)
        self.assertEqual(every_15.next_check_at, self.now - timedelta(minutes=2) + timedelta(minutes=15))

    def test_metrics_json_feeds_cpu_and_memory_alerts(self):
        self.addCleanup(setattr, self.targets, "metrics", dict(self.targets.metrics))
        self.targets.metrics = {"cpu_percent": 97.0, "memory_percent": 40.0}
        target = self.make_target(
            "/ok", metrics_url=self.targets.url_for("/metrics/json"), threshold_duration_seconds=110
        )
        self.tick(3)
        self.assertEqual(target.last_cpu_percent, 97.0, target.last_error)
        incident = self.open_incident(target, "cpu")
        self.assertEqual(len(incident), 1)
        self.assertFalse(self.open_incident(target, "memory"))

    def test_node_exporter_cpu_needs_two_scrapes_kept_across_passes(self):
        target = self.make_target("/ok", metrics_url=self.targets.url_for("/metrics/prom"))
        self.tick()
        self.assertAlmostEqual(target.last_memory_percent, 62.5)
        self.env.cr.execute("SELECT cpu_percent FROM ops_health_sample WHERE target_id = %s", [target.id])
        self.assertEqual(self.env.cr.fetchall(), [(None,)], "no CPU figure from one scrape (NULL, not 0)")
        self.assertTrue(target.metrics_counters)
        self.targets.advance_cpu(busy_seconds=30, idle_seconds=10)
        self.tick()
        self.assertAlmostEqual(target.last_cpu_percent, 75.0, places=1)

    def test_hanging_target_times_out_without_holding_the_others(self):
        hanging = self.make_target("/hang", timeout_seconds=1.0)
        healthy = self.make_target("/ok")
        self.tick()
        self.assertFalse(hanging.last_up)
        self.assertIn("timed out", hanging.last_error)
        self.assertTrue(healthy.last_up)

    def test_odoo_host_target_measures_this_server(self):
        target = self.Target.create({"name": "this Odoo", "kind": "odoo_host", "next_check_at": self.now})
        self.tick()
        self.assertTrue(target.last_up)
        sample = self.Sample.search([("target_id", "=", target.id)])
        self.assertEqual(len(sample), 1)
        self.assertGreater(sample.memory_percent, 0)

    def test_odoo_native_target_reports_failing_crons_and_resolves_when_fixed(self):
        target = self.Target.create(
            {"name": "Odoo crons", "kind": "odoo_native", "interval_minutes": 1, "next_check_at": self.now}
        )
        cron = self.env.ref("ops_autopilot.ir_cron_rollup_health_samples")
        cron.write({"failure_count": 2, "first_failure_date": self.now - timedelta(hours=1)})
        self.tick()
        key = f"health:{target.id}:cron_failing:ir.cron:{cron.id}"
        incident = self.incidents(target, dedup_key=key)
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.severity, "medium")
        self.assertIn("failed 2 time(s)", incident.description)
        self.assertFalse(target.last_up)
        self.assertEqual(target.firing_conditions, "native")
        self.tick()
        self.assertEqual(incident.count, 2)
        cron.write({"failure_count": 0, "first_failure_date": False})
        self.tick()
        self.assertEqual(incident.state, "resolved")
        self.assertTrue(incident.auto_resolved)
