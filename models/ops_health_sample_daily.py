from odoo import fields, models

from . import ops_health_sample_hourly  # noqa: F401  (the hourly model must be defined first)


class OpsHealthSampleDaily(models.Model):
    """Samples of a target summed up per day (UTC), computed from raw samples like the hourly rollup."""

    _name = "ops.health.sample.daily"
    _inherit = "ops.health.sample.hourly"
    _description = "Health Samples per Day"

    bucket = fields.Date(string="Day", required=True, index=True)

    _sql_constraints = [("target_bucket_unique", "unique(target_id, bucket)", "One rollup per target and day.")]
