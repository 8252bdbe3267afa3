from odoo import _, api, fields, models


class OpsWorkflowJob(models.Model):
    """What self-healing read in a job's log: cache restores (for the cache-hit KPI) and its diagnosis."""

    _inherit = "ops.workflow.job"

    log_fetched = fields.Boolean(readonly=True, index=True, help="The log was read from GitHub")
    log_fetched_at = fields.Datetime(readonly=True)
    cache_hits = fields.Integer(readonly=True, help="Cache restores that found a cache (actions/cache, setup-*)")
    cache_misses = fields.Integer(readonly=True, help="Cache restores that found nothing")
    diagnosis_ids = fields.One2many("ops.job.diagnosis", "job_id", readonly=True)
    diagnosis_id = fields.Many2one(
        "ops.job.diagnosis", string="Latest diagnosis", compute="_compute_diagnosis_id", help="The newest diagnosis"
    )
    diagnosis_html = fields.Html(string="Diagnosis card", compute="_compute_diagnosis_id", sanitize=False)

    @api.depends("diagnosis_ids")
    def _compute_diagnosis_id(self):
        for job in self:
            latest = job.diagnosis_ids.sorted("id")[-1:]
            job.diagnosis_id = latest
            job.diagnosis_html = latest._render_cards()

    def action_open_log_paste(self):
        """Paste or upload this job's log: diagnosed at once, stored as its diagnosis."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Paste a log"),
            "res_model": "ops.job.log.paste",
            "view_mode": "form",
            "target": "new",
            "context": {"default_job_id": self.id},
        }

    @api.model
    def _upsert_job(self, repository, job):
        """A failed job arriving after its run was diagnosed (GitHub lists jobs late) re-diagnoses the run."""
        record = super()._upsert_job(repository, job)
        run = record.run_id
        if record.outcome == "failure" and record.run_attempt == run.run_attempt and not record.diagnosis_ids:
            run._ci_requeue()
        return record
