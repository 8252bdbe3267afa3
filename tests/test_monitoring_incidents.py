from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..autopilot.monitoring import probes
from .monitoring_common import MonitoringCase


@tagged("post_install", "-at_install")
class TestMonitoringIncidents(MonitoringCase):
    def raise_incident(self, key="ci:acme/shop:abc", **values):
        return self.Incident._raise_incident({"dedup_key": key, "title": "Tests fail", "source": "ci", **values})

    def test_raise_incident_counts_repeats_and_opens_again_after_resolution(self):
        first = self.raise_incident(severity="medium", seen_at=self.now)
        again = self.raise_incident(severity="high", description="second time", seen_at=self.now + timedelta(minutes=5))
        self.assertEqual(first, again)
        self.assertRecordValues(
            first,
            [
                {
                    "count": 2,
                    "severity": "high",
                    "description": "second time",
                    "last_seen": self.now + timedelta(minutes=5),
                }
            ],
        )
        self.raise_incident(severity="low")
        self.assertEqual(first.severity, "high", "a repeat never lowers the severity")
        first._resolve(note="fixed")
        later = self.raise_incident()
        self.assertNotEqual(later, first)
        self.assertEqual(later.count, 1)
        self.assertNotEqual(later.name, first.name)

    def test_the_unique_index_refuses_a_second_open_incident_per_key(self):
        self.raise_incident()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self.Incident.create({"dedup_key": "ci:acme/shop:abc", "title": "duplicate"})

    def test_incidents_opened_together_are_refused_together_when_a_key_is_taken(self):
        self.raise_incident(key="k-taken")
        batch = [{"dedup_key": "k-free", "title": "a", "seen_at": self.now}, {"dedup_key": "k-taken", "title": "b"}]
        with self.assertRaises(IntegrityError):
            self.Incident._open_incidents(batch)
        self.assertFalse(self.Incident.search([("dedup_key", "=", "k-free")]), "nothing of the batch is written")
        [opened] = self.Incident._open_incidents(batch[:1])
        self.assertRecordValues(opened, [{"count": 1, "first_seen": self.now, "last_seen": self.now}])
        self.assertTrue(opened.name.startswith("INC-"))

    def test_mttr_mtta_and_false_positive_rate(self):
        start = fields.Datetime.now() - timedelta(minutes=30)
        real = self.raise_incident(key="k1", seen_at=start)
        noise = self.raise_incident(key="k2", seen_at=start)
        real.with_user(self.ops_user).action_acknowledge()
        self.assertAlmostEqual(real.time_to_acknowledge, 30, delta=1)
        real.with_user(self.ops_user).action_resolve()
        self.assertAlmostEqual(real.time_to_resolve, 30, delta=1)
        with self.assertRaises(UserError):
            noise.with_user(self.ops_user).action_mark_false_positive()
        noise.with_user(self.manager).action_mark_false_positive()
        self.assertRecordValues(noise, [{"false_positive": True, "state": "resolved", "false_positive_ratio": 100}])
        self.assertEqual(real.false_positive_ratio, 0)
        kpis = self.Incident._kpis([("id", "in", (real | noise).ids)])
        self.assertEqual(kpis["count"], 2)
        self.assertEqual(kpis["resolved"], 2)
        self.assertAlmostEqual(kpis["false_positive_rate"], 50.0)
        self.assertAlmostEqual(kpis["mttr_minutes"], 30, delta=1)
        self.assertAlmostEqual(kpis["mtta_minutes"], 30, delta=1)

    def test_rollups_keep_figures_after_raw_samples_are_pruned(self):
        target = self.make_target("/ok")
        now = self.now.replace(minute=30, second=0)
        old_hour = now.replace(minute=0) - timedelta(days=10)
        checks = [
            (target, probes.Sample(up=i != 3, response_ms=100.0 + 10 * i, checked_at=old_hour + timedelta(minutes=i)))
            for i in range(11)
        ]
        checks.append((target, probes.Sample(up=True, response_ms=50.0, cpu_percent=20.0, checked_at=now)))
        self.Sample._store(checks)
        self.env["ir.config_parameter"].sudo().set_param(
            "ops_autopilot.rollup_watermark", fields.Datetime.to_string(old_hour)
        )
        self.Sample._cron_rollup_and_prune(now=now)
        hourly = self.env["ops.health.sample.hourly"].search([("target_id", "=", target.id)], order="bucket")
        self.assertEqual(hourly.mapped("bucket"), [old_hour, now.replace(minute=0)])
        self.assertRecordValues(
            hourly[0], [{"sample_count": 11, "failure_count": 1, "max_response_ms": 200.0, "avg_cpu_percent": 0.0}]
        )
        self.assertAlmostEqual(hourly[0].uptime, 100 * 10 / 11, places=2)
        self.assertAlmostEqual(hourly[0].p95_response_ms, 195.5, places=1)  # interpolated over the 10 good checks
        self.assertEqual(hourly[1].avg_cpu_percent, 20.0)
        daily = self.env["ops.health.sample.daily"].search([("target_id", "=", target.id)], order="bucket")
        self.assertEqual(daily.mapped("bucket"), [old_hour.date(), now.date()])
        self.assertEqual(daily[0].sample_count, 11)
        raw = self.Sample.search([("target_id", "=", target.id)])
        self.assertEqual(raw.mapped("checked_at"), [now], "raw samples past the 7 days retention are pruned")
        # running again changes nothing
        self.Sample._cron_rollup_and_prune(now=now)
        self.assertEqual(self.env["ops.health.sample.hourly"].search_count([("target_id", "=", target.id)]), 2)
        self.assertEqual(hourly[0].sample_count, 11)


@tagged("post_install", "-at_install")
class TestMonitoringAccess(MonitoringCase):
    def test_ops_user_reads_and_acknowledges_but_cannot_configure_or_read_secrets(self):
        target = self.make_target("/ok")
        target.paging_routing_key = "secret-routing-key-value"
        as_user = target.with_user(self.ops_user)
        self.assertEqual(as_user.name, target.name)
        self.assertTrue(as_user.has_routing_key)
        with self.assertRaises(AccessError):
            as_user.read(["paging_routing_key"])
        with self.assertRaises(AccessError):
            as_user.write({"threshold_cpu": 99})
        with self.assertRaises(AccessError):
            self.Target.with_user(self.ops_user).create({"name": "mine", "url": "http://127.0.0.1:1/"})
        with self.assertRaises(AccessError):
            self.env["ops.remediation.policy"].with_user(self.ops_user).create({"name": "mine"})
        # ... but may silence a target while on call, and check it now
        silence = (
            self.env["ops.health.silence"]
            .with_user(self.ops_user)
            .create(
                {"target_id": target.id, "reason": "deploying", "date_end": fields.Datetime.now() + timedelta(hours=1)}
            )
        )
        self.assertEqual(silence.create_uid, self.ops_user)
        shown = as_user.action_check_now()
        self.assertEqual(shown["tag"], "display_notification")  # checked at once, the result shown
        self.assertTrue(target.last_checked_at)

    def test_manager_configures_and_sets_the_routing_key_without_reading_it(self):
        target = self.make_target("/ok").with_user(self.manager)
        target.write({"threshold_cpu": 90, "new_routing_key": " another-key "})
        self.assertEqual(target.sudo().paging_routing_key, "another-key")
        with self.assertRaises(AccessError):
            target.read(["paging_routing_key"])

    def test_multi_company_rules_hide_other_companies(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        foreign = self.make_target("/ok", company_id=other.id)
        foreign_incident = self.Incident._raise_incident(
            {"dedup_key": "other:1", "title": "elsewhere", "company_id": other.id}
        )
        local_incident = self.Incident._raise_incident({"dedup_key": "here:1", "title": "here"})
        user = new_test_user(self.env, login="mon_local", groups="ops_autopilot.group_ops_user")
        self.assertFalse(self.Target.with_user(user).search([("id", "=", foreign.id)]))
        incidents = self.Incident.with_user(user).search([("id", "in", (foreign_incident | local_incident).ids)])
        self.assertEqual(incidents, local_incident)
        with self.assertRaises(AccessError):
            foreign.with_user(user).read(["name"])

    def test_every_monitoring_action_opens_its_views(self):
        xmlids = [
            "ops_incident_action",
            "ops_remediation_action_action",
            "ops_remediation_policy_action",
            "ops_health_target_action",
            "ops_health_sample_action",
            "ops_health_sample_hourly_action",
            "ops_health_sample_daily_action",
            "ops_health_silence_action",
        ]
        for xmlid in xmlids:
            action = self.env.ref(f"ops_autopilot.{xmlid}")
            modes = [(False, mode) for mode in action.view_mode.split(",")]
            views = self.env[action.res_model].with_user(self.ops_user).get_views([*modes, (False, "search")])
            self.assertEqual(set(views["views"]), {mode for _id, mode in modes} | {"search"}, xmlid)
