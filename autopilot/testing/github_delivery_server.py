"""GitHub as deployments see it: a history of dated commits and the compare between two of them.

:class:`DeliveryGitHub` is a :class:`~.github_server.FakeGitHub` with the
review mixin's in-memory git, whose ``GET /repos/{o}/{r}/compare/{base}...{head}``
pages commits as GitHub does (``per_page``/``page``, ``Link`` headers; 250
most recent commits when not paged). Every request and answer is validated
against GitHub's OpenAPI description like the other fakes (see
:mod:`.contracts`). Here a commit also has its author and date, so the commits
a deployment brought carry real lead times::

    server = DeliveryGitHub().start()
    shas = server.history("acme/erp", ["Add login (#12)", "Fix typo"], start=monday, step=timedelta(hours=3))
"""

from datetime import datetime, timedelta, timezone

from . import github_payloads as gp
from .github_review_server import GitHubReviewMixin
from .github_server import FakeGitHub


class DeliveryGitHub(GitHubReviewMixin, FakeGitHub):
    """FakeGitHub with dated commits and the paged compare."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_review_routes()
        self.commit_meta = {}  # sha -> (author login, author date)

    def reset(self):
        result = super().reset()
        self.reset_review_state()
        self.commit_meta.clear()
        return result

    def dated_commit(self, full_name, message, moment, author="dev", branch="main", files=None):
        """One commit on ``branch`` written by ``author`` at ``moment`` (its author date); returns its sha."""
        sha = self.commit(full_name, files or {"CHANGELOG.md": f"{message}\n"}, message=message, branch=branch)
        self.commit_meta[sha] = (author, moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
        return sha

    def history(self, full_name, messages, start, step=timedelta(hours=1), author="dev", branch="main"):
        """Commits ``messages`` in order on ``branch``, ``step`` apart from ``start``; returns their shas."""
        return [
            self.dated_commit(full_name, message, start + index * step, author=author, branch=branch)
            for index, message in enumerate(messages)
        ]

    def _commit_json(self, full_name, sha, files=None):
        obj = self.objects[sha]
        author, moment = self.commit_meta.get(sha, ("dev", datetime.now(timezone.utc)))
        data = gp.rest_commit(full_name, sha, obj["message"], obj["parents"], files, api_url=self.url, moment=moment)
        data["commit"]["author"] = gp.git_person(author, moment)
        data["author"] = gp.user(author, api_url=self.url)
        return data
