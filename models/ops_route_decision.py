import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..autopilot.common.errors import ServiceError
from ..autopilot.github import ci, dispatch
from ..autopilot.selfheal import decisions, router

_logger = logging.getLogger(__name__)

DECISION_STATES = [("pending", "To decide"), ("done", "Decided"), ("failed", "Failed")]
COMPLEXITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
ROUTED_PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
NULL_SHA = "0" * 40


class OpsRouteDecision(models.Model):
    """Where a push or pull request was routed: its file categories, workflows and complexity.

    Recorded for every push and routed pull request update when the webhook
    is processed (pending); the routing cron fetches line counts from GitHub
    (pull request files, push comparison), decides with the engine
    (:mod:`autopilot.selfheal.router`) and, when the repository asks for it,
    dispatches the target workflows.
    """

    _name = "ops.route.decision"
    _description = "Change Routing Decision"
    _inherit = ["ops.cron.mixin"]
    _order = "create_date desc, id desc"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    event = fields.Selection([("push", "Push"), ("pull_request", "Pull request")], required=True, readonly=True)
    push_id = fields.Many2one("ops.push", readonly=True, ondelete="cascade", index="btree_not_null")
    pull_request_id = fields.Many2one("ops.pull.request", readonly=True, ondelete="cascade", index="btree_not_null")
    ref = fields.Char(string="Branch", readonly=True)
    head_sha = fields.Char(string="Commit", readonly=True, index=True)
    state = fields.Selection(DECISION_STATES, default="pending", required=True, readonly=True, index=True)
    categories = fields.Char(readonly=True)
    workflows = fields.Char(readonly=True)
    complexity = fields.Selection(COMPLEXITIES, readonly=True, index=True)
    file_count = fields.Integer(string="Files", readonly=True)
    changed_lines = fields.Integer(readonly=True)
    lines_known = fields.Boolean(readonly=True, help="False when GitHub could not give line counts (push payload only)")
    files_partial = fields.Boolean(
        string="File list partial",
        readonly=True,
        help="GitHub lists at most 300 files of a push's comparison: the decision was taken on those and on the "
        "files the push's commits name, which may not be all of them",
    )
    details = fields.Json(readonly=True, help="Categories of each file")
    details_text = fields.Text(string="Categories of each file", compute="_compute_details_text")
    dispatch_requested = fields.Boolean(readonly=True, help="The repository dispatches routed workflows")
    dispatched = fields.Boolean(readonly=True, index=True)
    dispatched_workflows = fields.Char(readonly=True)
    dispatch_detail = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    decided_at = fields.Datetime(readonly=True)

    @api.depends("details")
    def _compute_details_text(self):
        for decision in self:
            files = decision.details or {}
            decision.details_text = "\n".join(f"{name}: {', '.join(cats)}" for name, cats in sorted(files.items()))

    def _compute_display_name(self):
        for decision in self:
            what = f"#{decision.pull_request_id.number}" if decision.pull_request_id else (decision.ref or "")
            decision.display_name = f"{decision.event or ''} {what} {(decision.head_sha or '')[:8]}".strip()

    # ------------------------------------------------------------------
    # enqueueing (webhook processing)
    # ------------------------------------------------------------------
    @api.model
    def _enqueue_push(self, push):
        if push.deleted or not push.after_sha or push.after_sha == NULL_SHA:
            return self.browse()
        if self.sudo().search_count([("push_id", "=", push.id)], limit=1):
            return self.browse()
        return self._enqueue(
            {"event": "push", "push_id": push.id, "ref": push.branch, "head_sha": push.after_sha}, push
        )

    @api.model
    def _enqueue_pull_request(self, pull):
        if pull.state != "open" or pull.last_action not in ROUTED_PR_ACTIONS or not pull.head_sha:
            return self.browse()
        domain = [("pull_request_id", "=", pull.id), ("head_sha", "=", pull.head_sha)]
        if self.sudo().search_count(domain, limit=1):
            return self.browse()
        vals = {"event": "pull_request", "pull_request_id": pull.id, "ref": pull.head_ref, "head_sha": pull.head_sha}
        return self._enqueue(vals, pull)

    @api.model
    def _enqueue(self, vals, source):
        decision = self.sudo().create({"repository_id": source.repository_id.id, **vals})
        self._ops_trigger_soon("ops_autopilot.ir_cron_route_changes")
        return decision

    # ------------------------------------------------------------------
    # deciding (cron)
    # ------------------------------------------------------------------
    @api.model
    def _due_domain(self):
        now = fields.Datetime.now()
        return [("state", "=", "pending"), "|", ("next_attempt_at", "=", False), ("next_attempt_at", "<=", now)]

    @api.model
    def _cron_route_changes(self, batch_size=50):
        query = self._search(self._due_domain(), order="id", limit=batch_size)
        ids = [row[0] for row in self.env.execute_query(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))]
        batch = self.browse(ids)
        routes = self.env["ops.route.rule"]._engine_routes()
        for decision in batch:
            try:
                with self.env.cr.savepoint():
                    decision._decide(routes)
            except ServiceError as exc:
                decision._reschedule(exc)
            except Exception as exc:
                _logger.warning("routing decision %s failed: %s", decision.id, exc)
                decision.write({"state": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]})
        self._ops_notify_progress(done=len(batch), remaining=self.search_count(self._due_domain()))
        return len(batch)

    def _reschedule(self, error):
        if isinstance(error.partial, dict):
            self.write(error.partial)
        attempts = self.attempts + 1
        if not decisions.is_transient(error) or attempts >= decisions.CALL_RETRY_POLICY.max_attempts:
            self.write({"state": "failed", "attempts": attempts, "error": str(error)})
            return
        at = fields.Datetime.now() + timedelta(seconds=decisions.call_retry_delay(error, attempts))
        self.write({"attempts": attempts, "next_attempt_at": at, "error": str(error)})
        self.env.ref("ops_autopilot.ir_cron_route_changes").sudo()._trigger(at=at)

    def _files(self):
        """``(files, totals, partial)`` for the engine: from GitHub when a token allows, else from the payload.

        ``partial``: GitHub's comparison of a push stopped at its 300-file cap;
        the files the push's commits name (without line counts) are added.
        """
        repo = self.repository_id
        client = repo._github_client() if repo.has_token else None
        if self.pull_request_id:
            pull = self.pull_request_id
            if client:
                try:
                    files = ci.pull_request_files(client, repo.full_name, pull.number)
                    return router.files_from_list(files), None, False
                except ServiceError as exc:
                    if decisions.is_transient(exc):
                        raise
            return [], (pull.changed_file_count, pull.additions + pull.deletions), False
        push = self.push_id
        known = [router.ChangedFile(f.filename, None, None, f.status or "") for f in push.file_ids]
        if client and push.before_sha and push.before_sha != NULL_SHA and not push.created:
            try:
                compared, complete = ci.compare_files(client, repo.full_name, push.before_sha, push.after_sha)
            except ServiceError as exc:
                if decisions.is_transient(exc):
                    raise
            else:
                files = router.files_from_list(compared)
                if complete:
                    return files, None, False
                listed = {f.filename for f in files}
                return files + [f for f in known if f.filename not in listed], None, True
        return known, None, False

    def _decide(self, routes):
        self.ensure_one()
        files, totals, partial = self._files()
        decision = router.route_files(files, routes, totals)
        repo = self.repository_id
        vals = {
            "state": "done",
            "categories": ", ".join(decision.categories),
            "workflows": ", ".join(decision.workflows),
            "complexity": decision.complexity,
            "file_count": decision.file_count,
            "changed_lines": decision.changed_lines,
            "lines_known": decision.lines_known,
            "files_partial": partial,
            "details": decision.to_dict()["files"],
            "dispatch_requested": repo.ci_dispatch_routed_workflows,
            "decided_at": fields.Datetime.now(),
            "error": False,
            "next_attempt_at": False,
        }
        if repo.ci_dispatch_routed_workflows and decision.workflows:
            vals.update(self._dispatch(decision.workflows))
        self.write(vals)

    def _dispatch(self, workflows):
        """Dispatch each target workflow once on the change's branch (forks and tokenless repos: none)."""
        repo = self.repository_id
        if not repo.has_token:
            return {"dispatch_detail": "no API token: nothing dispatched"}
        if self.pull_request_id and self.pull_request_id.is_fork:
            return {"dispatch_detail": "pull request from a fork: its branch is not in this repository"}
        if not self.ref:
            return {"dispatch_detail": "no branch to dispatch on"}
        client = repo._github_client()
        done = [w for w in (self.dispatched_workflows or "").split(", ") if w]
        notes = []
        for workflow in workflows:
            if workflow in done:
                continue
            try:
                dispatch.dispatch_workflow(client, repo.full_name, workflow, self.ref)
            except ServiceError as exc:
                if decisions.is_transient(exc):
                    # the retry continues after what was already dispatched
                    raise exc.with_partial({"dispatched_workflows": ", ".join(done)}) from None
                notes.append(f"{workflow}: {exc}")
                continue
            done.append(workflow)
        return {
            "dispatched": bool(done),
            "dispatched_workflows": ", ".join(done),
            "dispatch_detail": "\n".join(notes) or False,
        }
