"""A local server speaking the subset of GitHub's REST API the product uses.

PyGithub talks to it through ``base_url``: pagination (``Link`` headers),
authentication (``Authorization: token …``), error bodies and status codes
follow GitHub's REST documentation. State lives in memory and tests put
data in with the ``add_*`` helpers and read what was asked of it with
:meth:`RoutedServer.calls`.
"""

import itertools
import re
import threading
from datetime import datetime, timezone
from urllib.parse import urlencode

import requests

from . import contracts
from . import github_payloads as gp
from .http_server import Response, RoutedServer

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_ORG = r"/orgs/(?P<org>[^/]+)"

#: the fine-grained permission each route of the fake needs (GitHub's "Permissions required for fine-grained
#: personal access tokens"), first match wins: (method, path regex, permission, access)
FINE_GRAINED_RULES = tuple(
    (method, re.compile(pattern), permission, access)
    for method, pattern, permission, access in (
        ("POST", r"^/repos/[^/]+/[^/]+/actions/runs/\d+/rerun", "actions", "write"),
        ("POST", r"^/repos/[^/]+/[^/]+/actions/workflows/[^/]+/dispatches$", "actions", "write"),
        ("GET", r"^/repos/[^/]+/[^/]+/actions/", "actions", "read"),
        ("POST", r"^/repos/[^/]+/[^/]+/hooks/", "repository_hooks", "write"),
        ("GET", r"^/repos/[^/]+/[^/]+/hooks/", "repository_hooks", "read"),
        ("POST", r"^/orgs/[^/]+/hooks/", "organization_hooks", "write"),
        ("GET", r"^/orgs/[^/]+/hooks/", "organization_hooks", "read"),
        ("PUT", r"^/repos/[^/]+/[^/]+/contents/", "contents", "write"),
        ("POST", r"^/repos/[^/]+/[^/]+/git/", "contents", "write"),
        (
            "GET",
            r"^/repos/[^/]+/[^/]+/(contents|tarball|git|commits|compare|branches|dependency-graph)",
            "contents",
            "read",
        ),
        ("POST", r"^/repos/[^/]+/[^/]+/pulls", "pull_requests", "write"),
        ("GET", r"^/repos/[^/]+/[^/]+/pulls", "pull_requests", "read"),
        ("POST", r"^/repos/[^/]+/[^/]+/issues", "issues", "write"),
        ("PATCH", r"^/repos/[^/]+/[^/]+/issues", "issues", "write"),
        ("GET", r"^/repos/[^/]+/[^/]+/issues", "issues", "read"),
        ("GET", r"^/repos/[^/]+/[^/]+$", "metadata", "read"),
    )
)
_ACCESS = {"read": 1, "write": 2, "admin": 3}


def _error_envelope(response):
    """GitHub's error answers: ``message``, ``documentation_url`` and ``status``; a 422 lists its ``errors``
    as objects with a ``code`` (GitHub's ``validation-error``)."""
    body = response.body
    body.setdefault("documentation_url", "https://docs.github.com/rest")
    body.setdefault("status", str(response.status))
    if isinstance(body.get("errors"), list):
        body["errors"] = [
            dict({"code": "custom"}, **item) if isinstance(item, dict) else {"code": "custom", "message": str(item)}
            for item in body["errors"]
        ]


class StorageHost(RoutedServer):
    """Where GitHub's downloads really come from: another host than the API.

    GitHub answers a download (artifact zip, repository tarball, job log) with
    a 302 to a short-lived signed URL on a storage host (``*.blob.core.windows.net``
    for upload-artifact v4, ``codeload.github.com`` for archives), so the fake
    serves them from a second server on its own port: a client that follows the
    redirect as if it stayed on the API host fails here as it would on GitHub.
    Like Azure blob storage, it refuses a request that carries an
    ``Authorization`` header (the URL's signature is the credential).
    """

    def dispatch(self, request):
        if "authorization" in request.headers:
            with self._lock:
                self.requests.append(request)
            return Response(400, b"InvalidAuthenticationInfo", {"Content-Type": "text/plain"})
        return super().dispatch(request)


class FakeGitHub(RoutedServer):
    def __init__(self, token="test-token"):
        super().__init__()
        self.token = token
        #: the storage host downloads are redirected to (see :class:`StorageHost`)
        self.storage = StorageHost()
        #: a fine-grained token's permissions (``{"actions": "write", ...}``); None: the token may do everything
        self.token_permissions = None
        #: a classic token's scopes, sent back in ``X-OAuth-Scopes`` as GitHub does (``"repo, workflow"``)
        self.token_scopes = None
        #: every request and answer is checked against GitHub's published description (:mod:`.contracts`)
        self.check_contract = True
        self.repos = {}
        self.runs = {}  # full_name -> {run_id: run}
        self.jobs = {}  # (full_name, run_id) -> [job]
        self.deliveries = {}  # (full_name, hook_id) -> [attempt] of a repository's hook
        self.org_deliveries = {}  # (organization, hook_id) -> [attempt] of an organization's hook
        self.redeliver_to = None  # URL the server re-sends deliveries to
        self._delivery_ids = itertools.count(90_000_001)
        self._write_lock = threading.Lock()
        self.route("GET", _REPO, self._get_repo)
        self.route("GET", _REPO + r"/actions/runs", self._list_runs)
        self.route("GET", _REPO + r"/actions/runs/(?P<run_id>\d+)", self._get_run)
        self.route("GET", _REPO + r"/actions/runs/(?P<run_id>\d+)/jobs", self._list_jobs)
        self.route("GET", _REPO + r"/hooks/(?P<hook_id>\d+)/deliveries", self._list_deliveries)
        self.route(
            "POST",
            _REPO + r"/hooks/(?P<hook_id>\d+)/deliveries/(?P<delivery_id>\d+)/attempts",
            self._redeliver,
        )
        self.route("GET", _ORG + r"/hooks/(?P<hook_id>\d+)/deliveries", self._list_deliveries)
        self.route(
            "POST",
            _ORG + r"/hooks/(?P<hook_id>\d+)/deliveries/(?P<delivery_id>\d+)/attempts",
            self._redeliver,
        )

    def start(self):
        self.storage.start()
        return super().start()

    def stop(self):
        result = super().stop()
        self.storage.stop()
        return result

    # -- data -------------------------------------------------------------
    def reset(self):
        """Forget all data and recorded requests (a server shared by several tests)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
        with self.storage._lock:
            self.storage.requests.clear()
            self.storage._faults.clear()
        self.repos.clear()
        self.runs.clear()
        self.jobs.clear()
        self.deliveries.clear()
        self.org_deliveries.clear()
        self.redeliver_to = None
        self.token_permissions = None
        self.token_scopes = None

    def secondary_rate_limit(self, count=1, path_re=".*", status=403, retry_after=None):
        """Answer the next ``count`` matching requests as GitHub's secondary rate limit does.

        GitHub documents a 403 (or 429) whose message says a secondary rate
        limit was exceeded, with ``x-ratelimit-remaining`` not at 0 (the primary
        limit is fine) and, only sometimes, a ``retry-after``.
        """
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4987",
            "x-ratelimit-used": "13",
            "x-ratelimit-reset": str(int(datetime.now(timezone.utc).timestamp()) + 3000),
            "x-ratelimit-resource": "core",
        }
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            "If you reach out to GitHub Support for help, please include the request ID C0DE:1234:5678.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            "#about-secondary-rate-limits",
            "status": str(status),
        }
        self.fail_next(count, status=status, body=body, headers=headers, path_re=path_re)

    def add_repo(self, full_name, **kwargs):
        self.repos[full_name] = gp.rest_repository(full_name, api_url=self.url, **kwargs)
        self.runs.setdefault(full_name, {})
        return self.repos[full_name]

    def add_run(self, full_name, jobs=(), **run):
        if full_name not in self.repos:
            self.add_repo(full_name)
        obj = gp.workflow_run(full_name, api_url=self.url, **run)
        self.runs[full_name][obj["id"]] = obj
        self.jobs[(full_name, obj["id"])] = [
            gp.workflow_job(
                full_name,
                obj["id"],
                api_url=self.url,
                branch=obj["head_branch"],
                sha=obj["head_sha"],
                workflow_name=obj["name"],
                **job,
            )
            for job in jobs
        ]
        return obj

    def add_delivery(
        self, full_name, hook_id, guid, event, body, headers, status_code, delivered_at=None, organization_hook=False
    ):
        """Record an attempt GitHub made to deliver ``body`` (as it would list it).

        ``organization_hook``: the hook is ``full_name``'s owner's organization hook, whose log lists the
        deliveries of all the organization's repositories (each attempt names its ``repository_id``).
        """
        attempt = {
            "id": next(self._delivery_ids),
            "guid": guid,
            "delivered_at": gp.ts(delivered_at or datetime.now(timezone.utc)),
            "redelivery": False,
            "duration": 0.12,
            "status": "OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}",
            "status_code": status_code,
            "event": event,
            "action": None,
            "installation_id": None,
            "repository_id": gp.repository_id(full_name) if full_name else None,
            "_body": body,
            "_headers": dict(headers),
        }
        if organization_hook:
            self.org_deliveries.setdefault((full_name.split("/")[0], int(hook_id)), []).append(attempt)
        else:
            self.deliveries.setdefault((full_name, int(hook_id)), []).append(attempt)
        return attempt

    # -- helpers -----------------------------------------------------------
    def _authorized(self, request):
        if not self.token:
            return True
        header = request.headers.get("authorization", "")
        return header in (f"token {self.token}", f"Bearer {self.token}")

    def dispatch(self, request):
        response = self._refusal(request)
        if response is None:
            response = super().dispatch(request)
            if self.token_scopes is not None:
                response.headers.setdefault("X-OAuth-Scopes", self.token_scopes)
        if response.status >= 400 and isinstance(response.body, dict):
            _error_envelope(response)
        if self.check_contract:
            contracts.check_exchange(request, response)
        return response

    def _refusal(self, request):
        """GitHub's answer to a request without valid credentials or the permission it needs; else None."""
        if request.path.startswith(("/repos/", "/orgs/")) and not self._authorized(request):
            answer = Response(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        elif needed := self._missing_permission(request):
            body = {
                "message": "Resource not accessible by personal access token",
                "documentation_url": "https://docs.github.com/rest",
                "status": "403",
            }
            answer = Response(403, body, {"X-Accepted-GitHub-Permissions": needed})
        else:
            return None
        with self._lock:
            self.requests.append(request)
        return answer

    def _missing_permission(self, request):
        """``"actions=write"`` when a fine-grained token lacks what the route needs (GitHub answers 403 then)."""
        if self.token_permissions is None:
            return None
        for method, pattern, permission, access in FINE_GRAINED_RULES:
            if method == request.method and pattern.search(request.path):
                granted = _ACCESS.get(self.token_permissions.get(permission, ""), 0)
                return None if granted >= _ACCESS[access] else f"{permission}={access}"
        return None

    def _repo(self, request):
        full_name = f"{request.params['owner']}/{request.params['name']}"
        if full_name not in self.repos:
            raise LookupError(full_name)
        return full_name

    def _page(self, request, items, list_key=None):
        per_page = min(int(request.arg("per_page", 30)), 100)
        page = max(int(request.arg("page", 1)), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        links = []
        last = max((len(items) + per_page - 1) // per_page, 1)
        query = {k: v[0] for k, v in request.query.items()}
        if page < last:
            links.append(f'<{self.url}{request.path}?{urlencode({**query, "page": page + 1})}>; rel="next"')
            links.append(f'<{self.url}{request.path}?{urlencode({**query, "page": last})}>; rel="last"')
        if links:
            headers["Link"] = ", ".join(links)
        body = {"total_count": len(items), list_key: chunk} if list_key else chunk
        return Response(200, body, headers)

    # -- handlers ----------------------------------------------------------
    def _get_repo(self, request):
        return Response(200, self.repos[self._repo(request)])

    def _list_runs(self, request):
        full_name = self._repo(request)
        runs = sorted(self.runs[full_name].values(), key=lambda r: (r["created_at"], r["id"]), reverse=True)
        created = request.arg("created", "")
        if created.startswith(">="):
            runs = [r for r in runs if r["created_at"] >= created[2:]]
        return self._page(request, runs, "workflow_runs")

    def _get_run(self, request):
        full_name = self._repo(request)
        run = self.runs[full_name].get(int(request.params["run_id"]))
        if run is None:
            raise LookupError("run")
        return Response(200, run)

    def _list_jobs(self, request):
        full_name = self._repo(request)
        jobs = self.jobs.get((full_name, int(request.params["run_id"])))
        if jobs is None:
            raise LookupError("run")
        if request.arg("filter", "latest") == "latest" and jobs:
            latest = max(j["run_attempt"] for j in jobs)
            jobs = [j for j in jobs if j["run_attempt"] == latest]
        return self._page(request, jobs, "jobs")

    def _hook_log(self, request):
        """The attempts of the hook the path names: a repository's (``/repos/..``) or an organization's."""
        hook_id = int(request.params["hook_id"])
        if "org" in request.params:
            attempts = self.org_deliveries.get((request.params["org"], hook_id))
        else:
            attempts = self.deliveries.get((self._repo(request), hook_id))
        if attempts is None:
            raise LookupError("hook")  # an organization's hook is not one of its repositories' hooks
        return attempts

    def _list_deliveries(self, request):
        attempts = self._hook_log(request)
        newest_first = sorted(attempts, key=lambda a: (a["delivered_at"], a["id"]), reverse=True)
        public = [{k: v for k, v in a.items() if not k.startswith("_")} for a in newest_first]
        # GitHub pages a hook's deliveries with a cursor (the Link header's next URL carries it), not page numbers
        per_page = min(int(request.arg("per_page", 30)), 100)
        start = int(request.arg("cursor") or 0)
        headers = {}
        if start + per_page < len(public):
            query = {k: v[0] for k, v in request.query.items()}
            headers["Link"] = (
                f'<{self.url}{request.path}?{urlencode({**query, "cursor": start + per_page})}>; rel="next"'
            )
        return Response(200, public[start : start + per_page], headers)

    def _redeliver(self, request):
        attempts = self._hook_log(request)
        delivery_id = int(request.params["delivery_id"])
        original = next((a for a in attempts if a["id"] == delivery_id), None)
        if original is None:
            raise LookupError("delivery")
        status_code = 0
        if self.redeliver_to:
            # GitHub sends the same body and the same X-GitHub-Delivery GUID again
            answer = requests.post(self.redeliver_to, data=original["_body"], headers=original["_headers"], timeout=30)
            status_code = answer.status_code
        with self._write_lock:
            retry = dict(original, id=next(self._delivery_ids), redelivery=True, status_code=status_code)
            retry["delivered_at"] = gp.ts(datetime.now(timezone.utc))
            attempts.append(retry)
        return Response(202, {})
