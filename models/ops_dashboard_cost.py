"""The dashboard's cost panel (data key ``cost``) and the weekly report's cost block.

Grouped SQL only, as the calling user (access rights and record rules
apply): one scan of the period's priced jobs joined to their runs (totals
and minutes lost to re-runs and failures), one per source for the weekly
series (jobs, AI reviews), one for the most expensive workflows, two for
the month's spend per repository, one for incidents. Nothing is loaded per
job, so 100k jobs cost one index range scan each. Job costs are written
when jobs complete (``ops_workflow_job_cost.py``); the rules are in
:mod:`..autopilot.delivery.cost`.
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..autopilot.delivery import cost
from .ops_params import get_param
from .ops_review import month_start

#: the cost-per-week chart shows the weeks of the period, at least this many (the last one holding its end)
MIN_COST_WEEKS = 4
TOP_WORKFLOWS = 5
BUDGET_ROWS = 8


class OpsDashboard(models.AbstractModel):
    _inherit = "ops.dashboard"

    @api.model
    def _cost_data(self, scope):
        """What CI and AI cost in the scope's period, per week, per workflow and against the monthly budgets."""
        Job = self._readable("ops.workflow.job")
        if Job is None:
            return {"available": False}
        window = scope["window"]
        totals = self._cost_totals(scope, window.start, window.end)
        return {
            "available": True,
            "currency": "USD",
            "totals": totals,
            "weekly": self._cost_weekly(scope),
            "top_workflows": self._cost_top_workflows(scope, window.start, window.end),
            "budgets": self._cost_budgets(scope),
            "incidents": self._cost_incidents(scope, window.start, window.end),
            "jobs_action": self._records_action(
                _("Priced jobs"), "ops.workflow.job", self._cost_jobs_domain(scope, window.start, window.end)
            ),
        }

    # ------------------------------------------------------------------
    @api.model
    def _cost_jobs_domain(self, scope, start, end):
        return [
            *self._period_domain("started_at", start, end),
            *self._repository_domain(scope),
            ("cost_priced", "=", True),
        ]

    @api.model
    def _cost_ai_domain(self, scope, start, end):
        return [*self._period_domain("ai_called_at", start, end), *self._repository_domain(scope)]

    @api.model
    def _cost_totals(self, scope, start, end):
        """Minutes and USD of the period's jobs, those lost to re-runs (earlier attempts) and to failures, and AI.

        One scan of the period's priced jobs; a job of an earlier attempt of
        its run carries ``cost_superseded`` (written with its price, see
        :func:`cost.lost_reason`), so no join with the runs is needed.
        """
        Job = self.env["ops.workflow.job"]
        query = Job._search(self._cost_jobs_domain(scope, start, end), order=None)
        job = SQL.identifier(query.table)
        rerun = SQL("%s.cost_superseded", job)
        failed = SQL("%s.cost_superseded IS NOT TRUE AND %s.outcome = 'failure'", job, job)
        select = query.select(
            SQL("COALESCE(sum(%s.billable_minutes), 0)", job),
            SQL("COALESCE(sum(%s.cost), 0)", job),
            SQL("COALESCE(sum(%s.billable_minutes) FILTER (WHERE %s), 0)", job, rerun),
            SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, rerun),
            SQL("COALESCE(sum(%s.billable_minutes) FILTER (WHERE %s), 0)", job, failed),
            SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, failed),
            SQL("count(*)"),
        )
        [(minutes, ci, rerun_minutes, rerun_cost, failed_minutes, failed_cost, jobs)] = self.env.execute_query(select)
        ai = {"cost": 0.0, "tokens": 0, "calls": 0}
        Review = self._readable("ops.review")
        if Review is not None:
            [(ai_cost, tokens_in, tokens_out, calls)] = Review._read_group(
                self._cost_ai_domain(scope, start, end),
                [],
                ["cost:sum", "input_tokens:sum", "output_tokens:sum", "__count"],
            )
            ai = {"cost": round(ai_cost or 0.0, 4), "tokens": (tokens_in or 0) + (tokens_out or 0), "calls": calls}
        return {
            "jobs": jobs,
            "ci_minutes": int(minutes),
            "ci_cost": round(ci, 4),
            "ai_cost": ai["cost"],
            "ai_tokens": ai["tokens"],
            "ai_calls": ai["calls"],
            "ai_available": Review is not None,
            "total_cost": round(ci + ai["cost"], 4),
            "lost": {
                cost.LOST_RERUN: {"minutes": int(rerun_minutes), "cost": round(rerun_cost, 4)},
                cost.LOST_FAILURE: {"minutes": int(failed_minutes), "cost": round(failed_cost, 4)},
            },
        }

    @api.model
    def _cost_weeks(self, scope):
        """The local week starts (Mondays) of the period's weeks (at least MIN_COST_WEEKS), and their UTC edges.

        ``edges`` has one more UTC instant than weeks (each local Monday 00:00, DST included): rows are put in
        their week by ``width_bucket`` over them, with no time zone conversion per row.
        """
        tz = scope["tz"]
        local_end = self._to_local(scope["window"].end - timedelta(seconds=1), scope)
        last = (local_end - timedelta(days=local_end.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        local_start = self._to_local(scope["window"].start, scope)
        first = (local_start - timedelta(days=local_start.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        count = max((last - first).days // 7 + 1, MIN_COST_WEEKS)
        weeks = [last - timedelta(weeks=n) for n in reversed(range(count))]
        edges = [self._to_utc(week, tz) for week in [*weeks, last + timedelta(weeks=1)]]
        return weeks, edges

    @api.model
    def _cost_by_week(self, Model, domain, date_field, sum_field, edges):
        """``[sum per week]`` of ``sum_field`` over the weeks between ``edges``: one grouped SQL query."""
        query = Model._search(domain, order=None)
        table = SQL.identifier(query.table)
        bucket = SQL(
            "width_bucket(%s.%s, %s::timestamp[])",
            table,
            SQL.identifier(date_field),
            [fields.Datetime.to_string(edge) for edge in edges],
        )
        query.groupby = bucket
        select = query.select(bucket, SQL("COALESCE(sum(%s.%s), 0)", table, SQL.identifier(sum_field)))
        sums = [0.0] * (len(edges) - 1)
        for index, total in self.env.execute_query(select):
            if 1 <= index <= len(sums):
                sums[index - 1] = round(total, 4)
        return sums

    @api.model
    def _cost_weekly(self, scope):
        weeks, edges = self._cost_weeks(scope)
        start, end = edges[0], edges[-1]
        ci = self._cost_by_week(
            self.env["ops.workflow.job"], self._cost_jobs_domain(scope, start, end), "started_at", "cost", edges
        )
        ai = [0.0] * len(weeks)
        if self._readable("ops.review") is not None:
            ai = self._cost_by_week(
                self.env["ops.review"], self._cost_ai_domain(scope, start, end), "ai_called_at", "cost", edges
            )
        return {
            "keys": [fields.Date.to_string(week.date()) for week in weeks],
            "labels": [self._short_date(week.date()) for week in weeks],
            "ci": ci,
            "ai": ai,
        }

    @api.model
    def _cost_top_workflows(self, scope, start, end):
        """The TOP_WORKFLOWS workflows whose jobs cost most in the period; each opens its jobs."""
        domain = self._cost_jobs_domain(scope, start, end)
        groups = self.env["ops.workflow.job"]._read_group(
            [*domain, ("cost", ">", 0)],
            ["repository_id", "workflow_name"],
            ["cost:sum", "billable_minutes:sum", "__count"],
            order="cost:sum desc, billable_minutes:sum desc",
            limit=TOP_WORKFLOWS,
        )
        return [
            {
                "repository": repo.display_name,
                "workflow": name or _("(unnamed)"),
                "cost": round(total or 0.0, 4),
                "minutes": minutes or 0,
                "jobs": count,
                "action": self._records_action(
                    _("Jobs of %s", name or "?"),
                    "ops.workflow.job",
                    [*domain, ("repository_id", "=", repo.id), ("workflow_name", "=", name)],
                ),
            }
            for repo, name, total, minutes, count in groups
        ]

    @api.model
    def _cost_budgets(self, scope):
        """This month's spend against the budget of the repositories the user may read, fullest first."""
        if self._readable("ops.repository") is None:
            return []
        domain = [("id", "=", scope["repository"].id)] if scope["repository"] else []
        repositories = self.env["ops.repository"].search(domain)
        spend = repositories._cost_spent_by_repository(month_start(), repositories=repositories)
        rows = []
        for repo in repositories:
            budget, currency = repo._cost_budget()
            ci, ai = spend.get(repo.id, (0.0, 0.0))
            if budget <= 0 and not (ci or ai):
                continue
            spent = repo._cost_in(ci + ai, currency)
            rows.append(
                {
                    "id": repo.id,
                    "repository": repo.display_name,
                    "spent": round(spent, 2),
                    "budget": round(budget, 2),
                    "currency": currency.name,
                    "percent": cost.budget_percent(spent, budget),
                    "state": cost.budget_state(spent, budget),
                }
            )
        rows.sort(key=lambda row: (-(row["percent"] or -1), -row["spent"], row["repository"]))
        return rows[:BUDGET_ROWS]

    @api.model
    def _cost_incidents(self, scope, start, end):
        """The period's resolved incidents: summed time to resolve x the hourly cost (counted as MTTR is)."""
        Incident = self._readable("ops.incident")
        if Incident is None:
            return {"available": False}
        domain = [
            *self._incident_domain(scope),
            *self._period_domain("resolved_at", start, end),
            ("time_to_resolve", ">", 0),
            ("false_positive", "=", False),
        ]
        [(minutes, count)] = Incident._read_group(domain, [], ["time_to_resolve:sum", "__count"])
        hourly = get_param(self.env, "incident_hourly_cost")
        return {
            "available": True,
            "priced": hourly > 0,
            "count": count,
            "hours": round((minutes or 0.0) / 60.0, 1),
            "cost": cost.incident_cost(minutes or 0.0, hourly),
            "currency": self.env.company.currency_id.name,
        }
