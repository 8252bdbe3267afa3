from odoo import fields, models

from ..autopilot.business import impact, signals

VERDICTS = [
    (signals.LOW, "Low"),
    (signals.HIGH, "High"),
    (signals.NORMAL, "Normal"),
    (signals.QUIET, "Quiet hour"),
    (signals.LEARNING, "Learning"),
]


class OpsBusinessSignalPoint(models.Model):
    """One checked interval of a business signal: what was observed and what was expected then.

    Kept so that an incident's impact is the sum of what the checks saw at
    the time (stable, one indexed read, never recomputed from a history that
    changed since), and for the signal's history on its form and the
    dashboard. The baseline itself is recounted from the watched model at
    each check (one grouped query), so it needs no warm-up of its own.
    """

    _name = "ops.business.signal.point"
    _description = "Business signal interval"
    _order = "start desc, id desc"
    _rec_name = "start"

    signal_id = fields.Many2one("ops.business.signal", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="signal_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="signal_id.currency_id")
    # indexed: impact sums and the pruning read intervals by time
    start = fields.Datetime(required=True, readonly=True, index=True)
    end = fields.Datetime(required=True, readonly=True)
    observed = fields.Float(readonly=True, digits=(16, 0))
    observed_amount = fields.Monetary(readonly=True)
    has_baseline = fields.Boolean(readonly=True)
    baseline = fields.Float(string="Baseline (median)", readonly=True, digits=(16, 1))
    spread = fields.Float(readonly=True, digits=(16, 1), help="MAD x 1.4826, at least sqrt(median)")
    baseline_amount = fields.Monetary(string="Baseline amount", readonly=True)
    history = fields.Integer(string="Weeks of history", readonly=True)
    verdict = fields.Selection(VERDICTS, required=True, readonly=True)

    _sql_constraints = [
        ("signal_start_uniq", "UNIQUE (signal_id, start)", "An interval of a signal is checked once."),
    ]

    def _as_engine_points(self):
        """The engine's :class:`impact.Point` of each interval."""
        return [
            impact.Point(
                p.start,
                p.end,
                p.observed,
                p.observed_amount,
                p.baseline if p.has_baseline else None,
                p.baseline_amount,
            )
            for p in self
        ]
