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
from itertools import pairwise

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
        weeks, edges = self._cost_weeks(scope)
        scan = self._cost_scan(scope, window.start, window.end, edges)
        return {
            "available": True,
            "currency": "USD",
            "totals": self._cost_totals(scope, window.start, window.end, scan["totals"]),
            "weekly": self._cost_weekly(scope, weeks, edges, scan["weekly"]),
            "top_workflows": self._cost_top_workflows(scope, window.start, window.end, scan["workflows"]),
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
    def _cost_scan(self, scope, start, end, edges):
        """The priced jobs of the weeks around the period, in ONE scan: period totals, per workflow, per week.

        One hash aggregate per (repository, workflow) over the jobs between
        the first and last week edge (they hold the period): the period's
        sums ``FILTER``-ed to ``[start, end)``, and one sum per week. The
        totals are the sum of the workflows' rows (each job is in one). Minutes
        lost: a job of an earlier attempt of its run carries
        ``cost_superseded`` (written with its price, see
        :func:`cost.lost_reason`), so no join with the runs is needed.
        Returns ``{"totals": row, "workflows": [rows], "weekly": [cost per week]}``.
        """
        Job = self.env["ops.workflow.job"]
        query = Job._search(self._cost_jobs_domain(scope, edges[0], edges[-1]), order=None)
        job = SQL.identifier(query.table)

        def between(low, high):
            return SQL(
                "%s.started_at >= %s AND %s.started_at < %s",
                job,
                fields.Datetime.to_string(low),
                job,
                fields.Datetime.to_string(high),
            )

        period = between(start, end)
        rerun = SQL("%s AND %s.cost_superseded", period, job)
        failed = SQL("%s AND %s.cost_superseded IS NOT TRUE AND %s.outcome = 'failure'", period, job, job)
        query.groupby = SQL("%s.repository_id, %s.workflow_name", job, job)
        names = ("minutes", "cost", "rerun_minutes", "rerun_cost", "failed_minutes", "failed_cost", "jobs")
        select = query.select(
            SQL("%s.repository_id", job),
            SQL("%s.workflow_name", job),
            SQL("COALESCE(sum(%s.billable_minutes) FILTER (WHERE %s), 0)", job, period),
            SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, period),
            SQL("COALESCE(sum(%s.billable_minutes) FILTER (WHERE %s), 0)", job, rerun),
            SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, rerun),
            SQL("COALESCE(sum(%s.billable_minutes) FILTER (WHERE %s), 0)", job, failed),
            SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, failed),
            SQL("count(*) FILTER (WHERE %s)", period),
            *(
                SQL("COALESCE(sum(%s.cost) FILTER (WHERE %s), 0)", job, between(low, high))
                for low, high in pairwise(edges)
            ),
        )
        totals = dict.fromkeys(names, 0)
        weekly = [0.0] * (len(edges) - 1)
        workflows = []
        for repository_id, workflow, *sums in self.env.execute_query(select):
            row = dict(zip(names, sums[: len(names)], strict=True))
            for name in names:
                totals[name] += row[name]
            for index, week_cost in enumerate(sums[len(names) :]):
                weekly[index] += week_cost
            if row["cost"] > 0:
                workflows.append({"repository_id": repository_id, "workflow": workflow, **row})
        return {"totals": totals, "workflows": workflows, "weekly": [round(value, 4) for value in weekly]}

    @api.model
    def _cost_totals(self, scope, start, end, jobs):
        """The period's minutes and USD, those lost to re-runs and to failures (from :meth:`_cost_scan`), and AI."""
        minutes, ci = jobs["minutes"], jobs["cost"]
        rerun_minutes, rerun_cost = jobs["rerun_minutes"], jobs["rerun_cost"]
        failed_minutes, failed_cost = jobs["failed_minutes"], jobs["failed_cost"]
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
            "jobs": jobs["jobs"],
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
    def _cost_weekly(self, scope, weeks, edges, ci):
        """CI (``ci``, from :meth:`_cost_scan`) and AI cost per local week."""
        ai = [0.0] * len(weeks)
        if self._readable("ops.review") is not None:
            ai = self._cost_by_week(
                self.env["ops.review"], self._cost_ai_domain(scope, edges[0], edges[-1]), "ai_called_at", "cost", edges
            )
        return {
            "keys": [fields.Date.to_string(week.date()) for week in weeks],
            "labels": [self._short_date(week.date()) for week in weeks],
            "ci": ci,
            "ai": ai,
        }

    @api.model
    def _cost_top_workflows(self, scope, start, end, workflows):
        """The TOP_WORKFLOWS workflows (rows of :meth:`_cost_scan`) costing most in the period; each opens its jobs."""
        domain = self._cost_jobs_domain(scope, start, end)
        top = sorted(workflows, key=lambda row: (-row["cost"], -row["minutes"], row["workflow"] or ""))[:TOP_WORKFLOWS]
        repositories = self.env["ops.repository"].browse([row["repository_id"] for row in top])
        names = {repo.id: repo.display_name for repo in repositories}
        return [
            {
                "repository": names.get(row["repository_id"], ""),
                "workflow": row["workflow"] or _("(unnamed)"),
                "cost": round(row["cost"], 4),
                "minutes": int(row["minutes"]),
                "jobs": row["jobs"],
                "action": self._records_action(
                    _("Jobs of %s", row["workflow"] or "?"),
                    "ops.workflow.job",
                    [*domain, ("repository_id", "=", row["repository_id"]), ("workflow_name", "=", row["workflow"])],
                ),
            }
            for row in top
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
