"""Dependency updates end to end: index → grouped draft pull requests, at most N open, deduped across runs."""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .scans_common import ScanCase, ago

QUIET = mute_logger("odoo.addons.ops_autopilot.models.ops_scan_run")


@tagged("post_install", "-at_install")
class TestDependencyUpdates(ScanCase):
    def setUp(self):
        super().setUp()
        self.index.add_pypi("requests", {"2.28.2": ago(700), "2.31.0": ago(500), "2.32.3": ago(100)})
        self.index.add_pypi(
            "Django", {"3.2.9": ago(900), "3.2.25": ago(200), "4.2.16": ago(90), "5.1.4": ago(1, hours=1)}
        )
        self.index.add_pypi("babel", {"2.16.0": ago(60)})
        self.index.add_npm("lodash", {"4.17.20": ago(900), "4.17.21": ago(800)})

    def pulls(self):
        return {pull["head_ref"]: pull for (repo, _n), pull in self.gh.pulls.items() if repo == "acme/erp"}

    def test_cron_opens_grouped_draft_pull_requests_once(self):
        run = self.run_cron("dependency_updates")
        self.assertEqual(run.state, "done", run.reason)
        updates = {f.package: f for f in self.findings(repository_id=self.repo.id, scan_type="dependency_updates")}
        self.assertEqual(set(updates), {"requests", "django", "lodash"}, "babel's range already admits 2.16")
        self.assertEqual((updates["django"].version, updates["django"].fixed_version), ("3.2.9", "4.2.16"))
        self.assertEqual(updates["django"].severity, "medium", "a major update")
        pulls = self.pulls()
        self.assertEqual(
            set(pulls), {"autopilot/deps/npm-patch", "autopilot/deps/pypi-minor", "autopilot/deps/pypi-major"}
        )
        self.assertTrue(all(pull["draft"] for pull in pulls.values()))
        minor = self.gh.files_at("acme/erp", "autopilot/deps/pypi-minor")["requirements.txt"]
        self.assertEqual(minor, "requests==2.32.3\nDjango==3.2.9\nbabel>=2\n", "one line changed, the rest kept")
        self.assertIn("4.17.21", self.gh.files_at("acme/erp", "autopilot/deps/npm-patch")["package.json"])
        self.assertEqual(
            self.gh.files_at("acme/erp", "main")["requirements.txt"],
            self.gh.files_at("acme/erp", self.sha)["requirements.txt"],
        )
        self.assertTrue(updates["requests"].github_pr_url)
        self.assertEqual(updates["requests"].github_pr_number, pulls["autopilot/deps/pypi-minor"]["number"])
        self.assertIn("3 pull requests opened", run.summary)

        again = self.run_cron("dependency_updates")
        self.assertEqual(again.state, "done")
        self.assertEqual(len(self.gh.calls("POST", r"/pulls$")), 3, "no second pull request for an open group")
        self.assertIn("0 pull requests opened, 3 refreshed", again.summary)
        self.assertEqual(len(self.findings(repository_id=self.repo.id)), 3)

    def test_every_requirements_file_is_read_and_edited_where_it_declares_the_package(self):
        self.gh.commit("acme/erp", {"requirements-dev.txt": "babel==2.9.1  # docs\n"}, branch="main")
        self.index.add_pypi("babel", {"2.9.1": ago(900), "2.16.0": ago(60)})
        run = self.run_cron("dependency_updates")
        self.assertEqual(run.state, "done", run.reason)
        babel = self.findings(package="babel")
        self.assertEqual((babel.path, babel.version, babel.fixed_version), ("requirements-dev.txt", "2.9.1", "2.16.0"))
        files = self.gh.files_at("acme/erp", "autopilot/deps/pypi-minor")
        self.assertEqual(files["requirements-dev.txt"], "babel==2.16.0  # docs\n")
        self.assertEqual(
            files["requirements.txt"], "requests==2.32.3\nDjango==3.2.9\nbabel>=2\n", "its range admits 2.16"
        )

    def test_at_most_n_open_and_the_ignore_list(self):
        self.set_params(scan_max_open_update_prs=2, scan_ignore_list="lodash")
        run = self.run_cron("dependency_updates")
        self.assertEqual(set(self.pulls()), {"autopilot/deps/pypi-minor", "autopilot/deps/pypi-major"})
        self.assertFalse(self.findings(package="lodash"), "ignored")
        self.set_params(scan_ignore_list="", scan_max_open_update_prs=2)
        run = self.run_cron("dependency_updates")
        self.assertEqual(run.stats["deferred"], ["autopilot/deps/npm-patch"], "no free slot")
        self.assertEqual(len(self.pulls()), 2)
        # one is merged: its slot frees up for the waiting group
        minor = self.pulls()["autopilot/deps/pypi-minor"]
        minor["state"] = "closed"
        self.run_cron("dependency_updates")
        self.assertIn("autopilot/deps/npm-patch", self.pulls())
        self.assertEqual(len([p for p in self.pulls().values() if p["state"] == "open"]), 2)

    def test_a_proposal_closed_unmerged_is_not_made_again_until_a_newer_release(self):
        self.run_cron("dependency_updates")
        self.pulls()["autopilot/deps/pypi-major"]["state"] = "closed"  # a person declines Django 4.2.16
        again = self.run_cron("dependency_updates")
        self.assertEqual(again.state, "done", again.reason)
        self.assertEqual(again.stats["declined"], ["autopilot/deps/pypi-major"])
        self.assertIn("1 closed unmerged", again.summary)
        self.assertEqual(len(self.gh.calls("POST", r"/pulls$")), 3, "not proposed again")
        self.assertEqual(self.findings(package="django").status, "open", "the update is still listed")
        # a newer release makes a new proposal
        self.index.add_pypi("Django", {"3.2.9": ago(900), "4.2.16": ago(90), "4.2.17": ago(10)})
        third = self.run_cron("dependency_updates")
        self.assertEqual(third.stats["declined"], [])
        self.assertEqual(len(self.gh.calls("POST", r"/pulls$")), 4)
        self.assertEqual(self.pulls()["autopilot/deps/pypi-major"]["state"], "open")
        self.assertEqual(self.findings(package="django").fixed_version, "4.2.17")

    def test_index_trouble_makes_a_partial_run_that_is_retried(self):
        self.index.fail_next(3, status=503, path_re=r"^/lodash$")
        with QUIET:
            run = self.run_cron("dependency_updates")
        self.assertEqual(run.state, "partial")
        self.assertIn("503", run.reason)
        self.assertEqual(set(self.findings(repository_id=self.repo.id).mapped("package")), {"requests", "django"})
        retry = self.Run.search([("retry_of_id", "=", run.id)])
        self.assertEqual(retry.state, "queued")

    def test_github_refusing_the_pull_request_is_recorded_per_group(self):
        self.gh.fail_next(1, status=429, headers={"Retry-After": "600"}, path_re=r"/git/refs$")
        with QUIET:
            run = self.run_cron("dependency_updates")
        self.assertEqual((run.state, run.error_kind), ("partial", "rate_limited"))
        self.assertIn("autopilot/deps/npm-patch", run.reason)
        self.assertEqual(len(self.pulls()), 2, "the other groups still got their pull request")

    def test_a_repository_without_draft_pull_requests_gets_ready_ones(self):
        """GitHub answers 422 to a draft on private repositories of some plans: the update is proposed all the same."""
        self.gh.drafts_unsupported.add("acme/erp")
        run = self.run_cron("dependency_updates")
        self.assertEqual(run.state, "done", run.reason)
        pulls = self.pulls()
        self.assertEqual(len(pulls), 3)
        self.assertFalse(any(pull["draft"] for pull in pulls.values()))
        self.assertFalse(any(pr["draft"] for pr in run.stats["pull_requests"]))
