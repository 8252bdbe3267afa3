from datetime import timezone

from odoo import api, fields, models

from ..autopilot.business import freeze


class OpsDashboard(models.AbstractModel):
    """The dashboard's change freeze banner (data key ``freeze``)."""

    _inherit = "ops.dashboard"

    @api.model
    def _freeze_data(self, scope):
        """Windows in force now, the next one to start, deploys flagged in the period and changes held."""
        Window = self._readable("ops.freeze.window")
        if Window is None:
            return {"available": False, "active": [], "next": False, "flagged_deploys": 0, "held": 0}
        now = fields.Datetime.now()
        repository = scope.get("repository")
        windows = Window.search([])
        if repository:
            windows = windows.filtered(lambda w: not w.repository_ids or repository in w.repository_ids)
        windows -= windows.override_ids._in_force(now).window_id
        engine = windows._engine_windows()
        moment = now.replace(tzinfo=timezone.utc)
        tz = scope["tz"]

        def local(value):
            return value.astimezone(tz).strftime("%a %d %b %H:%M")

        active = []
        for interval in freeze.active_intervals(engine, moment):
            window = Window.browse(interval.window.key)
            if any(item["id"] == window.id for item in active):
                continue
            ends = freeze.next_end([interval.window], moment)
            active.append(
                {
                    "id": window.id,
                    "name": window.name,
                    "until": local(ends) if ends else "",
                    "repositories": ", ".join(window.repository_ids.mapped("full_name")),
                }
            )
        upcoming = freeze.next_start(engine, moment, horizon=freeze.LOOKBACK)
        following = False
        if upcoming:
            following = {
                "id": upcoming.window.key,
                "name": Window.browse(upcoming.window.key).name,
                "start": local(upcoming.start),
                "end": local(upcoming.end),
            }
        run_domain = [
            ("freeze_window_id", "!=", False),
            *self._period_domain("started_at", scope["window"].start, scope["window"].end),
        ]
        hold_domain = [("state", "in", ("held", "failed"))]
        if repository:
            run_domain.append(("repository_id", "=", repository.id))
            hold_domain.append(("repository_id", "=", repository.id))
        Runs, Holds = self._readable("ops.workflow.run"), self._readable("ops.freeze.hold")
        return {
            "available": True,
            "active": active,
            "next": following,
            "flagged_deploys": self._freeze_flagged_deploys(scope, Runs, run_domain),
            "held": Holds.search_count(hold_domain) if Holds is not None else 0,
        }

    def _freeze_flagged_deploys(self, scope, Runs, run_domain):
        """Deploys during a freeze in the period: flagged production deployments, and flagged deploy runs that
        no flagged deployment already counts (a run-based deployment's run may be flagged too)."""
        Deployments = self._readable("ops.deployment")
        count = 0
        flagged_runs = []
        if Deployments is not None:
            domain = [
                ("freeze_window_id", "!=", False),
                *self._period_domain("created_at", scope["window"].start, scope["window"].end),
            ]
            if scope.get("repository"):
                domain.append(("repository_id", "=", scope["repository"].id))
            groups = Deployments._read_group(domain, ["run_id"], ["__count"])
            count = sum(total for _run, total in groups)
            flagged_runs = [run.id for run, _total in groups if run]
        if Runs is not None:
            count += Runs.search_count([*run_domain, ("id", "not in", flagged_runs)])
        return count
