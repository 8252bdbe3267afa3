from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..autopilot.delivery import cost


class OpsCiRate(models.Model):
    """A per-minute price of CI runners, for the jobs one of whose runner labels matches a pattern.

    The first active rate (by sequence) with a matching label prices a job
    (:func:`autopilot.delivery.cost.job_cost`); the defaults are GitHub's
    published rates (``data/ops_ci_rate_data.xml``, from
    :data:`autopilot.delivery.cost.DEFAULT_RATES`). Managers edit them: a
    job keeps the price it was given when it completed.
    """

    _name = "ops.ci.rate"
    _description = "CI Runner Rate"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    name = fields.Char(string="Runner", required=True, translate=True)
    pattern = fields.Char(
        string="Label pattern",
        required=True,
        help="Matched against each runner label of a job, case-insensitively: * is any text, ? one character"
        " (ubuntu-*, *-4*core*, self-hosted).",
    )
    runner_type = fields.Char(required=True, help="What the dashboards group by: linux, windows, linux_4_core...")
    per_minute = fields.Float(string="Price per minute", digits=(12, 4), required=True)
    currency_id = fields.Many2one(
        "res.currency", required=True, readonly=True, default=lambda self: self.env.ref("base.USD")
    )

    @api.constrains("per_minute", "pattern")
    def _check_rate(self):
        for rate in self:
            if rate.per_minute < 0:
                raise ValidationError(_("A per-minute price cannot be negative (%s).", rate.name))
            if not (rate.pattern or "").strip():
                raise ValidationError(_("A rate needs a label pattern."))

    @api.model
    def _engine_rates(self):
        """The active rates as the engine's :class:`~autopilot.delivery.cost.Rate`, in table order."""
        rows = self.sudo().search_read([], ["pattern", "runner_type", "per_minute", "name"])
        return tuple(cost.Rate(r["pattern"], r["runner_type"], r["per_minute"], r["name"]) for r in rows)
