"""Data of the Ops Autopilot dashboard: one RPC, aggregates only, as the calling user.

Every figure comes from ``_read_group`` (SQL ``GROUP BY`` over indexed
columns, with the user's access rights and multi-company record rules
applied), never from records loaded into Python; health figures come from
the hourly rollups, not from raw samples. The engine
(:mod:`..autopilot.kpis`) turns the aggregates into KPIs, targets and trends.

Sources built by other parts of the addon (incidents, remediation actions,
health targets and rollups, diagnoses, flaky signatures, cache statistics)
are read only when their model and fields exist and the user may read
them; otherwise their KPIs say "no data".
"""

import dataclasses
from datetime import timedelta

import pytz

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..autopilot import kpis

OPEN_INCIDENT_EXCLUDED_STATES = ("resolved", "closed", "cancelled")
SEVERITIES = ("critical", "high", "medium", "low")
LIST_LIMIT = 8
MAX_WORKFLOW_SERIES = 5
MAX_TARGET_SERIES = 8
HOURLY_ROLLUP = "ops.health.sample.hourly"
# (model, date fields by preference): where the CI self-healing part stores cache restores of fetched logs
CACHE_SOURCES = (
    ("ops.workflow.job", ("log_fetched_at", "logs_fetched_at", "completed_at")),
    ("ops.job.diagnosis", ("log_fetched_at", "create_date")),
)


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
        return {
            "filters": self._filters_out(scope),
            "options": self._filter_options(),
            "tiles": tiles,
            "charts": {
                "runs_per_day": self._chart_runs_per_day(scope),
                "build_time": self._chart_build_time(scope),
                "health": self._chart_health(scope),
                "incidents": self._chart_incidents(scope),
            },
            "lists": {
                "open_incidents": self._list_open_incidents(scope),
                "failing_workflows": self._list_failing_workflows(scope),
                "flaky_jobs": self._list_flaky_jobs(scope),
                "pending_approvals": self._list_pending_approvals(scope),
            },
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
        if not record_id or not self._has_source(model):
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
        if self._has_source("ops.repository"):
            repos = self.env["ops.repository"].search_read([], ["full_name"], order="full_name", limit=200)
            options["repositories"] = [{"id": r["id"], "name": r["full_name"]} for r in repos]
        if self._has_source("ops.health.target"):
            targets = self.env["ops.health.target"].search_read([], ["display_name"], limit=200)
            options["targets"] = [{"id": t["id"], "name": t["display_name"]} for t in targets]
        return options

    # ------------------------------------------------------------------
    # sources
    # ------------------------------------------------------------------
    @api.model
    def _source(self, model, *field_names):
        """The model when it is installed, readable by the user and has ``field_names``; else None."""
        if model not in self.env:
            return None
        Model = self.env[model]
        if not Model.has_access("read"):
            return None
        if any(name not in Model._fields for name in field_names):
            return None
        return Model

    @api.model
    def _has_source(self, model, *field_names):
        return self._source(model, *field_names) is not None

    @api.model
    def _first_field(self, Model, *candidates):
        return next((name for name in candidates if name in Model._fields and Model._fields[name].store), None)

    @api.model
    def _period_domain(self, field_name, start, end):
        return [(field_name, ">=", fields.Datetime.to_string(start)), (field_name, "<", fields.Datetime.to_string(end))]

    @api.model
    def _repository_domain(self, Model, scope, field_name="repository_id"):
        if scope["repository"] and field_name in Model._fields:
            return [(field_name, "=", scope["repository"].id)]
        return []

    @api.model
    def _target_domain(self, Model, scope, field_name="target_id"):
        if scope["target"] and field_name in Model._fields:
            return [(field_name, "=", scope["target"].id)]
        return []

    # --- workflow runs --------------------------------------------------
    @api.model
    def _runs_domain(self, scope, start, end):
        Run = self.env["ops.workflow.run"]
        return self._period_domain("started_at", start, end) + self._repository_domain(Run, scope)

    @api.model
    def _completed_runs_domain(self, scope, start, end):
        return [*self._runs_domain(scope, start, end), ("status", "=", "completed"), ("duration", ">", 0)]

    # --- incidents ------------------------------------------------------
    @api.model
    def _incident_source(self):
        Incident = self._source("ops.incident", "state")
        if Incident is None:
            return None, None, None
        opened = self._first_field(Incident, "opened_at", "first_seen", "create_date")
        resolved = self._first_field(Incident, "resolved_at", "date_resolved", "closed_at")
        return Incident, opened, resolved

    @api.model
    def _incident_scope_domain(self, Incident, scope):
        domain = self._target_domain(Incident, scope)
        if scope["repository"] and "repository_id" in Incident._fields:
            domain += [("repository_id", "=", scope["repository"].id)]
        return domain

    # --- remediation (self-healing re-runs) -----------------------------
    @api.model
    def _rerun_source(self):
        Action = self._source("ops.remediation.action", "state", "kind")
        if Action is None:
            return None, None
        done = self._first_field(Action, "finished_at", "done_at", "executed_at", "write_date")
        return Action, done

    # --- health rollups -------------------------------------------------
    @api.model
    def _health_source(self):
        """The hourly rollup model (``ops.health.sample.hourly``), or None when monitoring is not there."""
        return self._source(HOURLY_ROLLUP, "target_id", "bucket", "sample_count", "failure_count", "avg_response_ms")

    @api.model
    def _health_rows(self, scope, start, end, group_target=False, bucket=None):
        """Health figures summed from the hourly rollups, as the user (access rights and record rules apply).

        One row per (target, local ``bucket``) when asked, else one row: ``checks``,
        ``failed``, ``up``, ``total_ms`` (mean response x successful checks, so means
        are weighted by checks), ``timed``, ``max_cpu``, ``max_memory`` (peaks of the
        hourly means). SQL aggregates over the ``bucket`` index, never records.
        """
        Rollup = self._health_source()
        if Rollup is None:
            return None
        query = Rollup._search(
            self._period_domain("bucket", start, end) + self._target_domain(Rollup, scope), order=None
        )
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
        select = query.select(*keys, columns)
        rows = []
        for row in self.env.execute_query(select):
            key_values, (checks, failed, total_ms, timed, cpu, memory) = row[: len(keys)], row[len(keys) :]
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
            rows.append(item)
        return rows

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
        if not self._has_source("ops.workflow.run"):
            return None
        [(total, count)] = self.env["ops.workflow.run"]._read_group(
            self._completed_runs_domain(scope, start, end), [], ["duration:sum", "__count"]
        )
        return {"total_seconds": total or 0.0, "runs": count}

    @api.model
    def _cache_source(self):
        """Where cache restores parsed from fetched job logs are stored, and the date to filter them on."""
        for model, dates in CACHE_SOURCES:
            Model = self._source(model, "cache_hits", "cache_misses")
            if Model is not None:
                return Model, self._first_field(Model, *dates)
        return None, None

    @api.model
    def _cache_domain(self, scope, start, end):
        Model, fetched = self._cache_source()
        domain = self._period_domain(fetched, start, end) + self._repository_domain(Model, scope)
        if "log_fetched" in Model._fields:
            domain.append(("log_fetched", "=", True))
        return [*domain, "|", ("cache_hits", ">", 0), ("cache_misses", ">", 0)]

    @api.model
    def _cache_aggregates(self, scope, start, end):
        """Cache restores read from fetched job logs; None when no log was ever parsed for caches."""
        Job, _fetched = self._cache_source()
        if Job is None:
            return None
        [(hits, misses)] = Job._read_group(
            self._cache_domain(scope, start, end), [], ["cache_hits:sum", "cache_misses:sum"]
        )
        return {"hits": hits or 0, "misses": misses or 0}

    @api.model
    def _rerun_domain(self, scope, start, end):
        Action, done = self._rerun_source()
        return [
            ("kind", "=", "rerun_jobs"),
            ("state", "in", ("succeeded", "failed")),
            *self._period_domain(done, start, end),
            *self._repository_domain(Action, scope),
        ]

    @api.model
    def _self_healing_aggregates(self, scope, start, end):
        Action, _done = self._rerun_source()
        if Action is None:
            return None
        groups = dict(Action._read_group(self._rerun_domain(scope, start, end), ["state"], ["__count"]))
        return {"succeeded": groups.get("succeeded", 0), "failed": groups.get("failed", 0)}

    @api.model
    def _incident_aggregates(self, scope, start, end):
        Incident, opened, resolved = self._incident_source()
        if Incident is None:
            return {}
        base = self._incident_scope_domain(Incident, scope)
        result = {}
        if "false_positive" in Incident._fields and opened:
            groups = dict(
                Incident._read_group(base + self._period_domain(opened, start, end), ["false_positive"], ["__count"])
            )
            result["false_positive_rate"] = {
                "false_positives": groups.get(True, 0),
                "incidents": sum(groups.values()),
            }
        ttr = self._first_field(Incident, "time_to_resolve", "time_to_resolve_minutes")
        if ttr and resolved:
            domain = base + self._period_domain(resolved, start, end) + [(ttr, ">", 0)]
            if "false_positive" in Incident._fields:
                domain.append(("false_positive", "=", False))
            [(total, count)] = Incident._read_group(domain, [], [f"{ttr}:sum", "__count"])
            result["mttr"] = {"total_minutes": total or 0.0, "resolved": count}
        return result

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
    def _records_action(self, name, model, domain, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "views": [[False, "list"], [False, "form"]],
            "domain": domain,
            "context": context or {},
            "target": "current",
        }

    @api.model
    def _kpi_action(self, key, scope):
        window = scope["window"]
        start, end = window.start, window.end
        label = kpis.KPIS[key].label
        if key == "avg_build_time" and self._has_source("ops.workflow.run"):
            return self._records_action(
                _("Completed runs"), "ops.workflow.run", self._completed_runs_domain(scope, start, end)
            )
        if key == "cache_hit_rate" and self._cache_source()[0] is not None:
            Model = self._cache_source()[0]
            return self._records_action(
                _("Jobs with cache restores"), Model._name, self._cache_domain(scope, start, end)
            )
        if key == "self_healing_success_rate" and self._rerun_source()[0] is not None:
            return self._records_action(
                _("Self-healing re-runs"), "ops.remediation.action", self._rerun_domain(scope, start, end)
            )
        if key in ("false_positive_rate", "mttr"):
            Incident, opened, resolved = self._incident_source()
            if Incident is None:
                return None
            base = self._incident_scope_domain(Incident, scope)
            date_field = opened if key == "false_positive_rate" else resolved
            if not date_field:
                return None
            return self._records_action(label, "ops.incident", base + self._period_domain(date_field, start, end))
        if key in ("uptime", "avg_response_time", "error_rate"):
            Rollup = self._health_source()
            if Rollup is None:
                return None
            return self._records_action(
                _("Health per hour"),
                HOURLY_ROLLUP,
                self._period_domain("bucket", start, end) + self._target_domain(Rollup, scope),
            )
        return None

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
    def _key(self, value, scope):
        return kpis.bucket_key(value, scope["window"].bucket) if value else None

    @api.model
    def _chart_runs_per_day(self, scope):
        labels = self._bucket_labels(scope)
        if not self._has_source("ops.workflow.run"):
            return {"labels": labels, "datasets": [], "available": False}
        window = scope["window"]
        rows = self.env["ops.workflow.run"]._read_group(
            self._runs_domain(scope, window.start, window.end), [f"started_at:{window.bucket}", "outcome"], ["__count"]
        )
        index = {label: i for i, label in enumerate(labels)}
        series = {}
        for moment, outcome, count in rows:
            key = self._key(moment, scope)
            if key in index:
                series.setdefault(outcome or "other", [0] * len(labels))[index[key]] += count
        order = ["success", "failure", "cancelled", "running", "queued", "skipped", "other"]
        datasets = [{"key": o, "label": o.capitalize(), "data": series[o]} for o in order if o in series]
        return {"labels": labels, "datasets": datasets, "available": True}

    @api.model
    def _chart_build_time(self, scope):
        labels = self._bucket_labels(scope)
        if not self._has_source("ops.workflow.run"):
            return {"labels": labels, "datasets": [], "available": False}
        window = scope["window"]
        Run = self.env["ops.workflow.run"]
        domain = self._completed_runs_domain(scope, window.start, window.end)
        busiest = Run._read_group(domain, ["name"], ["__count"], order="__count desc", limit=MAX_WORKFLOW_SERIES)
        names = [name for name, _count in busiest if name]
        rows = Run._read_group(
            [*domain, ("name", "in", names)], [f"started_at:{window.bucket}", "name"], ["duration:avg"]
        )
        index = {label: i for i, label in enumerate(labels)}
        series = {name: [None] * len(labels) for name in names}
        for moment, name, avg in rows:
            key = self._key(moment, scope)
            if key in index and name in series:
                series[name][index[key]] = round((avg or 0) / 60.0, 2)
        datasets = [{"key": name, "label": name, "data": series[name]} for name in names]
        return {"labels": labels, "datasets": datasets, "available": True, "unit": "min"}

    @api.model
    def _chart_health(self, scope):
        labels = self._bucket_labels(scope)
        window = scope["window"]
        rows = self._health_rows(scope, window.start, window.end, group_target=True, bucket=window.bucket)
        if rows is None:
            return {"labels": labels, "response": [], "uptime": [], "available": False}
        targets = (
            self.env["ops.health.target"]
            .with_context(active_test=False)
            .search_read([("id", "in", list({r["target_id"] for r in rows}))], ["display_name"])
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
            "response": [{"key": k, "label": k, "data": v} for k, v in sorted(response.items())][:MAX_TARGET_SERIES],
            "uptime": [{"key": k, "label": k, "data": v} for k, v in sorted(up.items())][:MAX_TARGET_SERIES],
            "available": True,
        }

    @api.model
    def _chart_incidents(self, scope):
        labels = self._bucket_labels(scope)
        Incident, opened, resolved = self._incident_source()
        if Incident is None or not opened:
            return {"labels": labels, "datasets": [], "available": False}
        window = scope["window"]
        base = self._incident_scope_domain(Incident, scope)
        index = {label: i for i, label in enumerate(labels)}
        datasets = []
        for key, label, field_name in (("opened", _("Opened"), opened), ("resolved", _("Resolved"), resolved)):
            if not field_name:
                continue
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
        Incident, opened, _resolved = self._incident_source()
        if Incident is None:
            return {"available": False, "by_severity": [], "records": []}
        domain = [
            ("state", "not in", OPEN_INCIDENT_EXCLUDED_STATES),
            *self._incident_scope_domain(Incident, scope),
        ]
        by_severity = []
        if "severity" in Incident._fields:
            counts = dict(Incident._read_group(domain, ["severity"], ["__count"]))
            for severity in SEVERITIES:
                by_severity.append(
                    {
                        "severity": severity,
                        "count": counts.get(severity, 0),
                        "action": self._records_action(
                            _("Open incidents"), "ops.incident", [*domain, ("severity", "=", severity)]
                        ),
                    }
                )
        order = "severity_rank desc, id desc" if "severity_rank" in Incident._fields else "id desc"
        records = Incident.search(domain, order=order, limit=LIST_LIMIT)
        rows = []
        for incident in records[:LIST_LIMIT]:
            rows.append(
                {
                    "id": incident.id,
                    "name": incident.display_name,
                    "severity": incident.severity if "severity" in Incident._fields else False,
                    "state": incident.state,
                    "opened": fields.Datetime.to_string(incident[opened]) if opened else False,
                }
            )
        return {
            "available": True,
            "by_severity": by_severity,
            "records": rows,
            "action": self._records_action(_("Open incidents"), "ops.incident", domain),
        }

    @api.model
    def _list_failing_workflows(self, scope):
        if not self._has_source("ops.workflow.run"):
            return {"available": False, "records": []}
        window = scope["window"]
        Run = self.env["ops.workflow.run"]
        domain = [*self._runs_domain(scope, window.start, window.end), ("status", "=", "completed")]
        failures = Run._read_group(
            [*domain, ("outcome", "=", "failure")],
            ["repository_id", "name"],
            ["__count", "started_at:max"],
            order="__count desc",
            limit=LIST_LIMIT,
        )
        if not failures:
            return {"available": True, "records": []}
        totals = {
            (repo.id, name): count
            for repo, name, count in Run._read_group(
                [*domain, ("repository_id", "in", [f[0].id for f in failures])], ["repository_id", "name"], ["__count"]
            )
        }
        rows = []
        for repo, name, count, last in failures:
            runs = totals.get((repo.id, name), count)
            rows.append(
                {
                    "repository": repo.display_name,
                    "workflow": name or _("(unnamed)"),
                    "failures": count,
                    "runs": runs,
                    "failure_rate": round(kpis.ratio_percent(count, runs) or 0, 1),
                    "last_failure": fields.Datetime.to_string(last) if last else False,
                    "action": self._records_action(
                        _("Failed runs of %s", name or "?"),
                        "ops.workflow.run",
                        [*domain, ("outcome", "=", "failure"), ("repository_id", "=", repo.id), ("name", "=", name)],
                    ),
                }
            )
        return {"available": True, "records": rows}

    @api.model
    def _list_flaky_jobs(self, scope):
        Signature = self._source("ops.failure.signature", "flaky")
        if Signature is None:
            return {"available": False, "records": []}
        domain = [("flaky", "=", True), *self._repository_domain(Signature, scope)]
        count_field = self._first_field(Signature, "flaky_count", "hit_count", "count", "occurrences")
        last_field = self._first_field(Signature, "flaky_last_seen", "last_seen", "write_date")
        order = f"{last_field} desc" if last_field else "id desc"
        rows = []
        for signature in Signature.search(domain, order=order, limit=LIST_LIMIT):
            job = self._first_field(Signature, "job_name", "name")
            rows.append(
                {
                    "id": signature.id,
                    "name": signature[job] if job else signature.display_name,
                    "repository": signature.repository_id.display_name if "repository_id" in Signature._fields else "",
                    "count": signature[count_field] if count_field else 0,
                    "last_seen": fields.Datetime.to_string(signature[last_field]) if last_field else False,
                }
            )
        return {
            "available": True,
            "model": "ops.failure.signature",
            "records": rows,
            "action": self._records_action(_("Flaky jobs"), "ops.failure.signature", domain),
        }

    @api.model
    def _list_pending_approvals(self, scope):
        Action = self._source("ops.remediation.action", "state")
        if Action is None:
            return {"available": False, "records": []}
        domain = [("state", "=", "awaiting_approval"), *self._target_domain(Action, scope)]
        rows = [
            {
                "id": action.id,
                "name": action.display_name,
                "kind": action.kind if "kind" in Action._fields else False,
                "created": fields.Datetime.to_string(action.create_date),
            }
            for action in Action.search(domain, order="id desc", limit=LIST_LIMIT)
        ]
        return {
            "available": True,
            "records": rows,
            "action": self._records_action(_("Awaiting approval"), "ops.remediation.action", domain),
        }
