from odoo import fields, models

from .. import const


class OpsJobDiagnosisCorrect(models.TransientModel):
    """Give a diagnosis its right category (it becomes a training example)."""

    _name = "ops.job.diagnosis.correct"
    _description = "Correct a CI diagnosis"

    diagnosis_id = fields.Many2one("ops.job.diagnosis", required=True, ondelete="cascade")
    current_category = fields.Selection(related="diagnosis_id.category", string="Diagnosed as")
    category = fields.Selection(const.FAILURE_CATEGORIES, string="Right category", required=True)

    def action_apply(self):
        self.ensure_one()
        self.diagnosis_id.action_correct(self.category)
        return {"type": "ir.actions.act_window_close"}
