from odoo import _, fields, models

from ..autopilot.github import rest_api
from ..autopilot.review import autofix, pr_feedback
from .ops_params import get_param

#: a held fix is opened against the same branches it was planned for; these are never written
FIX_PLAN_FIELDS = ("full_name", "target_branch", "from_sha", "branch", "files", "blob_shas", "title", "body")


class OpsReview(models.Model):
    """Auto-fix and CI-fix pull requests wait while their repository is frozen (``ops.freeze.hold``).

    A review's auto-fix is planned as usual (the AI review is done and paid
    for), and its plan is held; the release opens it. A CI fix is held before
    Claude is asked: it is queued again for when the freeze ends, and then
    proposed on the code as it is by then.
    """

    _inherit = "ops.review"

    autofix_state = fields.Selection(
        selection_add=[("held", "Held by a change freeze")], ondelete={"held": "set default"}
    )

    def _autofix(self, client, run, settings):
        if not get_param(self.env, "review_autofix_enabled") or run.snapshot.is_fork:
            return super()._autofix(client, run, settings)
        window = self.env["ops.freeze.window"]._active_freeze(self.repository_id)
        if not window:
            return super()._autofix(client, run, settings)
        try:
            loader = pr_feedback.ContentLoader(client, run.snapshot.full_name)
            plan = autofix.plan_review_fix(run.snapshot, run.review, settings.confidence_threshold, loader)
        except autofix.FixRefused as exc:
            self.write({"autofix_state": "refused", "autofix_reason": self._mask(f"{exc.reason}: {exc}", 500)})
            return None
        except rest_api.TRANSIENT_ERRORS as exc:
            self.write({"autofix_state": "failed", "autofix_reason": self._mask(rest_api.describe_error(exc), 500)})
            return None
        payload = {name: getattr(plan, name) for name in FIX_PLAN_FIELDS}
        payload["applied"] = [[f.file, f.line, f.confidence] for f in plan.applied]
        payload["protected"] = sorted(
            {run.snapshot.base_ref, run.snapshot.default_branch, run.snapshot.head_ref} - {None, ""}
        )
        self.env["ops.freeze.hold"]._hold(window, self, "review_fix", plan.branch, plan.title, payload)
        self.write(
            {
                "autofix_state": "held",
                "autofix_reason": self._mask(_("Held by the change freeze “%s”.", window.name), 500),
                "autofix_branch": plan.branch,
            }
        )
        return None

    def _run_ci_fix(self):
        window = self.env["ops.freeze.window"]._active_freeze(self.repository_id)
        if not window:
            return super()._run_ci_fix()
        until = self.env["ops.freeze.window"]._freeze_end(self.repository_id) or False
        key = f"ci-fix:{self.head_ref or ''}@{self.head_sha or ''}"
        self.env["ops.freeze.hold"]._hold(window, self, "ci_fix", key, self.name or key)
        # back in the queue for when the freeze ends (the release cron wakes it sooner after an override)
        self.write({"state": "queued", "state_reason": "freeze", "next_attempt_at": until, "finished_at": False})
        return None

    def _freeze_release(self, hold):
        """Open what a freeze held for this review: the planned auto-fix, or re-queue the CI fix."""
        review = self.browse(hold.res_id).exists()
        if not review:
            raise ValueError(_("The review of this held change no longer exists."))
        if hold.kind == "ci_fix":
            review.write({"state": "queued", "next_attempt_at": False, "state_reason": False})
            self._ops_trigger_soon("ops_autopilot.ir_cron_process_reviews")
            return False
        payload = hold._payload()
        plan = autofix.FixPlan(**{name: payload[name] for name in FIX_PLAN_FIELDS})
        client = review.repository_id.sudo()._github_client()
        result = autofix.open_fix_pr(client, plan, protected=payload.get("protected") or ())
        values = {
            "autofix_state": {"opened": "opened", "exists": "exists"}.get(result.state, "failed"),
            "autofix_reason": review._mask(result.reason, 500) or False,
            "autofix_branch": result.branch or plan.branch,
            "autofix_pr_number": result.pr_number or False,
            "autofix_pr_url": result.pr_url or False,
        }
        review.write(values)
        if result.state not in ("opened", "exists"):
            raise ValueError(result.reason or result.state)
        applied = {tuple(item) for item in payload.get("applied") or ()}
        review.ai_finding_ids.filtered(lambda f: (f.file, f.line, f.confidence) in applied).write({"auto_fixed": True})
        review.message_post(
            body=_(
                "Auto-fix pull request #%(n)s opened on %(branch)s after the change freeze.",
                n=result.pr_number,
                branch=result.branch,
            )
        )
        return result.pr_url
