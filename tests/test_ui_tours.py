"""Browser tours in real headless Chromium: the screens render and work without JS errors."""

from odoo.tests import tagged

from ..autopilot.testing import github_payloads as gp
from .common import OpsHttpCase


@tagged("post_install", "-at_install")
class TestUiTours(OpsHttpCase):
    def test_runs_list_kanban_and_form(self):
        run_id = 6660001
        self.deliver(
            "workflow_run", gp.workflow_run_event("acme/erp", run_id=run_id, name="Tour CI", conclusion="failure")
        )
        self.deliver(
            "workflow_job",
            gp.workflow_job_event("acme/erp", run_id, name="unit", workflow_name="Tour CI", conclusion="failure"),
        )
        self.start_tour("/odoo", "ops_autopilot_runs_tour", login="admin")
