"""Data of the status page: every target with its state, a 90-day uptime strip and its open incidents.

In the style of an uptime monitor's public status page, for Ops users in the
backend. One RPC, as the user (access rules apply): the targets, one grouped
read of the daily rollup (never the raw samples), one of open incidents.
"""

from datetime import timedelta

from odoo import api, fields, models

from ..autopilot.monitoring import history

DAILY_ROLLUP = "ops.health.sample.daily"
#: the page's overall state: the worst of the targets' states, in this order
STATE_ORDER = ("down", "degraded", "unknown", "up")
MAX_TARGETS = 500
MAX_INCIDENTS_PER_TARGET = 3


class OpsStatusPage(models.AbstractModel):
    _name = "ops.status.page"
    _description = "Ops Autopilot status page data"

    @api.model
    def get_status_overview(self):
        """Every active target the user may read, worst first in the page's own order (the targets' order)."""
        Target = self.env["ops.health.target"]
        Target.check_access("read")
        targets = Target.search([("active", "=", True)], limit=MAX_TARGETS)
        today = fields.Date.context_today(self)
        since = today - timedelta(days=history.STRIP_DAYS - 1)
        days = {}
        if self.env[DAILY_ROLLUP].has_access("read") and targets:
            groups = self.env[DAILY_ROLLUP]._read_group(
                [("target_id", "in", targets.ids), ("bucket", ">=", fields.Date.to_string(since))],
                ["target_id", "bucket:day"],
                ["sample_count:sum", "failure_count:sum"],
            )
            for target, day, checks, failed in groups:
                days.setdefault(target.id, {})[fields.Date.to_date(day)] = history.Bucket(
                    checks=checks or 0, failed=failed or 0
                )
        incidents = {}
        Incident = self.env["ops.incident"]
        if Incident.has_access("read") and targets:
            for incident in Incident.search([("target_id", "in", targets.ids), ("state", "!=", "resolved")]):
                rows = incidents.setdefault(incident.target_id.id, [])
                if len(rows) < MAX_INCIDENTS_PER_TARGET:
                    rows.append(
                        {
                            "id": incident.id,
                            "title": incident.title,
                            "severity": incident.severity,
                            "state": incident.state,
                            "since": fields.Datetime.to_string(incident.first_seen),
                        }
                    )
        rows = []
        for target in targets:
            strip = history.uptime_strip(today, days.get(target.id, {}))
            figures = history.summary(days.get(target.id, {}).values())
            rows.append(
                {
                    "id": target.id,
                    "name": target.name,
                    "url": target.url or "",
                    "kind": target.kind,
                    "status": target.status,
                    "status_label": dict(target._fields["status"]._description_selection(self.env))[target.status],
                    "last_checked_at": fields.Datetime.to_string(target.last_checked_at)
                    if target.last_checked_at
                    else False,
                    "last_response_ms": round(target.last_response_ms) if target.last_checked_at else None,
                    "uptime_24h": target.uptime_24h if target.last_checked_at else None,
                    "uptime": figures["uptime"],
                    "days": strip,
                    "open_incidents": incidents.get(target.id, []),
                }
            )
        states = {row["status"] for row in rows}
        overall = next((state for state in STATE_ORDER if state in states), "unknown")
        return {
            "overall": overall,
            "targets": rows,
            "counts": {state: sum(1 for row in rows if row["status"] == state) for state in STATE_ORDER},
            "strip_days": history.STRIP_DAYS,
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }
