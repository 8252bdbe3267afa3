import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..autopilot.github import events, rest_api
from ..autopilot.ingest import delivery_log
from .ops_fields import BigInteger
from .ops_params import get_param

_logger = logging.getLogger(__name__)

SYNC_STATES = [("never", "Never synced"), ("ok", "Synced"), ("failed", "Failed")]
HOOK_SCOPES = [("repository", "Repository hook"), ("organization", "Organization hook")]
WEBHOOK_PATH = "/ops/github/webhook"
#: the fields _webhook_directory is read from: writing one clears its cache
WEBHOOK_CANDIDATE_FIELDS = frozenset(
    {"full_name", "name_key", "owner_key", "active", "webhook_secret", "new_webhook_secret", "delivery_log_mark"}
)


class OpsRepository(models.Model):
    _name = "ops.repository"
    _description = "GitHub Repository"
    _inherit = ["ops.cron.mixin"]
    _order = "full_name"
    _rec_name = "full_name"

    full_name = fields.Char(required=True, help="owner/name, as on GitHub")
    name_key = fields.Char(compute="_compute_name_key", store=True, index=True)
    owner_key = fields.Char(compute="_compute_name_key", store=True, index=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    api_url = fields.Char(
        string="API URL",
        required=True,
        default=rest_api.DEFAULT_API_URL,
        help="https://api.github.com, the API of a GitHub Enterprise server (https://host/api/v3), "
        "or a local test server",
    )
    html_url = fields.Char(string="GitHub page", compute="_compute_html_url")
    default_branch = fields.Char(default="main", required=True)
    webhook_secret = fields.Char(groups="base.group_system", copy=False)
    token = fields.Char(string="API token", groups="base.group_system", copy=False)
    has_webhook_secret = fields.Boolean(compute="_compute_has_secrets")
    has_token = fields.Boolean(compute="_compute_has_secrets")
    new_webhook_secret = fields.Char(
        compute="_compute_new_secrets",
        inverse="_inverse_new_webhook_secret",
        help="Write-only: sets the webhook secret without revealing the current one.",
    )
    new_token = fields.Char(
        compute="_compute_new_secrets",
        inverse="_inverse_new_token",
        help="Write-only: sets the API token without revealing the current one.",
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", help="Payload URL to give GitHub")
    hook_id = BigInteger(string="Hook ID", copy=False, help="Set by GitHub's ping when the hook is created")
    hook_scope = fields.Selection(
        HOOK_SCOPES,
        copy=False,
        readonly=True,
        help="Set by the ping: a repository's own hook, or its owner's organization hook (whose delivery log is the "
        "organization's, read with the admin:org_hook scope or the organization's Webhooks permission)",
    )
    github_repo_id = BigInteger(
        string="GitHub repository ID",
        copy=False,
        readonly=True,
        help="Picks this repository's deliveries out of an organization hook's log",
    )
    hook_verified_at = fields.Datetime(copy=False, readonly=True)
    hook_events = fields.Char(copy=False, readonly=True)
    last_sync_at = fields.Datetime(copy=False, readonly=True, help="End of the last successful sync")
    last_sync_attempt_at = fields.Datetime(copy=False, readonly=True)
    last_redelivery_check_at = fields.Datetime(
        copy=False,
        readonly=True,
        help="End of the last successful check of the hook's deliveries on GitHub against those Odoo holds",
    )
    delivery_log_mark = fields.Datetime(
        string="Delivery log checked (as cached)",
        copy=False,
        readonly=True,
        help="A successful check of the hook's deliveries, as the webhook workers know it (rewritten every "
        "12 hours while the checks succeed; cleared when the token is removed or the hook replaced). While it is "
        "under 24 hours old, GitHub's delivery log can give back anything a database crash loses, and deliveries "
        "are acknowledged once committed, without waiting for the disk flush (see the settings).",
    )
    redelivery_asked = fields.Json(
        copy=False,
        readonly=True,
        help="Deliveries the sync asked GitHub to send again, and how often (kept as long as GitHub keeps them)",
    )
    undelivered_count = fields.Integer(
        string="Deliveries given up",
        compute="_compute_undelivered",
        help="Deliveries GitHub could not deliver that the sync no longer asks for: Odoo kept refusing them",
    )
    undelivered_note = fields.Char(compute="_compute_undelivered")
    last_sync_state = fields.Selection(SYNC_STATES, default="never", copy=False, readonly=True)
    last_sync_message = fields.Text(copy=False, readonly=True)
    run_ids = fields.One2many("ops.workflow.run", "repository_id")
    run_count = fields.Integer(compute="_compute_counts")
    failed_run_count = fields.Integer(compute="_compute_counts")
    delivery_count = fields.Integer(compute="_compute_counts")
    failed_delivery_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        (
            "name_company_unique",
            "unique(name_key, company_id)",
            "This repository is already configured for this company.",
        ),
    ]

    @api.depends("redelivery_asked")
    def _compute_undelivered(self):
        for repo in self:
            answers = delivery_log.given_up(repo.redelivery_asked)
            repo.undelivered_count = len(answers)
            repo.undelivered_note = (
                _(
                    "%(count)s deliveries were asked again %(refused)s times (or %(failed)s when not refused) and "
                    "still not accepted (last answers: %(answers)s), so the sync no longer asks for them. A 401 means "
                    "the webhook secret differs between GitHub and Odoo, a 404 that the repository's name differs; "
                    "once mended, redeliver them from the hook's page on GitHub.",
                    count=len(answers),
                    refused=delivery_log.MAX_REFUSED_REDELIVERIES,
                    failed=delivery_log.MAX_FAILED_REDELIVERIES,
                    answers=", ".join(str(code) for code in sorted(set(answers.values()))),
                )
                if answers
                else False
            )

    @api.depends("full_name")
    def _compute_name_key(self):
        for repo in self:
            key = (repo.full_name or "").strip().lower()
            repo.name_key = key
            repo.owner_key = key.split("/")[0] if "/" in key else key

    @api.depends("api_url", "full_name")
    def _compute_html_url(self):
        for repo in self:
            repo.html_url = f"{rest_api.html_base(repo.api_url)}/{repo.full_name}" if repo.full_name else False

    def _compute_has_secrets(self):
        for repo, private in zip(self, self.sudo(), strict=True):
            repo.has_webhook_secret = bool(private.webhook_secret)
            repo.has_token = bool(private.token)

    def _compute_new_secrets(self):
        self.new_webhook_secret = False
        self.new_token = False

    def _inverse_new_webhook_secret(self):
        for repo in self.filtered("new_webhook_secret"):
            repo.sudo().webhook_secret = repo.new_webhook_secret.strip()

    def _inverse_new_token(self):
        for repo in self.filtered("new_token"):
            repo.sudo().token = repo.new_token.strip()

    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for repo in self:
            repo.webhook_url = base.rstrip("/") + WEBHOOK_PATH

    def _compute_counts(self):
        run_groups = self.env["ops.workflow.run"]._read_group(
            [("repository_id", "in", self.ids)], ["repository_id", "outcome"], ["__count"]
        )
        runs, failed_runs = {}, {}
        for repo, outcome, count in run_groups:
            runs[repo.id] = runs.get(repo.id, 0) + count
            if outcome == "failure":
                failed_runs[repo.id] = count
        delivery_groups = self.env["ops.webhook.delivery"]._read_group(
            [("repository_id", "in", self.ids)], ["repository_id", "state"], ["__count"]
        )
        deliveries, failed_deliveries = {}, {}
        for repo, state, count in delivery_groups:
            deliveries[repo.id] = deliveries.get(repo.id, 0) + count
            if state == "failed":
                failed_deliveries[repo.id] = count
        for repo in self:
            repo.run_count = runs.get(repo.id, 0)
            repo.failed_run_count = failed_runs.get(repo.id, 0)
            repo.delivery_count = deliveries.get(repo.id, 0)
            repo.failed_delivery_count = failed_deliveries.get(repo.id, 0)

    @api.constrains("full_name")
    def _check_full_name(self):
        for repo in self:
            parts = (repo.full_name or "").strip().split("/")
            if len(parts) != 2 or not all(parts) or any(" " in part for part in parts):
                raise ValidationError(_("Repository must be written owner/name, got %s.", repo.full_name))

    @api.constrains("api_url")
    def _check_api_url(self):
        for repo in self:
            if not (repo.api_url or "").startswith(("https://", "http://")):
                raise ValidationError(_("The API URL must start with https:// (or http:// for a local server)."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("full_name"):
                vals["full_name"] = vals["full_name"].strip()
        repos = super().create(vals_list)
        self._forget_webhook_directory()
        return repos

    def write(self, vals):
        if vals.get("full_name"):
            vals["full_name"] = vals["full_name"].strip()
            if "github_repo_id" not in vals:
                vals = dict(vals, github_repo_id=False)  # read again from GitHub under the new name
        if "token" in vals and not vals["token"]:
            # no token, no more checks of the delivery log: stop relying on it now, not 24 hours later
            vals = dict(vals, delivery_log_mark=False)
        result = super().write(vals)
        if WEBHOOK_CANDIDATE_FIELDS.intersection(vals):
            self._forget_webhook_directory()
        return result

    def unlink(self):
        result = super().unlink()
        self._forget_webhook_directory()
        return result

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_generate_webhook_secret(self):
        """Generate a strong secret (system administrators only: they alone may read it)."""
        if not self.env.user.has_group("base.group_system"):
            raise UserError(_("Only system administrators can generate and read webhook secrets."))
        for repo in self:
            repo.webhook_secret = secrets.token_urlsafe(32)
        return True

    def action_sync_from_github(self):
        # the sync runs as superuser and calls GitHub with the token: the button is for managers only
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can sync repositories from GitHub."))
        results = self._sync_from_github()
        failed = [repo.full_name for repo in self if repo.last_sync_state == "failed"]
        message = (
            _("Sync failed for %s: see the repository.", ", ".join(failed))
            if failed
            else _(
                "%(runs)s runs and %(jobs)s jobs fetched, %(redelivered)s deliveries asked again.",
                **results,
            )
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Sync from GitHub"),
                "message": message,
                "type": "danger" if failed else "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_runs(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_workflow_run_action")
        action["domain"] = [("repository_id", "in", self.ids)]
        action["context"] = {"default_repository_id": self.id}
        return action

    def action_view_deliveries(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_webhook_delivery_action")
        action["domain"] = [("repository_id", "in", self.ids)]
        return action

    # ------------------------------------------------------------------
    # webhook support
    # ------------------------------------------------------------------
    @api.model
    def _webhook_candidates(self, full_name, organization):
        """``(id, secret)`` of the active repositories a delivery may belong to.

        A repository hook names its repository; an organization hook (its
        ``ping`` has no repository) is matched against the repositories of
        that owner, and only those whose secret verifies are kept.
        """
        directory = self._webhook_directory()
        if full_name:
            return directory["names"].get(full_name.lower(), ())
        return directory["owners"].get((organization or "").lower(), ())

    @api.model
    @tools.ormcache()
    def _webhook_directory(self):
        """Every active repository's ``(id, secret)`` by lower-case full name and by owner.

        Every delivery asks, and the answer only changes when a repository is
        created, deleted, renamed, archived or given a new secret, so it is
        cached per process, as one entry: names a sender makes up are looked
        up in it, never cached, and cannot crowd out Odoo's own cached
        entries. See :meth:`_forget_webhook_directory` for its invalidation.
        """
        self.flush_model(list(WEBHOOK_CANDIDATE_FIELDS - {"new_webhook_secret"}))
        rows = self.env.execute_query(
            SQL(
                "SELECT id, name_key, owner_key, COALESCE(webhook_secret, ''), delivery_log_mark FROM ops_repository"
                " WHERE active ORDER BY full_name, id"
            )
        )
        names, owners, log_marks = {}, {}, {}
        for repo_id, name_key, owner_key, secret, log_mark in rows:
            names.setdefault(name_key, []).append((repo_id, secret))
            owners.setdefault(owner_key, []).append((repo_id, secret))
            if log_mark:
                log_marks[repo_id] = log_mark
        return {
            "names": {key: tuple(value) for key, value in names.items()},
            "owners": {key: tuple(value) for key, value in owners.items()},
            "log_marks": log_marks,
        }

    @api.model
    def _delivery_log_covers(self, repo_ids):
        """Whether GitHub's delivery log of every one of these repositories can give back a lost delivery.

        Then a delivery of theirs is acknowledged once committed, before
        PostgreSQL flushes it to disk; see :mod:`autopilot.ingest.delivery_log`.
        Unless the settings ask to always wait for the flush.
        """
        if not repo_ids or get_param(self.env, "delivery_ack_after_flush"):
            return False
        marks = self._webhook_directory()["log_marks"]
        now = fields.Datetime.now()
        return all(delivery_log.covers(marks.get(repo_id), now) for repo_id in repo_ids)

    def _forget_webhook_directory(self):
        """Clear :meth:`_webhook_directory` now and again once this transaction commits.

        Now: this transaction's next delivery sees the change. After the
        commit: another thread of this process (threaded server) may have
        cached the rows as they were before it, between the first clear and
        the commit. The second clear is also the one Odoo signals to the
        other processes, which clear theirs at their next request.
        """
        self.env.registry.clear_cache()
        self.env.cr.postcommit.add(self.env.registry.clear_cache)

    def _mark_hook_verified(self, ping):
        hook_id = ping.hook_id or False
        # another hook has a delivery log of its own, not yet checked
        self.filtered(lambda repo: repo.hook_id != hook_id).sudo().write(
            {"delivery_log_mark": False, "redelivery_asked": False}
        )
        self.sudo().write(
            {
                "hook_id": hook_id,
                "hook_scope": "organization" if ping.hook_type == "Organization" else "repository",
                "hook_verified_at": fields.Datetime.now(),
                "hook_events": ", ".join(ping.events),
            }
        )

    # ------------------------------------------------------------------
    # backfill from the GitHub API
    # ------------------------------------------------------------------
    def _github_client(self):
        self.ensure_one()
        return rest_api.connect(
            self.api_url,
            self.sudo().token,
            timeout=get_param(self.env, "github_timeout_seconds"),
        )

    def _sync_from_github(self):
        """Fetch runs and jobs since the last sync and ask GitHub to redeliver failed deliveries.

        Each repository is synced on its own: a failure is recorded on that
        repository (secret-free message) and the others go on.
        """
        totals = {"runs": 0, "jobs": 0, "redelivered": 0}
        for repo in self:
            repo.sudo().last_sync_attempt_at = fields.Datetime.now()
            try:
                counts = repo._sync_one()
            except (*rest_api.TRANSIENT_ERRORS, events.PayloadError, UserError) as exc:
                message = exc.args[0] if isinstance(exc, UserError) else rest_api.describe_error(exc)
                _logger.warning("GitHub sync of %s failed: %s", repo.full_name, message)
                repo.sudo().write({"last_sync_state": "failed", "last_sync_message": message})
                continue
            for key, value in counts.items():
                totals[key] += value
        return totals

    def _sync_one(self):
        self.ensure_one()
        now = fields.Datetime.now()
        lookback = timedelta(days=get_param(self.env, "sync_lookback_days"))
        # overlap the previous window: runs created just before it may have been missed
        since = (self.last_sync_at or now - lookback) - timedelta(minutes=10)
        Run = self.env["ops.workflow.run"].sudo()
        Job = self.env["ops.workflow.job"].sudo()
        unfinished = Run.search(
            [("repository_id", "=", self.id), ("source", "=", "workflow_run"), ("status", "!=", "completed")],
            limit=100,
        )
        client = self._github_client()
        fetched = rest_api.fetch_runs(client, self.full_name, since, run_ids=unfinished.mapped("github_id"))
        job_count = 0
        for item in fetched:
            Run._upsert_run(self, item.run)
            for job in item.jobs:
                Job._upsert_job(self, job)
                job_count += 1
        # runs are stored even if the hook part fails below: each part keeps its own window
        self.sudo().write({"last_sync_at": now})
        counts = {"runs": len(fetched), "jobs": job_count, "redelivered": 0}
        message = ""
        if self.hook_id:
            counts["redelivered"], complete = self._resend_missing_deliveries(client, now, lookback)
            if not complete:
                message = _(
                    " More than %s deliveries since the last check: the older ones were not checked. Until a check"
                    " reads back to the last one, GitHub's delivery log is not relied on (see the Sync tab).",
                    rest_api.MAX_DELIVERIES_SCANNED,
                )
        self.sudo().write(
            {
                "last_sync_state": "ok",
                "last_sync_message": _(
                    "%(runs)s runs, %(jobs)s jobs, %(redelivered)s deliveries asked again.", **counts
                )
                + message,
            }
        )
        return counts

    def _resend_missing_deliveries(self, client, now, lookback):
        """Ask GitHub to send again the deliveries of the hook that Odoo does not hold.

        Those it refused or never answered, and those it acknowledged and
        lost since (see :func:`autopilot.ingest.delivery_log.deliveries_to_resend`).
        The window overlaps the previous check by 10 minutes: a delivery
        acknowledged before its flush and lost in a crash just after that
        check is still in it.

        :return: ``(asked again, complete)``; ``complete`` is false when the
            window holds more attempts than one check reads: then the check
            time stays and the delivery log mark is cleared.
        """
        since = (self.last_redelivery_check_at or now - lookback) - timedelta(minutes=10)
        organization = self.full_name.split("/")[0] if self.hook_scope == "organization" else None
        try:
            attempts, complete = rest_api.list_hook_deliveries(
                client, self.full_name, self.hook_id, since, organization=organization
            )
        except rest_api.GithubException as exc:
            if exc.status == 404 and organization:
                raise UserError(
                    _(
                        "Runs synced, but the delivery log of organization hook %(hook)s of %(org)s could not be "
                        "read: the hook was deleted, or the token lacks the admin:org_hook scope (fine-grained "
                        "tokens: the organization's Webhooks permission).",
                        hook=self.hook_id,
                        org=organization,
                    )
                ) from exc
            if exc.status == 404:
                raise UserError(
                    _("Runs synced, but hook %s was not found on GitHub (deleted?): re-create it.", self.hook_id)
                ) from exc
            raise
        if organization:
            # the organization's log lists every repository's deliveries: keep this one's and the organization's own
            if not self.github_repo_id:
                self.sudo().github_repo_id = rest_api.repository_github_id(client, self.full_name)
            attempts = [a for a in attempts if a.repository_id in (None, self.github_repo_id)]
        known = set(
            self.env["ops.webhook.delivery"]
            .sudo()
            .search([("repository_id", "=", self.id), ("guid", "in", list({a.guid for a in attempts}))])
            .mapped("guid")
        )
        kept_since = now - timedelta(days=get_param(self.env, "delivery_retention_days"))
        plan = delivery_log.plan_redeliveries(attempts, since, known, now, self.redelivery_asked, kept_since)
        chosen = plan.resend
        for attempt in chosen:
            rest_api.redeliver(client, self.full_name, self.hook_id, attempt.delivery_id, organization=organization)
        if plan.asked != (self.redelivery_asked or {}):
            self.sudo().redelivery_asked = plan.asked
        if not complete:
            # the window was not read to its start: the next check starts from the same point again, and
            # the log is no longer trusted to give back what a crash loses (more traffic than one check reads)
            if self.delivery_log_mark:
                self.sudo().delivery_log_mark = False
            return len(chosen), False
        checked = {"last_redelivery_check_at": now}
        if delivery_log.mark_due(self.delivery_log_mark or None, now):
            checked["delivery_log_mark"] = now
        self.sudo().write(checked)
        return len(chosen), True

    @api.model
    def _cron_sync_from_github(self, batch_size=20, min_interval_minutes=30):
        """Sync the repositories that have a token, least recently tried first, a batch at a time."""
        cutoff = fields.Datetime.now() - timedelta(minutes=min_interval_minutes)
        due = self.search(
            ["|", ("last_sync_attempt_at", "=", False), ("last_sync_attempt_at", "<", cutoff)],
            order="last_sync_attempt_at asc nulls first, id",
        ).filtered("has_token")
        batch = due[:batch_size]
        for repo in batch:
            repo._sync_from_github()
            self._ops_commit()
        self._ops_notify_progress(done=len(batch), remaining=len(due) - len(batch))
