"""KPI formulas of the dashboard against records, "no data", access rights, the weekly report and its email."""

import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import OpsTransactionCase


@tagged("post_install", "-at_install")
class TestDashboardKpis(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dashboard = cls.env["ops.dashboard"]
        cls.now = fields.Datetime.now()
        cls.kpi_repo = cls.env["ops.repository"].create({"full_name": "acme/kpis"})
        cls.empty_repo = cls.env["ops.repository"].create({"full_name": "acme/empty"})
        cls.github_id = 7_700_000

    def make_run(self, hours_ago, duration, outcome="success", status="completed", repo=None, name="CI"):
        type(self).github_id += 1
        started = self.now - timedelta(hours=hours_ago)
        return self.Run.create(
            {
                "repository_id": (repo or self.kpi_repo).id,
                "github_id": self.github_id,
                "name": name,
                "status": status,
                "conclusion": outcome if status == "completed" else False,
                "outcome": outcome if status == "completed" else "running",
                "started_at": started,
                "finished_at": started + timedelta(seconds=duration) if status == "completed" else False,
                "duration": duration if status == "completed" else 0,
            }
        )

    def data(self, **filters):
        filters.setdefault("period", "7d")
        filters.setdefault("repository_id", self.kpi_repo.id)
        return self.Dashboard.get_dashboard_data(filters)

    def tile(self, data, key):
        return next(t for t in data["tiles"] if t["key"] == key)

    def records(self, action):
        return self.env[action["res_model"]].search(action["domain"])

    # ------------------------------------------------------------------ build time
    def test_average_build_time_target_trend_and_records(self):
        fast = self.make_run(2, 600)
        slow = self.make_run(30, 1200, outcome="failure")
        self.make_run(1, 0, status="in_progress")  # running: no duration yet, not counted
        self.make_run(24 * 8, 300)  # previous period
        tile = self.tile(self.data(), "avg_build_time")
        self.assertAlmostEqual(tile["value"], 15.0)
        self.assertEqual(tile["display"], "15 min")
        self.assertFalse(tile["met"])  # target < 10 min
        self.assertAlmostEqual(tile["previous"], 5.0)
        self.assertEqual((tile["trend"], tile["improved"]), ("up", False))
        self.assertEqual(tile["sample_size"], 2)
        self.assertEqual(self.records(tile["action"]), fast | slow)

    def test_build_time_meets_target_and_other_repositories_are_filtered_out(self):
        self.make_run(3, 300)
        self.make_run(3, 5000, repo=self.empty_repo)
        tile = self.tile(self.data(), "avg_build_time")
        self.assertAlmostEqual(tile["value"], 5.0)
        self.assertTrue(tile["met"])
        self.assertIsNone(tile["trend"])  # nothing in the previous period to compare with

    def test_empty_data_is_no_data(self):
        data = self.data(repository_id=self.empty_repo.id)
        for key in ("avg_build_time", "self_healing_success_rate", "false_positive_rate", "mttr", "cache_hit_rate"):
            tile = self.tile(data, key)
            self.assertTrue(tile["no_data"], key)
            self.assertIsNone(tile["value"], key)
            self.assertEqual(tile["display"], "no data", key)
            self.assertIsNone(tile["met"], key)
        self.assertEqual(data["lists"]["failing_workflows"]["records"], [])
        self.assertTrue(all(not d["data"] or not any(d["data"]) for d in data["charts"]["runs_per_day"]["datasets"]))

    def test_charts_and_failing_workflows(self):
        self.make_run(2, 600, outcome="failure")
        self.make_run(3, 600, outcome="failure")
        self.make_run(4, 600)  # same duration: a day's mean is 10 min wherever midnight falls
        data = self.data()
        runs = data["charts"]["runs_per_day"]
        totals = {d["key"]: sum(d["data"]) for d in runs["datasets"]}
        self.assertEqual(totals, {"success": 1, "failure": 2})
        self.assertEqual(len(runs["labels"]), 8)  # 7 days touch 8 calendar days
        [failing] = data["lists"]["failing_workflows"]["records"]
        self.assertEqual((failing["workflow"], failing["failures"], failing["runs"]), ("CI", 2, 3))
        self.assertEqual(len(self.records(failing["action"])), 2)
        [series] = data["charts"]["build_time"]["datasets"]
        self.assertEqual(series["label"], "CI")
        self.assertAlmostEqual(max(v for v in series["data"] if v is not None), 10.0)

    def test_filters_are_validated_and_kept(self):
        data = self.data(period="custom", date_from="2026-01-01", date_to="2026-01-31", repository_id=999_999_999)
        self.assertEqual(data["filters"]["period"], "custom")
        self.assertEqual(data["filters"]["date_from"], "2026-01-01")
        self.assertEqual(data["filters"]["date_to"], "2026-01-31")
        self.assertFalse(data["filters"]["repository_id"])  # unknown id dropped, not trusted
        self.assertEqual(len(data["charts"]["runs_per_day"]["labels"]), 31)
        self.assertEqual(self.data(period="24h")["filters"]["bucket"], "hour")
        self.assertEqual(self.data(period="nonsense")["filters"]["period"], "7d")

    # ------------------------------------------------------------------ access
    def test_user_sees_only_own_company_and_non_ops_users_see_nothing(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other_repo = self.env["ops.repository"].create({"full_name": "other/repo", "company_id": other_company.id})
        self.make_run(2, 6000, repo=other_repo)
        self.make_run(2, 60)
        ops_user = new_test_user(
            self.env, "ops_kpi_user", groups="ops_autopilot.group_ops_user", company_id=self.env.company.id
        )
        data = self.Dashboard.with_user(ops_user).get_dashboard_data({"period": "7d"})
        self.assertNotIn("other/repo", [r["name"] for r in data["options"]["repositories"]])
        runs = self.Run.with_user(ops_user).search(self.tile(data, "avg_build_time")["action"]["domain"])
        self.assertNotIn(other_repo, runs.repository_id)
        # the other company's repository cannot be forced through the filter
        forced = self.Dashboard.with_user(ops_user).get_dashboard_data({"repository_id": other_repo.id})
        self.assertFalse(forced["filters"]["repository_id"])
        outsider = new_test_user(self.env, "not_ops", groups="base.group_user")
        blind = self.Dashboard.with_user(outsider).get_dashboard_data({"period": "7d"})
        self.assertTrue(all(t["no_data"] for t in blind["tiles"]))
        self.assertEqual(blind["options"]["repositories"], [])

    # ------------------------------------------------------------------ incidents
    def _incident(self, hours_ago, resolved_after=None, false_positive=False, **vals):
        seen = self.now - timedelta(hours=hours_ago)
        incident = self.env["ops.incident"].create(
            {
                "title": "Incident",
                "source": "ci",
                "repository_id": self.kpi_repo.id,
                "first_seen": seen,
                "last_seen": seen,
                **vals,
            }
        )
        values = {}
        if resolved_after is not None:
            values.update({"state": "resolved", "resolved_at": seen + timedelta(minutes=resolved_after)})
        if false_positive:
            values["false_positive"] = True
        if values:
            incident.write(values)
        return incident

    def test_false_positive_rate_and_mttr(self):
        self._incident(5, resolved_after=10)
        self._incident(6, resolved_after=20)
        self._incident(7, resolved_after=2, false_positive=True)
        self._incident(8, severity="critical")
        self._incident(24 * 9, resolved_after=60)  # previous period
        data = self.data()
        rate = self.tile(data, "false_positive_rate")
        self.assertAlmostEqual(rate["value"], 25.0)
        self.assertFalse(rate["met"])  # target < 5 %
        self.assertEqual(len(self.records(rate["action"])), 4)
        mttr = self.tile(data, "mttr")
        self.assertAlmostEqual(mttr["value"], 15.0)  # false positive excluded
        self.assertFalse(mttr["met"])  # target < 15 min
        self.assertEqual(mttr["sample_size"], 2)
        opened = data["lists"]["open_incidents"]
        self.assertEqual({s["severity"]: s["count"] for s in opened["by_severity"]}["critical"], 1)
        self.assertEqual(len(opened["records"]), 1)
        chart = {d["key"]: sum(d["data"]) for d in data["charts"]["incidents"]["datasets"]}
        self.assertEqual(chart, {"opened": 4, "resolved": 3})

    # ------------------------------------------------------------------ self-healing
    def test_self_healing_success_rate(self):
        Action = self.env["ops.remediation.action"]
        done = self.now - timedelta(hours=3)
        for state in ("succeeded", "succeeded", "succeeded", "failed", "running"):
            Action.create(
                {"kind": "rerun_jobs", "state": state, "repository_id": self.kpi_repo.id, "finished_at": done}
            )
        Action.create({"kind": "restart_service", "state": "failed", "finished_at": done})
        waiting = Action.create({"kind": "restart_service", "state": "awaiting_approval"})
        data = self.data()
        tile = self.tile(data, "self_healing_success_rate")
        self.assertAlmostEqual(tile["value"], 75.0)
        self.assertFalse(tile["met"])  # target 80 %
        self.assertEqual(len(self.records(tile["action"])), 4)
        self.assertIn(waiting.id, [r["id"] for r in data["lists"]["pending_approvals"]["records"]])

    # ------------------------------------------------------------------ cache hit rate
    def test_cache_hit_rate_from_fetched_logs_only(self):
        run = self.make_run(2, 600, outcome="failure")
        fetched = self.now - timedelta(hours=1)
        jobs = self.Job.create(
            [
                {"run_id": run.id, "repository_id": self.kpi_repo.id, "github_id": 1, "name": "a"},
                {"run_id": run.id, "repository_id": self.kpi_repo.id, "github_id": 2, "name": "b"},
                {"run_id": run.id, "repository_id": self.kpi_repo.id, "github_id": 3, "name": "no cache step"},
            ]
        )
        jobs[0].write({"log_fetched": True, "log_fetched_at": fetched, "cache_hits": 8, "cache_misses": 0})
        jobs[1].write({"log_fetched": True, "log_fetched_at": fetched, "cache_hits": 1, "cache_misses": 1})
        jobs[2].write({"log_fetched": True, "log_fetched_at": fetched})
        tile = self.tile(self.data(), "cache_hit_rate")
        self.assertAlmostEqual(tile["value"], 90.0)
        self.assertTrue(tile["met"])  # target 90 %
        self.assertEqual(tile["sample_size"], 10)
        self.assertEqual(self.records(tile["action"]), jobs[:2])
        # logs fetched but without any cache step: "no data", not 0 %
        jobs[:2].write({"cache_hits": 0, "cache_misses": 0})
        self.assertTrue(self.tile(self.data(), "cache_hit_rate")["no_data"])

    # ------------------------------------------------------------------ health (hourly and daily rollups)
    def rollup(self, start):
        """What the rollup cron does: hourly and daily rows from the raw samples since ``start``."""
        self.env["ops.health.sample.hourly"]._rollup(start, self.now + timedelta(hours=1))
        self.env["ops.health.sample.daily"]._rollup(start, self.now + timedelta(days=1))

    def make_samples(self, target, hours, down_every=0, response=200.0):
        """One check every 2 hours over the last ``hours`` hours; every ``down_every``-th one fails."""
        samples = []
        for index in range(0, hours, 2):
            up = not (down_every and index % (2 * down_every) == 0)
            samples.append(
                {
                    "target_id": target.id,
                    "company_id": target.company_id.id,
                    "checked_at": self.now - timedelta(hours=index, minutes=1),
                    "up": up,
                    "response_ms": response + index if up else 0.0,
                }
            )
        return self.env["ops.health.sample"].create(samples)

    def test_health_figures_over_whole_days_come_from_the_daily_rollup(self):
        target = self.env["ops.health.target"].create({"name": "kpi-days", "url": "http://127.0.0.1:9/"})
        samples = self.make_samples(target, 24 * 4, down_every=5)
        self.rollup(self.now - timedelta(days=5))
        up = samples.filtered("up")
        expected = {
            "uptime": 100.0 * len(up) / len(samples),
            "error_rate": 100.0 * (len(samples) - len(up)) / len(samples),
            "avg_response_time": sum(up.mapped("response_ms")) / len(up),
        }
        for period in ("7d", "30d"):
            data = self.data(target_id=target.id, period=period)
            for key, value in expected.items():
                self.assertAlmostEqual(self.tile(data, key)["value"], value, places=2, msg=f"{period} {key}")
        # hourly rows past their retention are pruned: whole days still count, from the daily rollup
        midnight = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.env["ops.health.sample.hourly"].search([("target_id", "=", target.id), ("bucket", "<", midnight)]).unlink()
        data = self.data(target_id=target.id)
        self.assertEqual(self.tile(data, "uptime")["sample_size"], len(samples))
        self.assertAlmostEqual(self.tile(data, "uptime")["value"], expected["uptime"], places=2)
        # a 24-hour period has no whole day: hourly rows only
        day = self.data(target_id=target.id, period="24h")
        recent = samples.filtered(lambda s: s.checked_at >= midnight)
        self.assertEqual(self.tile(day, "uptime")["sample_size"], len(recent))

    def test_health_charts_show_the_worst_targets(self):
        Target = self.env["ops.health.target"]
        targets = Target.create([{"name": f"kpi-fleet-{i:02d}", "url": "http://127.0.0.1:9/"} for i in range(10)])
        for target in targets[:-1]:
            self.make_samples(target, 12)
        failing = targets[-1]
        self.make_samples(failing, 12, down_every=2)
        self.rollup(self.now - timedelta(hours=13))
        health = self.data(period="24h")["charts"]["health"]
        self.assertGreaterEqual(health["targets"], 10)
        self.assertEqual(health["shown"], 8)
        self.assertEqual(len(health["uptime"]), 8)
        self.assertIn(failing.name, [series["label"] for series in health["uptime"]])
        series = next(s for s in health["uptime"] if s["label"] == failing.name)
        self.assertLess(min(v for v in series["data"] if v is not None), 100.0)

    def test_uptime_response_time_and_error_rate_from_rollups(self):
        Target = self.env["ops.health.target"]
        target = Target.create({"name": "kpi-shop", "url": "http://127.0.0.1:9/", "threshold_response_ms": 500})
        silent = Target.create({"name": "kpi-silent", "url": "http://127.0.0.1:9/"})
        hour = self.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
        samples = []
        # 4 checks an hour for 2 hours: 7 up (100 ms, then 300 ms), 1 down
        for index in range(8):
            up = index != 7
            samples.append(
                {
                    "target_id": target.id,
                    "company_id": target.company_id.id,
                    "checked_at": hour + timedelta(minutes=15 * index),
                    "up": up,
                    "response_ms": (100.0 if index < 4 else 300.0) if up else 0.0,
                    "cpu_percent": 90.0,
                    "memory_percent": 40.0,
                }
            )
        self.env["ops.health.sample"].create(samples)
        self.rollup(hour - timedelta(hours=1))
        data = self.data(target_id=target.id)
        self.assertAlmostEqual(self.tile(data, "uptime")["value"], 87.5)
        self.assertAlmostEqual(self.tile(data, "error_rate")["value"], 12.5)
        # weighted by checks: (4 x 100 + 3 x 300) / 7, not the mean of the hourly means
        self.assertAlmostEqual(self.tile(data, "avg_response_time")["value"], 1300 / 7, places=2)
        self.assertTrue(self.tile(data, "avg_response_time")["met"])
        self.assertFalse(self.tile(data, "error_rate")["met"])
        rows = self.records(self.tile(data, "uptime")["action"])
        self.assertEqual(rows.target_id, target)
        [response] = data["charts"]["health"]["response"]
        self.assertEqual(response["label"], "kpi-shop")
        empty = self.data(target_id=silent.id)
        for key in ("uptime", "error_rate", "avg_response_time"):
            self.assertTrue(self.tile(empty, key)["no_data"], key)
        report = self.env["ops.health.report"]._report_data({"period": "7d", "target_id": target.id})
        [row] = report["targets"]
        self.assertEqual((row["name"], row["checks"], row["uptime"]), ("kpi-shop", 8, "87.50%"))

    # ------------------------------------------------------------------ report and email
    def test_weekly_report_renders_escaped_with_recommendations(self):
        for hours in (2, 3, 4, 5, 6):
            self.make_run(hours, 900, outcome="failure", name="<script>alert('x')</script>")
        data = self.env["ops.health.report"]._report_data({"period": "7d", "repository_id": self.kpi_repo.id})
        rules = {r["rule"] for r in data["recommendations"]}
        self.assertIn("failure_rate", rules)
        self.assertIn("build_time", rules)
        self.assertEqual(data["ci"]["failures"], 5)
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "ops_autopilot.action_report_ops_health",
            [],
            data={"filters": {"period": "7d", "repository_id": self.kpi_repo.id}},
        )
        html = html.decode()
        self.assertIn("Average build time", html)
        self.assertIn("Stabilise workflow", html)
        self.assertNotIn("<script>alert", html)
        self.assertIn("&lt;script&gt;", html)

    def test_report_without_data_says_no_data(self):
        silent = self.env["ops.health.target"].create({"name": "report-silent", "url": "http://127.0.0.1:9/"})
        filters = {"period": "7d", "repository_id": self.empty_repo.id, "target_id": silent.id}
        data = self.env["ops.health.report"]._report_data(filters)
        self.assertEqual({k["display"] for k in data["kpis"]}, {"no data"})
        self.assertTrue(all(k["met"] is None and k["trend"] is None for k in data["kpis"]))
        self.assertEqual((data["targets"], data["recommendations"]), ([], []))
        self.assertEqual((data["ci"]["runs"], data["incidents"]["opened"]), (0, 0))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("ops_autopilot.action_report_ops_health", [], data={"filters": filters})[0]
            .decode()
        )
        self.assertIn("Nothing to recommend for this period.", html)
        self.assertIn("No health checks in this period.", html)
        kpi_table = html.split("Key indicators", 1)[1].split("Recommendations", 1)[0]
        self.assertEqual(kpi_table.count("no data"), 2 * len(data["kpis"]))  # value and previous period

    def test_weekly_email_is_computed_with_the_subscriber_companies(self):
        other_company = self.env["res.company"].create({"name": "Mailed Other Co"})
        other_repo = self.env["ops.repository"].create({"full_name": "other/mailed", "company_id": other_company.id})
        self.make_run(2, 600, outcome="failure", repo=other_repo, name="Other company pipeline")
        self.make_run(2, 600, outcome="failure", name="Own company pipeline")
        subscriber = new_test_user(
            self.env,
            "ops_mail_a",
            groups="ops_autopilot.group_ops_user",
            email="mail-a@example.com",
            company_id=self.env.company.id,
        )
        subscriber.ops_report_subscribed = True
        self.assertEqual(self.env["ops.health.report"]._cron_send_weekly_report(), 1)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", subscriber.partner_id.ids)])
        content = base64.b64decode(mail.attachment_ids.datas).decode()
        self.assertIn("Own company pipeline", content)
        self.assertNotIn("Other company pipeline", content)
        self.assertNotIn("other/mailed", content)

    def test_print_action_keeps_the_dashboard_filters(self):
        action = self.env["ops.health.report"].action_print({"period": "30d"}, "qweb-pdf")
        self.assertEqual(action["type"], "ir.actions.report")
        pdf = "qweb-html" if self.env["ir.actions.report"]._ops_pdf_unavailable_note() else "qweb-pdf"  # no wkhtmltopdf
        self.assertEqual(action["report_type"], pdf)
        self.assertEqual(action["data"]["filters"], {"period": "30d"})

    def test_weekly_email_goes_to_subscribers_only(self):
        subscriber = new_test_user(
            self.env, "ops_reader", groups="ops_autopilot.group_ops_user", email="reader@example.com"
        )
        new_test_user(self.env, "ops_other", groups="ops_autopilot.group_ops_user", email="other@example.com")
        # users subscribe themselves from the dashboard
        self.assertTrue(self.Dashboard.with_user(subscriber).toggle_report_subscription(True))
        outsider = new_test_user(self.env, "outsider", groups="base.group_user", email="out@example.com")
        outsider.sudo().ops_report_subscribed = True  # not an Ops user: no report
        sent = self.env["ops.health.report"]._cron_send_weekly_report()
        self.assertEqual(sent, 1)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", subscriber.partner_id.ids)])
        self.assertEqual(len(mail), 1)
        self.assertIn("Ops health report", mail.subject)
        self.assertEqual(len(mail.attachment_ids), 1)
        self.assertFalse(self.env["mail.mail"].search([("recipient_ids", "in", outsider.partner_id.ids)]))

    def test_menu_opens_the_dashboard(self):
        root = self.env.ref("ops_autopilot.menu_ops_autopilot_root")
        self.assertEqual(root.action, self.env.ref("ops_autopilot.ops_dashboard_action"))
        self.assertEqual(root.action.tag, "ops_autopilot.dashboard")
        self.assertIn(self.env.ref("ops_autopilot.group_ops_user"), root.groups_id)
