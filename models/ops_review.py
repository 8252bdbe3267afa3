import logging
from datetime import datetime, timedelta, timezone

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import const
from ..autopilot.common.backoff import BackoffPolicy
from ..autopilot.common.masking import mask_secrets
from ..autopilot.github import rest_api
from ..autopilot.review import ai_review, architecture, autofix, pr_feedback
from .ops_fields import BigInteger
from .ops_params import get_param

_logger = logging.getLogger(__name__)

REVIEW_KINDS = [("pull_request", "Pull request review"), ("ci_fix", "CI failure fix")]
REVIEW_STATES = [
    ("queued", "Queued"),
    ("checking", "Checking"),
    ("reviewing", "Reviewing"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
]
AUTOFIX_STATES = [
    ("none", "Not attempted"),
    ("opened", "Fix PR opened"),
    ("exists", "Fix PR already open"),
    ("refused", "Refused"),
    ("failed", "Failed"),
]
#: pull_request actions that ask for a review of the head
REVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
#: a review left in a working stage this long was interrupted (worker killed): it is picked up again
STALE_STAGE = timedelta(minutes=30)
#: never retry sooner than this, whatever a Retry-After header says
MIN_RETRY_SECONDS = 10.0
#: AI outcomes that a settings change, not time, can cure: re-queued when the settings are saved
SETTINGS_REASONS = ("no_api_key", "budget_disabled")
#: engine run state -> record state
RUN_STATES = {
    pr_feedback.REVIEWED: "done",
    pr_feedback.NOTHING_NEW: "skipped",
    pr_feedback.CHECKS_ONLY: "done",
    pr_feedback.REJECTED: "failed",
    pr_feedback.RETRY: "failed",
    pr_feedback.FAILED: "failed",
}


def month_start(now=None):
    """First instant of the current calendar month (UTC, naive like Odoo datetimes)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class OpsReview(models.Model):
    """One review of a pull request head (or one CI-failure fix) and everything it produced.

    Created queued by the pull_request webhook (or a confident diagnosis of
    an unrecoverable CI failure, see ``ops_review_ci_fix.py``); the review
    cron runs the engine (:mod:`autopilot.review.pr_feedback`,
    :mod:`autopilot.review.autofix`) and records the outcome here: checks, AI
    findings, tokens and cost, comment and fix PR links.
    """

    _name = "ops.review"
    _description = "Code Review"
    _inherit = ["mail.thread", "mail.activity.mixin", "ops.cron.mixin"]
    _order = "create_date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection(REVIEW_KINDS, default="pull_request", required=True, readonly=True, index=True)
    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    pull_request_id = fields.Many2one("ops.pull.request", readonly=True, ondelete="cascade", index=True)
    pr_number = fields.Integer(string="Pull request", readonly=True)
    head_sha = fields.Char(string="Head commit", readonly=True, index=True, tracking=True)
    head_ref = fields.Char(string="Head branch", readonly=True)
    base_ref = fields.Char(string="Base branch", readonly=True)
    is_fork = fields.Boolean(string="From a fork", readonly=True, help="Reviewed read-only: no auto-fix")
    from_sha = fields.Char(string="Reviewed from", readonly=True, help="Last reviewed head; empty: whole PR")
    reviewed_sha = fields.Char(string="Reviewed up to", readonly=True, help="Head the review covered")
    incremental = fields.Boolean(readonly=True, help="Only the commits pushed since the last review were reviewed")
    reviewed_range = fields.Char(compute="_compute_reviewed_range")
    state = fields.Selection(REVIEW_STATES, default="queued", required=True, readonly=True, index=True, tracking=True)
    state_reason = fields.Char(string="Reason", readonly=True, tracking=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(string="Retry at", readonly=True, index=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", tracking=True)
    # architecture checks
    rule_pack_names = fields.Char(string="Rule packs", readonly=True)
    check_error_count = fields.Integer(string="Check errors", readonly=True)
    check_warning_count = fields.Integer(string="Check warnings", readonly=True)
    check_info_count = fields.Integer(string="Check notes", readonly=True)
    # AI review
    summary = fields.Text(string="AI summary", readonly=True)
    finding_ids = fields.One2many("ops.review.finding", "review_id", readonly=True)
    ai_finding_ids = fields.One2many(
        "ops.review.finding", "review_id", domain=[("source", "=", "ai")], string="AI findings", readonly=True
    )
    check_finding_ids = fields.One2many(
        "ops.review.finding", "review_id", domain=[("source", "=", "check")], string="Check results", readonly=True
    )
    ai_finding_count = fields.Integer(compute="_compute_finding_counts", string="AI findings (count)")
    inline_comment_count = fields.Integer(string="Inline comments", readonly=True)
    ai_model = fields.Char(string="Model", readonly=True)
    ai_called_at = fields.Datetime(string="AI called on", readonly=True, index=True)
    input_tokens = fields.Integer(readonly=True)
    output_tokens = fields.Integer(readonly=True)
    total_tokens = fields.Integer(compute="_compute_total_tokens", store=True)
    cost = fields.Float(string="Cost (USD)", digits=(12, 4), readonly=True, aggregator="sum")
    masked_secrets = fields.Integer(readonly=True, help="Secrets masked in the prompt")
    # GitHub answers
    comment_id = BigInteger(string="Sticky comment ID", readonly=True)
    comment_url = fields.Char(string="Sticky comment", readonly=True)
    inline_review_id = BigInteger(string="Inline review ID", readonly=True)
    # auto-fix
    autofix_state = fields.Selection(AUTOFIX_STATES, default="none", readonly=True, tracking=True)
    autofix_reason = fields.Char(readonly=True)
    autofix_branch = fields.Char(readonly=True)
    autofix_pr_number = fields.Integer(string="Fix PR", readonly=True)
    autofix_pr_url = fields.Char(string="Fix PR URL", readonly=True)

    # ------------------------------------------------------------------
    # computes
    # ------------------------------------------------------------------
    @api.depends("kind", "repository_id.full_name", "pr_number", "head_sha", "head_ref")
    def _compute_name(self):
        for review in self:
            sha = (review.head_sha or "")[:7]
            if review.kind == "ci_fix":
                review.name = f"CI fix {review.repository_id.full_name}@{review.head_ref or ''} {sha}".strip()
            else:
                review.name = f"{review.repository_id.full_name}#{review.pr_number} {sha}".strip()

    @api.depends("from_sha", "reviewed_sha", "incremental")
    def _compute_reviewed_range(self):
        for review in self:
            if not review.reviewed_sha:
                review.reviewed_range = False
            elif review.incremental and review.from_sha:
                review.reviewed_range = f"{review.from_sha[:7]}..{review.reviewed_sha[:7]}"
            else:
                review.reviewed_range = _("whole pull request up to %s", review.reviewed_sha[:7])

    @api.depends("finding_ids.source")
    def _compute_finding_counts(self):
        for review in self:
            review.ai_finding_count = len(review.finding_ids.filtered(lambda f: f.source == "ai"))

    @api.depends("input_tokens", "output_tokens")
    def _compute_total_tokens(self):
        for review in self:
            review.total_tokens = review.input_tokens + review.output_tokens

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def _check_manager(self):
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can run reviews."))

    def action_retry(self):
        """Queue these reviews again now (the next cron run picks them up)."""
        self._check_manager()
        self.sudo().write({"state": "queued", "next_attempt_at": False, "state_reason": False, "error": False})
        self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
        return True

    def action_open_pull_request(self):
        self.ensure_one()
        url = self.pull_request_id.html_url or (
            f"{rest_api.html_base(self.repository_id.api_url)}/{self.repository_id.full_name}/pull/{self.pr_number}"
        )
        return {"type": "ir.actions.act_url", "url": url, "target": "new"}

    def action_open_fix_pr(self):
        self.ensure_one()
        if not self.autofix_pr_url:
            raise UserError(_("No fix pull request was opened."))
        return {"type": "ir.actions.act_url", "url": self.autofix_pr_url, "target": "new"}

    def action_open_comment(self):
        self.ensure_one()
        if not self.comment_url:
            raise UserError(_("The review has not been posted yet."))
        return {"type": "ir.actions.act_url", "url": self.comment_url, "target": "new"}

    # ------------------------------------------------------------------
    # queueing
    # ------------------------------------------------------------------
    @api.model
    def _enqueue_pull_request(self, pull_request, action):
        """Queue a review of ``pull_request``'s head after a pull_request event (once per head)."""
        if action not in REVIEW_ACTIONS or pull_request.state != "open" or not pull_request.head_sha:
            return self.browse()
        Review = self.sudo()
        domain = [("kind", "=", "pull_request"), ("pull_request_id", "=", pull_request.id)]
        existing = Review.search([*domain, ("head_sha", "=", pull_request.head_sha)], limit=1)
        if existing:
            return existing
        values = {
            "head_sha": pull_request.head_sha,
            "head_ref": pull_request.head_ref,
            "base_ref": pull_request.base_ref,
            "is_fork": pull_request.is_fork,
        }
        waiting = Review.search([*domain, ("state", "=", "queued"), ("attempts", "=", 0)], limit=1)
        if waiting:
            # two pushes before the cron ran: review the newest head once
            waiting.write(values)
            review = waiting
        else:
            review = Review.create(
                {
                    "kind": "pull_request",
                    "repository_id": pull_request.repository_id.id,
                    "pull_request_id": pull_request.id,
                    "pr_number": pull_request.number,
                    **values,
                }
            )
        self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
        return review

    @api.model
    def _requeue_for_settings(self):
        """Reviews skipped for want of an API key or budget are queued again (latest head per PR only)."""
        skipped = self.sudo().search(
            [("state", "=", "skipped"), ("state_reason", "in", SETTINGS_REASONS), ("kind", "=", "pull_request")]
        )
        latest = skipped.filtered(lambda r: r.pull_request_id.head_sha == r.head_sha)
        if latest:
            latest.write({"state": "queued", "next_attempt_at": False, "attempts": 0})
            self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
        return latest

    # ------------------------------------------------------------------
    # the cron
    # ------------------------------------------------------------------
    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        stale = now - STALE_STAGE
        return [
            "|",
            "|",
            "&",
            ("state", "=", "queued"),
            "|",
            ("next_attempt_at", "=", False),
            ("next_attempt_at", "<=", now),
            "&",
            ("state", "in", ("failed", "skipped")),
            "&",
            ("next_attempt_at", "!=", False),
            ("next_attempt_at", "<=", now),
            "&",
            ("state", "in", ("checking", "reviewing")),
            ("write_date", "<", stale),
        ]

    @api.model
    def _lock_due_batch(self, limit, exclude=()):
        domain = [*self._due_domain(), ("id", "not in", list(exclude))] if exclude else self._due_domain()
        query = self._search(domain, order="create_date, id", limit=limit)
        rows = self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        return [row[0] for row in rows]

    @api.model
    def _cron_process_reviews(self, batch_size=None):
        """Run up to a batch of due reviews (then ``ops_review_ci_fix.py`` follows the fix pull requests).

        A review is locked (``SKIP LOCKED``) one at a time: its stages are
        committed as they go, which would release a lock held on a whole batch.
        """
        seen = []
        for _index in range(batch_size or get_param(self.env, "review_batch_size")):
            ids = self._lock_due_batch(1, exclude=seen)  # once per run, even if it is due again at once
            if not ids:
                break
            self.browse(ids)._process()
            self._ops_commit()
            seen += ids
        self._ops_notify_progress(done=len(seen), remaining=self.search_count(self._due_domain()))
        return len(seen)

    def _process(self):
        """Run this review; whatever happens it ends recorded (never raises)."""
        self.ensure_one()
        self.write({"started_at": fields.Datetime.now(), "state_reason": False, "error": False})
        try:
            self._run_review()
        except Exception as exc:  # a bug or an unexpected client error: recorded and retried, never lost
            detail = self._mask(f"{type(exc).__name__}: {exc}", 500)
            _logger.warning("review %s crashed: %s", self.id, detail)  # masked, no traceback: it may quote secrets
            if not self._ops_in_test():
                self.env.cr.rollback()  # the stages already committed stay; the failed work is undone
            self._record_retry("crashed", detail)

    def _run_review(self):
        """The work of this review's kind: a pull request review here (CI fixes: ops_review_ci_fix.py)."""
        self._run_pull_request_review()

    def _set_stage(self, stage):
        """The engine's progress callback: show the stage and let others see it."""
        self.write({"state": stage})
        self._ops_commit()

    # ------------------------------------------------------------------
    # settings
    # ------------------------------------------------------------------
    @api.model
    def _retry_policy(self):
        return BackoffPolicy(
            initial=60.0,
            base=2.0,
            max_delay=3600.0,
            jitter=0.1,
            max_attempts=get_param(self.env, "review_max_attempts"),
        )

    @api.model
    def _ai_settings(self):
        """:class:`ai_review.AISettings` from the configuration (raises ``ValueError`` when they are wrong)."""
        env = self.env
        return ai_review.AISettings(
            api_key=get_param(env, "anthropic_api_key").strip(),
            model=get_param(env, "anthropic_model").strip() or ai_review.DEFAULT_MODEL,
            base_url=get_param(env, "anthropic_base_url").strip() or ai_review.DEFAULT_BASE_URL,
            max_tokens=get_param(env, "anthropic_max_tokens"),
            timeout=float(get_param(env, "anthropic_timeout_seconds")),
            confidence_threshold=get_param(env, "review_confidence_threshold"),
            monthly_token_budget=get_param(env, "ai_monthly_token_budget"),
            retry_policy=self._retry_policy(),
        )

    @api.model
    def _month_start(self):
        return month_start()

    @api.model
    def _tokens_used_this_month(self):
        """Input + output tokens of every AI call since the first of the month (all companies: one budget)."""
        groups = (
            self.sudo()
            .with_context(active_test=False)
            ._read_group([("ai_called_at", ">=", month_start())], [], ["input_tokens:sum", "output_tokens:sum"])
        )
        used_in, used_out = groups[0] if groups else (0, 0)
        return (used_in or 0) + (used_out or 0)

    @api.model
    def _cost_of(self, input_tokens, output_tokens):
        return (
            input_tokens * get_param(self.env, "ai_input_price_per_mtok")
            + output_tokens * get_param(self.env, "ai_output_price_per_mtok")
        ) / 1_000_000

    def _known_secrets(self):
        """The repository's own secrets: masked wherever text leaves Odoo or is stored."""
        private = self.repository_id.sudo()
        return tuple(s for s in (private.token, private.webhook_secret) if s)

    def _mask(self, text, limit=2000):
        known = (*self._known_secrets(), get_param(self.env, "anthropic_api_key"))
        return mask_secrets(str(text or ""), tuple(s for s in known if s))[0][:limit]

    # ------------------------------------------------------------------
    # recording outcomes
    # ------------------------------------------------------------------
    def _record_retry(self, reason, detail, retry_after=None, state="failed"):
        """Failed (or skipped) for now: retried with backoff until the attempts run out."""
        attempts = self.attempts + 1
        policy = self._retry_policy()
        retry_at = False
        if policy.can_retry(attempts):
            delay = retry_after if retry_after is not None else policy.delay(attempts)
            retry_at = fields.Datetime.now() + timedelta(seconds=max(delay, MIN_RETRY_SECONDS))
        self.write(
            {
                "state": state,
                "state_reason": reason,
                "error": self._mask(detail),
                "attempts": attempts,
                "next_attempt_at": retry_at,
                "finished_at": fields.Datetime.now(),
            }
        )
        if retry_at:
            self.env.ref("ops_autopilot.ir_cron_process_reviews").sudo()._trigger(at=retry_at)
            note = _("%(reason)s; retry %(n)s at %(at)s UTC.", reason=reason, n=attempts, at=retry_at)
        else:
            note = _("%(reason)s; no retry left after %(n)s attempts.", reason=reason, n=attempts)
        self.message_post(body=note)

    def _record_tokens(self, outcome):
        if outcome is None or not (outcome.input_tokens or outcome.output_tokens or outcome.request_id):
            return {}
        return {
            "ai_model": outcome.model,
            "ai_called_at": fields.Datetime.now(),
            "input_tokens": self.input_tokens + outcome.input_tokens,
            "output_tokens": self.output_tokens + outcome.output_tokens,
            "cost": self.cost + self._cost_of(outcome.input_tokens, outcome.output_tokens),
        }

    # ------------------------------------------------------------------
    # pull request review
    # ------------------------------------------------------------------
    def _last_reviewed_sha(self):
        """Head of the last review of this PR that the AI (or the checks alone) covered: only newer commits follow."""
        previous = self.search(
            [
                ("kind", "=", "pull_request"),
                ("pull_request_id", "=", self.pull_request_id.id),
                ("id", "!=", self.id),
                ("reviewed_sha", "!=", False),
                ("state", "=", "done"),
            ],
            order="finished_at desc, id desc",
            limit=1,
        )
        return previous.reviewed_sha or ""

    def _run_pull_request_review(self):
        repo = self.repository_id
        if not repo.sudo().token:
            self.write({"state": "skipped", "state_reason": "no_github_token", "finished_at": fields.Datetime.now()})
            self.message_post(body=_("Not reviewed: the repository has no GitHub API token."))
            return
        try:
            settings = self._ai_settings()
        except ValueError as exc:
            self.write({"state": "failed", "state_reason": "bad_settings", "error": self._mask(exc)})
            return
        packs = self.env["ops.review.rule.pack"]._packs_for(repo)
        client = repo._github_client()
        run = pr_feedback.review_pull_request(
            client,
            repo.full_name,
            self.pr_number,
            settings=settings,
            tokens_used=self._tokens_used_this_month(),
            last_reviewed_sha=self._last_reviewed_sha(),
            packs=packs,
            bot_login=get_param(self.env, "review_bot_login").strip() or None,
            attempt=self.attempts + 1,
            root_name=repo.full_name.split("/")[-1],
            progress=self._set_stage,
            known_secrets=self._known_secrets(),
        )
        with self.env.cr.savepoint():
            self._store_run(run, settings, packs)
        if run.state == pr_feedback.REVIEWED and run.review is not None:
            self._autofix(client, run, settings)

    def _store_run(self, run, settings, packs):
        """Record a :class:`pr_feedback.ReviewRun`: stage outcome, checks, AI answer, comment ids."""
        values = {"rule_pack_names": ", ".join(p.name for p in packs), "finished_at": fields.Datetime.now()}
        snapshot = run.snapshot
        if snapshot is not None:
            values.update(
                head_sha=snapshot.head_sha,
                head_ref=snapshot.head_ref,
                base_ref=snapshot.base_ref,
                is_fork=snapshot.is_fork,
            )
        if run.state == pr_feedback.NOTHING_NEW:
            values.update(state="skipped", state_reason="nothing_new", reviewed_sha=run.reviewed_sha)
            self.write(values)
            self.message_post(body=_("Nothing new since the last review."))
            return
        result = run.ai
        if run.state == pr_feedback.RETRY:
            self.write({**values, **self._record_tokens(result.outcome if result else None)})
            reason = result.outcome.reason if result else "github_error"
            state = "skipped" if result and result.state == "skipped" else "failed"
            self._record_retry(reason, run.error, run.retry_after, state=state)
            return
        counts = architecture.summarize(run.checks)
        values.update(
            reviewed_sha=run.reviewed_sha or False,
            from_sha=run.from_sha or False,
            incremental=run.incremental,
            check_error_count=counts["error"],
            check_warning_count=counts["warning"],
            check_info_count=counts["info"],
            comment_id=run.comment_id or False,
            comment_url=self._comment_url(run.comment_id),
            inline_review_id=run.inline.review_id or False,
            inline_comment_count=run.inline.comments,
            masked_secrets=result.masked_secrets if result else 0,
            attempts=self.attempts + 1,
            next_attempt_at=False,
            **self._record_tokens(result.outcome if result else None),
        )
        state = RUN_STATES[run.state]
        reason = ""
        if result is not None and result.state in ("skipped", "failed", "rejected"):
            reason = "rejected" if result.state == "rejected" else result.outcome.reason
            if result.state == "skipped" and reason != "empty_diff":
                state = "skipped"
            values["error"] = self._mask(run.error or result.error or result.outcome.detail)
        values.update(state=state, state_reason=reason or False)
        if result is not None and result.review is not None:
            values["summary"] = self._mask(result.review.summary, 4000)
        self.finding_ids.unlink()
        self.write(values)
        self._store_findings(run, settings.confidence_threshold)
        self.message_post(body=self._outcome_note(run, counts))

    def _comment_url(self, comment_id):
        if not comment_id:
            return False
        base = rest_api.html_base(self.repository_id.api_url)
        return f"{base}/{self.repository_id.full_name}/pull/{self.pr_number}#issuecomment-{comment_id}"

    def _store_findings(self, run, threshold):
        Finding = self.env["ops.review.finding"]
        rows = [
            {
                "review_id": self.id,
                "sequence": index,
                "source": "check",
                "rule": check.rule,
                "file": check.path,
                "line": check.line,
                "severity": check.severity if check.severity in dict(const.REVIEW_SEVERITIES) else "info",
                "explanation": check.message,
            }
            for index, check in enumerate(run.checks)
        ]
        review = run.review
        if review is not None:
            not_posted = set(run.inline.skipped)
            posted = bool(run.inline.review_id)
            for index, finding in enumerate(review.findings):
                above = finding.confidence >= threshold
                rows.append(
                    {
                        "review_id": self.id,
                        "sequence": index,
                        "source": "ai",
                        "file": finding.file,
                        "line": finding.line,
                        "severity": finding.severity,
                        "explanation": self._mask(finding.explanation, 4000),
                        "suggested_patch": self._mask(finding.suggested_patch, 20000) or False,
                        "confidence": finding.confidence,
                        "above_threshold": above,
                        "posted_inline": posted and above and finding not in not_posted,
                    }
                )
        Finding.create(rows)

    def _outcome_note(self, run, counts):
        parts = [
            _("Reviewed %s.", self.reviewed_range or _("nothing")),
            _(
                "Checks: %(e)s error(s), %(w)s warning(s), %(i)s note(s).",
                e=counts["error"],
                w=counts["warning"],
                i=counts["info"],
            ),
        ]
        if run.review is not None:
            parts.append(
                _(
                    "AI: %(n)s finding(s), %(inline)s inline; %(tokens)s tokens.",
                    n=len(run.review.findings),
                    inline=run.inline.comments,
                    tokens=self.total_tokens,
                )
            )
        elif self.state_reason:
            parts.append(_("AI: %s.", self.state_reason))
        return " ".join(parts)

    def _autofix(self, client, run, settings):
        """Open a fix PR against the PR's head branch for the patches at or above the threshold."""
        if not get_param(self.env, "review_autofix_enabled"):
            return
        if run.snapshot.is_fork:
            self.write({"autofix_state": "refused", "autofix_reason": "fork: review only, no auto-fix"})
            return
        result = autofix.autofix_review(client, run.snapshot, run.review, settings.confidence_threshold)
        states = {"opened": "opened", "exists": "exists", "refused": "refused", "retry": "failed"}
        self.write(
            {
                "autofix_state": states.get(result.state, "failed"),
                "autofix_reason": self._mask(result.reason, 500) or False,
                "autofix_branch": result.branch or False,
                "autofix_pr_number": result.pr_number or False,
                "autofix_pr_url": result.pr_url or False,
            }
        )
        if result.state == "opened" and result.plan is not None:
            applied = {(f.file, f.line, f.confidence) for f in result.plan.applied}
            self.ai_finding_ids.filtered(lambda f: (f.file, f.line, f.confidence) in applied).write(
                {"auto_fixed": True}
            )
            self.message_post(
                body=_("Auto-fix pull request #%(n)s opened on %(branch)s.", n=result.pr_number, branch=result.branch)
            )
