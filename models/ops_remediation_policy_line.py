import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const


class OpsRemediationPolicyLine(models.Model):
    _name = "ops.remediation.policy.line"
    _description = "Remediation Policy Action"
    _order = "policy_id, sequence, id"

    policy_id = fields.Many2one("ops.remediation.policy", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    condition = fields.Selection(
        [
            ("down", "Service down"),
            ("slow", "High response time"),
            ("error_rate", "High error rate"),
            ("cpu", "High CPU"),
            ("memory", "High memory"),
            (const.NATIVE_CONDITION, "Odoo-native signal"),
            ("any", "Any condition"),
        ],
        required=True,
    )
    kind = fields.Selection(const.REMEDIATION_KINDS, required=True, default="restart_service")
    executor = fields.Selection(
        [
            ("http_hook", "HTTP hook"),
            ("github_dispatch", "GitHub workflow dispatch"),
            ("odoo", "Internal Odoo action (clear caches)"),
            ("verify", "Check the target again"),
            ("none", "Record only"),
        ],
        required=True,
        default="http_hook",
    )
    destructive = fields.Boolean(help="A manager must approve it before it runs")
    inputs = fields.Char(help='Extra JSON object: hook body fields or workflow inputs, e.g. {"replicas": 2}')

    @api.constrains("inputs")
    def _check_inputs(self):
        for line in self.filtered("inputs"):
            try:
                value = json.loads(line.inputs)
            except ValueError as exc:
                raise ValidationError(_("Inputs must be a JSON object: %s", exc)) from exc
            if not isinstance(value, dict):
                raise ValidationError(_("Inputs must be a JSON object."))

    def _inputs(self):
        self.ensure_one()
        return json.loads(self.inputs) if self.inputs else {}
