"""Per-target history at a glance: sparklines and labelled figures on the kanban card, the form's history
chart, the status page, the dashboard's axes, readable durations and "Check now" showing its result."""

import re
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged

from .monitoring_common import MonitoringCase

HOUR = re.compile(r"^\d\d:00$")


@tagged("post_install", "-at_install")
class TestTargetHistory(MonitoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.real_now = fields.Datetime.now().replace(microsecond=0)
        cls.shop = cls.Target.create({"name": "hist-shop", "url": "http://127.0.0.1:9/shop"})
        cls.quiet = cls.Target.create({"name": "hist-quiet", "url": "http://127.0.0.1:9/quiet"})

    def fill(self, target, hours, down_every=0, response=100.0, days=0):
        """One check every 15 minutes over the last ``hours`` (and ``days``), rolled up like the cron does."""
        samples = []
        for index in range(4 * (hours + 24 * days)):
            up = not (down_every and index % down_every == 0)
            samples.append(
                {
                    "target_id": target.id,
                    "company_id": target.company_id.id,
                    "checked_at": self.real_now - timedelta(minutes=15 * index + 1),
                    "up": up,
                    "response_ms": response + index % 4 if up else 0.0,
                }
            )
        records = self.Sample.create(samples)
        start = self.real_now - timedelta(hours=hours + 24 * days + 2)
        end = self.real_now + timedelta(hours=1)
        self.env["ops.health.sample.hourly"]._rollup(start, end)
        self.env["ops.health.sample.daily"]._rollup(start, end + timedelta(days=1))
        return records

    # ------------------------------------------------------------------ kanban card
    def test_kanban_sparkline_and_labelled_figures_come_from_the_rollups(self):
        self.fill(self.shop, 30, down_every=8, response=300.0)
        # the card reads the rollups, never the raw samples: they may be pruned
        self.Sample.search([("target_id", "=", self.shop.id)]).unlink()
        spark = self.shop.with_user(self.ops_user).history_spark
        self.assertEqual(len(spark["response"]), 24)
        self.assertEqual(len(spark["uptime"]), 24)
        self.assertTrue(all(value is not None for value in spark["response"][:-1]))
        self.assertLess(min(v for v in spark["uptime"] if v is not None), 100.0)
        first_hour = self.real_now.replace(minute=0, second=0) - timedelta(hours=23)
        hourly = self.env["ops.health.sample.hourly"].search(
            [("target_id", "=", self.shop.id), ("bucket", ">=", first_hour)]
        )
        checks = sum(hourly.mapped("sample_count"))
        expected = 100.0 * (checks - sum(hourly.mapped("failure_count"))) / checks
        self.assertAlmostEqual(spark["uptime_24h"], expected, places=2)
        self.assertLess(spark["uptime_24h"], 100.0)
        self.assertGreaterEqual(spark["p95_ms"], 300.0)
        self.assertEqual(spark["labels"]["uptime"], f"Uptime 24 h {expected:.1f} %")
        self.assertRegex(spark["labels"]["p95"], r"^p95 30\d ms$")
        self.assertEqual(self.quiet.history_spark["labels"]["uptime"], "Uptime 24 h: no check yet")
        kanban = self.Target.get_view(view_type="kanban")["arch"]
        card = etree.fromstring(kanban)
        self.assertTrue(card.xpath("//field[@name='history_spark'][@widget='ops_sparkline']"))

    # ------------------------------------------------------------------ form chart
    def test_history_chart_over_24_hours_7_and_30_days(self):
        self.fill(self.shop, 0, down_every=10, days=10)
        as_user = self.shop.with_user(self.ops_user)
        day = as_user.get_history("24h")
        self.assertEqual(len(day["labels"]), 24)
        self.assertTrue(all(HOUR.match(label) for label in day["labels"]), day["labels"])
        self.assertEqual(len(day["avg_ms"]), 24)
        self.assertGreater(sum(day["checks"]), 4 * 23 - 1)
        week = as_user.get_history("7d")
        self.assertEqual(len(week["labels"]), 7 * 24)
        month = as_user.get_history("30d")
        self.assertEqual(len(month["labels"]), 30)
        self.assertNotRegex(month["labels"][-1], r"\d{4}-\d\d-\d\d")
        self.assertEqual(month["uptime"][:19], [None] * 19)  # no check before ten days ago
        self.assertLess(month["uptime"][-2], 100.0)
        self.assertEqual(month["summary"]["checks"], sum(month["checks"]))
        self.assertEqual(as_user.get_history("bogus")["period"], "24h")
        form = etree.fromstring(self.Target.get_view(view_type="form")["arch"])
        self.assertTrue(form.xpath("//widget[@name='ops_target_history']"))

    # ------------------------------------------------------------------ status page
    def test_status_page_lists_targets_with_ninety_days_and_open_incidents(self):
        self.fill(self.shop, 0, down_every=3, days=2)
        self.Incident._raise_incident(
            {"dedup_key": f"health:{self.shop.id}:down", "title": "hist-shop: down", "target_id": self.shop.id}
        )
        page = self.env["ops.status.page"].with_user(self.ops_user).get_status_overview()
        rows = {row["name"]: row for row in page["targets"]}
        shop, quiet = rows["hist-shop"], rows["hist-quiet"]
        self.assertEqual(len(shop["days"]), 90)
        self.assertEqual(shop["days"][-1]["level"], "down")
        self.assertEqual(shop["days"][0]["level"], "none")
        self.assertEqual(shop["open_incidents"][0]["title"], "hist-shop: down")
        self.assertLess(shop["uptime"], 100.0)
        self.assertIsNone(quiet["uptime"])
        self.assertEqual(quiet["open_incidents"], [])
        self.assertIn(page["overall"], ("up", "degraded", "down", "unknown"))
        # someone outside Ops sees nothing
        outsider = new_test_user(self.env, login="hist_outsider", groups="base.group_user")
        with self.assertRaises(Exception):  # noqa: B017 - AccessError, from the model's access rules
            self.env["ops.status.page"].with_user(outsider).get_status_overview()
        action = self.env.ref("ops_autopilot.ops_status_page_action")
        self.assertEqual(action.tag, "ops_autopilot.status_page")
        self.assertTrue(self.env["ir.ui.menu"].search([("action", "=", f"ir.actions.client,{action.id}")]))

    # ------------------------------------------------------------------ dashboard axes
    def test_dashboard_axis_is_in_hours_for_24h_and_short_dates_beyond(self):
        Dashboard = self.env["ops.dashboard"].with_user(self.manager)
        day = Dashboard.get_dashboard_data({"period": "24h"})["charts"]
        for name in ("runs_per_day", "health", "incidents", "build_time"):
            labels = day[name]["labels"]
            self.assertTrue(all(HOUR.match(label) for label in labels), (name, labels))
        week = Dashboard.get_dashboard_data({"period": "7d"})["charts"]["health"]["labels"]
        self.assertEqual(len(week), 8)
        for label in week:
            self.assertNotRegex(label, r"\d{4}")
            self.assertLessEqual(len(label), 7)

    # ------------------------------------------------------------------ readable numbers
    def test_durations_and_ids_are_readable_in_the_views(self):
        form = etree.fromstring(self.Target.get_view(view_type="form")["arch"])
        for name in ("interval_minutes", "retry_interval_seconds", "threshold_duration_seconds"):
            [node] = form.xpath(f"//field[@name='{name}']")
            self.assertEqual(node.get("widget"), "ops_duration", name)
        self.assertEqual(self.shop.interval_human, "1 min")
        self.shop.interval_minutes = 1440
        self.assertEqual(self.shop.interval_human, "1 d")
        for view in ("list", "form"):
            arch = etree.fromstring(self.Target.get_view(view_type=view)["arch"])
            [code] = arch.xpath("//field[@name='last_status_code']")
            # Odoo 18 reads "enable_formatting" (integer_field.js, list_renderer.js); "format" is ignored
            self.assertIn("'enable_formatting': false", code.get("options", "").replace('"', "'"), view)

    # ------------------------------------------------------------------ check now
    def test_check_now_shows_the_result_and_updates_the_target(self):
        target = self.make_target("/ok", name="hist-ok")
        before = self.Sample.search_count([("target_id", "=", target.id)])
        result = target.with_user(self.ops_user).action_check_now()
        self.assertEqual(result["tag"], "display_notification")
        params = result["params"]
        self.assertEqual(params["type"], "success")
        self.assertIn("Up", params["message"])
        self.assertIn("HTTP 200", params["message"])
        self.assertRegex(params["message"], r"\d+ ms")
        self.assertEqual(params["next"]["tag"], "soft_reload")
        self.assertTrue(target.last_checked_at)
        self.assertTrue(target.last_up)
        self.assertEqual(target.last_status_code, 200)
        self.assertEqual(self.Sample.search_count([("target_id", "=", target.id)]), before + 1)
        self.assertGreater(target.next_check_at, fields.Datetime.now())

        failing = self.make_target("/status/503", name="hist-503")
        params = failing.with_user(self.ops_user).action_check_now()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("Down", params["message"])
        self.assertIn("503", params["message"])
        self.assertFalse(failing.last_up)

    def test_dashboard_durations_read_as_hours_and_minutes(self):
        started = self.real_now - timedelta(hours=3)
        for index in range(2):
            self.env["ops.workflow.run"].create(
                {
                    "repository_id": self.repo.id,
                    "github_id": 9_100_000_001 + index,
                    "name": "Slow build",
                    "status": "completed",
                    "conclusion": "success",
                    "outcome": "success",
                    "started_at": started,
                    "finished_at": started + timedelta(seconds=3900),
                    "duration": 3900,
                }
            )
        data = self.env["ops.dashboard"].get_dashboard_data({"period": "7d", "repository_id": self.repo.id})
        tile = next(t for t in data["tiles"] if t["key"] == "avg_build_time")
        self.assertAlmostEqual(tile["value"], 65.0)
        self.assertEqual(tile["display"], "1 h 05 min")
        self.assertEqual(tile["previous_display"], "no data")
