from odoo import fields, models


class OpsWorkflowJob(models.Model):
    """What self-healing read in a job's log: cache restores (for the cache-hit KPI) and its diagnosis."""

    _inherit = "ops.workflow.job"

    log_fetched = fields.Boolean(readonly=True, index=True, help="The log was read from GitHub")
    log_fetched_at = fields.Datetime(readonly=True)
    cache_hits = fields.Integer(readonly=True, help="Cache restores that found a cache (actions/cache, setup-*)")
    cache_misses = fields.Integer(readonly=True, help="Cache restores that found nothing")
    diagnosis_ids = fields.One2many("ops.job.diagnosis", "job_id", readonly=True)
