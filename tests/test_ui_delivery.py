"""The dashboard's Delivery section in real headless Chromium: key cards, bands, a click to the records."""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestUiDelivery(HttpCase):
    def test_delivery_cards_bands_and_records(self):
        repo = self.env["ops.repository"].create({"full_name": "acme/delivery-tour"})
        production = self.env["ops.deployment.environment"]._find_or_create(repo, "production")
        now = fields.Datetime.now()
        values = []
        for index in range(9):
            created = now - timedelta(hours=6 + index * 12)
            failed = index == 4
            values.append(
                {
                    "repository_id": repo.id,
                    "environment_id": production.id,
                    "github_id": 9_900_000 + index,
                    "sha": f"{index:040x}",
                    "created_at": created,
                    "state": "failure" if failed else "success",
                    "succeeded_at": False if failed else created + timedelta(minutes=5),
                    "finished_at": created + timedelta(minutes=5),
                }
            )
        self.env["ops.deployment"].create(values)
        keys = self.env["ops.dashboard"].get_dashboard_data({"period": "7d", "repository_id": repo.id})["delivery"]
        self.assertEqual([k["display"] for k in keys["keys"]], ["1.1 / day", "no data", "11.1%", "12 h"])
        url = f"/odoo/ops-dashboard?period=7d&repository_id={repo.id}"
        self.start_tour(url, "ops_autopilot_delivery_tour", login="admin")
