from datetime import timedelta

from odoo import _, api, fields, models

from ..autopilot.github import rest_api
from ..autopilot.review import autofix, pr_feedback
from .ops_params import get_param

FIX_CHECK_STATES = [
    ("pending", "Waiting for checks"),
    ("verified", "Verified"),
    ("needs_person", "Needs a person"),
]


class OpsReview(models.Model):
    """Fixes of failed CI runs proposed by Claude, and the following of their pull requests.

    A confident diagnosis of an unrecoverable CI failure queues a review of
    kind ``ci_fix`` (:meth:`_enqueue_ci_fix`); the review cron runs it
    (:func:`autopilot.review.autofix.autofix_ci_failure`), which opens a fix
    pull request. Check events on the fix branch wake the cron, which then
    decides the fix: verified (the diagnosis joins the classifier's
    training data) or handed to a person.
    """

    _inherit = "ops.review"

    # the failed job and its diagnosis
    diagnosis_id = fields.Many2one("ops.job.diagnosis", readonly=True, ondelete="set null", index=True)
    workflow_job_id = fields.Many2one("ops.workflow.job", string="Failed job", readonly=True, ondelete="set null")
    diagnosis_category = fields.Char(readonly=True)
    diagnosis_confidence = fields.Float(digits=(3, 2), readonly=True)
    # the fix and how its pull request's checks went
    fix_summary = fields.Text(readonly=True)
    fix_confidence = fields.Float(digits=(3, 2), readonly=True)
    fix_opened_at = fields.Datetime(readonly=True)
    fix_check_state = fields.Selection(FIX_CHECK_STATES, readonly=True, tracking=True)
    fix_check_reason = fields.Char(readonly=True)
    fix_check_due = fields.Boolean(readonly=True, index=True, help="A check event arrived for the fix branch")

    # ------------------------------------------------------------------
    # hooks into the review cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_process_reviews(self, batch_size=None):
        """Run the due reviews, then follow the fix pull requests whose checks reported."""
        processed = super()._cron_process_reviews(batch_size)
        followed = self._follow_fix_prs()
        self._ops_commit()
        return processed + followed

    def _run_review(self):
        if self.kind == "ci_fix":
            return self._run_ci_fix()
        return super()._run_review()

    # ------------------------------------------------------------------
    # queueing and running a fix
    # ------------------------------------------------------------------
    @api.model
    def _enqueue_ci_fix(self, diagnosis):
        """Queue a fix of an unrecoverable CI failure whose diagnosis is confident enough (once per commit).

        ``diagnosis``: an ``ops.job.diagnosis`` the CI self-healing cron just
        made. Retryable causes are left to re-runs; fix branches are never
        fixed again (a failing fix goes to a person).
        """
        run, job = diagnosis.run_id, diagnosis.job_id
        branch = job.head_branch or run.head_branch
        sha = diagnosis.head_sha or job.head_sha or run.head_sha
        if not get_param(self.env, "ci_autofix_enabled") or not sha or not branch:
            return self.browse()
        if diagnosis.retryable or diagnosis.confidence < get_param(self.env, "review_confidence_threshold"):
            return self.browse()
        if branch.startswith(autofix.BRANCH_PREFIX + "/"):
            return self.browse()
        Review = self.sudo()
        repo = diagnosis.repository_id
        existing = Review.search(
            [("kind", "=", "ci_fix"), ("repository_id", "=", repo.id), ("head_sha", "=", sha)], limit=1
        )
        if existing:
            return existing
        pull = (
            self.env["ops.pull.request"]
            .sudo()
            .search([("repository_id", "=", repo.id), ("head_sha", "=", sha), ("state", "=", "open")], limit=1)
        )
        review = Review.create(
            {
                "kind": "ci_fix",
                "repository_id": repo.id,
                "diagnosis_id": diagnosis.id,
                "workflow_job_id": job.id or False,
                "pull_request_id": pull.id or False,
                "pr_number": pull.number or 0,
                "is_fork": pull.is_fork,
                "head_sha": sha,
                "head_ref": branch,
                "base_ref": pull.base_ref or False,
                "diagnosis_category": diagnosis.category,
                "diagnosis_confidence": diagnosis.confidence,
            }
        )
        self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
        return review

    def _diagnosis_for_fix(self):
        """What the engine's CI fix needs from the diagnosis, with this repository's secrets masked."""
        diagnosis = self.diagnosis_id
        return {
            "category": diagnosis.confirmed_category or diagnosis.category or self.diagnosis_category or "",
            "confidence": diagnosis.confidence,
            "excerpt": self._mask(diagnosis.excerpt, 12000),
            "suggested_fix": self._mask(diagnosis.suggested_fix, 2000),
        }

    def _ci_fix_obsolete(self):
        """Why the failure no longer needs a fix ("" when it still does)."""
        diagnosis = self.diagnosis_id
        if not diagnosis:
            return "diagnosis_deleted"
        if diagnosis.flaky or diagnosis.signature_id.flaky:
            return "flaky"
        if diagnosis.signature_id.quarantine_active:
            return "quarantined"
        if diagnosis.feedback_state == "corrected":
            return "diagnosis_corrected"
        return ""

    def _ci_fix_paths(self, client):
        """Files the fix may change: the PR's files, else the files of the failing commit (20 at most)."""
        if self.pr_number:
            snapshot = pr_feedback.fetch_pull(client, self.repository_id.full_name, self.pr_number)
            paths = [f.path for f in snapshot.files if not f.removed]
        else:
            commit = pr_feedback.lazy_repo(client, self.repository_id.full_name).get_commit(self.head_sha)
            paths = [f.filename for f in commit.files if f.status != "removed"]
        return [path for path in paths if not autofix.forbidden_path(path)][:20]

    def _run_ci_fix(self):
        repo = self.repository_id
        obsolete = "fork" if self.is_fork else self._ci_fix_obsolete()
        if obsolete:
            self.write({"state": "skipped", "state_reason": obsolete, "finished_at": fields.Datetime.now()})
            return
        if not repo.sudo().token:
            self.write({"state": "skipped", "state_reason": "no_github_token", "finished_at": fields.Datetime.now()})
            return
        try:
            settings = self._ai_settings()
        except ValueError as exc:
            self.write({"state": "failed", "state_reason": "bad_settings", "error": self._mask(exc)})
            return
        client = repo._github_client()
        try:
            paths = self._ci_fix_paths(client)
        except rest_api.TRANSIENT_ERRORS as exc:
            self._record_retry("github_error", rest_api.describe_error(exc))
            return
        self._set_stage("reviewing")
        protected = {repo.default_branch, self.base_ref} - {False, ""}
        proposal, result = autofix.autofix_ci_failure(
            client,
            settings,
            repo.full_name,
            self.head_ref,
            self.head_sha,
            self._diagnosis_for_fix(),
            paths,
            tokens_used=self._tokens_used_this_month(),
            attempt=self.attempts + 1,
            is_fork=self.is_fork,
            protected=protected,
            known_secrets=self._known_secrets(),
        )
        self.write(
            {
                "finished_at": fields.Datetime.now(),
                **self._record_tokens(proposal.outcome),
            }
        )
        self._store_ci_fix(proposal, result)

    def _store_ci_fix(self, proposal, result):
        outcome = proposal.outcome
        if result is not None and result.state == "retry":
            self._record_retry("github_error", result.reason)
            return
        if proposal.state in ("skipped", "failed") and outcome is not None and outcome.retryable:
            state = "skipped" if proposal.state == "skipped" else "failed"
            self._record_retry(outcome.reason, outcome.detail, outcome.retry_after, state=state)
            return
        values = {"attempts": self.attempts + 1, "next_attempt_at": False}
        if proposal.state == "proposed" and result is not None and result.state in ("opened", "exists"):
            fix = proposal.fix
            values.update(
                state="done",
                fix_summary=self._mask(fix.summary, 2000),
                fix_confidence=fix.confidence,
                autofix_state=result.state,
                autofix_branch=result.branch,
                autofix_pr_number=result.pr_number,
                autofix_pr_url=result.pr_url,
                fix_opened_at=fields.Datetime.now(),
                fix_check_state="pending",
            )
            self.write(values)
            self.message_post(
                body=_(
                    "Fix pull request #%(n)s opened on %(branch)s; waiting for its checks.",
                    n=result.pr_number,
                    branch=result.branch,
                )
            )
            return
        if proposal.state == "rejected":
            values.update(state="failed", state_reason="rejected", error=self._mask(proposal.reason))
        elif proposal.state == "proposed":  # refused at the last step (unsafe branch, branch exists)
            values.update(state="skipped", state_reason="refused", error=self._mask(result.reason if result else ""))
        elif proposal.state == "refused":
            values.update(
                state="skipped", state_reason=proposal.reason.split(":")[0], error=self._mask(proposal.reason)
            )
        else:
            reason = outcome.reason if outcome is not None else proposal.state
            state = "skipped" if proposal.state == "skipped" else "failed"
            values.update(state=state, state_reason=reason, error=self._mask(outcome.detail if outcome else ""))
        self.write(values)
        self.message_post(body=_("No fix pull request: %s.", values.get("state_reason") or values["state"]))

    # ------------------------------------------------------------------
    # following fix pull requests
    # ------------------------------------------------------------------
    @api.model
    def _on_check_event(self, repository, branch):
        """A check run / workflow run on ``branch`` was recorded: if it is a fix branch, look at the fix PR."""
        if not branch or not branch.startswith(autofix.BRANCH_PREFIX + "/"):
            return self.browse()
        reviews = self.sudo().search(
            [
                ("repository_id", "=", repository.id),
                ("autofix_branch", "=", branch),
                ("fix_check_state", "=", "pending"),
            ]
        )
        if reviews:
            reviews.write({"fix_check_due": True})
            self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
        return reviews

    @api.model
    def _follow_fix_prs(self, limit=20):
        """Decide the fix PRs whose checks reported (or that waited too long); returns how many were decided."""
        max_wait = timedelta(hours=get_param(self.env, "ci_fix_max_wait_hours"))
        overdue = fields.Datetime.now() - max_wait
        reviews = self.search(
            [
                ("fix_check_state", "=", "pending"),
                "|",
                ("fix_check_due", "=", True),
                ("fix_opened_at", "<", overdue),
            ],
            limit=limit,
        )
        decided = 0
        for review in reviews:
            repo = review.repository_id
            try:
                state = autofix.fetch_fix_pr_state(
                    repo._github_client(),
                    repo.full_name,
                    review.autofix_pr_number,
                    opened_at=review.fix_opened_at,
                    max_wait=max_wait,
                )
            except rest_api.TRANSIENT_ERRORS as exc:
                review.write({"fix_check_reason": self._mask(rest_api.describe_error(exc), 500)})
                continue
            review.fix_check_due = False
            if state.state == autofix.VERIFIED:
                review._fix_verified(state)
                decided += 1
            elif state.state == autofix.NEEDS_PERSON:
                review._fix_needs_person(state)
                decided += 1
        return decided

    def _fix_verified(self, state):
        self.write({"fix_check_state": "verified", "fix_check_reason": state.reason})
        added = self._feed_training()
        self.message_post(body=_("Fix verified (%(reason)s).%(training)s", reason=state.reason, training=added))

    def _feed_training(self):
        """The fix passed CI, so the diagnosis was right: confirm it, which makes it a training example.

        Confirmed diagnoses are what ``ops.job.diagnosis._training_examples``
        hands to the classifier's retraining; one a person already judged is
        left as they said. Returns a note for the chatter.
        """
        diagnosis = self.diagnosis_id.sudo()
        if not diagnosis or diagnosis.feedback_state != "none" or not diagnosis.excerpt:
            return ""
        diagnosis.action_confirm()
        return " " + _("The diagnosis is confirmed and joins the classifier's training data.")

    def _fix_needs_person(self, state):
        detail = ", ".join(state.failing or state.pending) or state.reason
        self.write({"fix_check_state": "needs_person", "fix_check_reason": f"{state.reason}: {detail}"[:500]})
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_("Automatic CI fix needs a person"),
            note=_(
                "The fix pull request %(url)s did not pass: %(reason)s. Review it, fix it by hand or close it.",
                url=self.autofix_pr_url,
                reason=self.fix_check_reason,
            ),
            user_id=self._responsible().id,
        )

    def _responsible(self):
        """Who gets the activity: the review's responsible, else the first Ops Manager who is a real user."""
        if self.user_id:
            return self.user_id
        managers = self.env.ref("ops_autopilot.group_ops_manager").users.filtered(
            lambda u: u.active and not u.share and u.id != self.env.ref("base.user_root").id
        )
        return managers[:1] or self.env.ref("base.user_admin")
