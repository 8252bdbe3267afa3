"""The dashboard in real headless Chromium: filters, URL state, tile → records, the report."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestUiDashboard(HttpCase):
    def test_dashboard_filters_tiles_and_report(self):
        repo = self.env["ops.repository"].create({"full_name": "acme/tour"})
        now = fields.Datetime.now()
        for index, (outcome, days_ago) in enumerate(
            [("failure", 1), ("failure", 3), ("failure", 12), ("failure", 20), ("success", 25)]
        ):
            started = now - timedelta(days=days_ago)
            self.env["ops.workflow.run"].create(
                {
                    "repository_id": repo.id,
                    "github_id": 8_800_000 + index,
                    "name": "Tour build",
                    "status": "completed",
                    "conclusion": outcome,
                    "outcome": outcome,
                    "started_at": started,
                    "finished_at": started + timedelta(minutes=20),
                    "duration": 1200,
                }
            )
        self.start_tour("/odoo", "ops_autopilot_dashboard_tour", login="admin")
