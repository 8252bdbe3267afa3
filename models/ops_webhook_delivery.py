import json
import logging
import time
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..autopilot.common.backoff import BackoffPolicy
from ..autopilot.github import events
from .ops_fields import BigInteger
from .ops_params import get_param

_logger = logging.getLogger(__name__)

PROCESSING_CRON = "ops_autopilot.ir_cron_process_webhook_deliveries"

DELIVERY_STATES = [
    ("received", "Received"),
    ("processed", "Processed"),
    ("ignored", "Ignored"),
    ("failed", "Failed"),
]

#: which model turns each typed event into records
EVENT_HANDLERS = {
    events.WorkflowRun: ("ops.workflow.run", "_upsert_run"),
    events.WorkflowJob: ("ops.workflow.job", "_upsert_job"),
    events.Push: ("ops.push", "_record_push"),
    events.PullRequest: ("ops.pull.request", "_upsert_pull_request"),
    events.DeploymentEvent: ("ops.deployment", "_ingest_event"),
}


class OpsWebhookDelivery(models.Model):
    """A GitHub webhook delivery, stored raw before anything else happens.

    The controller only verifies and stores; a cron turns stored deliveries
    into runs, jobs, pushes and pull requests, so GitHub gets its answer
    fast and a failure while processing loses nothing.
    """

    _name = "ops.webhook.delivery"
    _description = "GitHub Webhook Delivery"
    _inherit = ["ops.cron.mixin"]
    _order = "received_at desc, id desc"
    _rec_name = "guid"

    guid = fields.Char(string="Delivery GUID", required=True, readonly=True, help="X-GitHub-Delivery")
    event = fields.Char(required=True, readonly=True, index=True)
    action = fields.Char(readonly=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    hook_id = BigInteger(string="Hook ID", readonly=True)
    payload = fields.Text(readonly=True, help="The JSON body exactly as GitHub sent it")
    payload_size = fields.Integer(string="Size (bytes)", readonly=True)
    state = fields.Selection(DELIVERY_STATES, default="received", required=True, readonly=True, index=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True, help="Processing attempts so far")
    next_attempt_at = fields.Datetime(readonly=True, index=True, help="When a failed delivery is tried again")
    received_at = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    processed_at = fields.Datetime(readonly=True)
    res_model = fields.Char(string="Record model", readonly=True)
    res_id = fields.Many2oneReference(string="Record", model_field="res_model", readonly=True)

    _sql_constraints = [
        (
            "guid_repository_unique",
            "unique(guid, repository_id)",
            "This delivery is already stored.",
        ),
    ]

    def _compute_display_name(self):
        for delivery in self:
            label = f"{delivery.event}.{delivery.action}" if delivery.action else delivery.event
            delivery.display_name = f"{label} {(delivery.guid or '')[:8]}"

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_replay(self):
        """Process these deliveries again now, whatever their state."""
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise UserError(_("Only Ops Managers can replay deliveries."))
        self.sudo().write({"state": "received", "next_attempt_at": False})
        self.sudo()._process()
        failed = self.filtered(lambda d: d.state == "failed")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Replay"),
                "message": _("%(ok)s processed, %(failed)s failed.", ok=len(self) - len(failed), failed=len(failed)),
                "type": "warning" if failed else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(_("This delivery did not produce a record."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }

    # ------------------------------------------------------------------
    # reception (called by the controller, already verified)
    # ------------------------------------------------------------------
    @api.model
    def _receive_from_webhook(self, accepted):
        """:meth:`_receive` for the webhook request, whose transaction has only read so far.

        A copy of this delivery committed after this transaction's snapshot
        makes the insert fail to serialize: it is the duplicate it is, and
        the whole transaction rolls back (nothing of it was written), which
        costs less than a savepoint around every delivery's insert.
        """
        try:
            return self._receive(accepted)
        except pg_errors.SerializationFailure:
            self.env.cr.rollback()
            return 200, {"status": "duplicate", "delivery": accepted.guid}

    @api.model
    def _receive(self, accepted):
        """Store a verified delivery and say how to answer GitHub.

        :param accepted: :class:`autopilot.ingest.gate.Accepted`
        :return: ``(status, body)`` for the HTTP answer
        """
        ping = accepted.event == "ping"
        if ping:
            state = "processed"
        elif accepted.handled:
            state = "received"
        else:
            state = "ignored"
        before_flush = not ping and self.env["ops.repository"]._delivery_log_covers(accepted.matches)
        cron_id = None
        if state == "received":
            cron_id = self.env["ir.model.data"]._xmlid_to_res_id(PROCESSING_CRON, raise_if_not_found=True)
        stored, pending = self._insert_deliveries(accepted, state, before_flush=before_flush, trigger_cron_id=cron_id)
        if not stored:
            return 200, {"status": "duplicate", "delivery": accepted.guid}
        new_repos = self.env["ops.repository"].sudo().browse(stored)
        if ping:
            new_repos._mark_hook_verified(events.parse_ping(json.loads(accepted.payload_text)))
            return 200, {"status": "pong", "delivery": accepted.guid}
        if cron_id:
            self._ops_wake_cron_workers(cron_id, pending)
        return 202, {"status": state, "delivery": accepted.guid}

    @api.model
    def _insert_deliveries(self, accepted, state, before_flush=False, trigger_cron_id=None):
        """Store one row per matching repository; return the repositories it was new for, and ``pending``.

        ``before_flush``: this transaction's commit returns without waiting
        for PostgreSQL to flush it to disk (``synchronous_commit = off``, for
        this transaction only; set in the same round trip as the insert).
        Only for repositories whose delivery log on GitHub can give back what
        a crash would lose (``ops.repository._delivery_log_covers``).

        ``trigger_cron_id``: the same statement also triggers that cron when
        a row was stored (:meth:`_ops_trigger_sql`, one round trip for both);
        ``pending`` then tells whether a trigger was pending before it.

        The hot path of every webhook, so one ``INSERT`` rather than the ORM's
        create (defaults, the related company, a flush and a write: half the
        cost of a request). ``ON CONFLICT DO NOTHING`` on the unique
        (guid, repository) index answers a redelivery, or a copy racing this
        one in another transaction, as the duplicate it is; that insert waits
        for the other transaction, so exactly one of them stores it.
        """
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, (SELECT company_id FROM ops_repository WHERE id = %s), %s, %s, %s, %s, %s, %s,"
                " 0, %s, %s, %s, %s)",
                accepted.guid,
                accepted.event,
                accepted.action or None,
                repo_id,
                repo_id,
                accepted.hook_id or None,
                accepted.payload_text,
                len(accepted.payload_text),
                state,
                now,
                now if state == "processed" else None,
                uid,
                now,
                uid,
                now,
            )
            for repo_id in accepted.matches
        )
        insert = SQL(
            "INSERT INTO ops_webhook_delivery (guid, event, action, repository_id, company_id, hook_id, payload,"
            " payload_size, state, received_at, processed_at, attempts, create_uid, create_date, write_uid,"
            " write_date) VALUES %s ON CONFLICT DO NOTHING RETURNING repository_id",
            rows,
        )
        if trigger_cron_id:
            trigger, pending = self._ops_trigger_sql(trigger_cron_id, condition=SQL("EXISTS(SELECT 1 FROM stored)"))
            insert = SQL(
                "WITH stored AS (%s), trigger AS (%s) SELECT repository_id, %s FROM stored", insert, trigger, pending
            )
        if before_flush:
            insert = SQL("SET LOCAL synchronous_commit TO OFF; %s", insert)
        # a copy committed after this transaction's snapshot raises SerializationFailure (not logged:
        # it is no error); the webhook request answers it as a duplicate, see _receive_from_webhook
        self.env.cr.execute(insert, log_exceptions=False)
        rows = self.env.cr.fetchall()
        return [row[0] for row in rows], any(row[1] for row in rows) if trigger_cron_id else None

    # ------------------------------------------------------------------
    # processing (cron)
    # ------------------------------------------------------------------
    @api.model
    def _retry_policy(self):
        return BackoffPolicy(
            initial=get_param(self.env, "delivery_retry_initial_seconds"),
            base=2.0,
            max_delay=get_param(self.env, "delivery_retry_max_seconds"),
            jitter=0.2,
            max_attempts=get_param(self.env, "delivery_max_attempts"),
        )

    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        return ["|", ("state", "=", "received"), "&", ("state", "=", "failed"), ("next_attempt_at", "<=", now)]

    @api.model
    def _lock_due_batch(self, limit):
        """Ids of due deliveries, locked for this transaction; rows another worker holds are skipped."""
        query = self._search(self._due_domain(), order="received_at, id", limit=limit)
        rows = self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        return [row[0] for row in rows]

    @api.model
    def _cron_process_deliveries(self, batch_size=None):
        """Process one batch of due deliveries and report progress.

        The cron framework calls again while ``remaining`` is positive, and
        commits after each call; rows are locked with ``SKIP LOCKED`` so
        several cron workers share the queue without processing a delivery
        twice.

        Each committed batch wakes the cron workers once more: deliveries
        stored while this run works saw its trigger pending and sent no
        NOTIFY (see ``_ops_trigger_soon``), and this run cannot see them (its
        snapshot); without this they, and the rest of a backlog longer than
        one run, waited for the workers' next poll, a minute later.
        """
        batch = self.browse(self._lock_due_batch(batch_size or get_param(self.env, "delivery_batch_size")))
        if batch:
            batch._process()
            self._notify_clients(batch)
            self.env.cr.postcommit.add(self.env.ref(PROCESSING_CRON)._notifydb)
        remaining = self.search_count(self._due_domain())
        self._ops_notify_progress(done=len(batch), remaining=remaining)
        return len(batch)

    def _process(self):
        """Turn each delivery into records; one failure never stops the others."""
        policy = self._retry_policy()
        for delivery in self:
            started = time.monotonic()
            try:
                with self.env.cr.savepoint():
                    record = delivery._dispatch()
            except Exception as exc:
                delivery._record_failure(exc, policy)
                continue
            delivery.write(
                {
                    "state": "processed",
                    "attempts": delivery.attempts + 1,
                    "processed_at": fields.Datetime.now(),
                    "error": False,
                    "next_attempt_at": False,
                    "res_model": record._name if record else False,
                    "res_id": record.id if record else False,
                }
            )
            _logger.debug("delivery %s processed in %.1f ms", delivery.guid, (time.monotonic() - started) * 1000)

    def _record_failure(self, exc, policy):
        attempts = self.attempts + 1
        retry_at = False
        if policy.can_retry(attempts):
            retry_at = fields.Datetime.now() + timedelta(seconds=policy.delay(attempts))
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        self.write({"state": "failed", "attempts": attempts, "error": reason, "next_attempt_at": retry_at})
        _logger.warning(
            "GitHub delivery %s (%s) failed, attempt %s%s: %s",
            self.guid,
            self.event,
            attempts,
            f", retry at {retry_at}" if retry_at else ", giving up",
            reason,
        )
        if retry_at:
            self.env.ref(PROCESSING_CRON).sudo()._trigger(at=retry_at)

    def _dispatch(self):
        """Hand the typed event to the model that records it; return that record (or None)."""
        self.ensure_one()
        obj = events.parse_event(self.event, json.loads(self.payload or "null"))
        if isinstance(obj, events.Ping):
            self.repository_id._mark_hook_verified(obj)
            return self.repository_id
        if obj is None:
            return None
        model, method = EVENT_HANDLERS[type(obj)]
        return getattr(self.env[model].sudo(), method)(self.repository_id, obj)

    @api.model
    def _notify_clients(self, batch):
        """Tell open lists and dashboards that runs changed (they reload themselves)."""
        touched = {m for m in batch.mapped("res_model") if m} | {self._name}
        if "ops.workflow.job" in touched:
            touched.add("ops.workflow.run")  # a job changes its run's counts and placeholder state
        group = self.env.ref("ops_autopilot.group_ops_user")
        self.env["bus.bus"]._sendone(group, "ops_autopilot/refresh", {"models": sorted(touched)})

    @api.model
    def _cron_purge_deliveries(self, batch_size=5000):
        """Delete processed and ignored deliveries past the retention period, a batch at a time; old refusal counts."""
        days = get_param(self.env, "delivery_retention_days")
        cutoff = fields.Datetime.now() - timedelta(days=days)
        domain = [("state", "in", ("processed", "ignored")), ("received_at", "<", cutoff)]
        old = self.search(domain, limit=batch_size)
        old.unlink()
        self.env["ops.webhook.refusal.hour"]._purge()
        self._ops_notify_progress(done=len(old), remaining=self.search_count(domain))
