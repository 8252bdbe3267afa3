"""The weekly health report: its data (as the reading user), and the cron that emails it.

The data is built from the same aggregates as the dashboard
(``ops.dashboard``): uptime, response time and error rate per target with
their daily trends, CPU/memory trends, the incident summary, the CI summary
and the recommendations the engine derives from them
(:func:`..autopilot.kpis.recommend`).

Each subscriber receives the report computed with their own access rights
and companies: the cron renders it as that user, never as the superuser.
"""

import base64
import logging

from odoo import _, api, fields, models

from ..autopilot import kpis
from .ops_dashboard import HOURLY_ROLLUP

_logger = logging.getLogger(__name__)

REPORT_XMLID = "ops_autopilot.action_report_ops_health"
TEMPLATE_XMLID = "ops_autopilot.mail_template_ops_health_report"
MAX_TARGET_ROWS = 50
MAX_WORKFLOW_ROWS = 15
MAX_INCIDENT_ROWS = 10


class OpsHealthReport(models.AbstractModel):
    _name = "ops.health.report"
    _description = "Ops Autopilot weekly health report"
    _inherit = ["ops.cron.mixin"]

    # ------------------------------------------------------------------
    # data
    # ------------------------------------------------------------------
    @api.model
    def _report_data(self, filters=None):
        """Everything the report shows, for ``filters`` as the dashboard takes them (default: last 7 days)."""
        Dashboard = self.env["ops.dashboard"]
        scope = Dashboard._dashboard_scope(filters or {"period": "7d"})
        window = scope["window"]
        current = Dashboard._kpi_aggregates(scope, window.start, window.end)
        previous = Dashboard._kpi_aggregates(scope, window.previous_start, window.previous_end)
        results = {key: kpis.evaluate(key, current.get(key), previous.get(key)) for key in kpis.KPI_ORDER}
        days = self._report_days(scope)
        targets, target_days = self._target_rows(scope, days)
        workflows = self._workflow_rows(scope)
        flaky = Dashboard._list_flaky_jobs(scope)
        recommendations = kpis.recommend(
            target_days=target_days,
            workflows=[
                kpis.WorkflowStat(w["workflow"], w["repository"], w["runs"], w["failures"], w["avg_minutes"])
                for w in workflows
            ],
            flaky_jobs=[kpis.FlakyJob(f["name"], f["repository"], f["count"]) for f in flaky["records"]],
            kpi_results=results,
        )
        filters_out = Dashboard._filters_out(scope)
        return {
            "period": {
                "start": self._to_local_string(window.start, scope),
                "end": self._to_local_string(window.end, scope),
                "date_from": filters_out["date_from"],
                "date_to": filters_out["date_to"],
                "tz": scope["tz"].zone,
            },
            "filters": filters_out,
            "repository": scope["repository"].display_name if scope["repository"] else "",
            "target": scope["target"].display_name if scope["target"] else "",
            "kpis": [results[key].as_dict() for key in kpis.KPI_ORDER],
            "days": days,
            "targets": targets,
            "health_available": Dashboard._readable(HOURLY_ROLLUP) is not None,
            "incidents": self._incident_summary(scope),
            "business": self._business_impact(scope),
            "ci": self._ci_summary(scope, results, workflows),
            "flaky": flaky,
            "cost": Dashboard._cost_data(scope),
            "recommendations": [r.as_dict() for r in recommendations],
            "delivery": Dashboard._delivery_data(scope),
            "generated_at": self._to_local_string(fields.Datetime.now(), scope),
        }

    @api.model
    def _to_local_string(self, moment, scope):
        return self.env["ops.dashboard"]._to_local(moment, scope).strftime("%Y-%m-%d %H:%M")

    @api.model
    def _report_days(self, scope):
        """The local days of the period (at most 31 columns: longer periods keep their last 31 days)."""
        Dashboard = self.env["ops.dashboard"]
        window = scope["window"]
        start = Dashboard._to_local(window.start, scope)
        end = Dashboard._to_local(window.end, scope)
        days = [kpis.bucket_key(d, "day") for d in kpis.buckets(start, end, "day")]
        return days[-31:]

    @api.model
    def _target_rows(self, scope, days):
        """Per target: uptime, response time and error rate with daily trends, CPU and memory per day."""
        Dashboard = self.env["ops.dashboard"]
        window = scope["window"]
        totals = Dashboard._health_rows(scope, window.start, window.end, group_target=True)
        if totals is None:
            return [], []
        daily = Dashboard._health_rows(scope, window.start, window.end, group_target=True, bucket="day")
        targets = (
            self.env["ops.health.target"]
            .with_context(active_test=False)
            .search([("id", "in", list({row["target_id"] for row in totals}))])
        )
        by_id = {target.id: target for target in targets}
        per_day = {}
        target_days = []
        for row in daily:
            target = by_id.get(row["target_id"])
            if not target:
                continue
            day = kpis.bucket_key(row["bucket"], "day")
            target_day = kpis.TargetDay(
                target=target.display_name,
                day=day,
                checks=int(row["checks"]),
                failed=int(row["failed"]),
                avg_response_ms=kpis.avg_response_time(row["total_ms"], row["timed"]),
                max_cpu=row["max_cpu"],
                max_memory=row["max_memory"],
                response_threshold_ms=float(target.threshold_response_ms or 2000),
                error_threshold=float(target.threshold_error_rate or 5.0),
                cpu_threshold=float(target.threshold_cpu or 80.0),
                memory_threshold=float(target.threshold_memory or 85.0),
            )
            target_days.append(target_day)
            per_day.setdefault(target.id, {})[day] = target_day
        rows = []
        for health in sorted(
            totals, key=lambda r: by_id[r["target_id"]].display_name if r["target_id"] in by_id else ""
        ):
            target = by_id.get(health["target_id"])
            if not target:
                continue
            by_day = per_day.get(target.id, {})

            def cells(attribute, digits, by_day=by_day):
                return [_fmt(getattr(by_day[d], attribute) if d in by_day else None, digits) for d in days]

            rows.append(
                {
                    "name": target.display_name,
                    "checks": int(health["checks"]),
                    "uptime": kpis.format_value("uptime", kpis.uptime(health["up"], health["checks"])),
                    "avg_response": kpis.format_value(
                        "avg_response_time", kpis.avg_response_time(health["total_ms"], health["timed"])
                    ),
                    "error_rate": kpis.format_value("error_rate", kpis.error_rate(health["failed"], health["checks"])),
                    "error_days": cells("error_rate", 1),
                    "response_days": cells("avg_response_ms", 0),
                    "cpu_days": cells("max_cpu", 0),
                    "memory_days": cells("max_memory", 0),
                    "slow_days": [
                        bool(
                            d in by_day
                            and by_day[d].avg_response_ms is not None
                            and by_day[d].avg_response_ms > by_day[d].response_threshold_ms
                        )
                        for d in days
                    ],
                }
            )
        return rows[:MAX_TARGET_ROWS], target_days

    @api.model
    def _incident_summary(self, scope):
        Dashboard = self.env["ops.dashboard"]
        Incident = Dashboard._readable("ops.incident")
        if Incident is None:
            return {"available": False}
        window = scope["window"]
        base = Dashboard._incident_domain(scope)
        in_period = base + Dashboard._period_domain("first_seen", window.start, window.end)
        by_severity = dict(Incident._read_group(in_period, ["severity"], ["__count"]))
        by_source = Incident._read_group(in_period, ["source"], ["__count"])
        source_labels = dict(Incident._fields["source"].selection)
        [(resolved_count,)] = Incident._read_group(
            base + Dashboard._period_domain("resolved_at", window.start, window.end), [], ["__count"]
        )
        [(open_now,)] = Incident._read_group([*base, ("state", "!=", "resolved")], [], ["__count"])
        [(false_positives,)] = Incident._read_group([*in_period, ("false_positive", "=", True)], [], ["__count"])
        # health incidents resolved in the period: how long to notice (first failing check -> opened), how long
        # to remediate (opened -> resolved)
        [(detected, detect_total, resolve_total)] = Incident._read_group(
            [
                *base,
                ("source", "=", "health"),
                ("false_positive", "=", False),
                ("failing_since", "!=", False),
                *Dashboard._period_domain("resolved_at", window.start, window.end),
            ],
            [],
            ["__count", "time_to_detect:sum", "time_to_resolve:sum"],
        )
        top = Incident.search(in_period, order="severity_rank desc, id desc", limit=MAX_INCIDENT_ROWS)
        severity_labels = dict(Incident._fields["severity"].selection)
        state_labels = dict(Incident._fields["state"].selection)
        return {
            "available": True,
            "opened": sum(by_severity.values()),
            "resolved": resolved_count,
            "open_now": open_now,
            "false_positives": false_positives,
            "health_resolved": detected,
            "mttd": kpis.format_value("mttr", kpis.mean(detect_total, detected)),
            "health_mttr": kpis.format_value("mttr", kpis.mean(resolve_total, detected)),
            "by_severity": [
                {"severity": label, "count": by_severity.get(key, 0)}
                for key, label in reversed(severity_labels.items())
            ],
            "by_source": [{"source": source_labels.get(s, s), "count": c} for s, c in by_source],
            "top": [
                {
                    "name": i.display_name,
                    "severity": severity_labels[i.severity],
                    "state": state_labels[i.state],
                    "opened": self._to_local_string(i.first_seen, scope),
                    "time_to_detect": _fmt(i.time_to_detect, 1) if i.failing_since else "",
                    "time_to_resolve": _fmt(i.time_to_resolve, 1) if i.state == "resolved" else "",
                }
                for i in top
            ],
        }

    @api.model
    def _workflow_rows(self, scope):
        Dashboard = self.env["ops.dashboard"]
        if Dashboard._readable("ops.workflow.run") is None:
            return []
        window = scope["window"]
        Run = self.env["ops.workflow.run"]
        domain = [*Dashboard._runs_domain(scope, window.start, window.end), ("status", "=", "completed")]
        rows = Run._read_group(
            domain,
            ["repository_id", "name"],
            ["__count", "duration:avg"],
            order="__count desc",
            limit=MAX_WORKFLOW_ROWS,
        )
        failures = {
            (repo.id, name): count
            for repo, name, count in Run._read_group(
                [*domain, ("outcome", "=", "failure")], ["repository_id", "name"], ["__count"]
            )
        }
        return [
            {
                "repository": repo.display_name,
                "workflow": name or _("(unnamed)"),
                "runs": count,
                "failures": failures.get((repo.id, name), 0),
                "avg_minutes": round(avg / 60.0, 1) if avg else None,
                "avg_display": _fmt(avg / 60.0 if avg else None, 1),
            }
            for repo, name, count, avg in rows
        ]

    @api.model
    def _ci_summary(self, scope, results, workflows):
        Dashboard = self.env["ops.dashboard"]
        if Dashboard._readable("ops.workflow.run") is None:
            return {"available": False}
        window = scope["window"]
        Run = self.env["ops.workflow.run"]
        outcomes = dict(
            Run._read_group(
                [*Dashboard._runs_domain(scope, window.start, window.end), ("status", "=", "completed")],
                ["outcome"],
                ["__count"],
            )
        )
        runs = sum(outcomes.values())
        healing = Dashboard._self_healing_aggregates(scope, window.start, window.end)
        ci_mttr = None
        Incident = Dashboard._readable("ops.incident")
        if Incident is not None:
            [(total, count)] = Incident._read_group(
                [
                    *Dashboard._incident_domain(scope),
                    ("source", "=", "ci"),
                    ("time_to_resolve", ">", 0),
                    *Dashboard._period_domain("resolved_at", window.start, window.end),
                ],
                [],
                ["time_to_resolve:sum", "__count"],
            )
            ci_mttr = kpis.mttr(total, count)
        return {
            "available": True,
            "runs": runs,
            "successes": outcomes.get("success", 0),
            "failures": outcomes.get("failure", 0),
            "cancelled": outcomes.get("cancelled", 0),
            "success_rate": _fmt(kpis.ratio_percent(outcomes.get("success", 0), runs), 1),
            "self_healed": healing["succeeded"] if healing else None,
            "self_heal_failed": healing["failed"] if healing else None,
            "avg_build_time": results["avg_build_time"].display,
            "mttr": kpis.format_value("mttr", ci_mttr),
            "workflows": workflows,
        }

    # ------------------------------------------------------------------
    # printing and the weekly email
    # ------------------------------------------------------------------
    @api.model
    def action_print(self, filters=None, report_type="qweb-html"):
        """The report action for the dashboard's filters (any Ops user may print it)."""
        action = self.env.ref(REPORT_XMLID).report_action(
            None, data={"filters": filters or {"period": "7d"}}, config=False
        )
        if report_type != "qweb-pdf":  # a PDF stays HTML when the server cannot make one (report/)
            action["report_type"] = report_type
        return action

    @api.model
    def _subscribers(self):
        """Internal users with an email who asked for the report and may read Ops data."""
        group = self.env.ref("ops_autopilot.group_ops_user")
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("ops_report_subscribed", "=", True),
                    ("share", "=", False),
                    ("email", "!=", False),
                    ("groups_id", "in", group.ids),
                ]
            )
        )

    @api.model
    def _cron_send_weekly_report(self):
        """Email each subscriber the last 7 days, computed with their own rights; one user failing skips only them."""
        template = self.env.ref(TEMPLATE_XMLID, raise_if_not_found=False)
        if not template:
            return 0
        users = self._subscribers()
        sent = 0
        for done, user in enumerate(users, start=1):
            try:
                with self.env.cr.savepoint():
                    self._send_report_to(user, template)
                sent += 1
            except Exception:  # one bad mailbox or rendering must not stop the others
                _logger.exception("Weekly health report to user %s failed", user.id)
            self._ops_commit()
            self._ops_notify_progress(done=done, remaining=len(users) - done)
        return sent

    @api.model
    def _send_report_to(self, user, template):
        companies = user.company_ids
        as_user = self.with_user(user).with_context(
            allowed_company_ids=[user.company_id.id, *(companies - user.company_id).ids],
            tz=user.tz or "UTC",
            lang=user.lang,
        )
        filters = {"period": "7d"}
        data = as_user._report_data(filters)
        report = as_user.env.ref(REPORT_XMLID)
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "ok" or self._ops_in_test():
            content, kind = report._render_qweb_pdf(REPORT_XMLID, data={"filters": filters})
        else:  # no wkhtmltopdf on this server: send the HTML report rather than nothing
            content, kind = report._render_qweb_html(REPORT_XMLID, [], data={"filters": filters})
        extension, mimetype = ("pdf", "application/pdf") if kind == "pdf" else ("html", "text/html")
        name = _(
            "Ops health report %(start)s to %(end)s", start=data["period"]["date_from"], end=data["period"]["date_to"]
        )
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{name}.{extension}",
                    "datas": base64.b64encode(content if isinstance(content, bytes) else content.encode()),
                    "mimetype": mimetype,
                    "res_model": "res.users",
                    "res_id": user.id,
                }
            )
        )
        summary = {k["key"]: k["display"] for k in data["kpis"]}
        template.sudo().with_context(
            lang=user.lang,
            ops_report_period=f"{data['period']['date_from']} to {data['period']['date_to']}",
            ops_report_summary=summary,
            ops_report_recommendations=[r["title"] for r in data["recommendations"][:5]],
            ops_report_incidents=data["incidents"].get("opened", 0),
            ops_report_mttd=data["incidents"].get("mttd", kpis.NO_DATA),
        ).send_mail(user.id, email_values={"attachment_ids": [(4, attachment.id)]})
        return attachment


def _fmt(value, digits):
    return "" if value is None else kpis.format_number(value, digits)
