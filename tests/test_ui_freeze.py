"""The change freeze banner of the dashboard in real headless Chromium."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestUiFreeze(HttpCase):
    def test_the_dashboard_shows_the_freeze_in_force_and_what_it_holds(self):
        self.env["ops.freeze.window"].search([]).write({"active": False})
        repo = self.env["ops.repository"].create({"full_name": "acme/tour-freeze"})
        now = fields.Datetime.now()
        window = self.env["ops.freeze.window"].create(
            {
                "name": "Tour freeze",
                "kind": "once",
                "date_start": now - timedelta(hours=1),
                "date_end": now + timedelta(hours=2),
            }
        )
        scan = self.env["ops.scan.run"].create({"scan_type": "dependency_updates", "repository_id": repo.id})
        self.env["ops.freeze.hold"]._hold(window, scan, "update_pr", "autopilot/deps/pypi-minor", "Bump requests")
        self.start_tour("/odoo", "ops_autopilot_freeze_tour", login="admin")
