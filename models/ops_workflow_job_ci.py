from odoo import api, fields, models


class OpsWorkflowJob(models.Model):
    """What self-healing read in a job's log: cache restores (for the cache-hit KPI) and its diagnosis."""

    _inherit = "ops.workflow.job"

    log_fetched = fields.Boolean(readonly=True, index=True, help="The log was read from GitHub")
    log_fetched_at = fields.Datetime(readonly=True)
    cache_hits = fields.Integer(readonly=True, help="Cache restores that found a cache (actions/cache, setup-*)")
    cache_misses = fields.Integer(readonly=True, help="Cache restores that found nothing")
    diagnosis_ids = fields.One2many("ops.job.diagnosis", "job_id", readonly=True)

    @api.model
    def _upsert_job(self, repository, job):
        """A failed job arriving after its run was diagnosed (GitHub lists jobs late) re-diagnoses the run."""
        record = super()._upsert_job(repository, job)
        run = record.run_id
        if record.outcome == "failure" and record.run_attempt == run.run_attempt and not record.diagnosis_ids:
            run._ci_requeue()
        return record
