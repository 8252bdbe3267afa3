"""Local GitHub, package index and OSV servers wired to a repository, for the scan tests."""

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from odoo import fields
from odoo.tests import TransactionCase

from ..autopilot.testing.github_scans_server import ScanGitHub
from ..autopilot.testing.scan_servers import FakeOSV, FakePackageIndex
from ..models.ops_params import PREFIX
from ..models.ops_scan_run import CRON_XMLIDS
from .common import hold_fakes_to_contracts

SAMPLES = Path(__file__).resolve().parents[1] / "autopilot" / "data" / "scan_samples"
OSV_RECORDS = json.loads((SAMPLES / "osv-records.json").read_text())
TOKEN = "ghp_scanTestToken000000000000000000000000"
FILES = {
    "requirements.txt": "requests==2.28.2\nDjango==3.2.9\nbabel>=2\n",
    "package.json": '{\n  "name": "erp-web",\n  "dependencies": {\n    "lodash": "4.17.20"\n  }\n}\n',
    "erp/__init__.py": "",
    "erp/tools.py": "import os\n\n\ndef used():\n    return 1\n\n\ndef orphan_helper():\n    return used()\n",
    "erp/main.py": "from .tools import used\n\nprint(used())\n",
}


def ago(days=0, hours=0):
    return datetime.now(timezone.utc) - timedelta(days=days, hours=hours)


class ScanCase(TransactionCase):
    """A repository ``acme/erp`` on a local GitHub, with a local PyPI/npm index and OSV."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["ops.scan.run"]
        cls.Finding = cls.env["ops.scan.finding"]
        cls.Suppression = cls.env["ops.scan.suppression"]

    def setUp(self):
        super().setUp()
        hold_fakes_to_contracts(self)
        self.gh = ScanGitHub(token=TOKEN).start()
        self.addCleanup(self.gh.stop)
        self.index = FakePackageIndex().start()
        self.addCleanup(self.index.stop)
        self.osv = FakeOSV().start()
        self.addCleanup(self.osv.stop)
        for record in OSV_RECORDS:
            self.osv.add_vuln(copy.deepcopy(record))
        self.set_params(
            scan_pypi_url=self.index.url,
            scan_npm_url=self.index.url,
            scan_osv_url=self.osv.url,
            scan_http_timeout_seconds=5,
            github_timeout_seconds=5,
        )
        self.sha = self.gh.seed_repo("acme/erp", FILES)
        # only the repositories a test creates are scanned (demo data and other tests have theirs)
        self.env["ops.repository"].search([]).write({"scan_enabled": False})
        self.repo = self.env["ops.repository"].create({"full_name": "acme/erp", "api_url": self.gh.url, "token": TOKEN})

    def set_params(self, **values):
        ICP = self.env["ir.config_parameter"].sudo()
        for name, value in values.items():
            ICP.set_param(PREFIX + name, str(value))

    def run_cron(self, scan_type, all_repositories=False):
        """What the cron worker does at the scheduled time: the server action, then the follow-up calls.

        Returns the runs this cycle executed (of ``acme/erp`` unless ``all_repositories``: demo data has
        a repository too).
        """
        cron = self.env.ref(CRON_XMLIDS[scan_type])
        self._cycles = getattr(self, "_cycles", 0) + 1  # each call is a new scheduled time
        cron.nextcall = fields.Datetime.now() - timedelta(minutes=self._cycles)
        started = [("scan_type", "=", scan_type), ("started_at", "!=", False)]
        before = self.Run.search(started)
        cron.ir_actions_server_id.with_context(cron_id=cron.id).run()
        Run = self.Run.with_context(cron_id=cron.id)
        for _call in range(20):
            if not Run.search_count(Run._due_domain(scan_type)):
                break
            Run._cron_run_scans(scan_type)
        cron.nextcall = fields.Datetime.now() + timedelta(days=1)  # the framework's reschedule
        runs = self.Run.search(started) - before
        return runs if all_repositories else runs.filtered(lambda r: r.repository_id == self.repo)

    def findings(self, **domain):
        """Findings of ``acme/erp`` (the demo repository has its own) matching ``field=value`` pairs."""
        domain.setdefault("repository_id", self.repo.id)
        return self.Finding.search([(key, "=", value) for key, value in domain.items()])
