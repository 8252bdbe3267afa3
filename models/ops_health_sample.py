from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .ops_params import PREFIX, get_param

WATERMARK = PREFIX + "rollup_watermark"
PRUNE_BATCH = 50_000


class OpsHealthSample(models.Model):
    """One check of a target: the raw data alerts are computed from.

    Kept for a configurable retention (``sample_retention_days``); the
    hourly and daily rollups keep the figures longer.
    """

    _name = "ops.health.sample"
    _description = "Health Check Sample"
    _order = "checked_at desc, id desc"
    _rec_name = "checked_at"
    _inherit = ["ops.cron.mixin"]
    _log_access = False

    target_id = fields.Many2one("ops.health.target", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True)
    checked_at = fields.Datetime(required=True)
    up = fields.Boolean()
    status_code = fields.Integer(aggregator=None)
    response_ms = fields.Float(string="Response (ms)", digits=(16, 1), aggregator="avg")
    error = fields.Char()
    cpu_percent = fields.Float(string="CPU %", digits=(16, 1), aggregator="avg")
    memory_percent = fields.Float(string="Memory %", digits=(16, 1), aggregator="avg")
    error_ratio = fields.Float(
        string="Error ratio %", digits=(16, 2), aggregator="avg", help="Share of the service's own requests that failed"
    )
    p95_ms = fields.Float(
        string="P95 latency (ms)", digits=(16, 1), aggregator="avg", help="The service's own 95th percentile latency"
    )

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS ops_health_sample_target_checked_idx "
                "ON ops_health_sample (target_id, checked_at DESC)"
            )
        )
        self.env.cr.execute(
            SQL("CREATE INDEX IF NOT EXISTS ops_health_sample_checked_idx ON ops_health_sample (checked_at)")
        )

    @api.model
    def _window(self, target_ids, since):
        """Samples of ``target_ids`` checked since ``since``, oldest first, as ``{target_id: [row dict]}``."""
        result = {target_id: [] for target_id in target_ids}
        if not target_ids:
            return result
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT target_id, checked_at, up, status_code, response_ms, error, cpu_percent, memory_percent,
                       error_ratio, p95_ms
                  FROM ops_health_sample
                 WHERE target_id = ANY(%s) AND checked_at >= %s
              ORDER BY target_id, checked_at, id
                """,
                list(target_ids),
                since,
            )
        )
        for row in rows:
            result[row.pop("target_id")].append(row)
        return result

    @api.model
    def _store(self, checks):
        """Insert ``[(target, engine Sample)]`` in one statement; missing values stay NULL (not 0)."""
        if not checks:
            return 0
        rows = [
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                target.id,
                target.company_id.id,
                sample.checked_at,
                bool(sample.up),
                sample.status_code,
                sample.response_ms,
                (sample.error or None) and sample.error[:300],
                sample.cpu_percent,
                sample.memory_percent,
                sample.error_ratio,
                sample.p95_ms,
            )
            for target, sample in checks
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO ops_health_sample (target_id, company_id, checked_at, up, status_code, response_ms, "
                "error, cpu_percent, memory_percent, error_ratio, p95_ms) VALUES %s",
                SQL(", ").join(rows),
            )
        )
        self.invalidate_model()
        return len(rows)

    # ------------------------------------------------------------------
    # rollups and retention (hourly cron)
    # ------------------------------------------------------------------
    @api.model
    def _cron_rollup_and_prune(self, now=None):
        """Roll raw samples up into hourly and daily rows, then prune what is past retention.

        Buckets from the last watermark (less one hour, for late samples)
        to now are recomputed from raw samples (idempotent upserts), so a
        missed run only makes the next one longer. Raw samples are deleted
        after ``sample_retention_days`` (at least 2), rollups after their own
        retention, in batches committed one by one.
        """
        now = now or fields.Datetime.now()
        params = self.env["ir.config_parameter"].sudo()
        mark = fields.Datetime.to_datetime(params.get_param(WATERMARK) or False)
        if not mark:
            [(oldest,)] = self.env.execute_query(SQL("SELECT min(checked_at) FROM ops_health_sample"))
            mark = oldest or now
        hour = now.replace(minute=0, second=0, microsecond=0)
        start = min(mark, hour) - timedelta(hours=1)
        end = hour + timedelta(hours=1)
        self.env["ops.health.sample.hourly"]._rollup(start.replace(minute=0, second=0, microsecond=0), end)
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.env["ops.health.sample.daily"]._rollup(day, end.replace(hour=0) + timedelta(days=1))
        params.set_param(WATERMARK, fields.Datetime.to_string(hour))
        self._ops_commit()
        retention = max(get_param(self.env, "sample_retention_days"), 2)
        pruned = self._prune("ops_health_sample", "checked_at", now - timedelta(days=retention))
        pruned += self._prune(
            "ops_health_sample_hourly",
            "bucket",
            now - timedelta(days=get_param(self.env, "hourly_rollup_retention_days")),
        )
        pruned += self._prune(
            "ops_health_sample_daily",
            "bucket",
            now - timedelta(days=get_param(self.env, "daily_rollup_retention_days")),
        )
        self.env.invalidate_all()
        return pruned

    @api.model
    def _prune(self, table, column, cutoff):
        """Delete rows of ``table`` older than ``cutoff``, a batch per transaction."""
        total = 0
        while True:
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %(table)s WHERE id IN "
                    "(SELECT id FROM %(table)s WHERE %(column)s < %(cutoff)s LIMIT %(n)s)",
                    table=SQL.identifier(table),
                    column=SQL.identifier(column),
                    cutoff=cutoff,
                    n=PRUNE_BATCH,
                )
            )
            deleted = self.env.cr.rowcount
            total += deleted
            self._ops_commit()
            if deleted < PRUNE_BATCH:
                return total
