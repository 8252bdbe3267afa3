from odoo import api, fields, models


class OpsJobDiagnosis(models.Model):
    """A confident diagnosis of an unrecoverable CI failure may become an automatic fix (``ops.review``)."""

    _inherit = "ops.job.diagnosis"

    fix_review_ids = fields.One2many("ops.review", "diagnosis_id", string="Automatic fixes", readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        diagnoses = super().create(vals_list)
        Review = self.env["ops.review"].sudo()
        for diagnosis in diagnoses:
            Review._enqueue_ci_fix(diagnosis)
        return diagnoses
