import json
import logging

from odoo import api, fields, models

from ..autopilot.common.masking import mask_secrets
from .ops_params import get_param

_logger = logging.getLogger(__name__)

HOLD_KINDS = [
    ("update_pr", "Dependency-update PR"),
    ("review_fix", "Review auto-fix PR"),
    ("ci_fix", "CI fix PR"),
]
HOLD_STATES = [
    ("held", "Held"),
    ("released", "Opened"),
    ("failed", "Failed (retried)"),
    ("cancelled", "Cancelled"),
]
#: a release that failed this many times waits for a person (Retry button)
MAX_ATTEMPTS = 5


class OpsFreezeHold(models.Model):
    """A change held by a freeze: queued with the window's reason, opened by a cron once the freeze ends.

    The model that held it releases it: ``env[res_model]._freeze_release(hold)``
    returns the URL of what it opened (or raises; the hold is then marked
    failed with the error and retried on the next run, the others go on).
    """

    _name = "ops.freeze.hold"
    _description = "Change Held by a Freeze"
    _inherit = ["ops.cron.mixin"]
    _order = "create_date desc, id desc"

    name = fields.Char(required=True, readonly=True)
    kind = fields.Selection(HOLD_KINDS, required=True, readonly=True, index=True)
    key = fields.Char(required=True, readonly=True, help="What the change is (a branch): held once per repository")
    window_id = fields.Many2one("ops.freeze.window", required=True, readonly=True, ondelete="cascade", index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    reason = fields.Char(readonly=True, help="The window's reason when the change was held")
    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    payload = fields.Text(readonly=True, groups="ops_autopilot.group_ops_manager")
    state = fields.Selection(HOLD_STATES, required=True, default="held", readonly=True, index=True)
    attempts = fields.Integer(readonly=True)
    error = fields.Char(readonly=True)
    released_at = fields.Datetime(string="Opened at", readonly=True)
    result_url = fields.Char(string="Opened", readonly=True)

    # ------------------------------------------------------------------
    # holding
    # ------------------------------------------------------------------
    @api.model
    def _hold(self, window, origin, kind, key, name, payload=None):
        """Hold a change of ``origin``'s repository (one per kind and key: a newer proposal replaces the payload)."""
        repository = origin.repository_id
        values = {
            "window_id": window.id,
            "reason": window.name,
            "name": name[:250],
            "payload": json.dumps(payload or {}, sort_keys=True, default=str),
            "res_model": origin._name,
            "res_id": origin.id,
            "state": "held",
            "attempts": 0,
            "error": False,
        }
        Hold = self.sudo()
        existing = Hold.search(
            [
                ("repository_id", "=", repository.id),
                ("kind", "=", kind),
                ("key", "=", key),
                ("state", "!=", "released"),
            ],
            limit=1,
        )
        if existing:
            existing.write(values)
            hold = existing
        else:
            hold = Hold.create({**values, "repository_id": repository.id, "kind": kind, "key": key})
        end = self.env["ops.freeze.window"]._freeze_end(repository)
        if end:  # opened on time when the freeze ends, not at the cron's next poll
            self._ops_trigger_at("ops_autopilot.ir_cron_freeze_release", end)
        return hold

    def _payload(self):
        return json.loads(self.sudo().payload or "{}")

    @api.model
    def _freeze_changed(self):
        """A window or override changed: release what may be released and refresh the commit statuses soon."""
        self._ops_trigger_soon("ops_autopilot.ir_cron_freeze_release")
        self._ops_trigger_soon("ops_autopilot.ir_cron_freeze_statuses")

    # ------------------------------------------------------------------
    # releasing
    # ------------------------------------------------------------------
    def action_retry(self):
        self.filtered(lambda h: h.state == "failed").sudo().write({"state": "held", "attempts": 0, "error": False})
        self._ops_trigger_soon("ops_autopilot.ir_cron_freeze_release")

    def action_cancel(self):
        self.filtered(lambda h: h.state in ("held", "failed")).sudo().write({"state": "cancelled"})

    @api.model
    def _cron_release(self, batch_size=None, now=None):
        """Open the held changes whose repository is no longer frozen, a batch at a time; returns how many opened.

        One failure is recorded on its hold and never blocks the others.
        """
        batch_size = batch_size or get_param(self.env, "freeze_release_batch_size")
        now = now or fields.Datetime.now()
        Window = self.env["ops.freeze.window"]
        due = self.sudo().search(
            [("state", "in", ("held", "failed")), ("attempts", "<", MAX_ATTEMPTS)], order="create_date, id"
        )
        frozen, released, done = {}, 0, 0
        for hold in due:
            if done >= batch_size:
                break
            repository = hold.repository_id
            if repository.id not in frozen:
                frozen[repository.id] = bool(Window._active_freeze(repository, now))
            if frozen[repository.id]:
                continue
            done += 1
            try:
                with self.env.cr.savepoint():
                    url = self.env[hold.res_model].sudo()._freeze_release(hold)
            except Exception as exc:  # any failure is recorded on this hold, retried, and the others go on
                detail = mask_secrets(f"{type(exc).__name__}: {exc}")[0][:500]
                _logger.warning("releasing held change %s failed: %s", hold.id, detail)
                hold.write({"state": "failed", "attempts": hold.attempts + 1, "error": detail})
            else:
                hold.write({"state": "released", "released_at": now, "result_url": url or False, "error": False})
                released += 1
            self._ops_commit()
        remaining = self.sudo().search_count([("state", "in", ("held", "failed")), ("attempts", "<", MAX_ATTEMPTS)])
        self._ops_notify_progress(done=done, remaining=remaining if done >= batch_size else 0)
        return released
