"""The dashboard's Delivery section: the four DORA keys of the production deploys, as the reading user.

One grouped SQL query per key and period (eight for a period and the one
before it), over the deployments, commits and incidents the user may read
(``_search`` applies the access rights and multi-company rules), never over
records loaded into Python: each query computes the aggregates that
:func:`..autopilot.delivery.dora.aggregate` computes from plain records,
under the same definitions (``tests/test_dora_keys.py`` holds the two equal
on the same history). The engine turns them into values, DORA bands, trends
and definitions (:func:`..autopilot.delivery.dora.evaluate`).
"""

from contextlib import contextmanager
from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

from ..autopilot.delivery import dora
from .ops_params import get_param

DEPLOYMENT = "ops.deployment"
INCIDENT = "ops.incident"


@contextmanager
def without_jit(cr):
    """PostgreSQL's JIT compiler off for the keys' queries, as it was after them.

    Their correlated subqueries make the planner's cost estimates large although they run in tens of
    milliseconds; JIT then spent up to a second compiling one of them (measured by bench/dashboard).
    """
    cr.execute("SHOW jit")
    [(previous,)] = cr.fetchall()
    cr.execute("SET LOCAL jit = off")
    try:
        yield
    finally:
        cr.execute(SQL("SELECT set_config('jit', %s, true)", previous))


class OpsDashboardDelivery(models.AbstractModel):
    _inherit = "ops.dashboard"

    @api.model
    def _delivery_data(self, scope):
        """The four keys of ``scope``'s period with their trend, band and the records behind them."""
        if self._readable(DEPLOYMENT) is None:
            return {"available": False, "keys": []}
        window = scope["window"]
        failure_window = self._dora_failure_window()
        with without_jit(self.env.cr):
            current = self._dora_aggregates(scope, window.start, window.end, failure_window)
            previous = self._dora_aggregates(scope, window.previous_start, window.previous_end, failure_window)
        keys = []
        for result in dora.evaluate(current, previous):
            key = result.as_dict()
            key["action"] = self._dora_action(result.key, scope, failure_window)
            keys.append(key)
        return {
            "available": True,
            "keys": keys,
            "failure_window_hours": failure_window.total_seconds() / 3600,
            "band_source": dora.BAND_SOURCE,
        }

    @api.model
    def _dora_failure_window(self):
        return timedelta(hours=max(get_param(self.env, "dora_failure_window_hours"), 1))

    # ------------------------------------------------------------------
    # domains
    # ------------------------------------------------------------------
    @api.model
    def _dora_deploy_domain(self, scope):
        return [("is_production", "=", True), *self._repository_domain(scope)]

    @api.model
    def _dora_domain(self, key, scope, start, end):
        """The records a key counts in ``[start, end)`` (the deployments, or the incidents for time to restore)."""
        base = self._dora_deploy_domain(scope)
        if key in ("deployment_frequency", "lead_time"):
            return [*base, ("is_rollback", "=", False), *self._period_domain("succeeded_at", start, end)]
        if key == "change_failure_rate":
            return [
                *base,
                ("is_rollback", "=", False),
                ("state", "not in", dora.UNFINISHED_STATES),
                *self._period_domain("created_at", start, end),
            ]
        if key == "failed_deploys":
            return [*base, *self._period_domain("failed_at", start, end)]
        if key == "incidents":
            repository = scope["repository"]
            return [
                ("deployment_environment_id.is_production", "=", True),
                ("false_positive", "=", False),
                *([("deployment_environment_id.repository_id", "=", repository.id)] if repository else []),
                *self._period_domain("first_seen", start, end),
            ]
        raise KeyError(key)

    @api.model
    def _dora_rows(self, model, domain, *columns):
        """``(SELECT columns FROM table WHERE domain)`` with the user's access rules: a derived table."""
        query = self.env[model]._search(domain, order=None)
        return query.subselect(*(SQL.identifier(query.table, column) for column in columns))

    # ------------------------------------------------------------------
    # aggregates: the SQL twins of autopilot.delivery.dora's record functions
    # ------------------------------------------------------------------
    @api.model
    def _dora_aggregates(self, scope, start, end, failure_window):
        # the queries read columns their domains do not name (failed_at, rollback_of_id, committed_at...):
        # write what the ORM still holds in memory first
        for model in (DEPLOYMENT, "ops.deployment.commit", INCIDENT):
            self.env[model].flush_model()
        return {
            "deployment_frequency": self._dora_frequency(scope, start, end),
            "lead_time": self._dora_lead_time(scope, start, end),
            "change_failure_rate": self._dora_failure_rate(scope, start, end, failure_window),
            "time_to_restore": self._dora_restore(scope, start, end),
        }

    @api.model
    def _dora_frequency(self, scope, start, end):
        """Successful production deploys (no rollbacks) and the 24-hour slices of the period they fall on."""
        deploys = self._dora_rows(
            DEPLOYMENT, self._dora_domain("deployment_frequency", scope, start, end), "succeeded_at"
        )
        [(count, days)] = self.env.execute_query(
            SQL(
                """SELECT count(*),
                          array_agg(DISTINCT floor(extract(epoch FROM d.succeeded_at - %(start)s) / 86400)::int)
                     FROM %(deploys)s d""",
                start=start,
                deploys=deploys,
            )
        )
        return {
            "deploys": count,
            "days": (end - start).total_seconds() / 86400,
            "deploy_days": sorted(day for day in days or () if day is not None),
        }

    @api.model
    def _dora_lead_time(self, scope, start, end):
        """Median and p90 of earliest commit -> first successful deploy per change (a PR, else a commit)."""
        deploys = self._dora_rows(
            DEPLOYMENT, self._dora_domain("lead_time", scope, start, end), "id", "repository_id", "succeeded_at"
        )
        [(changes, ignored, median, p90)] = self.env.execute_query(
            SQL(
                """WITH changes AS (
                        SELECT d.repository_id, c.change,
                               extract(epoch FROM min(d.succeeded_at) - min(c.committed_at))::float AS lead
                          FROM %(deploys)s d
                    CROSS JOIN LATERAL (
                            -- OFFSET 0: one index lookup per deploy, never a scan of every commit
                            SELECT COALESCE('pr:' || substring(c.pull_request_numbers FROM '[0-9]+'), 'sha:' || c.sha)
                                       AS change,
                                   c.committed_at
                              FROM ops_deployment_commit c
                             WHERE c.deployment_id = d.id AND c.committed_at IS NOT NULL
                            OFFSET 0) c
                      GROUP BY d.repository_id, c.change
                   )
                   SELECT count(*) FILTER (WHERE lead > 0), count(*) FILTER (WHERE lead <= 0),
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY lead) FILTER (WHERE lead > 0),
                          percentile_cont(0.9) WITHIN GROUP (ORDER BY lead) FILTER (WHERE lead > 0)
                     FROM changes""",
                deploys=deploys,
            )
        )
        return {"changes": changes, "median": median, "p90": p90, "ignored": ignored}

    @api.model
    def _dora_failure_rate(self, scope, start, end, failure_window):
        """Finished production deploys (no rollbacks) created in the period, and those that failed within the
        window: a failure/error status, a rollback of them (or, when the rollback names none, the rollback right
        after them), an incident linked to them (not a false positive).

        Every subquery is a range on an index: rollbacks by ``rollback_of_id`` or by (repository, environment,
        created_at), incidents by ``deployment_id``.
        """
        attempts = self._dora_rows(
            DEPLOYMENT,
            self._dora_domain("change_failure_rate", scope, start, end),
            "id",
            "repository_id",
            "environment_id",
            "created_at",
            "failed_at",
        )
        incident_clause = SQL("FALSE")
        if self._readable(INCIDENT) is not None:
            incidents = self._dora_rows(
                INCIDENT, [("deployment_id", "!=", False), ("false_positive", "=", False)], "id"
            )
            incident_clause = SQL(
                """EXISTS (SELECT 1 FROM ops_incident i
                            WHERE i.deployment_id = a.id
                              AND i.first_seen >= a.created_at AND i.first_seen <= a.created_at + %(window)s
                              AND i.id IN %(incidents)s)""",
                incidents=incidents,
                window=failure_window,
            )
        [(deploys, failed)] = self.env.execute_query(
            SQL(
                """SELECT count(*), count(*) FILTER (WHERE
                          (a.failed_at IS NOT NULL AND a.failed_at <= a.created_at + %(window)s)
                       OR EXISTS (SELECT 1 FROM ops_deployment r
                                   WHERE r.rollback_of_id = a.id AND r.is_rollback
                                     AND r.created_at >= a.created_at AND r.created_at <= a.created_at + %(window)s)
                       OR EXISTS (SELECT 1 FROM ops_deployment r
                                   WHERE r.repository_id = a.repository_id AND r.environment_id = a.environment_id
                                     AND r.created_at > a.created_at AND r.created_at <= a.created_at + %(window)s
                                     AND r.is_rollback AND r.rollback_of_id IS NULL
                                     AND NOT EXISTS (
                                         SELECT 1 FROM ops_deployment b
                                          WHERE b.repository_id = a.repository_id
                                            AND b.environment_id = a.environment_id
                                            AND b.created_at > a.created_at AND b.created_at < r.created_at
                                            AND NOT b.is_rollback))
                       OR %(incident_clause)s)
                     FROM %(attempts)s a""",
                window=failure_window,
                incident_clause=incident_clause,
                attempts=attempts,
            )
        )
        return {"failed": failed, "deploys": deploys}

    @api.model
    def _dora_restore(self, scope, start, end):
        """Median of incident opened -> resolved and failed deploy -> the environment's next success.

        The next success is found in one ordered pass per environment (a window over the failures and the
        later successes of the same environments), not by a lookup per failure: the planner's choice for
        such a lookup degrades to a scan when an environment has no later success.
        """
        failed = self._dora_rows(
            DEPLOYMENT, self._dora_domain("failed_deploys", scope, start, end), "environment_id", "failed_at"
        )
        parts = [
            SQL(
                """WITH failed AS MATERIALIZED (SELECT * FROM %s f),
                        events AS (
                            SELECT environment_id, failed_at AS at, 1 AS kind FROM failed
                             UNION ALL
                            SELECT n.environment_id, n.succeeded_at, 0 FROM ops_deployment n
                             WHERE n.environment_id IN (SELECT environment_id FROM failed)
                               AND n.succeeded_at > (SELECT min(failed_at) FROM failed)
                        ), ordered AS (
                            SELECT kind, at,
                                   -- the first success after each failure, as a running minimum from the
                                   -- end: a frame that starts at the partition's first row is aggregated
                                   -- incrementally (one that ends there is recomputed for every row)
                                   min(CASE WHEN kind = 0 THEN at END) OVER (
                                       PARTITION BY environment_id ORDER BY at DESC, kind DESC
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS restored_at
                              FROM events
                        )
                   SELECT extract(epoch FROM restored_at - at)::float AS seconds FROM ordered WHERE kind = 1""",
                failed,
            )
        ]
        if self._readable(INCIDENT) is not None:
            incidents = self._dora_rows(
                INCIDENT, self._dora_domain("incidents", scope, start, end), "first_seen", "resolved_at"
            )
            parts.append(
                SQL(
                    """SELECT CASE WHEN i.resolved_at IS NOT NULL
                                   THEN greatest(0, extract(epoch FROM i.resolved_at - i.first_seen))::float END
                         FROM %s i""",
                    incidents,
                )
            )
        [(restored, unrestored, median)] = self.env.execute_query(
            SQL(
                """SELECT count(seconds), count(*) - count(seconds),
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
                     FROM (%s) restores""",
                SQL(" UNION ALL ").join(SQL("(%s)", part) for part in parts),
            )
        )
        return {"restored": restored, "median": median, "unrestored": unrestored}

    # ------------------------------------------------------------------
    # the records behind a key card
    # ------------------------------------------------------------------
    @api.model
    def _dora_action(self, key, scope, failure_window):
        start, end = scope["window"].start, scope["window"].end
        label = dora.KEYS[key].label
        if key == "lead_time":
            domain = [
                ("deployment_id", "any", self._dora_domain("lead_time", scope, start, end)),
                ("committed_at", "!=", False),
            ]
            return self._records_action(label, "ops.deployment.commit", domain)
        if key == "time_to_restore":
            if self._readable(INCIDENT) is None:
                return None
            return self._records_action(label, INCIDENT, self._dora_domain("incidents", scope, start, end))
        return self._records_action(label, DEPLOYMENT, self._dora_domain(key, scope, start, end))
