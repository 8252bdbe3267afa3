"""What self-healing asks of GitHub, through PyGithub: job logs, re-runs, issues, changed files.

Every function takes a client built by :func:`autopilot.github.rest_api.connect`
(timeout, bounded retries of 5xx) and raises only
:class:`autopilot.common.errors.ServiceError` subclasses: ``RateLimited`` (with
``retry_after``), ``ServiceUnavailable``, ``NotFound``, ``Rejected``,
``BadAnswer``, ``TooLarge`` — so a cron can reschedule, record or give up
without knowing PyGithub's exceptions.

Job logs: GitHub answers ``GET .../actions/jobs/{id}/logs`` with a 302 to a
short-lived signed URL (PyGithub's ``WorkflowJob.logs_url``); the log is then
streamed from there without the API token (it is another host) and only its
*last* ``max_bytes`` are kept: failures are reported at the end, and a
runaway log never fills memory.
"""

from collections import deque
from dataclasses import dataclass

import requests

from ..common.errors import BadAnswer, classify_status
from . import events
from .rest_api import from_github, github_call, paginate

SERVICE = "GitHub"
DEFAULT_MAX_LOG_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024
MAX_PR_FILES = 3000
#: GitHub lists at most this many files of a comparison (whatever the page): a longer list is cut there
COMPARE_FILES_CAP = 300


@dataclass(frozen=True)
class JobLog:
    """A job log's bytes (its tail when ``truncated``) and its full size as downloaded."""

    data: bytes
    size: int
    truncated: bool


def _repo(client, full_name):
    return client.withLazy(True).get_repo(full_name)


def fetch_run_jobs(client, full_name, run_id):
    """The jobs of a run's latest attempt, parsed like webhook jobs (:class:`events.WorkflowJob`)."""
    path = f"/repos/{full_name}/actions/runs/{int(run_id)}/jobs"

    def collect():
        return [
            events.parse_workflow_job(raw, path=f"run {run_id} job")
            for raw in paginate(client, path, {"filter": "latest"}, "jobs", limit=500)
        ]

    try:
        return github_call(SERVICE, collect)
    except events.PayloadError as exc:
        raise BadAnswer(SERVICE, str(exc)) from None


def _download_tail(url, max_bytes, timeout):
    try:
        with requests.get(url, stream=True, timeout=timeout, allow_redirects=True) as answer:
            if answer.status_code >= 400:
                raise classify_status(SERVICE, answer.status_code, answer.headers, "job log download")
            tail, kept, size = deque(), 0, 0
            for chunk in answer.iter_content(CHUNK):
                if not chunk:
                    continue
                tail.append(chunk)
                kept += len(chunk)
                size += len(chunk)
                while kept - len(tail[0]) >= max_bytes:
                    kept -= len(tail.popleft())
    except requests.RequestException as exc:
        raise from_github(exc, SERVICE) from None
    data = b"".join(tail)[-max_bytes:]
    truncated = size > len(data)
    if truncated:
        data = data[data.find(b"\n") + 1 :]  # start on a whole line
    return JobLog(data, size, truncated)


def fetch_job_log(client, full_name, job_id, max_bytes=DEFAULT_MAX_LOG_BYTES, timeout=30):
    """The log of job ``job_id`` (its last ``max_bytes``), via ``WorkflowJob.logs_url``."""
    repo = _repo(client, full_name)
    job = github_call(SERVICE, repo.get_workflow_job, int(job_id))
    location = github_call(SERVICE, job.logs_url)
    if not location:
        raise BadAnswer(SERVICE, "no log location in the answer")
    return _download_tail(location, max_bytes, timeout)


def rerun_failed_jobs(client, full_name, run_id):
    """``POST .../actions/runs/{id}/rerun-failed-jobs`` (starts the run's next attempt).

    PyGithub's ``WorkflowRun.rerun_failed_jobs`` answers a bare ``False`` on
    any refusal, hiding a rate limit's ``Retry-After``; the same request goes
    through PyGithub's requester with status checking instead.
    """
    path = f"/repos/{full_name}/actions/runs/{int(run_id)}/rerun-failed-jobs"
    github_call(SERVICE, client.requester.requestJsonAndCheck, "POST", path)
    return True


def find_issue(client, full_name, marker_of, label):
    """``(number, html_url, state)`` of the first issue with ``label`` whose body ``marker_of(body)`` accepts."""
    repo = _repo(client, full_name)

    def scan():
        for issue in repo.get_issues(state="all", labels=[label]):
            if marker_of(issue.body or ""):
                return issue.number, issue.html_url, issue.state
        return None

    return github_call(SERVICE, scan)


def create_issue(client, full_name, title, body, labels):
    """Open an issue; ``(number, html_url)``."""
    repo = _repo(client, full_name)
    issue = github_call(SERVICE, repo.create_issue, title=title, body=body, labels=list(labels))
    return issue.number, issue.html_url


def comment_issue(client, full_name, number, body):
    """Comment on issue ``number``; the comment's URL."""
    repo = _repo(client, full_name)
    issue = github_call(SERVICE, repo.get_issue, int(number))
    comment = github_call(SERVICE, issue.create_comment, body)
    return comment.html_url


def _file_dict(item):
    return {
        "filename": item.filename,
        "additions": item.additions,
        "deletions": item.deletions,
        "status": item.status,
        "previous_filename": getattr(item, "previous_filename", None),
    }


def pull_request_files(client, full_name, number, limit=MAX_PR_FILES):
    """Files of a pull request with their additions/deletions (``PullRequest.get_files``)."""
    repo = _repo(client, full_name)

    def collect():
        pull = repo.get_pull(int(number))
        found = []
        for item in pull.get_files():
            found.append(_file_dict(item))
            if len(found) >= limit:
                break
        return found

    return github_call(SERVICE, collect)


def compare_files(client, full_name, base, head):
    """``(files, complete)``: files changed between two commits with their line counts (``Repository.compare``).

    GitHub lists at most :data:`COMPARE_FILES_CAP` files of a comparison, and
    paging through it pages the commits, not the files: ``complete`` is false
    when the list reached that cap, so the caller knows it holds only part of
    the change (and can add what it knows otherwise, e.g. a push's own lists).
    """
    repo = _repo(client, full_name)
    comparison = github_call(SERVICE, repo.compare, base, head)
    files = github_call(SERVICE, lambda: [_file_dict(item) for item in comparison.files])
    return files, len(files) < COMPARE_FILES_CAP
