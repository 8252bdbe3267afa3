from odoo import api, fields, models

PR_STATES = [("open", "Open"), ("closed", "Closed"), ("merged", "Merged")]


class OpsPullRequest(models.Model):
    """A pull request as last described by GitHub."""

    _name = "ops.pull.request"
    _description = "Pull Request"
    _order = "github_updated_at desc, id desc"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    number = fields.Integer(required=True, readonly=True, index=True)
    title = fields.Char(readonly=True)
    state = fields.Selection(PR_STATES, readonly=True, index=True)
    last_action = fields.Char(readonly=True)
    draft = fields.Boolean(readonly=True)
    author = fields.Char(readonly=True)
    head_ref = fields.Char(string="Head branch", readonly=True)
    head_sha = fields.Char(string="Head commit", readonly=True, index=True)
    head_repo_full_name = fields.Char(string="Head repository", readonly=True)
    is_fork = fields.Boolean(string="From a fork", readonly=True)
    base_ref = fields.Char(string="Base branch", readonly=True)
    base_sha = fields.Char(string="Base commit", readonly=True)
    html_url = fields.Char(string="GitHub URL", readonly=True)
    github_created_at = fields.Datetime(string="Opened on", readonly=True)
    github_updated_at = fields.Datetime(string="Updated on GitHub", readonly=True)
    closed_at = fields.Datetime(readonly=True)
    merged_at = fields.Datetime(readonly=True)
    additions = fields.Integer(readonly=True)
    deletions = fields.Integer(readonly=True)
    changed_file_count = fields.Integer(string="Changed files", readonly=True)
    commit_count = fields.Integer(string="Commits", readonly=True)
    file_ids = fields.One2many("ops.change.file", "pull_request_id", string="Files", readonly=True)

    _sql_constraints = [
        ("number_unique", "unique(repository_id, number)", "A pull request is stored once per repository."),
    ]

    def _compute_display_name(self):
        for pr in self:
            pr.display_name = f"#{pr.number} {pr.title or ''}".strip()

    def action_open_github(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.html_url, "target": "new"}

    @api.model
    def _upsert_pull_request(self, repository, pr):
        """Create or update from :class:`autopilot.github.events.PullRequest`; an older update never wins."""
        record = self.search([("repository_id", "=", repository.id), ("number", "=", pr.number)], limit=1)
        values = {
            "title": pr.title,
            "state": pr.state if pr.state in dict(PR_STATES) else "open",
            "last_action": pr.action,
            "draft": pr.draft,
            "author": pr.author,
            "head_ref": pr.head_ref,
            "head_sha": pr.head_sha,
            "head_repo_full_name": pr.head_repo_full_name,
            "is_fork": pr.is_fork,
            "base_ref": pr.base_ref,
            "base_sha": pr.base_sha,
            "html_url": pr.html_url,
            "github_created_at": pr.created_at,
            "github_updated_at": pr.updated_at,
            "closed_at": pr.closed_at,
            "merged_at": pr.merged_at,
            "additions": pr.additions,
            "deletions": pr.deletions,
            "changed_file_count": pr.changed_files,
            "commit_count": pr.commits,
        }
        if not record:
            return self.create({"repository_id": repository.id, "number": pr.number, **values})
        stored, incoming = record.github_updated_at, pr.updated_at
        if stored and incoming and incoming < stored:
            return record  # a late delivery of an older state
        record.write(values)
        return record
