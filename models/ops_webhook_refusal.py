import logging

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from ..autopilot.ingest import gate

_logger = logging.getLogger(__name__)

#: refusal detail rows kept per repository, and for the "unknown repository" bucket
MAX_PER_REPOSITORY = 20
MAX_UNKNOWN = 50

REFUSAL_REASONS = [
    (gate.BAD_SIGNATURE, "Bad signature"),
    (gate.NO_SIGNATURE, "No signature"),
    (gate.NO_SECRET, "No secret in Odoo"),
    (gate.UNKNOWN_REPOSITORY, "Unknown repository"),
    (gate.BAD_EVENT, "Bad event header"),
    (gate.BAD_GUID, "Bad delivery id header"),
    (gate.MALFORMED, "Malformed payload"),
    (gate.CONTENT_TYPE, "Wrong content type"),
    (gate.TOO_LARGE, "Payload too large"),
]


def _header_text(value, limit=64):
    """A sender's header as a short printable string (it is shown as sent, to be recognised)."""
    return "".join(char for char in (value or "")[:limit] if char.isprintable())


class OpsWebhookRefusal(models.Model):
    """A delivery the webhook refused: metadata only, never the body (it was not authenticated).

    Shown on the repository the body names (a claim, not a proof), or in
    the "unknown repository" bucket (no repository). Storage is bounded
    whatever an anonymous sender does: only the newest
    :data:`MAX_PER_REPOSITORY` rows per repository (:data:`MAX_UNKNOWN` in
    the bucket) are kept, and every refusal is counted in one row per
    repository, reason and hour (``ops.webhook.refusal.hour``).
    """

    _name = "ops.webhook.refusal"
    _description = "Refused GitHub Webhook Delivery"
    _order = "received_at desc, id desc"
    _rec_name = "guid"

    repository_id = fields.Many2one(
        "ops.repository",
        readonly=True,
        ondelete="cascade",
        help="The repository the refused payload names (not verified: the request was refused); empty when it "
        "names none that is configured",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    received_at = fields.Datetime(required=True, readonly=True)
    reason = fields.Selection(REFUSAL_REASONS, required=True, readonly=True)
    status = fields.Integer(string="HTTP status", readonly=True)
    event = fields.Char(readonly=True, help="X-GitHub-Event, as sent")
    guid = fields.Char(string="Delivery GUID", readonly=True, help="X-GitHub-Delivery, as sent")
    remote_addr = fields.Char(string="Sender address", readonly=True)
    size = fields.Integer(string="Size (bytes)", readonly=True)
    claimed_name = fields.Char(
        string="Named repository", readonly=True, help="The owner/name the payload gives, when no repository has it"
    )

    def init(self):
        # the trim of each bucket reads its newest rows
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS ops_webhook_refusal_bucket_idx"
            " ON ops_webhook_refusal (COALESCE(repository_id, 0), id DESC)"
        )

    @api.model
    def _record(self, rejected, headers, remote_addr, size):
        """Record a refusal and forget the oldest beyond the cap; never fails the answer it accompanies.

        Its own short transaction, in READ COMMITTED: senders hammering one
        repository update the same counter row, which then waits for a row
        lock held for one statement and a commit, instead of failing to
        serialize under the request's REPEATABLE READ (and being retried).
        Nothing else of the request is written, so its commit is not waited
        for on disk either (``synchronous_commit`` off: a refusal lost in a
        crash is no loss).
        """
        buckets = list(rejected.claimed) or [None]
        now = fields.Datetime.now()
        hour = now.replace(minute=0, second=0, microsecond=0)
        uid = self.env.uid
        details = SQL(", ").join(
            SQL(
                "(%s, (SELECT company_id FROM ops_repository WHERE id = %s), %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, %s, %s)",
                repo_id,
                repo_id,
                now,
                rejected.code,
                rejected.status,
                _header_text(headers.get("X-GitHub-Event")) or None,
                _header_text(headers.get("X-GitHub-Delivery")) or None,
                (remote_addr or "")[:64] or None,
                size,
                None if repo_id else (rejected.claimed_name or None),
                uid,
                now,
                uid,
                now,
            )
            for repo_id in buckets
        )
        counters = SQL(", ").join(
            SQL(
                "(%s, (SELECT company_id FROM ops_repository WHERE id = %s), %s, %s, 1, %s, %s, %s, %s)",
                repo_id,
                repo_id,
                rejected.code,
                hour,
                uid,
                now,
                uid,
                now,
            )
            for repo_id in buckets
        )
        trims = SQL("; ").join(
            SQL(
                "DELETE FROM ops_webhook_refusal WHERE id IN (SELECT id FROM ops_webhook_refusal"
                " WHERE COALESCE(repository_id, 0) = %s ORDER BY COALESCE(repository_id, 0), id DESC OFFSET %s"
                " FOR UPDATE SKIP LOCKED)",
                repo_id or 0,
                MAX_PER_REPOSITORY if repo_id else MAX_UNKNOWN,
            )
            for repo_id in buckets
        )
        query = SQL(
            "%s SET LOCAL synchronous_commit TO OFF;"
            " INSERT INTO ops_webhook_refusal_hour AS c (repository_id, company_id, reason, hour, count, create_uid,"
            " create_date, write_uid, write_date) VALUES %s"
            " ON CONFLICT ((COALESCE(repository_id, 0)), reason, hour) DO UPDATE SET count = c.count + 1,"
            " write_date = EXCLUDED.write_date;"
            " INSERT INTO ops_webhook_refusal (repository_id, company_id, received_at, reason, status, event, guid,"
            " remote_addr, size, claimed_name, create_uid, create_date, write_uid, write_date) VALUES %s; %s",
            # a test cursor runs inside the test's transaction, whose isolation is set already
            SQL("") if self.env.registry.in_test_mode() else SQL("SET TRANSACTION ISOLATION LEVEL READ COMMITTED;"),
            counters,
            details,
            trims,
        )
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(query)
        except psycopg2.Error as exc:
            _logger.warning("a refused GitHub delivery could not be recorded: %s", type(exc).__name__)
