"""GitHub's commit statuses for the change freeze, on top of the review fake's git and pull requests.

:class:`GitHubFreezeMixin` adds to the review mixin's in-memory git and pull
requests (:class:`FreezeGitHub`; :class:`FreezeScanGitHub` has the scans'
routes too)::

    POST /repos/{o}/{r}/statuses/{sha}            create a commit status
    GET  /repos/{o}/{r}/commits/{ref}/statuses    the statuses of a ref, newest first

Like every route of the fakes, the exchange is validated against GitHub's
OpenAPI description (``repos/create-commit-status``: body schema, ``state``
enum, the answer's ``status`` schema). What the description does not say and
GitHub enforces is enforced here with GitHub's own 422 answers: a
description longer than 140 characters, a commit the repository does not
have, more than 1000 statuses for one sha and context.
"""

import itertools
from datetime import datetime, timezone

from . import github_payloads as gp
from .github_review_server import GitHubReviewMixin
from .github_scans_server import GitHubScansMixin
from .github_server import FakeGitHub
from .http_server import Response

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
MAX_DESCRIPTION = 140
#: GitHub keeps at most this many statuses per sha and context
MAX_PER_CONTEXT = 1000


def _invalid(message, field="description"):
    error = {"resource": "Status", "code": "custom", "field": field, "message": message}
    return Response(422, {"message": "Validation Failed", "errors": [error]})


class GitHubFreezeMixin:
    """Adds commit statuses to a FakeGitHub that has the review mixin's git (call :meth:`install_freeze_routes`)."""

    def install_freeze_routes(self):
        if not hasattr(self, "objects"):
            self.install_review_routes()
        self.statuses = {}  # (full_name, sha) -> [status], oldest first
        self._status_ids = itertools.count(6_000_001)
        self.route("POST", _REPO + r"/statuses/(?P<sha>[0-9a-fA-F]{4,40})", self._create_status)
        self.route("GET", _REPO + r"/commits/(?P<ref>[^/]+)/statuses", self._list_statuses)

    def statuses_of(self, full_name, sha, context=None):
        """What was posted on ``sha``, oldest first (optionally one context's)."""
        return [s for s in self.statuses.get((full_name, sha), []) if context is None or s["context"] == context]

    def push(self, full_name, branch, files, message="change"):
        """A new commit on ``branch`` (a pull request's head moves); returns its sha."""
        return self.commit(full_name, files, message=message, branch=branch)

    def _create_status(self, request):
        full_name = self._repo(request)
        data = request.json() or {}
        sha = request.params["sha"].lower()
        if sha not in self.objects:
            return _invalid(f"No commit found for SHA: {sha}", "sha")
        description = data.get("description")
        if description is not None and len(description) > MAX_DESCRIPTION:
            return _invalid(f"description is too long (maximum is {MAX_DESCRIPTION} characters)")
        context = data.get("context") or "default"
        kept = self.statuses.setdefault((full_name, sha), [])
        if sum(1 for s in kept if s["context"].lower() == context.lower()) >= MAX_PER_CONTEXT:
            return _invalid(f"This SHA and context has reached the maximum number of statuses ({MAX_PER_CONTEXT}).")
        number = next(self._status_ids)
        now = gp.ts(datetime.now(timezone.utc))
        status = {
            "url": f"{self.url}/repos/{full_name}/statuses/{sha}",
            "avatar_url": "https://avatars.githubusercontent.com/u/9919?v=4",
            "id": number,
            "node_id": f"SC_{number}",
            "state": data["state"],
            "description": description,
            "target_url": data.get("target_url"),
            "context": context,
            "created_at": now,
            "updated_at": now,
            "creator": gp.user(self.review_login, 41898282, kind="Bot", api_url=self.url),
        }
        kept.append(status)
        return Response(201, status)

    def _list_statuses(self, request):
        full_name = self._repo(request)
        try:
            sha = self._resolve(full_name, request.params["ref"])
        except (KeyError, LookupError):
            return Response(404, {"message": "Not Found"})
        return self._page(request, list(reversed(self.statuses.get((full_name, sha), []))))


class FreezeGitHub(GitHubFreezeMixin, GitHubReviewMixin, FakeGitHub):
    """FakeGitHub with pull requests, an in-memory git and commit statuses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_freeze_routes()


class FreezeScanGitHub(GitHubFreezeMixin, GitHubScansMixin, FakeGitHub):
    """The scans' FakeGitHub (dependency-update pull requests) with commit statuses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_scan_routes()
        self.install_freeze_routes()
