from odoo import api, fields, models

from .. import const
from ..autopilot.scans import licenses

#: what a policy line may say (a license it does not list is "unknown")
VERDICTS = [(key, label) for key, label in const.LICENSE_VERDICTS if key != "unknown"]


class OpsLicensePolicy(models.Model):
    """One line of the license policy: an SPDX id and what a dependency under it means for us.

    Ids not listed are ``unknown``; the engine (:mod:`autopilot.scans.licenses`)
    combines them through ``AND`` / ``OR`` / ``WITH`` expressions.
    """

    _name = "ops.license.policy"
    _description = "License Policy Line"
    _order = "verdict, spdx_id"
    _rec_name = "spdx_id"

    spdx_id = fields.Char(
        string="SPDX id", required=True, help="An SPDX license id (MIT, GPL-3.0-only) or 'id WITH exception'"
    )
    canonical_id = fields.Char(compute="_compute_canonical_id", store=True, index=True)
    verdict = fields.Selection(VERDICTS, required=True, default="review")
    note = fields.Char()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("canonical_unique", "unique(canonical_id)", "This license is already in the policy."),
    ]

    @api.depends("spdx_id")
    def _compute_canonical_id(self):
        for line in self:
            line.canonical_id = licenses.canonical_id(line.spdx_id) if line.spdx_id else False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("spdx_id"):
                vals["spdx_id"] = " ".join(vals["spdx_id"].split())
        return super().create(vals_list)

    @api.model
    def _engine_policy(self):
        """The active lines as the engine's :class:`~autopilot.scans.licenses.LicensePolicy`."""
        lines = self.sudo().search([])
        by_verdict = {key: [] for key, _label in VERDICTS}
        for line in lines:
            by_verdict[line.verdict].append(line.spdx_id)
        return licenses.LicensePolicy.from_lists(by_verdict["allowed"], by_verdict["review"], by_verdict["denied"])
