"""Data of the Ops Autopilot dashboard: one RPC, aggregates only, as the calling user.

Every figure comes from ``_read_group`` (SQL ``GROUP BY`` over indexed
columns, with the user's access rights and multi-company record rules
applied), never from records loaded into Python; health figures come from
the hourly rollups, not from raw samples. The engine
(:mod:`..autopilot.kpis`) turns the aggregates into KPIs, targets and trends.

Each source (workflow runs and jobs, incidents, remediation actions, health
targets and rollups, flaky signatures) is read only when the user may read
it; otherwise its KPIs say "no data".
"""

import dataclasses
from datetime import timedelta

import babel.dates
import pytz

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import babel_locale_parse

from .. import const
from ..autopilot import kpis

#: incident severities, most severe first
SEVERITIES = tuple(key for key, _label in reversed(const.SEVERITIES))
LIST_LIMIT = 8
MAX_WORKFLOW_SERIES = 5
MAX_TARGET_SERIES = 8
HOURLY_ROLLUP = "ops.health.sample.hourly"
DAILY_ROLLUP = "ops.health.sample.daily"
EMPTY_HEALTH = {"checks": 0, "failed": 0, "up": 0, "total_ms": 0.0, "timed": 0, "max_cpu": None, "max_memory": None}


class OpsDashboard(models.AbstractModel):
    _name = "ops.dashboard"
    _description = "Ops Autopilot dashboard data"

    # ------------------------------------------------------------------
    # the RPC
    # ------------------------------------------------------------------
    @api.model
    def get_dashboard_data(self, filters=None):
        """Everything the dashboard shows for ``filters`` (period, dates, repository, target)."""
        scope = self._dashboard_scope(filters or {})
        window = scope["window"]
        current = self._kpi_aggregates(scope, window.start, window.end)
        previous = self._kpi_aggregates(scope, window.previous_start, window.previous_end)
        tiles = []
        for key in kpis.KPI_ORDER:
            tile = kpis.evaluate(key, current.get(key), previous.get(key)).as_dict()
            tile["available"] = current.get(key) is not None
            tile["action"] = self._kpi_action(key, scope)
            tiles.append(tile)
        runs = self._runs_summary(scope)
        charts = {
            "runs_per_day": self._chart_runs_per_day(scope, runs),
            "build_time": self._chart_build_time(scope, runs),
            "health": self._chart_health(scope),
            "incidents": self._chart_incidents(scope),
        }
        for chart in charts.values():
            chart["keys"] = chart["labels"]
            chart["labels"] = self._axis_labels(chart["keys"], window.bucket)
        return {
            "filters": self._filters_out(scope),
            "options": self._filter_options(),
            "tiles": tiles,
            "charts": charts,
            "lists": {
                "open_incidents": self._list_open_incidents(scope),
                "failing_workflows": self._list_failing_workflows(scope, runs),
                "flaky_jobs": self._list_flaky_jobs(scope),
                "pending_approvals": self._list_pending_approvals(scope),
            },
            "business": self._business_panel(scope),
            "cost": self._cost_data(scope),
            "freeze": self._freeze_data(scope),  # ops_dashboard_freeze.py
            "delivery": self._delivery_data(scope),
            "subscribed": bool(self.env.user.ops_report_subscribed),
            "generated_at": fields.Datetime.to_string(fields.Datetime.now()),
        }

    @api.model
    def toggle_report_subscription(self, subscribed):
        """Subscribe (or not) the current user to the weekly health report email."""
        self.env.user.write({"ops_report_subscribed": bool(subscribed)})
        return bool(self.env.user.ops_report_subscribed)

    # ------------------------------------------------------------------
    # filters
    # ------------------------------------------------------------------
    @api.model
    def _dashboard_scope(self, filters, now=None):
        """Validated filters: the period's :class:`kpis.Window` and records the user may read."""
        period = filters.get("period") or kpis.DEFAULT_PERIOD
        try:
            window = kpis.window(period, now or fields.Datetime.now(), filters.get("date_from"), filters.get("date_to"))
        except ValueError:
            window = kpis.window(kpis.DEFAULT_PERIOD, now or fields.Datetime.now())
        tz = self._tz()
        if window.period == "custom":  # the custom dates are the user's local days
            window = dataclasses.replace(
                window,
                start=self._to_utc(window.start, tz),
                end=self._to_utc(window.end, tz),
                previous_start=self._to_utc(window.previous_start, tz),
                previous_end=self._to_utc(window.previous_end, tz),
            )
        repository = self._readable_record("ops.repository", filters.get("repository_id"))
        target = self._readable_record("ops.health.target", filters.get("target_id"))
        return {
            "window": window,
            "start": fields.Datetime.to_string(window.start),
            "end": fields.Datetime.to_string(window.end),
            "repository": repository,
            "target": target,
            "tz": tz,
        }

    @api.model
    def _readable_record(self, model, record_id):
        if not record_id or self._readable(model) is None:
            return None
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            return None
        return self.env[model].search([("id", "=", record_id)], limit=1) or None

    @api.model
    def _tz(self):
        name = self.env.context.get("tz") or self.env.user.tz or "UTC"
        return pytz.timezone(name) if name in pytz.all_timezones_set else pytz.utc

    @api.model
    def _filters_out(self, scope):
        window = scope["window"]
        local_end = self._to_local(window.end - timedelta(seconds=1), scope)
        return {
            "period": window.period,
            "date_from": self._to_local(window.start, scope).date().isoformat(),
            "date_to": local_end.date().isoformat(),
            "start": scope["start"],
            "end": scope["end"],
            "repository_id": scope["repository"].id if scope["repository"] else False,
            "target_id": scope["target"].id if scope["target"] else False,
            "bucket": window.bucket,
        }

    @api.model
    def _filter_options(self):
        options = {"repositories": [], "targets": []}
        if self._readable("ops.repository") is not None:
            repos = self.env["ops.repository"].search_read([], ["full_name"], order="full_name", limit=200)
            options["repositories"] = [{"id": r["id"], "name": r["full_name"]} for r in repos]
        if self._readable("ops.health.target") is not None:
            targets = self.env["ops.health.target"].search_read([], ["display_name"], limit=200)
            options["targets"] = [{"id": t["id"], "name": t["display_name"]} for t in targets]
        return options

    # ------------------------------------------------------------------
    # sources
    # ------------------------------------------------------------------
    @api.model
    def _readable(self, model):
        """The model when the user may read it, else None (its KPIs and lists then say "no data")."""
        Model = self.env[model]
        return Model if Model.has_access("read") else None

    @api.model
    def _period_domain(self, field_name, start, end):
        return [(field_name, ">=", fields.Datetime.to_string(start)), (field_name, "<", fields.Datetime.to_string(end))]

    @api.model
    def _repository_domain(self, scope):
        return [("repository_id", "=", scope["repository"].id)] if scope["repository"] else []

    @api.model
    def _target_domain(self, scope):
        return [("target_id", "=", scope["target"].id)] if scope["target"] else []

    # --- workflow runs --------------------------------------------------
    @api.model
    def _runs_domain(self, scope, start, end):
        return self._period_domain("started_at", start, end) + self._repository_domain(scope)

    @api.model
    def _completed_runs_domain(self, scope, start, end):
        return [*self._runs_domain(scope, start, end), ("status", "=", "completed"), ("duration", ">", 0)]

    # --- incidents (opened: first_seen, resolved: resolved_at) ----------
    @api.model
    def _incident_domain(self, scope):
        return self._target_domain(scope) + self._repository_domain(scope)

    # --- health rollups -------------------------------------------------
    @api.model
    def _health_parts(self, start, end):
        """``[(rollup model, start, end)]`` covering ``[start, end)``: whole UTC days from the daily rollup.

        The daily rollup holds the same sums as the hourly one (both are computed from the raw
        samples by the same cron) in 24 times fewer rows, and outlives it; the hours before the
        first and after the last whole day come from the hourly rollup.
        """
        hourly, daily = self._readable(HOURLY_ROLLUP), self._readable(DAILY_ROLLUP)
        first_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if first_day < start:
            first_day += timedelta(days=1)
        last_day = end.replace(hour=0, minute=0, second=0, microsecond=0)
        if daily is None or last_day <= first_day:
            return [(hourly, start, end)]
        return [(hourly, start, first_day), (daily, first_day, last_day), (hourly, last_day, end)]

    @api.model
    def _rollup_domain(self, Rollup, scope, start, end, target_ids=None):
        if Rollup._name == DAILY_ROLLUP:  # its buckets are dates
            domain = [
                ("bucket", ">=", fields.Date.to_string(start.date())),
                ("bucket", "<", fields.Date.to_string(end.date())),
            ]
        else:
            domain = self._period_domain("bucket", start, end)
        if target_ids is not None:
            domain.append(("target_id", "in", list(target_ids)))
        return domain + self._target_domain(scope)

    @api.model
    def _health_rows(self, scope, start, end, group_target=False, bucket=None, target_ids=None):
        """Health figures summed from the rollups, as the user (access rights and record rules apply).

        One row per (target, local ``bucket``) when asked, else one row: ``checks``,
        ``failed``, ``up``, ``total_ms`` (mean response x successful checks, so means
        are weighted by checks), ``timed``, ``max_cpu``, ``max_memory`` (peaks of the
        rollups' means). SQL aggregates over the ``bucket`` index, never records.
        Local buckets are read from the hourly rollup; plain sums take whole UTC days
        from the daily rollup (:meth:`_health_parts`).
        """
        hourly = self._readable(HOURLY_ROLLUP)
        if hourly is None:
            return None
        parts = [(hourly, start, end)] if bucket else self._health_parts(start, end)
        merged = {}
        for Rollup, part_start, part_end in parts:
            if part_start >= part_end:
                continue
            domain = self._rollup_domain(Rollup, scope, part_start, part_end, target_ids)
            for key, values in self._health_query(Rollup, domain, scope, group_target, bucket):
                row = merged.get(key)
                if row is None:
                    merged[key] = values
                    continue
                for name in ("checks", "failed", "up", "total_ms", "timed"):
                    row[name] += values[name]
                for name in ("max_cpu", "max_memory"):
                    peaks = [v for v in (row[name], values[name]) if v is not None]
                    row[name] = max(peaks) if peaks else None
        if not merged and not group_target and not bucket:
            return [dict(EMPTY_HEALTH)]
        return list(merged.values())

    @api.model
    def _health_query(self, Rollup, domain, scope, group_target, bucket):
        """``(key, row)`` pairs of one rollup model's sums (see :meth:`_health_rows`)."""
        query = Rollup._search(domain, order=None)
        table = SQL.identifier(query.table)
        keys = []
        if group_target:
            keys.append(SQL("%s.target_id", table))
        if bucket:
            keys.append(
                SQL("date_trunc(%s, timezone(%s, timezone('UTC', %s.bucket)))", bucket, scope["tz"].zone, table)
            )
        columns = SQL(
            """sum({t}.sample_count), sum({t}.failure_count),
               sum({t}.avg_response_ms * ({t}.sample_count - {t}.failure_count)),
               sum({t}.sample_count - {t}.failure_count) FILTER (WHERE {t}.avg_response_ms IS NOT NULL),
               max({t}.avg_cpu_percent), max({t}.avg_memory_percent)""".replace("{t}", "%(t)s"),
            t=table,
        )
        if keys:
            query.groupby = SQL(", ").join(keys)
        result = []
        for row in self.env.execute_query(query.select(*keys, columns)):
            key_values, (checks, failed, total_ms, timed, cpu, memory) = row[: len(keys)], row[len(keys) :]
            if checks is None and not keys:
                continue  # no rollup row in this part
            checks, failed = checks or 0, failed or 0
            item = {
                "checks": checks,
                "failed": failed,
                "up": checks - failed,
                "total_ms": total_ms or 0.0,
                "timed": timed or 0,
                "max_cpu": cpu,
                "max_memory": memory,
            }
            values = list(key_values)
            if group_target:
                item["target_id"] = values.pop(0)
            if bucket:
                item["bucket"] = values.pop(0)
            result.append((tuple(key_values), item))
        return result

    # ------------------------------------------------------------------
    # KPI aggregates (one dict per KPI, None when its source is absent)
    # ------------------------------------------------------------------
    @api.model
    def _kpi_aggregates(self, scope, start, end):
        result = dict.fromkeys(kpis.KPI_ORDER)
        result["cache_hit_rate"] = self._cache_aggregates(scope, start, end)
        result["self_healing_success_rate"] = self._self_healing_aggregates(scope, start, end)
        result["avg_build_time"] = self._build_time_aggregates(scope, start, end)
        result.update(self._incident_aggregates(scope, start, end))
        result.update(self._health_aggregates(scope, start, end))
        return result

    @api.model
    def _build_time_aggregates(self, scope, start, end):
        if self._readable("ops.workflow.run") is None:
            return None
        [(total, count)] = self.env["ops.workflow.run"]._read_group(
            self._completed_runs_domain(scope, start, end), [], ["duration:sum", "__count"]
        )
        return {"total_seconds": total or 0.0, "runs": count}

    @api.model
    def _cache_domain(self, scope, start, end):
        """Jobs whose fetched log restored a cache in the period (the CI self-healing parses the logs)."""
        return [
            *self._period_domain("log_fetched_at", start, end),
            *self._repository_domain(scope),
            ("log_fetched", "=", True),
            "|",
            ("cache_hits", ">", 0),
            ("cache_misses", ">", 0),
        ]

    @api.model
    def _cache_aggregates(self, scope, start, end):
        """Cache restores read from fetched job logs; None when the user may not read jobs."""
        Job = self._readable("ops.workflow.job")
        if Job is None:
            return None
        [(hits, misses)] = Job._read_group(
            self._cache_domain(scope, start, end), [], ["cache_hits:sum", "cache_misses:sum"]
        )
        return {"hits": hits or 0, "misses": misses or 0}

    @api.model
    def _rerun_domain(self, scope, start, end):
        """Self-healing re-runs of failed jobs that finished in the period."""
        return [
            ("kind", "=", "rerun_jobs"),
            ("state", "in", ("succeeded", "failed")),
            *self._period_domain("finished_at", start, end),
            *self._repository_domain(scope),
        ]

    @api.model
    def _self_healing_aggregates(self, scope, start, end):
        Action = self._readable("ops.remediation.action")
        if Action is None:
            return None
        groups = dict(Action._read_group(self._rerun_domain(scope, start, end), ["state"], ["__count"]))
        return {"succeeded": groups.get("succeeded", 0), "failed": groups.get("failed", 0)}

    @api.model
    def _incident_aggregates(self, scope, start, end):
        Incident = self._readable("ops.incident")
        if Incident is None:
            return {}
        base = self._incident_domain(scope)
        groups = dict(
            Incident._read_group(base + self._period_domain("first_seen", start, end), ["false_positive"], ["__count"])
        )
        domain = [
            *base,
            *self._period_domain("resolved_at", start, end),
            ("time_to_resolve", ">", 0),
            ("false_positive", "=", False),
        ]
        [(total, count)] = Incident._read_group(domain, [], ["time_to_resolve:sum", "__count"])
        return {
            "false_positive_rate": {"false_positives": groups.get(True, 0), "incidents": sum(groups.values())},
            "mttr": {"total_minutes": total or 0.0, "resolved": count},
        }

    @api.model
    def _health_aggregates(self, scope, start, end):
        rows = self._health_rows(scope, start, end)
        if rows is None:
            return {}
        [totals] = rows
        return {
            "uptime": {"up": totals["up"], "checks": totals["checks"]},
            "error_rate": {"failed": totals["failed"], "checks": totals["checks"]},
            "avg_response_time": {"total_ms": totals["total_ms"], "timed_checks": totals["timed"]},
        }

    # ------------------------------------------------------------------
    # actions behind the tiles and lists
    # ------------------------------------------------------------------
    @api.model
    def _records_action(self, name, model, domain):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "views": [[False, "list"], [False, "form"]],
            "domain": domain,
            "context": {},
            "target": "current",
        }

    @api.model
    def _kpi_action(self, key, scope):
        """The records behind the KPI ``key`` (None when the user may not read them)."""
        start, end = scope["window"].start, scope["window"].end
        if key == "avg_build_time":
            model, name = "ops.workflow.run", _("Completed runs")
            domain = self._completed_runs_domain(scope, start, end)
        elif key == "cache_hit_rate":
            model, name = "ops.workflow.job", _("Jobs with cache restores")
            domain = self._cache_domain(scope, start, end)
        elif key == "self_healing_success_rate":
            model, name = "ops.remediation.action", _("Self-healing re-runs")
            domain = self._rerun_domain(scope, start, end)
        elif key in ("false_positive_rate", "mttr"):
            model, name = "ops.incident", kpis.KPIS[key].label
            date_field = "first_seen" if key == "false_positive_rate" else "resolved_at"
            domain = self._incident_domain(scope) + self._period_domain(date_field, start, end)
        elif key in ("uptime", "avg_response_time", "error_rate"):
            model, name = HOURLY_ROLLUP, _("Health per hour")
            domain = self._period_domain("bucket", start, end) + self._target_domain(scope)
        else:
            return None
        if self._readable(model) is None:
            return None
        return self._records_action(name, model, domain)

    # ------------------------------------------------------------------
    # charts
    # ------------------------------------------------------------------
    @api.model
    def _to_utc(self, local_moment, tz):
        return tz.localize(local_moment).astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def _to_local(self, moment, scope):
        return pytz.utc.localize(moment).astimezone(scope["tz"]).replace(tzinfo=None)

    @api.model
    def _bucket_labels(self, scope):
        window = scope["window"]
        local = kpis.buckets(self._to_local(window.start, scope), self._to_local(window.end, scope), window.bucket)
        return [kpis.bucket_key(moment, window.bucket) for moment in local]

    @api.model
    def _axis_labels(self, keys, bucket):
        """What the x axis shows for the bucket ``keys``: hours as ``"14:00"``, days as short dates (``"6 Dec"``)."""
        if bucket == "hour":
            return [key[11:16] for key in keys]
        return [self._short_date(fields.Date.to_date(key)) for key in keys]

    @api.model
    def _short_date(self, day):
        """``day`` as a short date in the user's language (``"6 Dec"``, ``"6 déc."``)."""
        locale = babel_locale_parse(self.env.context.get("lang") or self.env.user.lang or "en_US")
        return babel.dates.format_date(day, format="d MMM", locale=locale)

    @api.model
    def _key(self, value, scope):
        return kpis.bucket_key(value, scope["window"].bucket) if value else None

    @api.model
    def _runs_summary(self, scope):
        """The period's workflow runs in one SQL scan, as the user: one row per (local bucket, repository,
        workflow, outcome) with ``count``, ``completed``, ``timed`` / ``seconds`` (completed runs with a
        duration, for build times) and ``last`` (latest start). The runs chart, the build-time chart
        and the failing-workflows list are all read from it. None when runs are not readable.
        """
        if self._readable("ops.workflow.run") is None:
            return None
        window = scope["window"]
        Run = self.env["ops.workflow.run"]
        query = Run._search(self._runs_domain(scope, window.start, window.end), order=None)
        table = SQL.identifier(query.table)
        keys = [
            SQL("date_trunc(%s, timezone(%s, timezone('UTC', %s.started_at)))", window.bucket, scope["tz"].zone, table),
            SQL("%s.repository_id", table),
            SQL("%s.name", table),
            SQL("%s.outcome", table),
        ]
        query.groupby = SQL(", ").join(keys)
        done = SQL("%s.status = 'completed'", table)
        timed = SQL("%s AND %s.duration > 0", done, table)
        select = query.select(
            *keys,
            SQL("count(*)"),
            SQL("count(*) FILTER (WHERE %s)", done),
            SQL("count(*) FILTER (WHERE %s)", timed),
            SQL("sum(%s.duration) FILTER (WHERE %s)", table, timed),
            SQL("max(%s.started_at)", table),
        )
        names = ("bucket", "repository_id", "name", "outcome", "count", "completed", "timed", "seconds", "last")
        return [dict(zip(names, row, strict=True)) for row in self.env.execute_query(select)]

    @api.model
    def _chart_runs_per_day(self, scope, runs=None):
        labels = self._bucket_labels(scope)
        runs = self._runs_summary(scope) if runs is None else runs
        if runs is None:
            return {"labels": labels, "datasets": [], "available": False}
        index = {label: i for i, label in enumerate(labels)}
        series = {}
        for row in runs:
            key = self._key(row["bucket"], scope)
            if key in index:
                series.setdefault(row["outcome"] or "other", [0] * len(labels))[index[key]] += row["count"]
        order = ["success", "failure", "cancelled", "running", "queued", "skipped", "other"]
        datasets = [{"key": o, "label": o.capitalize(), "data": series[o]} for o in order if o in series]
        return {"labels": labels, "datasets": datasets, "available": True}

    @api.model
    def _chart_build_time(self, scope, runs=None):
        """Mean build time per bucket of the MAX_WORKFLOW_SERIES workflows with the most completed runs."""
        labels = self._bucket_labels(scope)
        runs = self._runs_summary(scope) if runs is None else runs
        if runs is None:
            return {"labels": labels, "datasets": [], "available": False}
        per_name = {}
        for row in runs:
            if row["timed"] and row["name"]:
                per_name[row["name"]] = per_name.get(row["name"], 0) + row["timed"]
        names = sorted(per_name, key=lambda name: (-per_name[name], name))[:MAX_WORKFLOW_SERIES]
        index = {label: i for i, label in enumerate(labels)}
        sums = {}
        for row in runs:
            key = self._key(row["bucket"], scope)
            if row["timed"] and row["name"] in names and key in index:
                total = sums.setdefault((row["name"], key), [0.0, 0])
                total[0] += row["seconds"] or 0.0
                total[1] += row["timed"]
        series = {name: [None] * len(labels) for name in names}
        for (name, key), (seconds, count) in sums.items():
            series[name][index[key]] = round(seconds / count / 60.0, 2)
        datasets = [{"key": name, "label": name, "data": series[name]} for name in names]
        return {"labels": labels, "datasets": datasets, "available": True, "unit": "min"}

    @api.model
    def _chart_targets(self, scope):
        """The targets the health charts show: the MAX_TARGET_SERIES with the lowest uptime, then slowest.

        Returns ``(ids, number of targets with checks in the period)``.
        """
        window = scope["window"]
        totals = self._health_rows(scope, window.start, window.end, group_target=True) or []

        def badness(row):
            uptime = kpis.uptime(row["up"], row["checks"])
            response = kpis.avg_response_time(row["total_ms"], row["timed"])
            return (100.0 if uptime is None else uptime, -(response or 0.0), row["target_id"])

        worst = sorted(totals, key=badness)[:MAX_TARGET_SERIES]
        return [row["target_id"] for row in worst], len(totals)

    @api.model
    def _chart_health(self, scope):
        labels = self._bucket_labels(scope)
        window = scope["window"]
        if self._readable(HOURLY_ROLLUP) is None:
            return {"labels": labels, "response": [], "uptime": [], "available": False}
        target_ids, total = self._chart_targets(scope)
        rows = self._health_rows(
            scope, window.start, window.end, group_target=True, bucket=window.bucket, target_ids=target_ids
        )
        targets = (
            self.env["ops.health.target"]
            .with_context(active_test=False)
            .search_read([("id", "in", target_ids)], ["display_name"])
        )
        names = {t["id"]: t["display_name"] for t in targets}
        index = {label: i for i, label in enumerate(labels)}
        response, up = {}, {}
        for row in rows:
            key = self._key(row["bucket"], scope)
            label = names.get(row["target_id"])
            if key not in index or not label:
                continue
            response.setdefault(label, [None] * len(labels))
            up.setdefault(label, [None] * len(labels))
            average = kpis.avg_response_time(row["total_ms"], row["timed"])
            response[label][index[key]] = None if average is None else round(average, 1)
            ratio = kpis.uptime(row["up"], row["checks"])
            up[label][index[key]] = None if ratio is None else round(ratio, 2)
        return {
            "labels": labels,
            "response": [{"key": k, "label": k, "data": v} for k, v in sorted(response.items())],
            "uptime": [{"key": k, "label": k, "data": v} for k, v in sorted(up.items())],
            "shown": len(target_ids),
            "targets": total,
            "available": True,
        }

    @api.model
    def _chart_incidents(self, scope):
        labels = self._bucket_labels(scope)
        Incident = self._readable("ops.incident")
        if Incident is None:
            return {"labels": labels, "datasets": [], "available": False}
        window = scope["window"]
        base = self._incident_domain(scope)
        index = {label: i for i, label in enumerate(labels)}
        datasets = []
        series = (("opened", _("Opened"), "first_seen"), ("resolved", _("Resolved"), "resolved_at"))
        for key, label, field_name in series:
            data = [0] * len(labels)
            rows = Incident._read_group(
                base + self._period_domain(field_name, window.start, window.end),
                [f"{field_name}:{window.bucket}"],
                ["__count"],
            )
            for moment, count in rows:
                bucket = self._key(moment, scope)
                if bucket in index:
                    data[index[bucket]] += count
            datasets.append({"key": key, "label": label, "data": data})
        return {"labels": labels, "datasets": datasets, "available": True}

    # ------------------------------------------------------------------
    # lists
    # ------------------------------------------------------------------
    @api.model
    def _list_open_incidents(self, scope):
        Incident = self._readable("ops.incident")
        if Incident is None:
            return {"available": False, "by_severity": [], "records": []}
        domain = [("state", "!=", "resolved"), *self._incident_domain(scope)]
        counts = dict(Incident._read_group(domain, ["severity"], ["__count"]))
        by_severity = [
            {
                "severity": severity,
                "count": counts.get(severity, 0),
                "action": self._records_action(
                    _("Open incidents"), "ops.incident", [*domain, ("severity", "=", severity)]
                ),
            }
            for severity in SEVERITIES
        ]
        rows = [
            {
                "id": incident.id,
                "name": incident.display_name,
                "severity": incident.severity,
                "state": incident.state,
                "opened": fields.Datetime.to_string(incident.first_seen),
            }
            for incident in Incident.search(domain, order="severity_rank desc, id desc", limit=LIST_LIMIT)
        ]
        return {
            "available": True,
            "by_severity": by_severity,
            "records": rows,
            "action": self._records_action(_("Open incidents"), "ops.incident", domain),
        }

    @api.model
    def _list_failing_workflows(self, scope, runs=None):
        """Workflows with failed runs in the period, most failures first, with their completed runs."""
        runs = self._runs_summary(scope) if runs is None else runs
        if runs is None:
            return {"available": False, "records": []}
        window = scope["window"]
        stats = {}
        for row in runs:
            stat = stats.setdefault((row["repository_id"], row["name"]), {"failures": 0, "runs": 0, "last": None})
            stat["runs"] += row["completed"]
            if row["outcome"] == "failure" and row["completed"]:
                stat["failures"] += row["completed"]
                stat["last"] = max(filter(None, (stat["last"], row["last"])), default=None)
        failing = sorted(
            ((key, stat) for key, stat in stats.items() if stat["failures"]),
            key=lambda item: (-item[1]["failures"], -(item[1]["last"].timestamp() if item[1]["last"] else 0)),
        )[:LIST_LIMIT]
        repositories = self.env["ops.repository"].browse({repo_id for (repo_id, _name), _stat in failing})
        names = {repo.id: repo.display_name for repo in repositories}
        domain = [*self._runs_domain(scope, window.start, window.end), ("status", "=", "completed")]
        rows = []
        for (repo_id, name), stat in failing:
            rows.append(
                {
                    "repository": names.get(repo_id, ""),
                    "workflow": name or _("(unnamed)"),
                    "failures": stat["failures"],
                    "runs": stat["runs"],
                    "failure_rate": round(kpis.ratio_percent(stat["failures"], stat["runs"]) or 0, 1),
                    "last_failure": fields.Datetime.to_string(stat["last"]) if stat["last"] else False,
                    "action": self._records_action(
                        _("Failed runs of %s", name or "?"),
                        "ops.workflow.run",
                        [*domain, ("outcome", "=", "failure"), ("repository_id", "=", repo_id), ("name", "=", name)],
                    ),
                }
            )
        return {"available": True, "records": rows}

    @api.model
    def _list_flaky_jobs(self, scope):
        Signature = self._readable("ops.failure.signature")
        if Signature is None:
            return {"available": False, "records": []}
        domain = [("flaky", "=", True), *self._repository_domain(scope)]
        rows = [
            {
                "id": signature.id,
                "name": signature.job_name,
                "repository": signature.repository_id.display_name,
                "count": signature.flaky_count,
                "last_seen": fields.Datetime.to_string(signature.flaky_last_seen),
            }
            for signature in Signature.search(domain, order="flaky_last_seen desc", limit=LIST_LIMIT)
        ]
        return {
            "available": True,
            "records": rows,
            "action": self._records_action(_("Flaky jobs"), "ops.failure.signature", domain),
        }

    @api.model
    def _list_pending_approvals(self, scope):
        Action = self._readable("ops.remediation.action")
        if Action is None:
            return {"available": False, "records": []}
        domain = [("state", "=", "awaiting_approval"), *self._target_domain(scope)]
        rows = [
            {
                "id": action.id,
                "name": action.display_name,
                "kind": action.kind,
                "created": fields.Datetime.to_string(action.create_date),
            }
            for action in Action.search(domain, order="id desc", limit=LIST_LIMIT)
        ]
        return {
            "available": True,
            "records": rows,
            "action": self._records_action(_("Awaiting approval"), "ops.remediation.action", domain),
        }
