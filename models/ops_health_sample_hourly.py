from odoo import api, fields, models
from odoo.tools import SQL

#: rollup figures computed from raw samples; shared by the hourly and daily rollups
ROLLUP_SELECT = """
    count(*) AS sample_count,
    count(*) FILTER (WHERE NOT s.up) AS failure_count,
    avg(s.response_ms) FILTER (WHERE s.up) AS avg_response_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY s.response_ms) FILTER (WHERE s.up) AS p95_response_ms,
    max(s.response_ms) FILTER (WHERE s.up) AS max_response_ms,
    avg(s.cpu_percent) FILTER (WHERE s.cpu_percent IS NOT NULL) AS avg_cpu_percent,
    avg(s.memory_percent) FILTER (WHERE s.memory_percent IS NOT NULL) AS avg_memory_percent
"""
ROLLUP_COLUMNS = (
    "sample_count, failure_count, avg_response_ms, p95_response_ms, max_response_ms, "
    "avg_cpu_percent, avg_memory_percent"
)
ROLLUP_UPDATE = ", ".join(f"{col} = EXCLUDED.{col}" for col in ROLLUP_COLUMNS.split(", "))


class OpsHealthSampleHourly(models.Model):
    """Samples of a target summed up per hour (kept much longer than raw samples)."""

    _name = "ops.health.sample.hourly"
    _description = "Health Samples per Hour"
    _order = "bucket desc, target_id"
    _rec_name = "bucket"
    _log_access = False

    target_id = fields.Many2one("ops.health.target", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, index=True)
    bucket = fields.Datetime(string="Hour", required=True, index=True)
    sample_count = fields.Integer(string="Checks")
    failure_count = fields.Integer(string="Failures")
    uptime = fields.Float(string="Uptime %", compute="_compute_uptime", aggregator="avg", digits=(16, 2))
    avg_response_ms = fields.Float(string="Avg response (ms)", digits=(16, 1), aggregator="avg")
    p95_response_ms = fields.Float(string="P95 response (ms)", digits=(16, 1), aggregator="max")
    max_response_ms = fields.Float(string="Max response (ms)", digits=(16, 1), aggregator="max")
    avg_cpu_percent = fields.Float(string="Avg CPU %", digits=(16, 1), aggregator="avg")
    avg_memory_percent = fields.Float(string="Avg memory %", digits=(16, 1), aggregator="avg")

    _sql_constraints = [("target_bucket_unique", "unique(target_id, bucket)", "One rollup per target and hour.")]

    @api.depends("sample_count", "failure_count")
    def _compute_uptime(self):
        for row in self:
            total = row.sample_count
            row.uptime = 100.0 * (total - row.failure_count) / total if total else 0.0

    @api.model
    def _rollup(self, start, end, unit="hour"):
        """(Re)compute the rollup rows of every ``unit`` bucket in [start, end) from raw samples.

        Idempotent (upsert): a bucket is rewritten from whatever raw samples
        it still has, so the cron may recompute the recent buckets each run.
        Returns the number of rows written.
        """
        bucket = SQL("date_trunc(%s, s.checked_at)", unit)
        if self._name.endswith("daily"):
            bucket = SQL("date_trunc('day', s.checked_at)::date")
        query = SQL(
            """
            INSERT INTO %(table)s (target_id, company_id, bucket, %(columns)s)
                 SELECT s.target_id, min(s.company_id), %(bucket)s, %(select)s
                   FROM ops_health_sample s
                  WHERE s.checked_at >= %(start)s AND s.checked_at < %(end)s
               GROUP BY s.target_id, %(bucket)s
            ON CONFLICT (target_id, bucket) DO UPDATE SET %(update)s
            """,
            table=SQL.identifier(self._table),
            columns=SQL(ROLLUP_COLUMNS),
            bucket=bucket,
            select=SQL(ROLLUP_SELECT),
            start=start,
            end=end,
            update=SQL(ROLLUP_UPDATE),
        )
        self.env.cr.execute(query)
        written = self.env.cr.rowcount
        self.invalidate_model()
        return written
