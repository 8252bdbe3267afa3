"""Change freezes with real records: a company calendar and its public holiday, held update pull requests,
the freeze commit status on a local GitHub, overrides by managers only, and deploy runs flagged."""

from datetime import date, datetime, timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..autopilot.business import freeze_status
from ..autopilot.github import events
from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing.github_freeze_server import FreezeScanGitHub
from .scans_common import FILES, TOKEN, ScanCase, ago

BRANCHES = {"autopilot/deps/npm-patch", "autopilot/deps/pypi-minor", "autopilot/deps/pypi-patch"}
QUIET = mute_logger("odoo.addons.ops_autopilot.models.ops_scan_run", "odoo.addons.ops_autopilot.models.ops_freeze_hold")


@tagged("post_install", "-at_install")
class TestFreeze(ScanCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Window = cls.env["ops.freeze.window"]
        cls.Hold = cls.env["ops.freeze.hold"]
        cls.user = new_test_user(cls.env, "freeze_user", groups="ops_autopilot.group_ops_user")
        cls.manager = new_test_user(cls.env, "freeze_manager", groups="ops_autopilot.group_ops_manager")
        cls.calendar = cls.env["resource.calendar"].create(
            {"name": "Brussels office", "tz": "Europe/Brussels", "company_id": cls.env.company.id}
        )

    def setUp(self):
        super().setUp()
        # the scans' local GitHub, with commit statuses too
        self.gh.stop()
        self.gh = FreezeScanGitHub(token=TOKEN).start()
        self.addCleanup(self.gh.stop)
        self.sha = self.gh.seed_repo("acme/erp", FILES)
        self.repo.api_url = self.gh.url
        self.Window.search([]).write({"active": False})  # demo windows would freeze the test's repository too
        self.index.add_pypi("requests", {"2.28.2": ago(700), "2.32.3": ago(100)})
        self.index.add_pypi("Django", {"3.2.9": ago(900), "3.2.25": ago(200)})
        self.index.add_pypi("babel", {"2.16.0": ago(60)})
        self.index.add_npm("lodash", {"4.17.20": ago(900), "4.17.21": ago(800)})

    def window(self, **values):
        values.setdefault("name", "Month-end close")
        values.setdefault("calendar_id", self.calendar.id)
        return self.Window.create(values)

    def frozen_now(self, hours=2, **values):
        now = fields.Datetime.now()
        return self.window(
            kind="once", date_start=now - timedelta(hours=1), date_end=now + timedelta(hours=hours), **values
        )

    def pulls(self):
        return {pull["head_ref"]: pull for (repo, _n), pull in self.gh.pulls.items() if repo == "acme/erp"}

    # ------------------------------------------------------------------
    # the calendar
    # ------------------------------------------------------------------
    def test_a_public_holiday_of_the_company_calendar_shifts_the_month_end_freeze(self):
        window = self.window(kind="month_edges", before_days=2, after_days=3)
        # Wednesday 6 Jan 2027, noon in Brussels: Fri 1, Mon 4 and Tue 5 Jan are the first three working days
        wednesday = datetime(2027, 1, 6, 11, 0)
        self.assertFalse(self.Window._active_freeze(self.repo, wednesday))
        self.assertEqual(self.Window._active_freeze(self.repo, datetime(2027, 1, 5, 11, 0)), window)
        self.assertEqual(self.Window._freeze_end(self.repo, datetime(2027, 1, 5, 11, 0)), datetime(2027, 1, 5, 23, 0))

        # New Year's Day, a public holiday: a leave of the calendar without a resource
        self.env["resource.calendar.leaves"].create(
            {
                "name": "New Year's Day",
                "calendar_id": self.calendar.id,
                "resource_id": False,
                "date_from": datetime(2026, 12, 31, 23, 0),
                "date_to": datetime(2027, 1, 1, 22, 59, 59),
            }
        )
        self.assertEqual(self.Window._active_freeze(self.repo, wednesday), window, "Wed 6 Jan is now the third")
        self.assertEqual(self.Window._freeze_end(self.repo, wednesday), datetime(2027, 1, 6, 23, 0))
        # the last two working days of December are untouched: Wed 30 and Thu 31 Dec 2026
        self.assertFalse(self.Window._active_freeze(self.repo, datetime(2026, 12, 29, 11, 0)))
        self.assertEqual(self.Window._active_freeze(self.repo, datetime(2026, 12, 30, 11, 0)), window)
        self.assertIn("2026-12-30 00:00", window.next_occurrences)

    def test_a_window_of_other_repositories_or_with_a_bad_rule(self):
        other = self.env["ops.repository"].create({"full_name": "acme/other"})
        self.frozen_now(repository_ids=[(6, 0, other.ids)])
        self.assertFalse(self.Window._active_freeze(self.repo))
        self.assertTrue(self.Window._active_freeze(other))
        with self.assertRaises(ValidationError):
            self.window(kind="yearly", start_day=30, start_month=2, end_day=1, end_month=3)

    def test_accounting_sources_say_so_without_accounting(self):
        if "account.move" in self.env:
            self.skipTest("Accounting is installed in this database")
        with self.assertRaises(ValidationError):
            self.window(kind="fiscal_close", before_days=3, after_days=5, end_day=31, end_month=12)
        window = self.frozen_now()
        with self.assertRaises(UserError):
            window.action_freeze_until_lock_date()
        with self.assertRaises(UserError):
            window.action_use_fiscal_year_end()

    # ------------------------------------------------------------------
    # held pull requests
    # ------------------------------------------------------------------
    def test_update_pull_requests_are_held_during_the_freeze_and_opened_after(self):
        window = self.frozen_now()
        with QUIET:
            run = self.run_cron("dependency_updates")
        self.assertEqual(run.state, "done", run.reason)
        self.assertEqual(self.pulls(), {}, "nothing opened during the freeze")
        holds = self.Hold.search([("repository_id", "=", self.repo.id)])
        self.assertEqual(set(holds.mapped("key")), BRANCHES)
        self.assertEqual(set(holds.mapped("state")), {"held"})
        self.assertEqual(set(holds.mapped("reason")), {"Month-end close"})
        self.assertIn("held by the change freeze", run.summary)

        # a second scan during the freeze holds the same changes, once
        with QUIET:
            self.run_cron("dependency_updates")
        self.assertEqual(self.Hold.search_count([("repository_id", "=", self.repo.id)]), 3)

        self.assertEqual(self.Hold._cron_release(), 0, "still frozen: nothing opened")
        self.assertEqual(self.pulls(), {})

        after = window.date_end + timedelta(minutes=1)
        self.assertEqual(self.Hold._cron_release(now=after), 3)
        pulls = self.pulls()
        self.assertEqual(set(pulls), BRANCHES)
        self.assertIn("requests==2.32.3", self.gh.files_at("acme/erp", "autopilot/deps/pypi-minor")["requirements.txt"])
        self.assertEqual(set(holds.mapped("state")), {"released"})
        self.assertTrue(all(holds.mapped("result_url")))
        finding = self.findings(scan_type="dependency_updates", package="requests")
        self.assertEqual(finding.github_pr_number, pulls["autopilot/deps/pypi-minor"]["number"])
        self.assertEqual(self.Hold._cron_release(now=after), 0, "opened once")

    def test_one_failing_release_does_not_block_the_others(self):
        window = self.frozen_now()
        with QUIET:
            self.run_cron("dependency_updates")
        holds = self.Hold.search([("repository_id", "=", self.repo.id)], order="key")
        broken = holds[0]
        broken.sudo().payload = '{"key": "x", "updates": "not a list"}'
        with QUIET:
            released = self.Hold._cron_release(now=window.date_end + timedelta(minutes=1))
        self.assertEqual(released, 2)
        self.assertEqual(broken.state, "failed")
        self.assertEqual(broken.attempts, 1)
        self.assertTrue(broken.error)
        self.assertEqual(set((holds - broken).mapped("state")), {"released"})

    # ------------------------------------------------------------------
    # overrides
    # ------------------------------------------------------------------
    def test_only_a_manager_overrides_and_the_override_is_recorded(self):
        window = self.frozen_now()
        until = fields.Datetime.now() + timedelta(hours=1)
        Override = self.env["ops.freeze.override"]
        with self.assertRaises(AccessError):
            Override.with_user(self.user).create({"window_id": window.id, "reason": "hotfix", "date_until": until})
        self.assertEqual(self.Window._active_freeze(self.repo), window)

        override = Override.with_user(self.manager).create(
            {"window_id": window.id, "reason": "Payment provider outage: hotfix", "date_until": until}
        )
        self.assertEqual(override.user_id, self.manager)
        self.assertFalse(self.Window._active_freeze(self.repo), "overridden")
        self.assertTrue(window.overridden_now)
        note = window.message_ids[0]
        self.assertIn("Payment provider outage", note.body)
        self.assertIn(self.manager.name, note.body)
        self.assertEqual(self.Window._active_freeze(self.repo, until + timedelta(minutes=1)), window, "ends")
        with self.assertRaises(AccessError):
            override.with_user(self.manager).write({"reason": "rewritten"})

    # ------------------------------------------------------------------
    # commit statuses
    # ------------------------------------------------------------------
    def open_pull(self, number, branch):
        self.gh.commit("acme/erp", {f"{branch}.txt": branch}, parent=self.sha, branch=branch)
        self.gh.add_pull("acme/erp", number, branch)
        return self.gh.branch_sha("acme/erp", branch)

    def statuses(self, sha):
        return self.gh.statuses_of("acme/erp", sha, freeze_status.CONTEXT)

    def test_open_pull_requests_get_the_freeze_status_only_when_it_changes(self):
        long_reason = "Year-end close: " + "no deploys, no dependency bumps, no auto-fixes; " * 4
        window = self.frozen_now(name=long_reason)
        sha1, sha2 = self.open_pull(1, "feature-a"), self.open_pull(2, "feature-b")
        Repo = self.env["ops.repository"]

        self.assertEqual(Repo._cron_freeze_statuses(), 2)
        [pending] = self.statuses(sha1)
        self.assertEqual(pending["state"], "pending")
        self.assertLessEqual(len(pending["description"]), 140, "cut to GitHub's limit")
        self.assertTrue(pending["description"].endswith("…"))
        self.assertTrue(pending["description"].startswith("Change freeze: Year-end close"))
        self.assertIn(f"/odoo/ops.freeze.window/{window.id}", pending["target_url"])
        self.assertEqual(len(self.statuses(sha2)), 1)

        self.assertEqual(Repo._cron_freeze_statuses(), 0, "nothing changed: nothing posted")
        self.assertEqual(len(self.gh.calls("POST", r"/statuses/")), 2)

        sha3 = self.gh.push("acme/erp", "feature-b", {"more.txt": "x"})  # a push during the freeze
        self.assertEqual(Repo._cron_freeze_statuses(), 1)
        self.assertEqual(self.statuses(sha3)[-1]["state"], "pending")

        after = window.date_end + timedelta(minutes=1)
        self.assertEqual(Repo._cron_freeze_statuses(now=after), 2)
        self.assertEqual(self.statuses(sha1)[-1]["state"], "success")
        self.assertEqual(self.statuses(sha3)[-1]["state"], "success")
        self.assertEqual(Repo._cron_freeze_statuses(now=after), 0)

    def test_github_trouble_is_recorded_and_nothing_else_is_lost(self):
        self.frozen_now()
        self.open_pull(1, "feature-a")
        self.gh.stop()
        with mute_logger("odoo.addons.ops_autopilot.models.ops_repository_freeze"):
            self.assertEqual(self.env["ops.repository"]._cron_freeze_statuses(), 0)
        self.assertIn("not synced", self.repo.freeze_status_error)
        self.assertFalse(self.env["ops.freeze.pr.status"].search([("repository_id", "=", self.repo.id)]))

    # ------------------------------------------------------------------
    # deploys and the dashboard
    # ------------------------------------------------------------------
    def deploy_run(self, run_id, started, name="Deploy", path=".github/workflows/deploy.yml"):
        payload = gp.workflow_run("acme/erp", run_id=run_id, name=name, path=path, started=started)
        return self.env["ops.workflow.run"]._upsert_run(self.repo, events.parse_workflow_run(payload))

    def test_a_deploy_run_during_a_freeze_is_flagged(self):
        window = self.frozen_now()
        self.repo.ci_deployment_workflows = "deploy.yml"
        now = fields.Datetime.now().replace(tzinfo=gp.EPOCH.tzinfo) - timedelta(minutes=10)
        deploy = self.deploy_run(8800001, now)
        self.assertEqual(deploy.freeze_window_id, window)
        self.assertIn("change freeze", deploy.message_ids[0].body)
        ci = self.deploy_run(8800002, now, name="CI", path=".github/workflows/ci.yml")
        self.assertFalse(ci.freeze_window_id, "not a deployment workflow")
        self.assertFalse(ci.message_ids, "runs gain a chatter, but creating one logs nothing")
        self.assertFalse(ci.message_follower_ids, "and subscribes no one")
        earlier = self.deploy_run(8800003, now - timedelta(days=3))
        self.assertFalse(earlier.freeze_window_id, "deployed before the freeze")
        self.deploy_run(8800001, now)  # the same run again (an update): flagged once
        self.assertEqual(len(deploy.message_ids.filtered(lambda m: "change freeze" in (m.body or ""))), 1)

        data = self.env["ops.dashboard"].get_dashboard_data({})["freeze"]
        self.assertEqual([item["id"] for item in data["active"]], [window.id])
        self.assertEqual(data["flagged_deploys"], 1)

    def test_a_production_deployment_during_a_freeze_is_flagged_once(self):
        """GitHub deployments to production are flagged at their creation time; staging and earlier ones are not,
        and a deploy run already counted through its deployment is not counted twice."""
        window = self.frozen_now()
        self.repo.ci_deployment_workflows = "deploy.yml"
        Deployment = self.env["ops.deployment"]
        now = fields.Datetime.now().replace(tzinfo=gp.EPOCH.tzinfo) - timedelta(minutes=10)

        def deploy(github_id, environment="production", created=now):
            payload = gp.deployment_event("acme/erp", deployment_id=github_id, environment=environment, created=created)
            return Deployment._ingest_event(self.repo, events.parse_event("deployment", payload))

        production = deploy(9900001)
        self.assertEqual(production.freeze_window_id, window)
        self.assertEqual(len(production.message_ids), 1, "one note, nothing logged at creation")
        self.assertIn("change freeze", production.message_ids.body)
        self.assertFalse(production.message_follower_ids, "creating a deployment subscribes no one")
        self.assertFalse(deploy(9900002, environment="staging").freeze_window_id, "not production")
        self.assertFalse(deploy(9900003, created=now - timedelta(days=3)).freeze_window_id, "before the freeze")
        deploy(9900001)  # redelivered: the same deployment, not flagged again
        self.assertEqual(len(production.message_ids), 1)

        data = self.env["ops.dashboard"].get_dashboard_data({})["freeze"]
        self.assertEqual(data["flagged_deploys"], 1)
        # a deploy run of another commit (no deployment of its own): flagged by itself, counted once more
        payload = gp.workflow_run(
            "acme/erp", run_id=8800011, name="Deploy", path=".github/workflows/deploy.yml", sha="b" * 40, started=now
        )
        run = self.env["ops.workflow.run"]._upsert_run(self.repo, events.parse_workflow_run(payload))
        self.assertEqual(run.freeze_window_id, window)
        self.assertFalse(production.run_id)
        self.assertEqual(self.env["ops.dashboard"].get_dashboard_data({})["freeze"]["flagged_deploys"], 2)
        production.run_id = run  # the deployment that run made: the two flags are one deploy
        self.assertEqual(self.env["ops.dashboard"].get_dashboard_data({})["freeze"]["flagged_deploys"], 1)

    def test_the_dashboard_announces_the_next_window(self):
        self.window(name="Year end", kind="yearly", start_day=15, start_month=12, end_day=6, end_month=1)
        data = self.env["ops.dashboard"].with_user(self.user).get_dashboard_data({})["freeze"]
        today = date.today()
        if (today.month, today.day) >= (12, 15) or (today.month, today.day) <= (1, 6):
            self.assertEqual(data["active"][0]["name"], "Year end")
        else:
            self.assertEqual(data["next"]["name"], "Year end")
