from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .ops_webhook_refusal import REFUSAL_REASONS

#: days the hourly counts are kept
RETENTION_DAYS = 7


class OpsWebhookRefusalHour(models.Model):
    """How many deliveries were refused, per repository (or the unknown bucket), reason and hour.

    One row updated in place per (repository, reason, hour): a flood adds
    nothing but a count. Purged with the deliveries after
    :data:`RETENTION_DAYS` days.
    """

    _name = "ops.webhook.refusal.hour"
    _description = "Refused GitHub Webhook Deliveries per Hour"
    _order = "hour desc, id desc"
    _rec_name = "reason"

    repository_id = fields.Many2one("ops.repository", readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", readonly=True)
    reason = fields.Selection(REFUSAL_REASONS, required=True, readonly=True)
    hour = fields.Datetime(required=True, readonly=True, index=True)
    count = fields.Integer(required=True, readonly=True, default=0)

    def init(self):
        tools.create_unique_index(
            self.env.cr,
            "ops_webhook_refusal_hour_bucket_uniq",
            self._table,
            ["(COALESCE(repository_id, 0))", "reason", "hour"],
        )

    @api.model
    def _purge(self):
        """Delete the counts older than :data:`RETENTION_DAYS` days."""
        cutoff = fields.Datetime.now() - timedelta(days=RETENTION_DAYS)
        self.flush_model(["hour"])
        self.env.cr.execute(SQL("DELETE FROM ops_webhook_refusal_hour WHERE hour < %s", cutoff))
        return self.env.cr.rowcount
