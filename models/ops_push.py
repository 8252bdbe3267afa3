from odoo import api, fields, models


class OpsPush(models.Model):
    """A push to a repository: its commits and the files they changed."""

    _name = "ops.push"
    _description = "Push"
    _order = "pushed_at desc, id desc"
    _rec_name = "ref"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    ref = fields.Char(required=True, readonly=True)
    branch = fields.Char(readonly=True, index=True)
    before_sha = fields.Char(string="Before", readonly=True)
    after_sha = fields.Char(string="After", readonly=True, index=True)
    pusher = fields.Char(readonly=True)
    created = fields.Boolean(string="New ref", readonly=True)
    deleted = fields.Boolean(string="Ref deleted", readonly=True)
    forced = fields.Boolean(readonly=True)
    compare_url = fields.Char(readonly=True)
    pushed_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    commit_count = fields.Integer(readonly=True)
    head_commit_message = fields.Text(readonly=True)
    commits = fields.Json(readonly=True)
    file_ids = fields.One2many("ops.change.file", "push_id", string="Changed files", readonly=True)
    file_count = fields.Integer(compute="_compute_file_count")

    _sql_constraints = [
        ("push_unique", "unique(repository_id, ref, after_sha)", "This push is already recorded."),
    ]

    @api.depends("file_ids")
    def _compute_file_count(self):
        for push in self:
            push.file_count = len(push.file_ids)

    @api.model
    def _record_push(self, repository, push):
        """Record an :class:`autopilot.github.events.Push` once (a second hook's copy is not duplicated)."""
        existing = self.search(
            [("repository_id", "=", repository.id), ("ref", "=", push.ref), ("after_sha", "=", push.after)],
            limit=1,
        )
        if existing:
            return existing
        head = push.commits[-1] if push.commits else None
        return self.create(
            {
                "repository_id": repository.id,
                "ref": push.ref,
                "branch": push.branch,
                "before_sha": push.before,
                "after_sha": push.after,
                "pusher": push.pusher,
                "created": push.created,
                "deleted": push.deleted,
                "forced": push.forced,
                "compare_url": push.compare_url,
                "pushed_at": (head.timestamp if head and head.timestamp else fields.Datetime.now()),
                "commit_count": len(push.commits),
                "head_commit_message": head.message if head else False,
                "commits": [
                    {"sha": c.sha, "message": c.message[:500], "author": c.author, "url": c.url} for c in push.commits
                ],
                "file_ids": [
                    fields.Command.create({"filename": f.filename, "status": f.status}) for f in push.changed_files
                ],
            }
        )
