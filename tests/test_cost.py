"""What CI and AI cost: jobs priced from real webhook payloads, re-runs, budgets, AI joined in, the dashboard panel."""

from datetime import timedelta, timezone

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..autopilot.delivery import cost
from ..autopilot.testing import github_payloads as gp
from ..models.ops_review import month_start
from .common import OpsTransactionCase


@tagged("post_install", "-at_install")
class TestCost(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Dashboard = cls.env["ops.dashboard"]
        cls.Rate = cls.env["ops.ci.rate"]
        cls.now = fields.Datetime.now()
        # this month, in the last hour (never before the first of the month)
        cls.started = max(cls.now - timedelta(minutes=50), month_start(cls.now) + timedelta(seconds=1))
        cls.owner = new_test_user(cls.env, "cost_owner", groups="ops_autopilot.group_ops_user")
        cls.repo.write({"user_id": cls.owner.id})

    # ------------------------------------------------------------------ helpers
    def job(self, run_id, seconds, labels, conclusion="success", attempt=1, name="test", workflow="CI"):
        payload = gp.workflow_job_event(
            "acme/erp",
            run_id,
            conclusion=conclusion,
            run_attempt=attempt,
            started=self.started.replace(tzinfo=timezone.utc),
            seconds=seconds,
            name=name,
            workflow_name=workflow,
        )
        payload["workflow_job"]["labels"] = labels
        self.deliver("workflow_job", payload)
        return self.Job.search([("github_id", "=", payload["workflow_job"]["id"])])

    def make_run(self, run_id, attempt=1, conclusion="success", name="CI"):
        self.deliver(
            "workflow_run",
            self.run_payload(
                run_id=run_id,
                run_attempt=attempt,
                conclusion=conclusion,
                name=name,
                started=self.started.replace(tzinfo=timezone.utc),
            ),
        )
        return self.Run.search([("repository_id", "=", self.repo.id), ("github_id", "=", run_id)])

    def cost_data(self, **filters):
        filters.setdefault("period", "7d")
        filters.setdefault("repository_id", self.repo.id)
        return self.Dashboard.get_dashboard_data(filters)["cost"]

    def activities(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "ops.repository"), ("res_id", "=", self.repo.id)], order="id"
        )

    # ------------------------------------------------------------------ rates
    def test_default_rates_are_the_engine_table(self):
        """data/ops_ci_rate_data.xml holds GitHub's published rates exactly as the engine's DEFAULT_RATES."""
        rows = [(r.pattern, r.runner_type, r.per_minute) for r in self.Rate.search([])]
        self.assertEqual(rows, [(r.pattern, r.runner_type, r.per_minute) for r in cost.DEFAULT_RATES])
        self.assertEqual(set(self.Rate.search([]).currency_id.mapped("name")), {"USD"})

    def test_only_managers_edit_rates(self):
        user = new_test_user(self.env, "cost_rate_user", groups="ops_autopilot.group_ops_user")
        rate = self.env.ref("ops_autopilot.ops_ci_rate_linux")
        self.assertEqual(rate.with_user(user).per_minute, 0.006)
        with self.assertRaises(AccessError):
            rate.with_user(user).write({"per_minute": 0.0})
        manager = new_test_user(self.env, "cost_rate_manager", groups="ops_autopilot.group_ops_manager")
        rate.with_user(manager).write({"per_minute": 0.01})
        self.assertEqual(rate.per_minute, 0.01)

    # ------------------------------------------------------------------ jobs
    def test_completed_jobs_are_priced_from_labels_and_duration(self):
        """Through the webhook: 61 s on ubuntu-latest = 2 min x $0.006 = $0.012; 601 s on macos-14 = 11 min x
        $0.062 = $0.682; 45 min on ubuntu-latest-4-cores = 45 x $0.012 = $0.54; 1 h self-hosted = 0 min, $0;
        a custom label nobody priced: 2 min counted, $0."""
        self.make_run(8100001)
        linux = self.job(8100001, 61, ["ubuntu-latest"])
        mac = self.job(8100001, 601, ["macos-14"])
        large = self.job(8100001, 2700, ["ubuntu-latest-4-cores"])
        own = self.job(8100001, 3600, ["self-hosted", "linux", "x64"])
        custom = self.job(8100001, 90, ["gpu-box"])
        got = [(j.runner_type, j.billable_minutes, round(j.cost, 4)) for j in (linux, mac, large, own, custom)]
        self.assertEqual(
            got,
            [
                ("linux", 2, 0.012),
                ("macos", 11, 0.682),
                ("linux_4_core", 45, 0.54),
                ("self_hosted", 0, 0.0),
                ("unknown", 2, 0.0),
            ],
        )
        self.assertTrue(all((linux | mac | large | own | custom).mapped("cost_priced")))

    def test_a_running_job_is_priced_when_it_completes(self):
        self.make_run(8100002)
        payload = gp.workflow_job_event(
            "acme/erp", 8100002, status="in_progress", started=self.started.replace(tzinfo=timezone.utc)
        )
        self.deliver("workflow_job", payload)
        job = self.Job.search([("github_id", "=", payload["workflow_job"]["id"])])
        self.assertFalse(job.cost_priced)
        done = gp.workflow_job_event(
            "acme/erp",
            8100002,
            job_id=job.github_id,
            started=self.started.replace(tzinfo=timezone.utc),
            seconds=125,
        )
        self.deliver("workflow_job", done)
        self.assertEqual((job.billable_minutes, round(job.cost, 4), job.cost_priced), (3, 0.018, True))

    def test_the_cron_backfills_jobs_in_batches_and_keeps_prices(self):
        """Jobs recorded without a price (before this feature) get one from the cron, batch by batch."""
        self.Job._cron_backfill_cost()  # the demo data's jobs first
        run = self.make_run(8100003)
        jobs = self.Job.create(
            [
                {
                    "repository_id": self.repo.id,
                    "run_id": run.id,
                    "github_id": 8200000 + n,
                    "status": "completed",
                    "conclusion": "success",
                    "outcome": "success",
                    "started_at": self.started,
                    "duration": 100 + n,
                    "labels": "windows-latest",
                }
                for n in range(5)
            ]
        )
        self.assertFalse(any(jobs.mapped("cost_priced")))
        self.Job._cron_backfill_cost(batch_size=2, max_batches=1)
        self.assertEqual(len(jobs.filtered("cost_priced")), 2)
        # out of time after the first batch: one more batch priced, the rest left for the next run
        self.Job._cron_backfill_cost(batch_size=2, budget_seconds=-1)
        self.assertEqual(len(jobs.filtered("cost_priced")), 4)
        self.Job._cron_backfill_cost(batch_size=2)
        self.assertTrue(all(jobs.mapped("cost_priced")))
        # 100..104 s on windows: 2 min x $0.010 each
        self.assertEqual([round(c, 4) for c in jobs.mapped("cost")], [0.02] * 5)
        # a job keeps its price when the rate changes later
        self.env.ref("ops_autopilot.ops_ci_rate_windows").per_minute = 1.0
        self.Job._cron_backfill_cost()
        self.assertEqual([round(c, 4) for c in jobs.mapped("cost")], [0.02] * 5)

    # ------------------------------------------------------------------ re-runs and failures
    def test_minutes_lost_to_a_rerun_and_to_failures(self):
        """Run A, attempt 1: build 190 s (4 min) + test 300 s failed (5 min); attempt 2: build 240 s (4 min),
        test 300 s (5 min), both passed. Run B (one attempt): lint 30 s failed (1 min).
        All on ubuntu-latest ($0.006/min). Billed: 4 + 5 + 4 + 5 + 1 = 19 min = $0.114.
        Lost to the re-run: attempt 1's 4 + 5 = 9 min = $0.054 (its failed test counted there only);
        lost to failures: run B's 1 min = $0.006."""
        self.make_run(8100010, attempt=1, conclusion="failure")
        first = self.job(8100010, 190, ["ubuntu-latest"], attempt=1, name="build")
        first |= self.job(8100010, 300, ["ubuntu-latest"], attempt=1, name="test", conclusion="failure")
        self.assertFalse(any(first.mapped("cost_superseded")), "no later attempt yet")
        self.make_run(8100010, attempt=2)
        second = self.job(8100010, 240, ["ubuntu-latest"], attempt=2, name="build")
        second |= self.job(8100010, 300, ["ubuntu-latest"], attempt=2, name="test")
        self.assertEqual(first.mapped("cost_superseded"), [True, True], "attempt 2's jobs made them re-run minutes")
        self.assertEqual(second.mapped("cost_superseded"), [False, False])
        self.make_run(8100011, conclusion="failure", name="Lint")
        self.job(8100011, 30, ["ubuntu-latest"], name="lint", conclusion="failure", workflow="Lint")
        totals = self.cost_data()["totals"]
        self.assertEqual(totals["ci_minutes"], 19)
        self.assertAlmostEqual(totals["ci_cost"], 0.114)
        self.assertEqual(totals["lost"]["rerun"]["minutes"], 9)
        self.assertAlmostEqual(totals["lost"]["rerun"]["cost"], 0.054)
        self.assertEqual(totals["lost"]["failure"]["minutes"], 1)
        self.assertAlmostEqual(totals["lost"]["failure"]["cost"], 0.006)

    # ------------------------------------------------------------------ AI joined in
    def review(self, cost_usd, tokens_in=1000, tokens_out=200, when=None, kind="pull_request"):
        review = self.env["ops.review"].create({"repository_id": self.repo.id, "kind": kind, "state": "done"})
        review.write(
            {
                "ai_called_at": when or self.started,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cost": cost_usd,
            }
        )
        return review

    def test_ai_cost_is_joined_not_recounted(self):
        """Reviews and CI fixes keep their own cost (ops.review.cost): 0.30 + 0.45 this month; 5.00 last month
        does not count. CI: 61 s on ubuntu-latest = $0.012. Month to date: CI 0.012, AI 0.75."""
        self.review(0.30)
        self.review(0.45, kind="ci_fix")
        self.review(5.0, when=month_start(self.now) - timedelta(days=2))
        self.make_run(8100020)
        self.job(8100020, 61, ["ubuntu-latest"])
        self.repo.invalidate_recordset()
        self.assertAlmostEqual(self.repo.cost_ci_mtd, 0.012)
        self.assertAlmostEqual(self.repo.cost_ai_mtd, 0.75)
        self.assertAlmostEqual(self.repo.cost_mtd, 0.762)

    # ------------------------------------------------------------------ budgets
    def test_budget_activities_at_80_and_100_percent_exactly_once(self):
        """Budget $1.00. macos-14 601 s = $0.682 (68.2 %): nothing. + 2 min macOS = $0.124 -> $0.806 (80.6 %):
        one activity (80 %), the cron run twice. + AI $0.20 -> $1.006 (100.6 %): one more (100 %), twice again."""
        self.repo.write({"cost_budget": 1.0})
        self.make_run(8100030)
        self.job(8100030, 601, ["macos-14"])
        Repo = self.env["ops.repository"]
        Repo._cron_cost()
        self.assertFalse(self.activities())
        self.job(8100030, 100, ["macos-14"], name="e2e")
        Repo._cron_cost()
        Repo._cron_cost()
        first = self.activities()
        self.assertEqual(len(first), 1)
        self.assertEqual(first.user_id, self.owner)
        self.assertIn("80 %", first.summary)
        self.assertEqual((self.repo.cost_alert_level, self.repo.cost_budget_state), (80, "warning"))
        self.review(0.20)
        Repo._cron_cost()
        Repo._cron_cost()
        both = self.activities()
        self.assertEqual(len(both), 2)
        self.assertIn("100 %", (both - first).summary)
        self.repo.invalidate_recordset()
        self.assertEqual(self.repo.cost_budget_state, "exceeded")
        self.assertAlmostEqual(self.repo.cost_budget_used, 100.6)
        # next month starts from nothing: no activity until its own spend reaches 80 %
        next_month = (month_start(self.now) + timedelta(days=32)).replace(day=1)
        self.assertFalse(Repo._cost_check_budgets(now=next_month + timedelta(hours=1)))
        self.assertEqual(len(self.activities()), 2)

    def test_a_jump_past_both_thresholds_is_one_activity_and_the_default_budget_applies(self):
        """No budget of its own: the settings' default ($0.50) applies. One 10-min macOS job = $0.62 (124 %):
        a single activity, at 100 %, to the first Ops Manager when nobody is responsible."""
        self.repo.write({"user_id": False})
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.cost_default_budget", "0.5")
        self.make_run(8100040)
        self.job(8100040, 600, ["macos-14"])
        self.env["ops.repository"]._cron_cost()
        self.env["ops.repository"]._cron_cost()
        activity = self.activities()
        self.assertEqual(len(activity), 1)
        self.assertIn("100 %", activity.summary)
        self.assertEqual(activity.user_id, self.repo._cost_responsible())
        self.assertEqual(self.repo.cost_alert_level, 100)

    # ------------------------------------------------------------------ incidents
    def test_incident_cost_is_duration_times_hourly_cost(self):
        """Hourly cost 120: an incident resolved after 90 min costs 180; a false positive is left out of the
        dashboard's sum as it is of MTTR; the period's total is 180 for 1.5 h."""
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.incident_hourly_cost", "120")
        seen = self.now - timedelta(hours=3)
        values = {"title": "Down", "source": "ci", "repository_id": self.repo.id, "first_seen": seen, "last_seen": seen}
        incident = self.env["ops.incident"].create(values)
        incident.write({"state": "resolved", "resolved_at": seen + timedelta(minutes=90)})
        noise = self.env["ops.incident"].create(values)
        noise.write({"state": "resolved", "resolved_at": seen + timedelta(minutes=30), "false_positive": True})
        self.assertAlmostEqual(incident.cost, 180.0)
        self.assertEqual(incident.cost_currency_id, self.env.company.currency_id)
        incidents = self.cost_data()["incidents"]
        self.assertEqual((incidents["count"], incidents["hours"], incidents["cost"]), (1, 1.5, 180.0))

    # ------------------------------------------------------------------ dashboard
    def test_dashboard_cost_panel_figures(self):
        """Workflows (all on ubuntu-latest, $0.006/min, this week):
        - "E2E": 3 jobs x 20 min = 60 min = $0.36
        - "CI": 2 jobs x 5 min + 1 x 61 s (2 min) = 12 min = $0.072
        - "Docs": 1 job x 30 s = 1 min = $0.006
        - "Own": 1 h self-hosted = $0 (not in the top list: it cost nothing)
        AI: one review $0.25 (1,200 tokens). Totals: 73 min, CI $0.438, AI $0.25, total $0.688.
        Top workflows: E2E, CI, Docs. This week's bar: CI 0.438, AI 0.25. Budget $2 -> 34.4 %, ok."""
        self.repo.write({"cost_budget": 2.0})
        self.make_run(8100050, name="E2E")
        for n in range(3):
            self.job(8100050, 1200, ["ubuntu-latest"], name=f"e2e-{n}", workflow="E2E")
        self.make_run(8100051, name="CI")
        self.job(8100051, 300, ["ubuntu-latest"], name="a")
        self.job(8100051, 300, ["ubuntu-latest"], name="b")
        self.job(8100051, 61, ["ubuntu-latest"], name="c")
        self.make_run(8100052, name="Docs")
        self.job(8100052, 30, ["ubuntu-latest"], name="docs", workflow="Docs")
        self.make_run(8100053, name="Own")
        self.job(8100053, 3600, ["self-hosted"], name="own", workflow="Own")
        self.review(0.25)
        data = self.cost_data()
        totals = data["totals"]
        self.assertEqual(totals["ci_minutes"], 73)
        self.assertAlmostEqual(totals["ci_cost"], 0.438)
        self.assertAlmostEqual(totals["ai_cost"], 0.25)
        self.assertEqual(totals["ai_tokens"], 1200)
        self.assertAlmostEqual(totals["total_cost"], 0.688)
        top = data["top_workflows"]
        self.assertEqual([(w["workflow"], w["minutes"]) for w in top], [("E2E", 60), ("CI", 12), ("Docs", 1)])
        self.assertAlmostEqual(top[0]["cost"], 0.36)
        e2e_jobs = self.env[top[0]["action"]["res_model"]].search(top[0]["action"]["domain"])
        self.assertEqual(sorted(e2e_jobs.mapped("name")), ["e2e-0", "e2e-1", "e2e-2"])
        weekly = data["weekly"]
        self.assertEqual(len(weekly["keys"]), 4)  # 7 days span 1 or 2 weeks: at least 4 are shown
        self.assertAlmostEqual(weekly["ci"][-1], 0.438)
        self.assertAlmostEqual(weekly["ai"][-1], 0.25)
        self.assertEqual(sum(weekly["ci"][:-1]) + sum(weekly["ai"][:-1]), 0)
        [budget] = data["budgets"]
        self.assertEqual((budget["repository"], budget["budget"], budget["currency"]), ("acme/erp", 2.0, "USD"))
        self.assertAlmostEqual(budget["percent"], 34.4)
        self.assertEqual(budget["state"], "ok")
        # the weekly report carries the same block
        report = self.env["ops.health.report"]._report_data({"period": "7d", "repository_id": self.repo.id})
        self.assertAlmostEqual(report["cost"]["totals"]["total_cost"], 0.688)
        html = self.env["ir.qweb"]._render("ops_autopilot.report_ops_health_cost", {"report": report})
        self.assertIn("E2E", str(html))
        self.assertIn("0.69", str(html))

    def test_cost_panel_as_an_ops_user_and_without_access(self):
        self.make_run(8100060)
        self.job(8100060, 61, ["ubuntu-latest"])
        user = new_test_user(self.env, "cost_reader", groups="ops_autopilot.group_ops_user")
        data = self.Dashboard.with_user(user).get_dashboard_data({"repository_id": self.repo.id})["cost"]
        self.assertAlmostEqual(data["totals"]["ci_cost"], 0.012)
        outsider = new_test_user(self.env, "cost_outsider", groups="base.group_user")
        self.assertEqual(self.Dashboard.with_user(outsider).get_dashboard_data({})["cost"], {"available": False})


@tagged("post_install", "-at_install")
class TestUiCost(HttpCase):
    def test_cost_panel_in_the_browser(self):
        """Workflow "Nightly": one 60-min job (60 min = $0.36); "CI": one failed 70 s job (2 min = $0.012): $0.372,
        shown 0.37 USD; budget $0.40 -> 93 %: warning."""
        repo = self.env["ops.repository"].create({"full_name": "acme/costtour", "cost_budget": 0.4})
        started = max(fields.Datetime.now() - timedelta(minutes=70), month_start() + timedelta(seconds=1))
        for github_id, workflow, job, seconds, outcome in (
            (8_900_001, "Nightly", "soak", 3600, "success"),
            (8_900_002, "CI", "test", 70, "failure"),
        ):
            run = self.env["ops.workflow.run"].create(
                {
                    "repository_id": repo.id,
                    "github_id": github_id,
                    "name": workflow,
                    "status": "completed",
                    "conclusion": outcome,
                    "outcome": outcome,
                    "started_at": started,
                }
            )
            self.env["ops.workflow.job"].create(
                {
                    "repository_id": repo.id,
                    "run_id": run.id,
                    "github_id": github_id,
                    "name": job,
                    "workflow_name": workflow,
                    "status": "completed",
                    "conclusion": outcome,
                    "outcome": outcome,
                    "started_at": started,
                    "duration": seconds,
                    "labels": "ubuntu-latest",
                }
            )
        self.env["ops.workflow.job"]._cron_backfill_cost()
        action = self.env.ref("ops_autopilot.ops_dashboard_action")
        self.start_tour(
            f"/odoo/action-{action.id}?repository_id={repo.id}&period=7d", "ops_autopilot_cost_tour", login="admin"
        )
