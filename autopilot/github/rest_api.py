"""Thin wrappers over PyGithub for what the product asks of GitHub.

Every client is built by :func:`connect` with the repository's API URL
(github.com, GitHub Enterprise, or a local test server), an explicit timeout
and PyGithub's own retry policy for rate limits and 5xx answers, so no call
can hang a cron and no caller has to remember those settings.
"""

import base64
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import requests
from github import Auth, Github, GithubException
from github.GithubException import RateLimitExceededException
from github.Requester import Requester
from requests.exceptions import RequestException
from urllib3.util.retry import Retry

from ..common.errors import BadAnswer, RateLimited, Rejected, ServiceError, ServiceUnavailable, classify_status
from ..common.masking import mask_secrets
from . import events

_logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
#: the REST API version every request asks for (GitHub's documented default; GHES 3.17+ serves it)
API_VERSION = "2022-11-28"
#: the media type GitHub recommends asking for, unless a call needs another (raw files, downloads)
MEDIA_TYPE = "application/vnd.github+json"
DEFAULT_TIMEOUT = 15
MAX_RUNS_PER_SYNC = 500
#: delivery attempts one check reads at most (100 pages): a busy repository's hour, with room to spare
MAX_DELIVERIES_SCANNED = 10_000

#: GitHub's rule for a secondary rate limit that names no time: "wait for at least one minute"
SECONDARY_LIMIT_WAIT = 60

#: failures of a GitHub call that a caller should record and retry later
TRANSIENT_ERRORS = (GithubException, RequestException, OSError)


class _Headers(Auth.Auth):
    """PyGithub authentication that also asks for GitHub's media type (PyGithub sends none by default).

    PyGithub calls :meth:`authentication` on every request's headers, so this is
    where a default ``Accept`` goes without touching the library; a call that
    asks for another media type (a download's ``application/octet-stream``)
    keeps its own.
    """

    def __init__(self, token=None):
        self._token = token or ""

    @property
    def token_type(self):
        return "token"

    @property
    def token(self):
        return self._token

    def authentication(self, headers):
        if self._token:
            headers["Authorization"] = f"token {self._token}"
        headers.setdefault("Accept", MEDIA_TYPE)

    def mask_authentication(self, headers):
        if "Authorization" in headers:
            headers["Authorization"] = "token (removed)"


def connect(api_url, token, timeout=DEFAULT_TIMEOUT, retries=3):
    """Return a PyGithub client for ``api_url`` with a timeout and bounded retries.

    Every request names the REST API version (:data:`API_VERSION`) and asks
    for :data:`MEDIA_TYPE`, as GitHub's documentation asks of integrations.

    Only server errors (5xx) of idempotent requests are retried here, with a
    short backoff. Rate limits (403/429) are *not* waited for inside the call
    (PyGithub would sleep the full ``Retry-After``, blocking a cron for
    minutes): they raise at once and the caller reschedules its work with
    :func:`retry_after`.
    """
    retry = Retry(
        total=retries,
        status_forcelist=(500, 502, 503, 504),
        backoff_factor=0.5,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    return Github(
        base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        auth=_Headers(token),
        timeout=timeout,
        api_version=API_VERSION,
        retry=retry,
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def html_base(api_url):
    """The web URL that goes with an API URL (github.com or GitHub Enterprise)."""
    url = (api_url or DEFAULT_API_URL).rstrip("/")
    if url == DEFAULT_API_URL:
        return "https://github.com"
    for suffix in ("/api/v3", "/api"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def describe_error(exc):
    """A short, secret-free description of a failed GitHub call."""
    if isinstance(exc, GithubException):
        message = ""
        if isinstance(exc.data, dict):
            message = mask_secrets(str(exc.data.get("message") or ""))[0]  # a server may echo the token
        return f"GitHub answered {exc.status}: {message or type(exc).__name__}"[:500]
    return str(from_github(exc))[:500]


def retry_after(exc):
    """Seconds to wait before calling GitHub again after ``exc`` (rate limits), or None."""
    if not isinstance(exc, TRANSIENT_ERRORS):
        return None
    return from_github(exc).retry_after


@dataclass(frozen=True)
class RunWithJobs:
    run: events.WorkflowRun
    jobs: tuple


def paginate(client, path, params=None, list_key=None, limit=None):
    """Yield the raw JSON items of a paginated REST collection, following ``Link: rel="next"``.

    Goes through PyGithub's requester (authentication, timeout, retries) but
    keeps the items as GitHub sent them: the parsers in :mod:`events` read
    the same dictionaries from webhooks and from the API.
    """
    url, query, count = path, dict(params or {}, per_page=100), 0
    while url:
        headers, data = client.requester.requestJsonAndCheck("GET", url, parameters=query)
        items = (data or {}).get(list_key, []) if list_key else (data or [])
        for item in items:
            yield item
            count += 1
            if limit and count >= limit:
                return
        url, query = _next_link(headers.get("link", "")), None


def _next_link(header):
    for part in header.split(","):
        section = part.split(";")
        if len(section) >= 2 and section[1].strip() == 'rel="next"':
            return section[0].strip()[1:-1]
    return None


def fetch_runs(client, full_name, since, limit=MAX_RUNS_PER_SYNC, run_ids=()):
    """Workflow runs created since ``since`` (and the runs named in ``run_ids``), with their jobs.

    ``run_ids`` lets the caller refresh runs it still believes are running,
    whatever their creation date. One of them GitHub no longer has (deleted
    by hand or by log retention: 404) is skipped: it must not fail every
    later sync, and the redelivery of lost deliveries with it.
    """
    base = f"/repos/{full_name}/actions/runs"
    created = f">={since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    raw_runs = list(paginate(client, base, {"created": created}, "workflow_runs", limit))
    seen = {run.get("id") for run in raw_runs}
    for run_id in run_ids:
        if run_id not in seen:
            try:
                raw_runs.append(client.requester.requestJsonAndCheck("GET", f"{base}/{int(run_id)}")[1])
            except GithubException as exc:
                if exc.status != 404:
                    raise
                _logger.info("run %s of %s is gone from GitHub: not refreshed", run_id, full_name)
    result = []
    for raw in raw_runs:
        run = events.parse_workflow_run(raw)
        jobs = tuple(
            events.parse_workflow_job(raw_job, path=f"run {run.github_id} job")
            for raw_job in paginate(client, f"{base}/{run.github_id}/jobs", {"filter": "all"}, "jobs")
        )
        result.append(RunWithJobs(run=run, jobs=jobs))
    return result


def _hook_path(full_name, hook_id, organization):
    """A repository hook lives under its repository; an organization hook under its organization."""
    if organization:
        return f"/orgs/{organization}/hooks/{int(hook_id)}"
    return f"/repos/{full_name}/hooks/{int(hook_id)}"


def repository_github_id(client, full_name):
    """GitHub's numeric id of a repository (``GET /repos/{owner}/{repo}``)."""
    _headers, data = client.requester.requestJsonAndCheck("GET", f"/repos/{full_name}")
    github_id = (data or {}).get("id")
    if isinstance(github_id, bool) or not isinstance(github_id, int):
        raise BadAnswer("GitHub", f"repository {full_name} has no numeric id")
    return github_id


def list_hook_deliveries(client, full_name, hook_id, since, limit=None, organization=None):
    """The hook's recent delivery attempts, newest first, back to ``since``; and whether they reach it.

    :param limit: attempts read at most; :data:`MAX_DELIVERIES_SCANNED` (read at call time) by default
    :param organization: the hook is this organization's (``/orgs/{org}/hooks/{id}/deliveries``, which needs
        the ``admin:org_hook`` scope or the organization's *Webhooks* permission), not the repository's
    :return: ``(attempts, complete)``: ``complete`` is false when ``limit``
        attempts were read before reaching ``since``: the older ones in the
        window were not looked at.
    """
    limit = limit or MAX_DELIVERIES_SCANNED
    attempts = []
    margin = since - timedelta(minutes=5) if since else None
    path = f"{_hook_path(full_name, hook_id, organization)}/deliveries"
    for raw in paginate(client, path):
        if len(attempts) >= limit:
            return attempts, False
        attempt = events.parse_hook_delivery(raw)
        attempts.append(attempt)
        if margin and attempt.delivered_at and attempt.delivered_at < margin:
            break
    return attempts, True


def redeliver(client, full_name, hook_id, delivery_id, organization=None):
    """Ask GitHub to send a delivery again (``POST .../deliveries/{id}/attempts``, 202)."""
    path = f"{_hook_path(full_name, hook_id, organization)}/deliveries/{int(delivery_id)}/attempts"
    client.requester.requestJsonAndCheck("POST", path)


def content_bytes(repo, content):
    """The bytes of a file the contents API answered with (``repo.get_contents``).

    Up to 1 MB the answer carries them in base64. Between 1 and 100 MB GitHub
    answers ``encoding: "none"`` with an empty ``content`` (PyGithub's
    ``decoded_content`` then fails on an assertion): the bytes are read from
    the git blob API, which serves blobs up to 100 MB.
    """
    if content.encoding == "base64":
        return content.decoded_content
    if content.encoding == "none" or not content.content:
        blob = repo.get_git_blob(content.sha)
        if blob.encoding == "base64":
            return base64.b64decode(blob.content or "")
        if blob.encoding in ("utf-8", "utf8"):
            return (blob.content or "").encode("utf-8")
        raise BadAnswer("GitHub", f"blob {content.sha[:12]} has an unknown encoding {str(blob.encoding)[:20]!r}")
    raise BadAnswer("GitHub", f"{content.path} has an unknown encoding {str(content.encoding)[:20]!r}")


def from_github(exc, what="GitHub"):
    """Map a PyGithub / requests failure to a :class:`ServiceError` (messages never carry the token)."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, GithubException):
        message = ""
        if isinstance(exc.data, dict):
            # the server's own words: mask anything credential-shaped a proxy or server may echo back
            message = mask_secrets(str(exc.data.get("message") or ""))[0][:200]
        error = classify_status(what, exc.status, exc.headers or {}, message)
        accepted = accepted_permissions(exc.headers)
        if accepted and isinstance(error, Rejected):
            # a fine-grained token or GitHub App without the permission: say which one GitHub wants
            wanted = " or ".join(", ".join(alternative) for alternative in accepted)
            error = Rejected(what, f"{error.reason}; the token lacks the permission {wanted}"[:480], status=exc.status)
            error.permissions = accepted
            return error
        if exc.status in (403, 429) and (isinstance(error, RateLimited) or _secondary_limit(exc)):
            # GitHub's rate limits: retry-after when given, the primary limit's reset, else at least a minute
            wait = error.retry_after if isinstance(error, RateLimited) else None
            reason = f"rate limited, answered {exc.status} ({message})" if message else f"rate limited ({exc.status})"
            return RateLimited(what, reason, status=exc.status, retry_after=wait or SECONDARY_LIMIT_WAIT)
        return error
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return classify_status(what, exc.response.status_code, exc.response.headers)
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 keeps only "too many 403 error responses": the status, not the headers
        match = re.search(r"too many (\d{3}) error responses", str(exc))
        status = int(match.group(1)) if match else None
        if status in (403, 429):
            return RateLimited(what, f"rate limited, answered {status} until retries ran out", status=status)
        detail = f", last answer {status}" if status else ""
        return ServiceUnavailable(what, f"still failing after retries{detail}", status=status)
    if isinstance(exc, requests.Timeout):
        return ServiceUnavailable(what, "timed out")
    if isinstance(exc, (requests.RequestException, OSError)):
        return ServiceUnavailable(what, f"unreachable ({type(exc).__name__})")
    if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
        return BadAnswer(what, f"unexpected answer ({type(exc).__name__})")
    raise exc


def accepted_permissions(headers):
    """GitHub's ``X-Accepted-GitHub-Permissions``: the alternative permission sets it would accept.

    ``"contents=read,pull_requests=write; issues=write"`` → ``(("contents=read", "pull_requests=write"),
    ("issues=write",))``: sets are separated by ``;``, the permissions a set needs together by ``,``.
    """
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    value = str(lowered.get("x-accepted-github-permissions") or "")
    alternatives = []
    for part in value.split(";"):
        needed = tuple(p.strip() for p in part.split(",") if "=" in p)
        if needed:
            alternatives.append(needed)
    return tuple(alternatives)


def _secondary_limit(exc):
    """A 403/429 GitHub gives for a secondary rate limit: it says so in its message (PyGithub's own test)."""
    if isinstance(exc, RateLimitExceededException):
        return True
    message = str(exc.data.get("message") or "") if isinstance(exc.data, dict) else ""
    return Requester.isRateLimitError(message)


def github_call(what, function, *args, **kwargs):
    """Run one PyGithub call and translate its failures into :class:`ServiceError`."""
    try:
        return function(*args, **kwargs)
    except ServiceError:
        raise
    except (GithubException, requests.RequestException, OSError) as exc:
        raise from_github(exc, what) from None
