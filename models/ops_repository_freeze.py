import logging
from datetime import datetime

from odoo import _, api, fields, models

from ..autopilot.business import freeze_status
from ..autopilot.common.errors import ServiceError
from .ops_params import get_param

_logger = logging.getLogger(__name__)


class OpsRepository(models.Model):
    """Change freezes seen from a repository: the banner on its form and its pull requests' commit status."""

    _inherit = "ops.repository"

    freeze_window_id = fields.Many2one(
        "ops.freeze.window", string="Frozen by", compute="_compute_freeze", compute_sudo=True
    )
    freeze_until = fields.Datetime(string="Frozen until", compute="_compute_freeze", compute_sudo=True)
    freeze_status_checked_at = fields.Datetime(
        string="Freeze status checked", readonly=True, help="Last time its open pull requests' freeze status was synced"
    )
    freeze_status_error = fields.Char(readonly=True)

    def _compute_freeze(self):
        Window = self.env["ops.freeze.window"]
        now = fields.Datetime.now()
        for repo in self:
            window = Window._active_freeze(repo, now) if repo.id else Window
            repo.freeze_window_id = window
            repo.freeze_until = Window._freeze_end(repo, now) if window else False

    # ------------------------------------------------------------------
    # the commit status of open pull requests
    # ------------------------------------------------------------------
    @api.model
    def _freeze_status_scope(self):
        """Repositories with a token whose pull requests carry (or should carry) the freeze status."""
        windows = self.env["ops.freeze.window"].sudo().search([])
        everything = windows.filtered(lambda w: not w.repository_ids).company_id
        covered = self.sudo().search([("company_id", "in", everything.ids)]) | windows.repository_ids
        pending = self.env["ops.freeze.pr.status"].sudo().search([("state", "=", "pending")]).repository_id
        return (covered | pending).filtered(lambda r: r.active and r.token)

    @api.model
    def _cron_freeze_statuses(self, batch_size=None, now=None):
        """Sync the freeze status of the open pull requests of a batch of repositories (least recently first).

        A repository whose GitHub calls fail keeps its error and waits for the
        next run; the others go on.
        """
        batch_size = batch_size or get_param(self.env, "freeze_status_batch_size")
        scope = self._freeze_status_scope()
        batch = scope.sorted(lambda r: (r.freeze_status_checked_at or datetime.min, r.id))
        batch = batch[:batch_size]
        posted = 0
        for repo in batch:
            posted += repo._freeze_sync_statuses(now)
            self._ops_commit()
        self._ops_notify_progress(done=len(batch), remaining=0)
        return posted

    def _freeze_target_url(self, window):
        base = (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").rstrip("/")
        return f"{base}/odoo/ops.freeze.window/{window.id}" if base and window else None

    def _freeze_sync_statuses(self, now=None):
        """Post the freeze status where it changed on this repository's open pull requests; returns how many."""
        self.ensure_one()
        repo = self.sudo()
        now = now or fields.Datetime.now()
        window = self.env["ops.freeze.window"]._active_freeze(repo, now)
        Status = self.env["ops.freeze.pr.status"].sudo()
        known = Status.search([("repository_id", "=", repo.id)])
        by_sha = {s.head_sha: s for s in known}
        count = 0
        try:
            client = repo._github_client()
            heads = freeze_status.open_pull_heads(client, repo.full_name)
            posted = {s.head_sha: (s.state, s.description or "") for s in known}
            changes = freeze_status.plan_statuses(heads, posted, bool(window), window.name if window else "")
            for change in changes:
                freeze_status.post_status(
                    client,
                    repo.full_name,
                    change.sha,
                    change.state,
                    change.description,
                    repo._freeze_target_url(window),
                )
                values = {
                    "pr_number": change.number,
                    "state": change.state,
                    "description": change.description,
                    "window_id": window.id or False,
                    "posted_at": now,
                }
                if change.sha in by_sha:
                    by_sha[change.sha].write(values)
                else:
                    by_sha[change.sha] = Status.create({**values, "repository_id": repo.id, "head_sha": change.sha})
                count += 1
        except ServiceError as exc:
            message = _("Freeze status not synced: %s", exc)
            _logger.warning("freeze status of %s: %s", repo.full_name, exc)
            repo.write({"freeze_status_checked_at": now, "freeze_status_error": message[:500]})
            return count
        # heads no longer open are forgotten, so the table holds open pull requests only
        open_shas = {h.sha for h in heads}
        known.filtered(lambda s: s.head_sha not in open_shas and s.exists()).unlink()
        repo.write({"freeze_status_checked_at": now, "freeze_status_error": False})
        return count
