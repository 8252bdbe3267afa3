from odoo import api, fields, models
from odoo.tools.misc import formatLang

from ..autopilot.business import impact


class OpsIncident(models.Model):
    """Incidents scored by what they cost the business: the shortfall of the linked business signals.

    An incident's signals are the one that opened it (``signal_id``) and
    those linked to its health target (``ops.business.signal.target_ids``).
    Each check of a signal updates the impact of the open incidents it
    concerns (:meth:`_update_business_impact`); a note goes to the chatter
    when the impact crosses a step of the 1-2-5 series, and the severity
    rises (and the escalation ladder climbs, up to the page for
    ``critical``) when it crosses a signal's configured impact level.
    """

    _inherit = "ops.incident"

    source = fields.Selection(selection_add=[("business", "Business signal")], ondelete={"business": "set default"})
    signal_id = fields.Many2one(
        "ops.business.signal", string="Business signal", ondelete="set null", index="btree_not_null", readonly=True
    )
    impact_count = fields.Float(
        string="Impact (count)", readonly=True, digits=(16, 0), help="Records not taken (or above usual) so far"
    )
    impact_currency_id = fields.Many2one(related="company_id.currency_id", string="Impact currency")
    impact_amount = fields.Monetary(
        string="Impact (amount)", currency_field="impact_currency_id", readonly=True, help="The same in money"
    )
    impact_updated_at = fields.Datetime(readonly=True)
    impact_text = fields.Char(string="Business impact", compute="_compute_impact_text")

    @api.depends("impact_count", "impact_amount", "signal_id")
    def _compute_impact_text(self):
        for incident in self:
            signal = incident._business_signals()[:1]
            if not signal or not incident.impact_updated_at:
                incident.impact_text = False
                continue
            incident.impact_text = signal._impact_text(
                incident.impact_count, incident.impact_amount, incident.impact_currency_id
            )

    def _business_signals(self):
        """The signals whose shortfall is this incident's impact (its own, those of its target)."""
        self.ensure_one()
        Signal = self.env["ops.business.signal"].sudo()
        linked = Signal.search([("target_ids", "in", self.target_id.ids)]) if self.target_id else Signal
        return self.signal_id.sudo() | linked

    def _update_business_impact(self, now):
        """Recompute the impact of these incidents from their signals' intervals; note, raise severity, page."""
        for incident in self.sudo():
            signal_set = incident._business_signals()
            if not signal_set:
                continue
            since = incident.failing_since or incident.first_seen
            total, severity = impact.Impact(), None
            for signal in signal_set:
                part = signal._impact_of(since, incident.resolved_at or None)
                total = total + part
                proposed = impact.severity_for(part, signal.impact_level_count, signal.impact_level_amount)
                if impact.raises_severity(severity or "low", proposed):
                    severity = proposed
            before = incident.impact_count
            incident.write({"impact_count": total.count, "impact_amount": total.amount, "impact_updated_at": now})
            crossed = impact.milestone_crossed(before, total.count)
            raise_to = severity if impact.raises_severity(incident.severity, severity) else None
            if crossed and not raise_to:
                incident._note(self.env._("Business impact so far: %s", incident.impact_text))
            if raise_to and incident.state != "resolved":
                incident.severity = raise_to
                incident._note(
                    self.env._(
                        "Business impact %(impact)s: severity raised to %(severity)s.",
                        impact=incident.impact_text,
                        severity=dict(self._fields["severity"]._description_selection(self.env))[raise_to],
                    )
                )
                incident._escalate(now)
        return True

    def _impact_figures(self):
        """``{count, amount, currency, text}`` for the dashboard and the weekly report."""
        self.ensure_one()
        return {
            "count": impact.display_round(self.impact_count),
            "amount": formatLang(self.env, impact.display_round(self.impact_amount), digits=0),
            "currency": self.impact_currency_id.name,
            "text": self.impact_text or "",
        }
