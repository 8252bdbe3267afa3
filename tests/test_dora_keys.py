"""The four DORA keys through the dashboard on a constructed history, incidents linked to deploys, the report."""

from datetime import datetime

from odoo.tests import new_test_user, tagged

from ..autopilot.delivery import dora
from .common import OpsTransactionCase

WEEK = {"period": "custom", "date_from": "2026-11-23", "date_to": "2026-11-29"}


def rounded(aggregates):
    """The aggregates with their floats rounded (PostgreSQL and Python interpolate in different orders)."""
    return {
        key: {name: round(value, 6) if isinstance(value, float) else value for name, value in values.items()}
        for key, values in aggregates.items()
    }


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute)


class DoraHistoryMixin:
    """Builds deployments (with statuses and commits) and incidents as GitHub and the monitors would."""

    github_id = 8_800_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Deployment = cls.env["ops.deployment"]
        cls.Incident = cls.env["ops.incident"]
        Environment = cls.env["ops.deployment.environment"]
        cls.production = Environment._find_or_create(cls.repo, "production")
        cls.staging = Environment._find_or_create(cls.repo, "staging")
        cls.target = cls.env["ops.health.target"].create(
            {"name": "shop", "url": "http://127.0.0.1:9/", "deployment_environment_id": cls.production.id}
        )

    @classmethod
    def deploy(cls, created, statuses=(), commits=(), environment=None, **values):
        """A deployment created at ``created`` with ``statuses`` [(state, at)] and ``commits`` [(sha, at, prs)]."""
        cls.github_id += 1
        states = [state for state, _when in statuses]
        successes = [when for state, when in statuses if state == "success"]
        finished = [when for state, when in statuses if state in ("success", "failure", "error")]
        deployment = cls.Deployment.create(
            {
                "repository_id": cls.repo.id,
                "environment_id": (environment or cls.production).id,
                "github_id": cls.github_id,
                "sha": f"{cls.github_id:040x}",
                "created_at": created,
                "state": states[-1] if states else "pending",
                "succeeded_at": min(successes) if successes else False,
                "finished_at": min(finished) if finished else False,
                "status_ids": [
                    (0, 0, {"github_id": cls.github_id * 10 + n, "state": state, "created_at": when})
                    for n, (state, when) in enumerate(statuses)
                ],
                "commit_ids": [
                    (0, 0, {"sequence": n, "sha": sha, "committed_at": when, "pull_request_numbers": prs})
                    for n, (sha, when, prs) in enumerate(commits)
                ],
                **values,
            }
        )
        return deployment

    @classmethod
    def incident(cls, opened, resolved=None, **values):
        return cls.Incident.create(
            {
                "title": "down",
                "source": "health",
                "first_seen": opened,
                "last_seen": opened,
                "resolved_at": resolved or False,
                "state": "resolved" if resolved else "open",
                **values,
            }
        )


@tagged("post_install", "-at_install")
class TestDoraKeys(DoraHistoryMixin, OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d1 = cls.deploy(
            at(23, 10),
            [("in_progress", at(23, 10, 1)), ("success", at(23, 10, 5))],
            [("c1", at(22, 10, 5), "#1"), ("c2", at(22, 12, 5), "#1"), ("c3", at(23, 8, 5), False)],
        )
        cls.d2 = cls.deploy(at(24, 9), [("success", at(24, 9, 10))], [("c4", at(24, 7, 10), "#2")])
        cls.d3 = cls.deploy(
            at(25, 14), [("in_progress", at(25, 14, 2)), ("failure", at(25, 14, 20))], [("c5", at(25, 10), "#3")]
        )
        cls.d4 = cls.deploy(at(25, 14, 30), [("success", at(25, 14, 40))], is_rollback=True, rollback_of_id=cls.d3.id)
        cls.d5 = cls.deploy(
            at(26, 9), [("success", at(26, 9, 15))], [("c5", at(26, 10), "#3"), ("c6", at(26, 8), "#3")]
        )
        cls.d5.commit_ids[0].committed_at = at(25, 10)
        cls.d6 = cls.deploy(at(27, 16), [("success", at(27, 16, 5))], [("c7", at(27, 16, 30), False)])
        cls.d7 = cls.deploy(at(28, 10), [("in_progress", at(28, 10, 1))])
        cls.s1 = cls.deploy(
            at(24, 8), [("success", at(24, 8, 5))], [("c4", at(24, 7, 10), "#2")], environment=cls.staging
        )
        cls.p1 = cls.deploy(at(20, 10), [("success", at(20, 10, 10))], [("c0", at(18, 10, 10), False)])
        # I1 is linked by hand; I2 opens on the production target (linked automatically); I3 a false positive
        cls.i1 = cls.incident(at(24, 12), at(24, 13, 30), deployment_id=cls.d2.id)
        cls.i2 = cls.incident(at(28, 20), target_id=cls.target.id)
        cls.i3 = cls.incident(at(27, 1), at(27, 1, 5), target_id=cls.target.id, false_positive=True)

    def delivery(self, **filters):
        data = self.env["ops.dashboard"].with_context(tz="UTC").get_dashboard_data({**WEEK, **filters})
        return data["delivery"]

    def keys(self, **filters):
        filters.setdefault("repository_id", self.repo.id)
        return {key["key"]: key for key in self.delivery(**filters)["keys"]}

    def test_the_four_keys_and_bands_of_a_constructed_week(self):
        """The week of 23-30 November 2026 (UTC), production of acme/erp; by hand:

        Production deploys: D1 23rd 10:00 (success 10:05; PR 1 commits 22nd 10:05 and 12:05, c3 23rd 08:05),
        D2 24th 09:00 (success 09:10; PR 2 24th 07:10; incident I1 12:00-13:30 linked by hand), D3 25th 14:00
        (failure status 14:20; PR 3 25th 10:00), D4 25th 14:30 rollback of D3 (success 14:40), D5 26th 09:00
        (success 09:15; PR 3 25th 10:00 and 26th 08:00), D6 27th 16:00 (success 16:05; c7 authored 16:30, after
        it), D7 28th 10:00 in progress. I2 opens on the production target 28th 20:00, never resolved; I3 is a
        false positive (it opens 16 h after D5 and is linked to it, but counts nowhere). Staging S1 and the week
        before's P1 (20th, success 10:10, c0 authored 18th 10:10).

        - deployment frequency: D1 D2 D5 D6 = 4 in 7 days = 4.0 / week -> high (weekly, not daily).
        - lead time: PR 1 86,400 s, c3 7,200 s, PR 2 7,200 s, PR 3 83,700 s; c7 ignored. Median
          (7,200 + 83,700) / 2 = 45,450 s = 12 h 38 min -> elite; p90 83,700 + 0.7 x 2,700 = 85,590 s.
        - change failure rate: D1 D2 D3 D5 D6 finished; D2 (I1 3 h after) and D3 (failure 20 min after, rolled
          back) failed: 2 / 5 = 40 % -> low.
        - time to restore: I1 5,400 s, D3 14:20 -> D4 14:40 1,200 s; I2 not restored. Median 3,300 s = 55 min ->
          elite.
        - previous week: P1 only: 1.0 / week (high), lead time 48 h, 0 % failed, nothing to restore.
        """
        keys = self.keys()
        frequency = keys["deployment_frequency"]
        self.assertAlmostEqual(frequency["value"], 4 / 7)
        self.assertEqual((frequency["display"], frequency["band"], frequency["sample_size"]), ("4.0 / week", "high", 4))
        self.assertEqual(
            (frequency["previous_display"], frequency["trend"], frequency["improved"]), ("1.0 / week", "up", True)
        )

        lead = keys["lead_time"]
        self.assertAlmostEqual(lead["value"], 45450)
        self.assertAlmostEqual(lead["details"]["p90"], 85590)
        self.assertEqual((lead["band"], lead["display"], lead["sample_size"]), ("elite", "12 h 38 min", 4))
        self.assertEqual(lead["details"]["ignored"], 1)
        self.assertAlmostEqual(lead["previous"], 48 * 3600)

        cfr = keys["change_failure_rate"]
        self.assertEqual((cfr["value"], cfr["band"], cfr["sample_size"], cfr["details"]["failed"]), (40.0, "low", 5, 2))
        self.assertEqual((cfr["previous"], cfr["trend"], cfr["improved"]), (0.0, "up", False))

        restore = keys["time_to_restore"]
        self.assertEqual((restore["value"], restore["band"], restore["sample_size"]), (3300, "elite", 2))
        self.assertEqual(restore["details"]["unrestored"], 1)
        self.assertIsNone(restore["previous"])
        for key in keys.values():
            self.assertTrue(key["definition"])

    def test_the_sql_aggregates_are_the_engines_on_the_same_records(self):
        """The dashboard's grouped SQL and the engine's record functions agree (the rules are written twice)."""
        Dashboard = self.env["ops.dashboard"].with_context(tz="UTC")
        scope = Dashboard._dashboard_scope({**WEEK, "repository_id": self.repo.id})
        window = scope["window"]
        deployments, incidents = self.engine_records()
        for start, end in ((window.start, window.end), (window.previous_start, window.previous_end)):
            sql = Dashboard._dora_aggregates(scope, start, end, dora.DEFAULT_FAILURE_WINDOW)
            engine = dora.aggregate(deployments, incidents, start, end)
            self.assertEqual(rounded(sql), rounded(engine))

    def engine_records(self):
        deployments = [
            dora.Deployment(
                id=d.id,
                environment=d.environment_id.name,
                created_at=d.created_at,
                state=d.state,
                repository=d.repository_id.full_name,
                is_production=d.is_production,
                succeeded_at=d.succeeded_at or None,
                failed_at=d.failed_at or None,
                is_rollback=d.is_rollback,
                rollback_of=d.rollback_of_id.id or None,
                commits=tuple(
                    dora.Commit(
                        c.sha,
                        c.committed_at or None,
                        tuple(
                            int(n) for n in (c.pull_request_numbers or "").replace("#", " ").replace(",", " ").split()
                        ),
                    )
                    for c in d.commit_ids
                ),
            )
            for d in self.Deployment.search([("repository_id", "=", self.repo.id)])
        ]
        incidents = [
            dora.Incident(
                id=i.id,
                opened_at=i.first_seen,
                resolved_at=i.resolved_at or None,
                deployment=i.deployment_id.id or None,
                environment=i.deployment_environment_id.name or "",
                is_production=i.deployment_environment_id.is_production if i.deployment_environment_id else None,
                false_positive=i.false_positive,
            )
            for i in self.Incident.search([])
        ]
        return deployments, incidents

    def test_failed_at_is_the_first_failure_status(self):
        self.assertEqual(self.d3.failed_at, at(25, 14, 20))
        self.assertFalse(self.d2.failed_at)
        self.d2.write({"status_ids": [(0, 0, {"github_id": 1, "state": "error", "created_at": at(24, 15)})]})
        self.assertEqual(self.d2.failed_at, at(24, 15))

    def test_the_cards_open_the_records_behind_them(self):
        keys = self.keys()

        def records(key):
            action = keys[key]["action"]
            return self.env[action["res_model"]].search(action["domain"])

        self.assertEqual(records("deployment_frequency"), self.d1 | self.d2 | self.d5 | self.d6)
        self.assertEqual(records("change_failure_rate"), self.d1 | self.d2 | self.d3 | self.d5 | self.d6)
        self.assertEqual(sorted(records("lead_time").mapped("sha")), ["c1", "c2", "c3", "c4", "c5", "c6", "c7"])
        self.assertEqual(records("time_to_restore"), self.i1 | self.i2)

    def test_other_repositories_and_staging_stay_out(self):
        other = self.env["ops.repository"].create({"full_name": "acme/other"})
        self.assertEqual([k["value"] for k in self.keys(repository_id=other.id).values()], [0.0, None, None, None])
        all_repositories = {k["key"]: k for k in self.delivery()["keys"]}
        self.assertEqual(all_repositories["deployment_frequency"]["sample_size"], self.week_deploys())

    def week_deploys(self):
        """Successful production deploys of the week in every repository (the demo data may have some)."""
        return self.Deployment.search_count(
            [
                ("is_production", "=", True),
                ("is_rollback", "=", False),
                ("succeeded_at", ">=", datetime(2026, 11, 23)),
                ("succeeded_at", "<", datetime(2026, 11, 30)),
            ]
        )

    def test_users_see_only_what_they_may_read(self):
        ops_user = new_test_user(self.env, "dora_user", groups="ops_autopilot.group_ops_user")
        data = self.env["ops.dashboard"].with_user(ops_user).with_context(tz="UTC").get_dashboard_data(WEEK)
        self.assertEqual(data["delivery"]["keys"][0]["sample_size"], self.week_deploys())
        outsider = new_test_user(self.env, "dora_outsider", groups="base.group_user")
        data = self.env["ops.dashboard"].with_user(outsider).with_context(tz="UTC").get_dashboard_data(WEEK)
        self.assertEqual(data["delivery"], {"available": False, "keys": []})
        other_company = self.env["res.company"].create({"name": "Other Co"})
        stranger = new_test_user(
            self.env,
            "dora_stranger",
            groups="ops_autopilot.group_ops_user",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        data = self.env["ops.dashboard"].with_user(stranger).with_context(tz="UTC").get_dashboard_data(WEEK)
        self.assertEqual([key["sample_size"] for key in data["delivery"]["keys"]], [0, 0, 0, 0])

    def test_the_weekly_report_has_the_delivery_section(self):
        html, _kind = (
            self.env["ir.actions.report"]
            .with_context(tz="UTC")
            ._render_qweb_html(
                "ops_autopilot.action_report_ops_health", [], data={"filters": {**WEEK, "repository_id": self.repo.id}}
            )
        )
        html = html.decode()
        self.assertIn("o_ops_report_dora", html)
        self.assertIn("Deployment frequency", html)
        self.assertIn("4.0 / week", html)
        self.assertIn("o_ops_band_low", html)  # the change failure rate
        self.assertIn("12 h 38 min", html)
        self.assertIn("State of DevOps Report 2023", html)


@tagged("post_install", "-at_install")
class TestIncidentDeploymentLink(DoraHistoryMixin, OpsTransactionCase):
    def test_an_incident_after_a_deploy_is_linked_to_the_latest_one_in_the_window(self):
        early = self.deploy(at(23, 8), [("success", at(23, 8, 5))])
        latest = self.deploy(at(23, 10), [("success", at(23, 10, 5))])
        self.deploy(at(23, 9), [("success", at(23, 9, 5))], environment=self.staging)
        self.deploy(at(23, 12), [("success", at(23, 12, 5))])  # after the incident opened
        incident = self.incident(at(23, 11), target_id=self.target.id)
        self.assertEqual(incident.deployment_id, latest)
        self.assertEqual(incident.deployment_environment_id, self.production)
        self.assertNotEqual(incident.deployment_id, early)

    def test_outside_the_window_or_without_an_environment_nothing_is_linked(self):
        self.deploy(at(23, 8), [("success", at(23, 8, 5))])
        late = self.incident(at(24, 8, 1), target_id=self.target.id)  # 24 h 01 min after
        self.assertFalse(late.deployment_id)
        plain = self.env["ops.health.target"].create({"name": "plain", "url": "http://127.0.0.1:9/"})
        self.assertFalse(self.incident(at(23, 9), target_id=plain.id).deployment_id)

    def test_the_window_is_a_setting(self):
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.dora_failure_window_hours", "48")
        deployment = self.deploy(at(23, 8), [("success", at(23, 8, 5))])
        self.assertEqual(self.incident(at(24, 20), target_id=self.target.id).deployment_id, deployment)

    def test_a_deploy_set_by_hand_is_kept_and_can_be_changed_by_an_ops_user(self):
        first = self.deploy(at(23, 8), [("success", at(23, 8, 5))])
        second = self.deploy(at(23, 9), [("success", at(23, 9, 5))])
        incident = self.incident(at(23, 10), target_id=self.target.id, deployment_id=first.id)
        self.assertEqual(incident.deployment_id, first)
        ops_user = new_test_user(self.env, "dora_linker", groups="ops_autopilot.group_ops_user")
        incident.with_user(ops_user).write({"deployment_id": second.id})
        self.assertEqual(incident.deployment_id, second)
        self.assertEqual(incident.deployment_environment_id, self.production)

    def test_batches_link_each_incident_to_its_own_environment(self):
        staging_target = self.env["ops.health.target"].create(
            {"name": "staging", "url": "http://127.0.0.1:9/", "deployment_environment_id": self.staging.id}
        )
        production = self.deploy(at(23, 8), [("success", at(23, 8, 5))])
        staging = self.deploy(at(23, 9), [("success", at(23, 9, 5))], environment=self.staging)
        incidents = self.Incident.create(
            [
                {"title": "a", "first_seen": at(23, 10), "last_seen": at(23, 10), "target_id": self.target.id},
                {"title": "b", "first_seen": at(23, 10), "last_seen": at(23, 10), "target_id": staging_target.id},
            ]
        )
        self.assertEqual(incidents.mapped("deployment_id"), production | staging)
