"""Performance regression from stored workflow durations and health response times."""

import itertools
import random
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .scans_common import ScanCase


@tagged("post_install", "-at_install")
class TestPerformanceRegression(ScanCase):
    ids = itertools.count(8_000_001)

    def add_runs(self, path, name, durations, from_days_ago, to_days_ago):
        """Successful runs spread evenly between two moments in the past, with these durations."""
        now = fields.Datetime.now()
        step = timedelta(days=from_days_ago - to_days_ago) / len(durations)
        self.env["ops.workflow.run"].create(
            [
                {
                    "repository_id": self.repo.id,
                    "github_id": next(self.ids),
                    "name": name,
                    "workflow_path": path,
                    "status": "completed",
                    "conclusion": "success",
                    "outcome": "success",
                    "started_at": now - timedelta(days=from_days_ago) + step * index,
                    "duration": duration,
                }
                for index, duration in enumerate(durations)
            ]
        )

    def test_slower_workflows_and_targets_are_flagged_with_the_numbers(self):
        rng = random.Random(7)
        # baseline: 34 to 8 days ago; recent: the last 7 days
        self.add_runs(".github/workflows/ci.yml", "CI", [100 + rng.uniform(-5, 5) for _ in range(24)], 34, 8)
        self.add_runs(".github/workflows/ci.yml", "CI", [190 + rng.uniform(-5, 5) for _ in range(8)], 6.5, 0.1)
        self.add_runs(".github/workflows/lint.yml", "Lint", [60 + rng.uniform(-3, 3) for _ in range(24)], 34, 8)
        self.add_runs(".github/workflows/lint.yml", "Lint", [61 + rng.uniform(-3, 3) for _ in range(8)], 6.5, 0.1)
        target = self.env["ops.health.target"].create(
            {"name": "ERP login page", "url": "http://127.0.0.1:9/web/login", "repository_id": self.repo.id}
        )
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        self.env["ops.health.sample.hourly"].create(
            [
                {
                    "target_id": target.id,
                    "company_id": target.company_id.id,
                    "bucket": now - timedelta(hours=hours),
                    "sample_count": 4,
                    "avg_response_ms": (450.0 if hours < 7 * 24 else 300.0) + rng.uniform(-20, 20),
                }
                for hours in range(1, 30 * 24, 12)
            ]
        )
        run = self.run_cron("performance_regression")
        self.assertEqual(run.state, "done", run.reason)
        found = {f.dedup_key: f for f in self.findings(repository_id=self.repo.id, scan_type="performance_regression")}
        self.assertEqual(set(found), {"regression:workflow:.github/workflows/ci.yml", f"regression:health:{target.id}"})
        ci = found["regression:workflow:.github/workflows/ci.yml"]
        self.assertIn("Workflow CI", ci.title)
        self.assertRegex(ci.detail, r"median (9\d|10\d)\.\d → 1[89]\d\.\d \(\+\d+\.\d%\)")
        self.assertIn("24 baseline / 8 recent", ci.detail)
        self.assertIn("ERP login page", found[f"regression:health:{target.id}"].title)
        results = {r["key"]: r for r in run.stats["results"]}
        self.assertFalse(results["workflow:.github/workflows/lint.yml"]["regressed"])
        self.assertIn("2 significantly slower", run.summary)

    def test_not_enough_data_is_said_not_guessed(self):
        self.add_runs(".github/workflows/ci.yml", "CI", [100, 300], 20, 10)
        run = self.run_cron("performance_regression")
        self.assertEqual(run.state, "done")
        self.assertFalse(run.finding_ids)
        self.assertIn("not enough samples", run.stats["results"][0]["reason"])
