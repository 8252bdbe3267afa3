"""Normalise GitHub payloads into typed objects.

The same shapes arrive two ways: as webhook deliveries (``workflow_run``,
``workflow_job``, ``check_run``, ``push``, ``pull_request``, ``ping``,
``deployment``, ``deployment_status``) and as
REST API objects fetched during a backfill (a workflow run or a job from
``/actions/runs``). Both go through the parsers here, so the models never
touch raw dictionaries.

Payloads are untrusted: every accessor checks the type it gets and raises
:class:`PayloadError` naming the offending path, so a malformed delivery is
recorded with a clear reason instead of half-written records.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

#: events that are turned into records; anything else is stored as ignored
HANDLED_EVENTS = frozenset(
    {"workflow_run", "workflow_job", "check_run", "push", "pull_request", "ping", "deployment", "deployment_status"}
)

#: PostgreSQL bigint upper bound: ids beyond it cannot be stored
MAX_ID = 2**63 - 1
MAX_TEXT = 10_000

_RUN_URL_RE = re.compile(r"/actions/runs/(\d+)(?:/|$)", re.ASCII)


class PayloadError(ValueError):
    """A payload does not have the shape GitHub documents."""

    def __init__(self, path, message):
        super().__init__(f"{path}: {message}")
        self.path = path


# --------------------------------------------------------------------------
# typed accessors
# --------------------------------------------------------------------------


def _obj(data, key, path, required=True):
    value = data.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{path}.{key}", "missing object")
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{path}.{key}", f"expected an object, got {type(value).__name__}")
    return value


def _list(data, key, path):
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


def _text(value, path, max_len=MAX_TEXT):
    """A string the database can store: no NUL, no lone surrogate (JSON allows both), cut to ``max_len``."""
    if not isinstance(value, str):
        raise PayloadError(path, f"expected a string, got {type(value).__name__}")
    if "\x00" in value:
        raise PayloadError(path, "NUL character in string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(path, "lone surrogate in string") from None
    return value[:max_len]


def _str(data, key, path, required=False, max_len=MAX_TEXT):
    value = data.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{path}.{key}", "missing string")
        return ""
    return _text(value, f"{path}.{key}", max_len)


def _int(data, key, path, required=False):
    value = data.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{path}.{key}", "missing integer")
        return 0
    # bool is an int subclass in Python; GitHub never sends one for an id
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{path}.{key}", f"expected an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_ID:
        raise PayloadError(f"{path}.{key}", "integer out of range")
    return value


def _bool(data, key, path):
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PayloadError(f"{path}.{key}", f"expected a boolean, got {type(value).__name__}")
    return value


def parse_timestamp(value, path="timestamp"):
    """Parse a GitHub ISO 8601 timestamp into a naive UTC datetime (or None)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(path, f"expected a timestamp string, got {type(value).__name__}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):  # overflow: year 1 or 9999 moved out of range by its offset
        raise PayloadError(path, f"not an ISO 8601 timestamp: {value[:40]!r}") from None
    return moment


def _dt(data, key, path):
    return parse_timestamp(data.get(key), f"{path}.{key}")


def _login(data, key, path):
    user = data.get(key)
    if user is None:
        return ""
    if not isinstance(user, dict):
        raise PayloadError(f"{path}.{key}", "expected a user object")
    return _str(user, "login", f"{path}.{key}", max_len=255)


# --------------------------------------------------------------------------
# typed objects
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryRef:
    full_name: str
    github_id: int = 0
    default_branch: str = ""
    html_url: str = ""
    private: bool = False


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: str
    conclusion: str
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class WorkflowRun:
    github_id: int
    name: str
    workflow_id: int
    path: str
    event: str
    head_branch: str
    head_sha: str
    actor: str
    run_number: int
    run_attempt: int
    status: str
    conclusion: str
    created_at: datetime | None
    started_at: datetime | None
    updated_at: datetime | None
    html_url: str
    display_title: str
    pull_request_numbers: tuple = ()

    @property
    def finished_at(self):
        """GitHub has no ``completed_at`` on runs: a completed run's last update is its end."""
        return self.updated_at if self.status == "completed" else None


@dataclass(frozen=True)
class WorkflowJob:
    github_id: int
    run_id: int
    run_attempt: int
    name: str
    workflow_name: str
    head_branch: str
    head_sha: str
    status: str
    conclusion: str
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    html_url: str
    steps: tuple = ()
    labels: tuple = ()
    runner_name: str = ""
    runner_group_name: str = ""
    #: ``workflow_job`` for GitHub Actions jobs, ``check_run`` for check runs
    source: str = "workflow_job"
    app_slug: str = ""
    check_suite_id: int = 0
    output_title: str = ""
    output_summary: str = ""


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: str
    timestamp: datetime | None
    url: str
    added: tuple = ()
    removed: tuple = ()
    modified: tuple = ()


@dataclass(frozen=True)
class ChangedFile:
    filename: str
    status: str
    additions: int = 0
    deletions: int = 0


@dataclass(frozen=True)
class Push:
    ref: str
    before: str
    after: str
    created: bool
    deleted: bool
    forced: bool
    pusher: str
    compare_url: str
    commits: tuple = ()

    @property
    def branch(self):
        prefix = "refs/heads/"
        return self.ref[len(prefix) :] if self.ref.startswith(prefix) else ""

    @property
    def changed_files(self):
        """Files touched by the push, in the state the last commit left them."""
        status = {}
        for commit in self.commits:
            for name in commit.added:
                status[name] = "added"
            for name in commit.modified:
                status[name] = "added" if status.get(name) == "added" else "modified"
            for name in commit.removed:
                if status.get(name) == "added":
                    del status[name]  # created and deleted within the push: no net change
                else:
                    status[name] = "removed"
        return tuple(ChangedFile(filename=name, status=state) for name, state in sorted(status.items()))


@dataclass(frozen=True)
class PullRequest:
    action: str
    number: int
    title: str
    state: str
    draft: bool
    merged: bool
    author: str
    head_ref: str
    head_sha: str
    head_repo_full_name: str
    base_ref: str
    base_sha: str
    html_url: str
    created_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None
    merged_at: datetime | None
    additions: int
    deletions: int
    changed_files: int
    commits: int
    is_fork: bool


@dataclass(frozen=True)
class Ping:
    hook_id: int
    hook_type: str
    events: tuple = ()
    zen: str = ""


@dataclass(frozen=True)
class Deployment:
    """A GitHub deployment (webhook ``deployment`` or REST ``/deployments/{id}``)."""

    github_id: int
    sha: str
    ref: str
    task: str
    environment: str
    original_environment: str
    description: str
    creator: str
    created_at: datetime | None
    updated_at: datetime | None
    #: GitHub's flags; None when the payload does not say
    production_environment: bool | None = None
    transient_environment: bool = False
    html_url: str = ""


@dataclass(frozen=True)
class DeploymentStatus:
    """One status of a deployment (``deployment_status.deployment_status`` or REST ``/statuses``)."""

    github_id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    creator: str
    created_at: datetime | None


@dataclass(frozen=True)
class DeploymentEvent:
    """A ``deployment`` delivery, or the ``deployment_status`` one with its status.

    ``run``: the workflow run that deploys when GitHub names one (Actions
    jobs with ``environment:``), else None.
    """

    deployment: Deployment
    status: DeploymentStatus | None = None
    run: WorkflowRun | None = None


@dataclass(frozen=True)
class HookDelivery:
    """One attempt GitHub made to deliver a webhook (``GET /hooks/{id}/deliveries``)."""

    delivery_id: int
    guid: str
    event: str
    delivered_at: datetime | None
    status_code: int
    redelivery: bool
    #: the repository the delivery was about (an organization hook's log holds all of its repositories'); None for
    #: an event of the organization itself
    repository_id: int | None = None

    @property
    def succeeded(self):
        return 200 <= (self.status_code or 0) < 300


@dataclass(frozen=True)
class Envelope:
    """What the webhook gate needs to know before storing a delivery."""

    event: str
    action: str
    repository: RepositoryRef | None
    organization: str = ""
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# parsers
# --------------------------------------------------------------------------


def parse_repository(payload, path="payload"):
    repo = payload.get("repository")
    if repo is None:
        return None
    if not isinstance(repo, dict):
        raise PayloadError(f"{path}.repository", "expected an object")
    p = f"{path}.repository"
    full_name = _str(repo, "full_name", p, required=True, max_len=255)
    if full_name.count("/") != 1 or not all(full_name.split("/")):
        raise PayloadError(f"{p}.full_name", f"expected owner/name, got {full_name[:80]!r}")
    return RepositoryRef(
        full_name=full_name,
        github_id=_int(repo, "id", p),
        default_branch=_str(repo, "default_branch", p, max_len=255),
        html_url=_str(repo, "html_url", p, max_len=2048),
        private=_bool(repo, "private", p),
    )


def parse_envelope(event, payload):
    """Read the routing facts of a delivery: event, action, repository, organization."""
    if not isinstance(payload, dict):
        raise PayloadError("payload", f"expected a JSON object, got {type(payload).__name__}")
    org = payload.get("organization")
    if org is not None and not isinstance(org, dict):
        raise PayloadError("payload.organization", "expected an object")
    return Envelope(
        event=event,
        action=_str(payload, "action", "payload", max_len=64),
        repository=parse_repository(payload),
        organization=_str(org or {}, "login", "payload.organization", max_len=255),
    )


def parse_step(data, path):
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a step object")
    return Step(
        number=_int(data, "number", path),
        name=_str(data, "name", path, max_len=1024),
        status=_str(data, "status", path, max_len=32),
        conclusion=_str(data, "conclusion", path, max_len=32),
        started_at=_dt(data, "started_at", path),
        completed_at=_dt(data, "completed_at", path),
    )


def parse_workflow_run(data, path="workflow_run"):
    """Parse a workflow run object (webhook ``workflow_run`` or REST ``/actions/runs/{id}``)."""
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a workflow run object")
    prs = []
    for index, pr in enumerate(_list(data, "pull_requests", path)):
        if not isinstance(pr, dict):
            raise PayloadError(f"{path}.pull_requests[{index}]", "expected an object")
        prs.append(_int(pr, "number", f"{path}.pull_requests[{index}]"))
    actor = _login(data, "actor", path) or _login(data, "triggering_actor", path)
    return WorkflowRun(
        github_id=_int(data, "id", path, required=True),
        name=_str(data, "name", path, max_len=1024),
        workflow_id=_int(data, "workflow_id", path),
        path=_str(data, "path", path, max_len=1024),
        event=_str(data, "event", path, max_len=64),
        head_branch=_str(data, "head_branch", path, max_len=1024),
        head_sha=_str(data, "head_sha", path, max_len=64),
        actor=actor,
        run_number=_int(data, "run_number", path),
        run_attempt=_int(data, "run_attempt", path) or 1,
        status=_str(data, "status", path, required=True, max_len=32),
        conclusion=_str(data, "conclusion", path, max_len=32),
        created_at=_dt(data, "created_at", path),
        started_at=_dt(data, "run_started_at", path) or _dt(data, "created_at", path),
        updated_at=_dt(data, "updated_at", path),
        html_url=_str(data, "html_url", path, max_len=2048),
        display_title=_str(data, "display_title", path, max_len=1024),
        pull_request_numbers=tuple(prs),
    )


def parse_workflow_job(data, path="workflow_job"):
    """Parse a job object (webhook ``workflow_job`` or REST ``/actions/runs/{id}/jobs``)."""
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a workflow job object")
    steps = tuple(parse_step(step, f"{path}.steps[{index}]") for index, step in enumerate(_list(data, "steps", path)))
    labels = []
    for index, label in enumerate(_list(data, "labels", path)):
        labels.append(_text(label, f"{path}.labels[{index}]", 255))
    return WorkflowJob(
        github_id=_int(data, "id", path, required=True),
        run_id=_int(data, "run_id", path, required=True),
        run_attempt=_int(data, "run_attempt", path) or 1,
        name=_str(data, "name", path, max_len=1024),
        workflow_name=_str(data, "workflow_name", path, max_len=1024),
        head_branch=_str(data, "head_branch", path, max_len=1024),
        head_sha=_str(data, "head_sha", path, max_len=64),
        status=_str(data, "status", path, required=True, max_len=32),
        conclusion=_str(data, "conclusion", path, max_len=32),
        created_at=_dt(data, "created_at", path),
        started_at=_dt(data, "started_at", path),
        completed_at=_dt(data, "completed_at", path),
        html_url=_str(data, "html_url", path, max_len=2048),
        steps=steps,
        labels=tuple(labels),
        runner_name=_str(data, "runner_name", path, max_len=255),
        runner_group_name=_str(data, "runner_group_name", path, max_len=255),
    )


def run_id_from_url(*urls):
    """Find the Actions run id in a check run's ``details_url``/``html_url``, if any."""
    for url in urls:
        match = _RUN_URL_RE.search(url or "")
        if match and len(match.group(1)) < 19:  # a longer number is no run id (nor fits a bigint)
            return int(match.group(1))
    return 0


def parse_check_run(data, path="check_run"):
    """Parse a check run into a job.

    For GitHub Actions the check run id *is* the job id and its details URL
    names the workflow run; other CI apps' check runs are grouped under their
    check suite (``run_id`` 0, ``check_suite_id`` set).
    """
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a check run object")
    app = _obj(data, "app", path, required=False)
    suite = _obj(data, "check_suite", path, required=False)
    output = _obj(data, "output", path, required=False)
    details_url = _str(data, "details_url", path, max_len=2048)
    html_url = _str(data, "html_url", path, max_len=2048)
    return WorkflowJob(
        github_id=_int(data, "id", path, required=True),
        run_id=run_id_from_url(details_url, html_url),
        run_attempt=1,
        name=_str(data, "name", path, max_len=1024),
        workflow_name=_str(app, "name", f"{path}.app", max_len=255),
        head_branch=_str(suite, "head_branch", f"{path}.check_suite", max_len=1024),
        head_sha=_str(data, "head_sha", path, max_len=64),
        status=_str(data, "status", path, required=True, max_len=32),
        conclusion=_str(data, "conclusion", path, max_len=32),
        created_at=_dt(data, "started_at", path),
        started_at=_dt(data, "started_at", path),
        completed_at=_dt(data, "completed_at", path),
        html_url=html_url,
        source="check_run",
        app_slug=_str(app, "slug", f"{path}.app", max_len=255),
        check_suite_id=_int(suite, "id", f"{path}.check_suite"),
        output_title=_str(output, "title", f"{path}.output", max_len=1024),
        output_summary=_str(output, "summary", f"{path}.output"),
    )


def parse_commit(data, path):
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a commit object")
    author = _obj(data, "author", path, required=False)

    def names(key):
        out = []
        for index, name in enumerate(_list(data, key, path)):
            out.append(_text(name, f"{path}.{key}[{index}]", 1024))
        return tuple(out)

    return Commit(
        sha=_str(data, "id", path, required=True, max_len=64),
        message=_str(data, "message", path),
        author=_str(author, "username", f"{path}.author", max_len=255)
        or _str(author, "name", f"{path}.author", max_len=255),
        timestamp=_dt(data, "timestamp", path),
        url=_str(data, "url", path, max_len=2048),
        added=names("added"),
        removed=names("removed"),
        modified=names("modified"),
    )


def parse_push(payload):
    commits = tuple(
        parse_commit(commit, f"payload.commits[{index}]")
        for index, commit in enumerate(_list(payload, "commits", "payload"))
    )
    pusher = _obj(payload, "pusher", "payload", required=False)
    return Push(
        ref=_str(payload, "ref", "payload", required=True, max_len=1024),
        before=_str(payload, "before", "payload", max_len=64),
        after=_str(payload, "after", "payload", max_len=64),
        created=_bool(payload, "created", "payload"),
        deleted=_bool(payload, "deleted", "payload"),
        forced=_bool(payload, "forced", "payload"),
        pusher=_str(pusher, "name", "payload.pusher", max_len=255) or _login(payload, "sender", "payload"),
        compare_url=_str(payload, "compare", "payload", max_len=2048),
        commits=commits,
    )


def parse_pull_request(payload):
    path = "payload.pull_request"
    pr = _obj(payload, "pull_request", "payload")
    head = _obj(pr, "head", path)
    base = _obj(pr, "base", path)
    head_repo = _obj(head, "repo", f"{path}.head", required=False)
    base_repo = _obj(base, "repo", f"{path}.base", required=False)
    head_full = _str(head_repo, "full_name", f"{path}.head.repo", max_len=255)
    base_full = _str(base_repo, "full_name", f"{path}.base.repo", max_len=255)
    merged = _bool(pr, "merged", path) or bool(pr.get("merged_at"))
    state = _str(pr, "state", path, required=True, max_len=16)
    return PullRequest(
        action=_str(payload, "action", "payload", max_len=64),
        number=_int(pr, "number", path, required=True),
        title=_str(pr, "title", path, max_len=1024),
        state="merged" if merged else state,
        draft=_bool(pr, "draft", path),
        merged=merged,
        author=_login(pr, "user", path),
        head_ref=_str(head, "ref", f"{path}.head", max_len=1024),
        head_sha=_str(head, "sha", f"{path}.head", max_len=64),
        head_repo_full_name=head_full,
        base_ref=_str(base, "ref", f"{path}.base", max_len=1024),
        base_sha=_str(base, "sha", f"{path}.base", max_len=64),
        html_url=_str(pr, "html_url", path, max_len=2048),
        created_at=_dt(pr, "created_at", path),
        updated_at=_dt(pr, "updated_at", path),
        closed_at=_dt(pr, "closed_at", path),
        merged_at=_dt(pr, "merged_at", path),
        additions=_int(pr, "additions", path),
        deletions=_int(pr, "deletions", path),
        changed_files=_int(pr, "changed_files", path),
        commits=_int(pr, "commits", path),
        # a deleted fork has no head repo: treat it as a fork, never as trusted
        is_fork=(not head_full) or (bool(base_full) and head_full != base_full),
    )


def parse_ping(payload):
    hook = _obj(payload, "hook", "payload", required=False)
    events = []
    for index, name in enumerate(_list(hook, "events", "payload.hook")):
        events.append(_text(name, f"payload.hook.events[{index}]", 64))
    return Ping(
        hook_id=_int(payload, "hook_id", "payload") or _int(hook, "id", "payload.hook"),
        hook_type=_str(hook, "type", "payload.hook", max_len=32),
        events=tuple(events),
        zen=_str(payload, "zen", "payload", max_len=255),
    )


def _optional_bool(data, key, path):
    return _bool(data, key, path) if data.get(key) is not None else None


def parse_deployment(data, path="deployment"):
    """Parse a deployment object (webhook ``deployment``/``deployment_status`` or REST ``/deployments``)."""
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a deployment object")
    environment = _str(data, "environment", path, required=True, max_len=255)
    if not environment.strip():
        raise PayloadError(f"{path}.environment", "empty environment name")
    return Deployment(
        github_id=_int(data, "id", path, required=True),
        sha=_str(data, "sha", path, required=True, max_len=64),
        ref=_str(data, "ref", path, max_len=1024),
        task=_str(data, "task", path, max_len=255),
        environment=environment.strip(),
        original_environment=_str(data, "original_environment", path, max_len=255),
        description=_str(data, "description", path, max_len=1024),
        creator=_login(data, "creator", path),
        created_at=_dt(data, "created_at", path),
        updated_at=_dt(data, "updated_at", path),
        production_environment=_optional_bool(data, "production_environment", path),
        transient_environment=_bool(data, "transient_environment", path),
        html_url=_str(data, "url", path, max_len=2048),
    )


def parse_deployment_status(data, path="deployment_status"):
    """Parse a deployment status object; ``state`` is kept as GitHub wrote it (the engine judges it)."""
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a deployment status object")
    return DeploymentStatus(
        github_id=_int(data, "id", path, required=True),
        state=_str(data, "state", path, required=True, max_len=32),
        description=_str(data, "description", path, max_len=1024),
        environment=_str(data, "environment", path, max_len=255),
        environment_url=_str(data, "environment_url", path, max_len=2048),
        log_url=_str(data, "log_url", path, max_len=2048) or _str(data, "target_url", path, max_len=2048),
        creator=_login(data, "creator", path),
        created_at=_dt(data, "created_at", path),
    )


def parse_deployment_event(event, payload):
    """A ``deployment`` or ``deployment_status`` delivery: the deployment, its status, the deploying run."""
    deployment = parse_deployment(payload.get("deployment"), "payload.deployment")
    status = None
    if event == "deployment_status":
        status = parse_deployment_status(payload.get("deployment_status"), "payload.deployment_status")
    run = payload.get("workflow_run")
    return DeploymentEvent(
        deployment=deployment,
        status=status,
        run=parse_workflow_run(run, "payload.workflow_run") if run is not None else None,
    )


def parse_hook_delivery(data, path="deliveries[]"):
    if not isinstance(data, dict):
        raise PayloadError(path, "expected a delivery object")
    return HookDelivery(
        delivery_id=_int(data, "id", path, required=True),
        guid=_str(data, "guid", path, max_len=64),
        event=_str(data, "event", path, max_len=64),
        delivered_at=_dt(data, "delivered_at", path),
        status_code=_int(data, "status_code", path),
        redelivery=_bool(data, "redelivery", path),
        repository_id=_int(data, "repository_id", path) or None,
    )


def parse_event(event, payload):
    """Turn a handled delivery into its typed object (``None`` for events not handled)."""
    if not isinstance(payload, dict):
        raise PayloadError("payload", "expected a JSON object")
    if event == "workflow_run":
        return parse_workflow_run(payload.get("workflow_run"), "payload.workflow_run")
    if event == "workflow_job":
        return parse_workflow_job(payload.get("workflow_job"), "payload.workflow_job")
    if event == "check_run":
        return parse_check_run(payload.get("check_run"), "payload.check_run")
    if event == "push":
        return parse_push(payload)
    if event == "pull_request":
        return parse_pull_request(payload)
    if event == "ping":
        return parse_ping(payload)
    if event in ("deployment", "deployment_status"):
        return parse_deployment_event(event, payload)
    return None
