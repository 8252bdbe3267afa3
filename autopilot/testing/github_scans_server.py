"""GitHub REST routes the scheduled scans use, as a mixin for :class:`FakeGitHub`.

Builds on :class:`~.github_review_server.GitHubReviewMixin`, whose
in-memory git already serves contents GET/PUT, ``POST git/refs``, pulls
list/create and issue comments: one git model serves both features, so a
file committed by a dependency-update PR is what a review reads. This mixin
adds::

    GET  /repos/{o}/{r}/contents/{folder}   a folder's listing (files and sub-folders, no content)
    GET  /repos/{o}/{r}/branches/{branch}
    GET  /repos/{o}/{r}/issues            (state, labels filters)   POST /repos/{o}/{r}/issues
    GET  /repos/{o}/{r}/issues/{n}        POST .../issues/{n}/comments on plain issues too
    GET  /repos/{o}/{r}/tarball/{ref}     302 to a signed codeload URL on the storage host
    GET  /repos/{o}/{r}/actions/runs/{id}/artifacts
    GET  /repos/{o}/{r}/actions/artifacts/{id}/zip   302 to a signed blob URL on the storage host (410 once expired)
    GET  /repos/{o}/{r}/dependency-graph/sbom
    GET  /repos/{o}/{r}/actions/workflows/{id or file}
    POST /repos/{o}/{r}/actions/workflows/{id or file}/dispatches   (204, creates a run)
    GET  /repos/{o}/{r}/actions/workflows/{id or file}/runs

Wiring (the lead's choice)::

    class FakeGitHub(GitHubScansMixin, RoutedServer ...):  # or mix into the existing class
        def __init__(...):
            ...
            self.install_scan_routes()   # installs the review routes first when absent

:class:`ScanGitHub` is that combination, ready for tests.
"""

import io
import itertools
import secrets
import tarfile
import zipfile
from datetime import datetime, timezone
from urllib.parse import unquote

from . import github_payloads as gp
from .github_review_server import GitHubReviewMixin, blob_sha
from .github_server import FakeGitHub
from .http_server import Response

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


def _now():
    return gp.ts(datetime.now(timezone.utc))


def make_tarball(root, files, extra_members=()):
    """A ``.tar.gz`` like GitHub's: every file under ``root/``; ``extra_members`` are raw TarInfo/bytes pairs."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        directory = tarfile.TarInfo(root)
        directory.type = tarfile.DIRTYPE
        archive.addfile(directory)
        for path, content in sorted(files.items()):
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info, data in extra_members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def make_zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


class GitHubScansMixin(GitHubReviewMixin):
    """Adds the scan routes (and their state) to a FakeGitHub that has the review mixin's git."""

    def install_scan_routes(self):
        if not hasattr(self, "objects"):
            self.install_review_routes()
        self.scan_issues = {}  # full_name -> {number: issue}
        self.tarballs = {}  # (full_name, ref) -> raw bytes overriding the generated archive
        self.artifacts = {}  # full_name -> {run_id: [artifact]}
        self.artifact_zips = {}  # artifact id -> bytes
        self.sboms = {}  # full_name -> SPDX document
        self.issue_labels = {}  # (full_name, number) -> [label name] for pull requests
        self.workflows = {}  # full_name -> {workflow id: workflow}
        self.dispatches = []  # (full_name, workflow id, ref, inputs)
        self.dispatch_creates_runs = True
        self._scan_ids = itertools.count(700_001)
        routes = (
            ("GET", _REPO + r"/branches/(?P<branch>.+)", self._get_branch),
            ("GET", _REPO + r"/issues", self._list_issues),
            ("POST", _REPO + r"/issues", self._create_issue),
            ("GET", _REPO + r"/issues/(?P<number>\d+)", self._get_issue),
            ("POST", _REPO + r"/issues/(?P<number>\d+)/labels", self._add_labels),
            ("GET", _REPO + r"/tarball/(?P<ref>.+)", self._tarball),
            ("GET", _REPO + r"/actions/runs/(?P<run_id>\d+)/artifacts", self._list_artifacts),
            ("GET", _REPO + r"/actions/artifacts/(?P<artifact_id>\d+)/zip", self._artifact_zip),
            ("GET", _REPO + r"/dependency-graph/sbom", self._sbom),
            ("GET", _REPO + r"/actions/workflows/(?P<workflow>[^/]+)", self._get_workflow),
            ("POST", _REPO + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches", self._dispatch),
            ("GET", _REPO + r"/actions/workflows/(?P<workflow>[^/]+)/runs", self._workflow_runs),
        )
        for method, pattern, handler in routes:
            self.route(method, pattern, handler)
        self._download_sigs = {}
        self.storage.route("GET", r"/codeload/(?P<owner>[^/]+)/(?P<name>[^/]+)/tar\.gz/(?P<ref>.+)", self._codeload)
        self.storage.route("GET", r"/artifacts/(?P<artifact_id>\d+)", self._artifact_blob)
        # ahead of the review mixin's file route: a folder (or the root) answers with its listing
        self.route("GET", _REPO + r"/contents(?:/(?P<path>.*))?", self._contents_or_listing)
        self._routes.insert(0, self._routes.pop())

    # ------------------------------------------------------------------
    # data helpers for tests
    # ------------------------------------------------------------------
    def seed_repo(self, full_name, files, branch="main"):
        """A repository whose ``branch`` holds ``files`` (path -> text); returns the commit sha."""
        if full_name not in self.repos:
            self.add_repo(full_name, default_branch=branch)
        return self.commit(full_name, files, message="initial", branch=branch)

    def add_issue(self, full_name, title, body="", labels=(), state="open"):
        number = (
            max([n for (repo, n) in self.pulls if repo == full_name] + list(self.scan_issues.get(full_name, {})) + [0])
            + 1
        )
        base = f"{self.url}/repos/{full_name}"
        issue = {
            "id": next(self._scan_ids),
            "node_id": f"I_{number}",
            "number": number,
            "title": title,
            "body": body,
            "state": state,
            "locked": False,
            "labels": [gp.label(name, next(self._scan_ids), full_name, self.url) for name in labels],
            "user": gp.user(self.review_login),
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 0,
            "url": f"{base}/issues/{number}",
            "repository_url": base,
            "labels_url": f"{base}/issues/{number}/labels{{/name}}",
            "events_url": f"{base}/issues/{number}/events",
            "html_url": f"https://github.com/{full_name}/issues/{number}",
            "comments_url": f"{base}/issues/{number}/comments",
            "author_association": "NONE",
            "created_at": _now(),
            "updated_at": _now(),
            "closed_at": None,
        }
        self.scan_issues.setdefault(full_name, {})[number] = issue
        return issue

    def add_artifact(self, full_name, run_id, name, files=None, raw_zip=None, expired=False):
        data = raw_zip if raw_zip is not None else make_zip(files or {})
        artifact_id = next(self._scan_ids)
        artifact = {
            "id": artifact_id,
            "node_id": f"MDg6QXJ0aWZhY3Q{artifact_id}",
            "name": name,
            "size_in_bytes": len(data),
            "url": f"{self.url}/repos/{full_name}/actions/artifacts/{artifact_id}",
            "archive_download_url": f"{self.url}/repos/{full_name}/actions/artifacts/{artifact_id}/zip",
            "expired": expired,
            "created_at": _now(),
            "updated_at": _now(),
            "expires_at": _now(),
            "workflow_run": {"id": int(run_id), "head_branch": "main", "head_sha": "a" * 40},
        }
        self.artifacts.setdefault(full_name, {}).setdefault(int(run_id), []).append(artifact)
        self.artifact_zips[artifact_id] = data
        return artifact

    def add_workflow(self, full_name, path=".github/workflows/migration-dry-run.yml", name="Migration dry-run"):
        workflow_id = next(self._scan_ids)
        workflow = {
            "id": workflow_id,
            "node_id": f"W_{workflow_id}",
            "name": name,
            "path": path,
            "state": "active",
            "created_at": _now(),
            "updated_at": _now(),
            "url": f"{self.url}/repos/{full_name}/actions/workflows/{workflow_id}",
            "html_url": f"https://github.com/{full_name}/blob/main/{path}",
            "badge_url": f"https://github.com/{full_name}/workflows/{name}/badge.svg",
        }
        self.workflows.setdefault(full_name, {})[workflow_id] = workflow
        return workflow

    # ------------------------------------------------------------------
    # handlers
    # ------------------------------------------------------------------
    def _get_branch(self, request):
        full_name = self._repo(request)
        branch = unquote(request.params["branch"])
        sha = self.branch_sha(full_name, branch)
        if sha is None:
            return Response(404, {"message": "Branch not found"})
        commit = self._commit_json(full_name, sha)
        return Response(
            200,
            {
                "name": branch,
                "commit": commit,
                "protected": False,
                "protection": {
                    "enabled": False,
                    "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
                },
                "protection_url": f"{self.url}/repos/{full_name}/branches/{branch}/protection",
                "_links": {
                    "html": f"https://github.com/{full_name}/tree/{branch}",
                    "self": f"{self.url}/repos/{full_name}/branches/{branch}",
                },
            },
        )

    def _contents_or_listing(self, request):
        full_name = self._repo(request)
        folder = unquote(request.params.get("path") or "").strip("/")
        ref = request.arg("ref") or self.repos[full_name]["default_branch"]
        tree = self.objects[self._resolve(full_name, ref)]["tree"]
        if folder in tree:
            request.params["path"] = folder
            return self._get_contents(request)
        prefix = f"{folder}/" if folder else ""
        entries = {}
        for path, text in tree.items():
            if not path.startswith(prefix):
                continue
            name, sep, _rest = path[len(prefix) :].partition("/")
            if sep:
                entries.setdefault(name, self._dir_json(full_name, prefix + name, ref))
            else:
                entry = self._content_json(full_name, path, text, ref)
                entries[name] = {k: v for k, v in entry.items() if k not in ("content", "encoding")}
        if not entries:
            raise LookupError(folder or "/")
        return Response(200, [entries[name] for name in sorted(entries)])

    def _dir_json(self, full_name, path, ref):
        """A folder as a contents listing names it."""
        sha = blob_sha(f"tree {full_name} {ref} {path}")
        url = f"{self.url}/repos/{full_name}/contents/{path}?ref={ref}"
        git_url = f"{self.url}/repos/{full_name}/git/trees/{sha}"
        html_url = f"https://github.com/{full_name}/tree/{ref}/{path}"
        return {
            "type": "dir",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "size": 0,
            "sha": sha,
            "url": url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": None,
            "_links": {"self": url, "git": git_url, "html": html_url},
        }

    def _all_issues(self, full_name):
        return list(self.scan_issues.get(full_name, {}).values())

    def _list_issues(self, request):
        full_name = self._repo(request)
        state = request.arg("state", "open")
        labels = {label for label in (request.arg("labels") or "").split(",") if label}
        found = []
        for issue in sorted(self._all_issues(full_name), key=lambda i: -i["number"]):
            if state != "all" and issue["state"] != state:
                continue
            if labels and not labels <= {label["name"] for label in issue["labels"]}:
                continue
            found.append(issue)
        return self._page(request, found)

    def _create_issue(self, request):
        full_name = self._repo(request)
        data = request.json() or {}
        if not isinstance(data.get("title"), str) or not data["title"]:
            return Response(422, {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing"}]})
        if len(str(data.get("body") or "")) > 65536:
            return Response(422, {"message": "Validation Failed", "errors": [{"message": "body is too long"}]})
        issue = self.add_issue(full_name, data["title"], data.get("body") or "", data.get("labels") or ())
        return Response(201, issue)

    def _get_issue(self, request):
        full_name = self._repo(request)
        issue = self.scan_issues.get(full_name, {}).get(int(request.params["number"]))
        if issue is None:
            raise LookupError("issue")
        return Response(200, issue)

    def _pull_json(self, full_name, number):
        data = super()._pull_json(full_name, number)
        data["draft"] = bool(self.pulls[(full_name, number)].get("draft"))  # as created
        data["labels"] = [
            gp.label(name, 9_000 + index, full_name, self.url)
            for index, name in enumerate(self.issue_labels.get((full_name, number), []))
        ]
        return data

    def _add_labels(self, request):
        full_name, number = self._repo(request), int(request.params["number"])
        data = request.json()
        names = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            return Response(422, {"message": "Validation Failed"})
        issue = self.scan_issues.get(full_name, {}).get(number)
        if issue is None and (full_name, number) not in self.pulls:
            raise LookupError("issue")
        current = self.issue_labels.setdefault((full_name, number), [])
        if issue is not None:
            current[:] = [label["name"] for label in issue["labels"]]
        current.extend(n for n in names if n not in current)
        labels = [gp.label(name, next(self._scan_ids), full_name, self.url) for name in current]
        if issue is not None:
            issue["labels"] = labels
        return Response(200, labels)

    def _create_comment(self, request):
        full_name, number = self._repo(request), int(request.params["number"])
        issue = self.scan_issues.get(full_name, {}).get(number)
        if issue is None:
            return super()._create_comment(request)
        body = (request.json() or {}).get("body")
        if not isinstance(body, str) or not body or len(body) > 65536:
            return Response(422, {"message": "Validation Failed"})
        issue["comments"] += 1
        return Response(201, self._new_comment(full_name, number, body, self.review_login))

    def _tarball_bytes(self, full_name, ref):
        if (full_name, ref) in self.tarballs:
            return self.tarballs[(full_name, ref)]
        sha = self._resolve(full_name, ref)
        root = f"{full_name.replace('/', '-')}-{sha[:7]}"
        return make_tarball(root, self.objects[sha]["tree"])

    def _signed(self, key, url):
        """``url`` with a fresh signature for ``key`` (the storage host checks it)."""
        sig = secrets.token_hex(8)
        self._download_sigs[key] = sig
        return f"{url}?sig={sig}"

    def _signature_ok(self, key, request):
        return request.arg("sig") is not None and request.arg("sig") == self._download_sigs.get(key)

    def _tarball(self, request):
        full_name = self._repo(request)
        ref = unquote(request.params["ref"])
        if (full_name, ref) not in self.tarballs:
            self._resolve(full_name, ref)  # an unknown ref: 404, as GitHub answers
        owner, name = full_name.split("/")
        location = self._signed(("tarball", full_name, ref), f"{self.storage.url}/codeload/{owner}/{name}/tar.gz/{ref}")
        return Response(302, b"", {"Location": location})

    def _codeload(self, request):
        full_name = f"{request.params['owner']}/{request.params['name']}"
        ref = unquote(request.params["ref"])
        if not self._signature_ok(("tarball", full_name, ref), request):
            return Response(403, b"AuthenticationFailed", {"Content-Type": "text/plain"})
        data = self._tarball_bytes(full_name, ref)
        return Response(200, data, {"Content-Type": "application/x-gzip"})

    def _list_artifacts(self, request):
        full_name = self._repo(request)
        items = list(self.artifacts.get(full_name, {}).get(int(request.params["run_id"]), []))
        name = request.arg("name")
        if name:
            items = [a for a in items if a["name"] == name]
        return self._page(request, items, "artifacts")

    def _find_artifact(self, full_name, artifact_id):
        for items in self.artifacts.get(full_name, {}).values():
            for artifact in items:
                if artifact["id"] == artifact_id:
                    return artifact
        raise LookupError("artifact")

    def _artifact_zip(self, request):
        full_name = self._repo(request)
        artifact = self._find_artifact(full_name, int(request.params["artifact_id"]))
        if artifact["expired"]:
            return Response(410, {"message": "Artifact has expired"})
        location = self._signed(("artifact", artifact["id"]), f"{self.storage.url}/artifacts/{artifact['id']}")
        return Response(302, b"", {"Location": location})

    def _artifact_blob(self, request):
        artifact_id = int(request.params["artifact_id"])
        data = self.artifact_zips.get(artifact_id)
        if data is None:
            raise LookupError("blob")
        if not self._signature_ok(("artifact", artifact_id), request):
            return Response(403, b"AuthenticationFailed", {"Content-Type": "text/plain"})
        return Response(200, data, {"Content-Type": "application/zip"})

    def _sbom(self, request):
        full_name = self._repo(request)
        if full_name not in self.sboms:
            return Response(404, {"message": "Not Found"})
        return Response(200, {"sbom": self.sboms[full_name]})

    def _workflow(self, full_name, key):
        key = unquote(key)
        for workflow in self.workflows.get(full_name, {}).values():
            if str(workflow["id"]) == key or workflow["path"].rsplit("/", 1)[-1] == key:
                return workflow
        raise LookupError("workflow")

    def _get_workflow(self, request):
        full_name = self._repo(request)
        return Response(200, self._workflow(full_name, request.params["workflow"]))

    def _dispatch(self, request):
        full_name = self._repo(request)
        workflow = self._workflow(full_name, request.params["workflow"])
        data = request.json() or {}
        ref = str(data.get("ref") or "")
        if self.branch_sha(full_name, ref) is None:
            return Response(422, {"message": f"No ref found for: {ref}"})
        inputs = data.get("inputs") or {}
        if not isinstance(inputs, dict) or len(inputs) > 25:
            return Response(422, {"message": "inputs are too large or not an object"})
        self.dispatches.append((full_name, workflow["id"], ref, inputs))
        if self.dispatch_creates_runs:
            self.add_run(
                full_name,
                name=workflow["name"],
                path=workflow["path"],
                event="workflow_dispatch",
                branch=ref,
                sha=self.branch_sha(full_name, ref),
                status="queued",
                started=datetime.now(timezone.utc),
            )
        return Response(204)

    def _workflow_runs(self, request):
        full_name = self._repo(request)
        workflow = self._workflow(full_name, request.params["workflow"])
        runs = [r for r in self.runs.get(full_name, {}).values() if r["path"] == workflow["path"]]
        event, branch, created = request.arg("event"), request.arg("branch"), request.arg("created", "")
        if event:
            runs = [r for r in runs if r["event"] == event]
        if branch:
            runs = [r for r in runs if r["head_branch"] == branch]
        if created.startswith(">="):
            runs = [r for r in runs if r["created_at"] >= created[2:]]
        runs.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return self._page(request, runs, "workflow_runs")


class ScanGitHub(GitHubScansMixin, FakeGitHub):
    """FakeGitHub with the review and scan routes installed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_scan_routes()
