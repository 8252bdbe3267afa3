"""GitHub REST routes for code review and auto-fix, as a mixin for :class:`FakeGitHub`.

Mix it in and call :meth:`GitHubReviewMixin.install_review_routes` from the
constructor (the lead wires it into ``FakeGitHub``)::

    class ReviewGitHub(GitHubReviewMixin, FakeGitHub):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.install_review_routes()

A tiny in-memory git stands behind the routes: commits are full snapshots
of a repository's files, branches point at commits, and pull request
files, compares and patches are computed from them the way GitHub does
(``base...head`` against the merge base, ``patch`` hunks without headers).
Writes follow GitHub's rules that matter to a bot: a contents ``PUT`` needs
the blob ``sha`` of the file it replaces, refs cannot be created twice, a
review comment must sit on a line of the PR's diff, a comment can only be
edited by its author. Everything asked is in :meth:`RoutedServer.calls`, so
tests can assert that a base branch was never written.

Routes: pulls get / list / create / files / commits; compare; issue
comments list / create / get / update; pull reviews create / list; commits
get, check-runs, check-suites; git refs create / get; contents get / put;
repos get (``fork`` and ``parent`` for forks, via :meth:`add_fork`).
"""

import base64
import hashlib
import itertools
import threading
from datetime import datetime, timezone
from urllib.parse import unquote, urlencode

from ..review import patches
from . import github_payloads as gp
from .http_server import Response

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
#: GitHub lists at most this many files of a comparison (its REST documentation)
COMPARE_FILES_CAP = 300
#: and at most this many files of a pull request
PULL_FILES_CAP = 3000
#: GitHub's answer to a draft pull request where the plan has none
DRAFTS_UNSUPPORTED = "Draft pull requests are not supported in this repository."
#: the contents API inlines a file's content up to 1 MB
CONTENTS_INLINE_CAP = 1024 * 1024


def blob_sha(text):
    """Git's blob id of a text file (what the contents API calls ``sha``)."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # git's object id, not a security hash


def _now():
    return gp.ts(datetime.now(timezone.utc))


class GitHubReviewMixin:
    """Adds review / auto-fix routes and an in-memory git to a FakeGitHub."""

    review_login = "ops-autopilot[bot]"

    def install_review_routes(self):
        """Register the routes (once, from the constructor) and start with an empty git."""
        self._git_lock = threading.RLock()
        self.reset_review_state()
        routes = (
            ("GET", r"/pulls", self._list_pulls),
            ("POST", r"/pulls", self._create_pull),
            ("GET", r"/pulls/(?P<number>\d+)", self._get_pull),
            ("GET", r"/pulls/(?P<number>\d+)/files", self._pull_files),
            ("GET", r"/pulls/(?P<number>\d+)/commits", self._pull_commits),
            ("GET", r"/pulls/(?P<number>\d+)/reviews", self._list_reviews),
            ("POST", r"/pulls/(?P<number>\d+)/reviews", self._create_review),
            ("GET", r"/compare/(?P<basehead>.+)", self._compare),
            ("GET", r"/issues/(?P<number>\d+)/comments", self._list_comments),
            ("POST", r"/issues/(?P<number>\d+)/comments", self._create_comment),
            ("GET", r"/issues/comments/(?P<comment_id>\d+)", self._get_comment),
            ("PATCH", r"/issues/comments/(?P<comment_id>\d+)", self._update_comment),
            ("GET", r"/commits", self._list_commits),
            ("GET", r"/commits/(?P<ref>[^/]+)", self._get_commit),
            ("GET", r"/commits/(?P<ref>.+)/check-runs", self._list_check_runs),
            ("GET", r"/commits/(?P<ref>.+)/check-suites", self._list_check_suites),
            ("POST", r"/git/refs", self._create_ref),
            ("GET", r"/git/ref/(?P<ref>.+)", self._get_ref),
            ("GET", r"/contents/(?P<path>.+)", self._get_contents),
            ("GET", r"/git/blobs/(?P<sha>[0-9a-f]{40})", self._get_blob),
            ("PUT", r"/contents/(?P<path>.+)", self._put_contents),
        )
        for method, pattern, handler in routes:
            self.route(method, _REPO + pattern, handler)

    def reset_review_state(self):
        """Forget commits, branches, pulls, comments, reviews and checks (for a server shared by tests)."""
        with self._git_lock:
            self.objects = {}  # commit sha -> {"tree": {path: text}, "parents": [sha], "message": str}
            self.branches = {}  # full_name -> {branch: sha}
            self.pulls = {}  # (full_name, number) -> pull record
            self.issue_comments = {}  # (full_name, number) -> [comment]
            self.pull_reviews = {}  # (full_name, number) -> [review]
            self.check_runs = {}  # (full_name, sha) -> [check run]
            self.check_suites = {}  # (full_name, sha) -> [check suite]
            self.drafts_unsupported = set()  # repositories whose plan has no draft pull requests
            self._review_ids = itertools.count(5_000_001)
            self._commit_counter = itertools.count(1)

    # ------------------------------------------------------------------
    # data helpers for tests
    # ------------------------------------------------------------------
    def add_fork(self, fork_full_name, parent_full_name):
        """A fork of ``parent_full_name`` (``fork: true``, ``parent``/``source`` set)."""
        if parent_full_name not in self.repos:
            self.add_repo(parent_full_name)
        fork = self.add_repo(fork_full_name, repo_id=int(blob_sha(fork_full_name)[:7], 16))
        fork["fork"] = True
        fork["parent"] = fork["source"] = self.repos[parent_full_name]
        return fork

    def commit(self, full_name, files, parent=None, message="change", branch=None):
        """Record a commit: ``files`` (path -> text, ``None`` deletes) on top of ``parent``; move ``branch``."""
        with self._git_lock:
            if full_name not in self.repos:
                self.add_repo(full_name)
            if parent is None and branch and branch in self.branches.get(full_name, {}):
                parent = self.branches[full_name][branch]
            tree = dict(self.objects[parent]["tree"]) if parent else {}
            for path, text in files.items():
                if text is None:
                    tree.pop(path, None)
                else:
                    tree[path] = text
            seed = f"{parent}|{message}|{sorted(tree.items())}|{next(self._commit_counter)}"
            sha = hashlib.sha1(seed.encode()).hexdigest()
            self.objects[sha] = {"tree": tree, "parents": [parent] if parent else [], "message": message}
            if branch:
                self.branches.setdefault(full_name, {})[branch] = sha
            return sha

    def branch_sha(self, full_name, branch):
        return self.branches.get(full_name, {}).get(branch)

    def files_at(self, full_name, ref):
        """The files of ``ref`` (branch or sha) in ``full_name``."""
        return dict(self.objects[self._resolve(full_name, ref)]["tree"])

    def add_pull(self, full_name, number, head, base="main", head_repo=None, title="Change", body="", author="dev"):
        """Open PR ``number`` from branch ``head`` (of ``head_repo``, a fork or the repo) into ``base``."""
        head_repo = head_repo or full_name
        for repo, branch in ((full_name, base), (head_repo, head)):
            if branch not in self.branches.get(repo, {}):
                raise LookupError(f"no branch {branch} in {repo}")
        self.pulls[(full_name, number)] = {
            "number": number,
            "base_repo": full_name,
            "base_ref": base,
            "head_repo": head_repo,
            "head_ref": head,
            "title": title,
            "body": body,
            "author": author,
            "state": "open",
            "created_at": _now(),
        }
        return self._pull_json(full_name, number)

    def add_comment(self, full_name, number, body, login="someone"):
        return self._new_comment(full_name, number, body, login)

    def add_check_run(
        self, full_name, sha, name="test", status="completed", conclusion="success", app="github-actions"
    ):
        run_id = next(self._review_ids)
        url = f"{self.url}/repos/{full_name}/check-runs/{run_id}"
        run = {
            "id": run_id,
            "node_id": f"CR_{run_id}",
            "head_sha": sha,
            "external_id": "",
            "name": name,
            "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "started_at": _now(),
            "completed_at": _now() if status == "completed" else None,
            "url": url,
            "html_url": f"https://github.com/{full_name}/runs/{run_id}",
            "details_url": f"https://github.com/{full_name}/runs/{run_id}",
            "check_suite": {"id": run_id + 1},
            "app": gp.app(app),
            "output": {
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "pull_requests": [],
        }
        self.check_runs.setdefault((full_name, sha), []).append(run)
        return run

    def add_check_suite(self, full_name, sha, status="completed", conclusion="success", runs=1, app="github-actions"):
        suite_id = next(self._review_ids)
        url = f"{self.url}/repos/{full_name}/check-suites/{suite_id}"
        suite = {
            "id": suite_id,
            "node_id": f"CS_{suite_id}",
            "head_sha": sha,
            "head_branch": None,
            "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "before": None,
            "after": sha,
            "latest_check_runs_count": runs,
            "url": url,
            "check_runs_url": f"{url}/check-runs",
            "app": gp.app(app),
            "head_commit": gp.commit_simple(sha),
            "repository": gp.repository_lite(full_name, api_url=self.url),
            "created_at": _now(),
            "updated_at": _now(),
            "pull_requests": [],
        }
        self.check_suites.setdefault((full_name, sha), []).append(suite)
        return suite

    def writes(self):
        """Every request that could change something (anything but GET/HEAD)."""
        return [r for r in self.calls() if r.method not in ("GET", "HEAD")]

    # ------------------------------------------------------------------
    # git model
    # ------------------------------------------------------------------
    def _resolve(self, full_name, ref):
        ref = unquote(ref)
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix):
                ref = ref[len(prefix) :]
        branches = self.branches.get(full_name, {})
        if ref in branches:
            return branches[ref]
        if ref in self.objects:
            return ref
        raise LookupError(f"no commit {ref}")

    def _ancestors(self, sha):
        order, seen, queue = [], set(), [sha]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            order.append(current)
            queue.extend(self.objects[current]["parents"])
        return order

    def _merge_base(self, base_sha, head_sha):
        base_ancestors = set(self._ancestors(base_sha))
        return next((sha for sha in self._ancestors(head_sha) if sha in base_ancestors), None)

    def _diff(self, full_name, old_sha, new_sha):
        old = self.objects[old_sha]["tree"] if old_sha else {}
        new = self.objects[new_sha]["tree"]
        files = []
        for path in sorted(set(old) | set(new)):
            before, after = old.get(path), new.get(path)
            if before == after:
                continue
            status = "added" if before is None else "removed" if after is None else "modified"
            patch = patches.make_patch(before, after)
            lines = patch.splitlines()
            added = sum(1 for line in lines if line.startswith("+"))
            removed = sum(1 for line in lines if line.startswith("-"))
            files.append(
                {
                    "sha": blob_sha(after) if after is not None else "0" * 40,
                    "filename": path,
                    "status": status,
                    "additions": added,
                    "deletions": removed,
                    "changes": added + removed,
                    "blob_url": f"https://github.com/{full_name}/blob/{new_sha}/{path}",
                    "raw_url": f"https://github.com/{full_name}/raw/{new_sha}/{path}",
                    "contents_url": f"{self.url}/repos/{full_name}/contents/{path}?ref={new_sha}",
                    "patch": patch,
                }
            )
        return files

    def _commit_json(self, full_name, sha, files=None):
        obj = self.objects[sha]
        moment = datetime.now(timezone.utc)
        return gp.rest_commit(full_name, sha, obj["message"], obj["parents"], files, api_url=self.url, moment=moment)

    # ------------------------------------------------------------------
    # pulls
    # ------------------------------------------------------------------
    def _pull(self, request):
        key = (self._repo(request), int(request.params["number"]))
        if key not in self.pulls:
            raise LookupError("pull")
        return key

    def _pull_json(self, full_name, number):
        pull = self.pulls[(full_name, number)]
        head_sha = self.branch_sha(pull["head_repo"], pull["head_ref"])
        base_sha = self.branch_sha(full_name, pull["base_ref"])
        head_owner = pull["head_repo"].split("/")[0]
        base = f"{self.url}/repos/{full_name}"
        merge_base = self._merge_base(base_sha, head_sha)
        commits = [s for s in self._ancestors(head_sha) if s not in set(self._ancestors(merge_base or base_sha))]
        return {
            "url": f"{base}/pulls/{number}",
            "id": 9_000_000 + number,
            "node_id": f"PR_{number}",
            "html_url": f"https://github.com/{full_name}/pull/{number}",
            "issue_url": f"{base}/issues/{number}",
            "comments_url": f"{base}/issues/{number}/comments",
            "review_comments_url": f"{base}/pulls/{number}/comments",
            "commits_url": f"{base}/pulls/{number}/commits",
            "number": number,
            "state": pull["state"],
            "locked": False,
            "title": pull["title"],
            "body": pull["body"],
            "user": gp.user(pull["author"]),
            "created_at": pull["created_at"],
            "updated_at": _now(),
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [],
            "milestone": None,
            "diff_url": f"https://github.com/{full_name}/pull/{number}.diff",
            "patch_url": f"https://github.com/{full_name}/pull/{number}.patch",
            "review_comment_url": f"{base}/pulls/comments{{/number}}",
            "statuses_url": f"{base}/statuses/{head_sha}",
            "_links": gp.pull_links(base, f"https://github.com/{full_name}/pull/{number}", number, head_sha),
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "active_lock_reason": None,
            "draft": False,
            "merged": False,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(self.issue_comments.get((full_name, number), [])),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "head": {
                "label": f"{head_owner}:{pull['head_ref']}",
                "ref": pull["head_ref"],
                "sha": head_sha,
                "user": gp.user(head_owner),
                "repo": self.repos[pull["head_repo"]],
            },
            "base": {
                "label": f"{full_name.split('/')[0]}:{pull['base_ref']}",
                "ref": pull["base_ref"],
                "sha": base_sha,
                "user": gp.user(full_name.split("/")[0]),
                "repo": self.repos[full_name],
            },
            "commits": len(commits),
            "changed_files": len(self._pull_diff(full_name, number)),
            "additions": 0,
            "deletions": 0,
        }

    def _pull_diff(self, full_name, number):
        pull = self.pulls[(full_name, number)]
        head_sha = self.branch_sha(pull["head_repo"], pull["head_ref"])
        base_sha = self.branch_sha(full_name, pull["base_ref"])
        return self._diff(full_name, self._merge_base(base_sha, head_sha), head_sha)

    def _get_pull(self, request):
        full_name, number = self._pull(request)
        return Response(200, self._pull_json(full_name, number))

    def _list_pulls(self, request):
        full_name = self._repo(request)
        state, head, base = request.arg("state", "open"), request.arg("head"), request.arg("base")
        found = []
        for (repo, number), pull in sorted(self.pulls.items()):
            if repo != full_name or (state != "all" and pull["state"] != state):
                continue
            if head and head != f"{pull['head_repo'].split('/')[0]}:{pull['head_ref']}":
                continue
            if base and base != pull["base_ref"]:
                continue
            found.append(self._pull_json(repo, number))
        return self._page(request, found)

    def _pull_files(self, request):
        full_name, number = self._pull(request)
        return self._page(request, self._pull_diff(full_name, number)[:PULL_FILES_CAP])

    def _pull_commits(self, request):
        full_name, number = self._pull(request)
        pull = self.pulls[(full_name, number)]
        head_sha = self.branch_sha(pull["head_repo"], pull["head_ref"])
        base_sha = self.branch_sha(full_name, pull["base_ref"])
        excluded = set(self._ancestors(self._merge_base(base_sha, head_sha) or base_sha))
        commits = [s for s in self._ancestors(head_sha) if s not in excluded]
        return self._page(request, [self._commit_json(full_name, s) for s in reversed(commits)])

    def _create_pull(self, request):
        full_name = self._repo(request)
        data = request.json() or {}
        head, base = str(data.get("head", "")), str(data.get("base", ""))
        head_branch = head.split(":", 1)[1] if ":" in head else head
        branches = self.branches.get(full_name, {})
        if head_branch not in branches or base not in branches:
            return Response(422, {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]})
        owner = full_name.split("/")[0]
        for (repo, _number), pull in self.pulls.items():
            same = pull["head_ref"] == head_branch and pull["base_ref"] == base and pull["head_repo"] == full_name
            if repo == full_name and pull["state"] == "open" and same:
                message = f"A pull request already exists for {owner}:{head_branch}."
                return Response(422, {"message": "Validation Failed", "errors": [{"message": message}]})
        if not self._diff(full_name, branches[base], branches[head_branch]):
            return Response(422, {"message": "Validation Failed", "errors": [{"message": "No commits between"}]})
        if data.get("draft") and full_name in self.drafts_unsupported:
            # private repositories on plans without draft pull requests (GitHub Free for organizations...)
            error = {"resource": "PullRequest", "code": "custom", "message": DRAFTS_UNSUPPORTED}
            return Response(422, {"message": "Validation Failed", "errors": [error]})
        number = max([n for (repo, n) in self.pulls if repo == full_name] + [0]) + 1
        self.add_pull(full_name, number, head_branch, base, title=data.get("title", ""), body=data.get("body") or "")
        self.pulls[(full_name, number)]["author"] = self.review_login
        self.pulls[(full_name, number)]["draft"] = bool(data.get("draft"))
        return Response(201, self._pull_json(full_name, number))

    # ------------------------------------------------------------------
    # compare and commits
    # ------------------------------------------------------------------
    def _compare(self, request):
        full_name = self._repo(request)
        basehead = unquote(request.params["basehead"])
        if "..." not in basehead:
            raise LookupError("compare")
        base_ref, head_ref = basehead.split("...", 1)
        base_sha, head_sha = self._resolve(full_name, base_ref), self._resolve(full_name, head_ref)
        merge_base = self._merge_base(base_sha, head_sha)
        head_only = [s for s in self._ancestors(head_sha) if s not in set(self._ancestors(base_sha))]
        base_only = [s for s in self._ancestors(base_sha) if s not in set(self._ancestors(head_sha))]
        if base_sha == head_sha:
            status = "identical"
        elif not base_only:
            status = "ahead"
        elif not head_only:
            status = "behind"
        else:
            status = "diverged"
        base = f"{self.url}/repos/{full_name}"
        commits = [self._commit_json(full_name, s) for s in reversed(head_only)]
        files = self._diff(full_name, merge_base, head_sha)[:COMPARE_FILES_CAP]
        headers = {}
        if "page" in request.query or "per_page" in request.query:
            # paginated: the commits are paged, the files (at most 300 for the whole comparison) come on page 1
            per_page = min(int(request.arg("per_page", 30)), 100)
            page = max(int(request.arg("page", 1)), 1)
            last = max((len(commits) + per_page - 1) // per_page, 1)
            if page < last:
                query = {k: v[0] for k, v in request.query.items()}
                next_url = f"{self.url}{request.path}?{urlencode({**query, 'page': page + 1})}"
                last_url = f"{self.url}{request.path}?{urlencode({**query, 'page': last})}"
                headers["Link"] = f'<{next_url}>; rel="next", <{last_url}>; rel="last"'
            commits = commits[(page - 1) * per_page : page * per_page]
            files = files if page == 1 else []
        else:
            commits = commits[-250:]  # unpaginated: the 250 most recent commits
        return Response(
            200,
            {
                "url": f"{base}/compare/{basehead}",
                "html_url": f"https://github.com/{full_name}/compare/{basehead}",
                "permalink_url": f"https://github.com/{full_name}/compare/{basehead}",
                "diff_url": f"https://github.com/{full_name}/compare/{basehead}.diff",
                "patch_url": f"https://github.com/{full_name}/compare/{basehead}.patch",
                "base_commit": self._commit_json(full_name, base_sha),
                "merge_base_commit": self._commit_json(full_name, merge_base) if merge_base else None,
                "status": status,
                "ahead_by": len(head_only),
                "behind_by": len(base_only),
                "total_commits": len(head_only),
                "commits": commits,
                "files": files,
            },
            headers,
        )

    def _list_commits(self, request):
        """``GET commits``: the history of ``sha`` (a branch or commit; the default branch by default), newest first."""
        full_name = self._repo(request)
        ref = request.arg("sha") or self.repos[full_name]["default_branch"]
        try:
            head = self._resolve(full_name, ref)
        except LookupError:
            return (
                Response(404, {"message": "Not Found"})
                if request.arg("sha")
                else Response(409, {"message": "Git Repository is empty."})
            )
        return self._page(request, [self._commit_json(full_name, sha) for sha in self._ancestors(head)])

    def _get_commit(self, request):
        full_name = self._repo(request)
        sha = self._resolve(full_name, request.params["ref"])
        parents = self.objects[sha]["parents"]
        files = self._diff(full_name, parents[0] if parents else None, sha)
        return Response(200, self._commit_json(full_name, sha, files))

    def _list_check_runs(self, request):
        full_name = self._repo(request)
        sha = self._resolve(full_name, request.params["ref"])
        return self._page(request, list(self.check_runs.get((full_name, sha), [])), "check_runs")

    def _list_check_suites(self, request):
        full_name = self._repo(request)
        sha = self._resolve(full_name, request.params["ref"])
        return self._page(request, list(self.check_suites.get((full_name, sha), [])), "check_suites")

    # ------------------------------------------------------------------
    # comments and reviews
    # ------------------------------------------------------------------
    def _new_comment(self, full_name, number, body, login):
        comment_id = next(self._review_ids)
        base = f"{self.url}/repos/{full_name}"
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{base}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{full_name}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{base}/issues/{number}",
            "body": body,
            "user": gp.user(login),
            "created_at": _now(),
            "updated_at": _now(),
            "author_association": "NONE",
        }
        self.issue_comments.setdefault((full_name, number), []).append(comment)
        return comment

    def _find_comment(self, full_name, comment_id):
        for (repo, _number), comments in self.issue_comments.items():
            for comment in comments:
                if repo == full_name and comment["id"] == comment_id:
                    return comment
        raise LookupError("comment")

    def _list_comments(self, request):
        full_name, number = self._repo(request), int(request.params["number"])
        return self._page(request, list(self.issue_comments.get((full_name, number), [])))

    def _create_comment(self, request):
        full_name, number = self._pull(request)
        body = (request.json() or {}).get("body")
        if not isinstance(body, str) or not body:
            return Response(422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing"}]})
        if len(body) > 65536:
            return Response(422, {"message": "Body is too long (maximum is 65536 characters)"})
        return Response(201, self._new_comment(full_name, number, body, self.review_login))

    def _get_comment(self, request):
        return Response(200, self._find_comment(self._repo(request), int(request.params["comment_id"])))

    def _update_comment(self, request):
        comment = self._find_comment(self._repo(request), int(request.params["comment_id"]))
        if comment["user"]["login"] != self.review_login:
            return Response(403, {"message": "Must have admin rights to Repository."})
        body = (request.json() or {}).get("body")
        if not isinstance(body, str) or not body or len(body) > 65536:
            return Response(422, {"message": "Validation Failed"})
        comment["body"], comment["updated_at"] = body, _now()
        return Response(200, comment)

    def _list_reviews(self, request):
        full_name, number = self._pull(request)
        return self._page(request, list(self.pull_reviews.get((full_name, number), [])))

    def _create_review(self, request):
        full_name, number = self._pull(request)
        data = request.json() or {}
        event = data.get("event")
        if event not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
            return Response(422, {"message": "Unprocessable Entity", "errors": ["Invalid event"]})
        commit_id = data.get("commit_id") or self._pull_json(full_name, number)["head"]["sha"]
        if commit_id not in self.objects:
            return Response(422, {"message": "Unprocessable Entity", "errors": ["commit_id is not part of the pull"]})
        diff = {f["filename"]: patches.diff_lines(f["patch"]) for f in self._pull_diff(full_name, number)}
        for comment in data.get("comments") or []:
            lines = diff.get(comment.get("path"))
            side = comment.get("side", "RIGHT")
            allowed = (lines.right if side == "RIGHT" else lines.left) if lines else frozenset()
            if comment.get("line") not in allowed or not comment.get("body"):
                return Response(
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["Pull request review thread line must be part of the diff"],
                    },
                )
        review_id = next(self._review_ids)
        state = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(
            event, "PENDING"
        )
        review = {
            "id": review_id,
            "node_id": f"PRR_{review_id}",
            "user": gp.user(self.review_login),
            "body": data.get("body") or "",
            "state": state,
            "commit_id": commit_id,
            "html_url": f"https://github.com/{full_name}/pull/{number}#pullrequestreview-{review_id}",
            "pull_request_url": f"{self.url}/repos/{full_name}/pulls/{number}",
            "_links": {
                "html": {"href": f"https://github.com/{full_name}/pull/{number}#pullrequestreview-{review_id}"},
                "pull_request": {"href": f"{self.url}/repos/{full_name}/pulls/{number}"},
            },
            "author_association": "NONE",
            "submitted_at": _now(),
            "_comments": list(data.get("comments") or []),
        }
        self.pull_reviews.setdefault((full_name, number), []).append(review)
        return Response(200, {k: v for k, v in review.items() if k != "_comments"})

    # ------------------------------------------------------------------
    # refs and contents
    # ------------------------------------------------------------------
    def _ref_json(self, full_name, branch, sha):
        base = f"{self.url}/repos/{full_name}"
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{base}/git/refs/heads/{branch}",
            "object": {"sha": sha, "type": "commit", "url": f"{base}/git/commits/{sha}"},
        }

    def _create_ref(self, request):
        full_name = self._repo(request)
        data = request.json() or {}
        ref, sha = str(data.get("ref", "")), str(data.get("sha", ""))
        if not ref.startswith("refs/heads/") or ref.count("/") < 2 or sha not in self.objects:
            return Response(422, {"message": "Reference update failed"})
        branch = ref[len("refs/heads/") :]
        with self._git_lock:
            if branch in self.branches.get(full_name, {}):
                return Response(422, {"message": "Reference already exists"})
            self.branches.setdefault(full_name, {})[branch] = sha
        return Response(201, self._ref_json(full_name, branch, sha))

    def _get_ref(self, request):
        full_name = self._repo(request)
        ref = unquote(request.params["ref"])
        branch = ref[len("heads/") :] if ref.startswith("heads/") else ref
        sha = self.branch_sha(full_name, branch)
        if sha is None:
            raise LookupError("ref")
        return Response(200, self._ref_json(full_name, branch, sha))

    def _content_json(self, full_name, path, text, ref):
        data = text.encode("utf-8")
        if len(data) > CONTENTS_INLINE_CAP:
            # GitHub: between 1 and 100 MB the contents API gives no content ("encoding": "none")
            encoding, content = "none", ""
        else:
            encoded = base64.b64encode(data).decode("ascii")
            encoding, content = "base64", "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
        return {
            "type": "file",
            "encoding": encoding,
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": content,
            "sha": blob_sha(text),
            "url": f"{self.url}/repos/{full_name}/contents/{path}?ref={ref}",
            "git_url": f"{self.url}/repos/{full_name}/git/blobs/{blob_sha(text)}",
            "html_url": f"https://github.com/{full_name}/blob/{ref}/{path}",
            "download_url": f"https://raw.githubusercontent.com/{full_name}/{ref}/{path}",
            "_links": {
                "self": f"{self.url}/repos/{full_name}/contents/{path}?ref={ref}",
                "git": f"{self.url}/repos/{full_name}/git/blobs/{blob_sha(text)}",
                "html": f"https://github.com/{full_name}/blob/{ref}/{path}",
            },
        }

    def _get_contents(self, request):
        full_name = self._repo(request)
        path = unquote(request.params["path"])
        ref = request.arg("ref") or self.repos[full_name]["default_branch"]
        tree = self.objects[self._resolve(full_name, ref)]["tree"]
        if path not in tree:
            raise LookupError(path)
        return Response(200, self._content_json(full_name, path, tree[path], ref))

    def _get_blob(self, request):
        """``GET git/blobs/{sha}``: any file of any commit of the repository, base64, up to 100 MB."""
        full_name, wanted = self._repo(request), request.params["sha"]
        with self._git_lock:
            trees = [self.objects[sha]["tree"] for sha in set(self.branches.get(full_name, {}).values())]
            trees += [obj["tree"] for obj in self.objects.values()]
        for tree in trees:
            for text in tree.values():
                if blob_sha(text) == wanted:
                    data = text.encode("utf-8")
                    return Response(
                        200,
                        {
                            "sha": wanted,
                            "node_id": f"B_{wanted[:12]}",
                            "size": len(data),
                            "url": f"{self.url}/repos/{full_name}/git/blobs/{wanted}",
                            "content": base64.encodebytes(data).decode("ascii"),
                            "encoding": "base64",
                        },
                    )
        raise LookupError("blob")

    def _put_contents(self, request):
        full_name = self._repo(request)
        path = unquote(request.params["path"])
        data = request.json() or {}
        branch = data.get("branch") or self.repos[full_name]["default_branch"]
        try:
            text = base64.b64decode(str(data.get("content", "")), validate=True).decode("utf-8")
        except ValueError:
            return Response(422, {"message": "content is not valid Base64"})
        if not data.get("message"):
            return Response(422, {"message": 'Invalid request.\n\n"message" wasn\'t supplied.'})
        with self._git_lock:
            head = self.branch_sha(full_name, branch)
            if head is None:
                return Response(404, {"message": f"Branch {branch} not found"})
            current = self.objects[head]["tree"].get(path)
            if current is not None and not data.get("sha"):
                return Response(422, {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'})
            if current is not None and data.get("sha") != blob_sha(current):
                return Response(409, {"message": f"{path} does not match {data.get('sha')}"})
            sha = self.commit(full_name, {path: text}, parent=head, message=data["message"], branch=branch)
        status = 200 if current is not None else 201
        content = self._content_json(full_name, path, text, branch)
        return Response(status, {"content": content, "commit": self._commit_json(full_name, sha)})
