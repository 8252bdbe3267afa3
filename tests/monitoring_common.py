"""Shared set-up of the monitoring tests: real local servers, explicit time.

Targets are checked by the real probe cron against
:class:`~..autopilot.testing.probe_targets.ProbeTargets` on 127.0.0.1; time
is passed to the cron (``now``) and moved by :meth:`MonitoringCase.tick`,
never slept.
"""

from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import TransactionCase, new_test_user

from ..autopilot.testing.github_scans_server import ScanGitHub
from ..autopilot.testing.http_server import Response
from ..autopilot.testing.paging_server import FakePagerDuty
from ..autopilot.testing.probe_targets import ProbeTargets
from .common import hold_fakes_to_contracts

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
ROUTING_KEY = "R0UTINGKEY0123456789abcdefabcdef"
GITHUB_TOKEN = "ghp_monitoringtoken0123456789"


class MonitoringGitHub(ScanGitHub):
    """The shared fake GitHub plus ``PATCH /issues/{n}`` (closing an issue)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route("PATCH", _REPO + r"/issues/(?P<number>\d+)", self._edit_issue)

    def _edit_issue(self, request):
        full_name = self._repo(request)
        issue = self.scan_issues.get(full_name, {}).get(int(request.params["number"]))
        if issue is None:
            raise LookupError("issue")
        data = request.json() or {}
        for key in ("title", "body", "state"):
            if key in data:
                issue[key] = data[key]
        if data.get("state") == "closed":
            issue["closed_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response(200, issue)


class MonitoringCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.targets = ProbeTargets().start()
        cls.addClassCleanup(cls.targets.stop)
        cls.pagerduty = FakePagerDuty(routing_key=ROUTING_KEY).start()
        cls.addClassCleanup(cls.pagerduty.stop)
        cls.github = MonitoringGitHub(token=GITHUB_TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.github.add_repo("acme/shop")
        cls.env["ir.config_parameter"].sudo().set_param("ops_autopilot.paging_url", cls.pagerduty.events_url)
        cls.repo = cls.env["ops.repository"].create(
            {"full_name": "acme/shop", "api_url": cls.github.url, "token": GITHUB_TOKEN}
        )
        cls.manager = new_test_user(
            cls.env, login="mon_manager", groups="ops_autopilot.group_ops_manager", email="manager@example.com"
        )
        cls.ops_user = new_test_user(
            cls.env, login="mon_user", groups="ops_autopilot.group_ops_user", email="oncall@example.com"
        )
        cls.Target = cls.env["ops.health.target"]
        cls.Incident = cls.env["ops.incident"]
        cls.Action = cls.env["ops.remediation.action"]
        cls.Sample = cls.env["ops.health.sample"]

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's guard against external requests compares ``timeout`` with a number; the probes
        # pass requests' (connect, read) tuple, which it cannot compare: hand it one number.
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        hold_fakes_to_contracts(self)
        # simulated time runs ahead with each tick: start it in the past, so what people do
        # "now" (acknowledge, resolve) happens after it, as in real life
        self.now = fields.Datetime.now().replace(microsecond=0) - timedelta(hours=3)

    # -- helpers --------------------------------------------------------------
    def make_target(self, path, **values):
        values.setdefault("name", f"svc {path}")
        values.setdefault("interval_minutes", 1)
        values.setdefault("timeout_seconds", 3.0)
        values.setdefault("next_check_at", self.now)
        return self.Target.create({"url": self.targets.url_for(path), **values})

    def tick(self, times=1, minutes=1, seconds=0):
        """Run both probe crons ``times``, moving time forward ``minutes`` (and ``seconds``) before each run.

        The fast re-checks of failing targets and the normal checks are two
        crons; each probe pass wakes the escalation cron at once for the
        incidents it opened (their ladder starts there): it runs right after,
        at the same time.
        """
        for _i in range(times):
            self.now += timedelta(minutes=minutes, seconds=seconds)
            self.Target._cron_recheck_due_targets(now=self.now)
            self.Target._cron_probe_due_targets(now=self.now)
            self.Incident._cron_escalate(now=self.now)

    def incidents(self, target, **domain):
        return self.Incident.search(
            [("target_id", "=", target.id), *[(key, "=", value) for key, value in domain.items()]]
        )

    def open_incident(self, target, kind):
        return self.Incident.search(
            [("target_id", "=", target.id), ("condition", "=", kind), ("state", "!=", "resolved")]
        )

    def policy(self, lines, **values):
        """A remediation policy with ``lines``: ``[(condition, kind, executor, destructive)]``."""
        values.setdefault("name", "test policy")
        values.setdefault("hook_url", self.targets.url_for("/hook"))
        values.setdefault("cooldown_seconds", 300)
        values.setdefault("max_delay_seconds", 300)
        return self.env["ops.remediation.policy"].create(
            {
                **values,
                "line_ids": [
                    (0, 0, {"sequence": index, "condition": c, "kind": k, "executor": e, "destructive": d})
                    for index, (c, k, e, d) in enumerate(lines)
                ],
            }
        )
