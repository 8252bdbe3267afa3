"""Read an export of deployments and incidents into :mod:`.dora` records (the ``dora`` command's input).

The export is one JSON object (docs/cli.md, ``dora``)::

    {"deployments": [...], "incidents": [...], "failure_window_hours": 24}

or a bare list of deployments. A deployment is what GitHub's REST API
returns for ``GET /repos/{owner}/{repo}/deployments`` (``id``, ``sha``,
``environment``, ``created_at``, ``production_environment``, ``url``...),
with its statuses as ``GET .../deployments/{id}/statuses`` returns them
under ``statuses`` and the commits it brought as the compare API returns
them (``GET .../compare/{base}...{head}``: ``commits[].sha`` and
``commits[].commit.author.date``) under ``commits``. Short forms are
accepted too: ``state``, ``succeeded_at``, ``failed_at`` instead of
statuses; ``{"sha", "committed_at", "pull_requests"}`` commits;
``is_rollback`` and ``rollback_of`` (a deployment id). An incident is
``{"id", "opened_at", "resolved_at", "deployment_id", "environment",
"repository", "false_positive"}``.

Times are ISO 8601; with an offset they are converted to UTC, without one
they are read as UTC. Anything else is an :class:`ExportError` naming the
element and the field (``deployments[3].created_at: ...``): nothing is
guessed.
"""

import re
from datetime import UTC, datetime, timedelta

from .dora import DEFAULT_FAILURE_WINDOW, FAILED_STATES, SUCCESS, Commit, Deployment, Incident

#: GitHub's deployment states (REST ``deployment-status.state``), plus "pending" for a deployment without status
STATES = ("error", "failure", "inactive", "pending", "success", "queued", "in_progress")
MAX_WINDOW_HOURS = 24 * 90
_REPOSITORY_URL = re.compile(r"/repos/([^/]+/[^/]+?)(?:/deployments/|/?$)")
_PR_NUMBER = re.compile(r"\d+")


class ExportError(ValueError):
    """The export cannot be read; the message names what and where."""


def _time(value, where, required=True):
    if value is None or value == "":
        if required:
            raise ExportError(f"{where}: missing")
        return None
    if not isinstance(value, str):
        raise ExportError(f"{where}: expected an ISO 8601 time, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ExportError(f"{where}: not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _object(value, where):
    if not isinstance(value, dict):
        raise ExportError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ExportError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _identifier(value, where):
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ExportError(f"{where}: expected a number or a string")
    return value


def _pull_requests(value, where):
    if value is None:
        return ()
    if isinstance(value, str):  # "12, 15" or "#12 #15"
        return tuple(int(n) for n in _PR_NUMBER.findall(value))
    numbers = []
    for index, item in enumerate(_list(value, where)):
        number = item.get("number") if isinstance(item, dict) else item
        if isinstance(number, bool) or not isinstance(number, int):
            raise ExportError(f"{where}[{index}]: expected a pull request number")
        numbers.append(number)
    return tuple(numbers)


def read_commit(data, where):
    """A :class:`Commit` from a compare API commit or the short form."""
    data = _object(data, where)
    sha = data.get("sha")
    if not isinstance(sha, str) or not sha:
        raise ExportError(f"{where}.sha: missing")
    if "committed_at" in data:
        committed_at = _time(data.get("committed_at"), f"{where}.committed_at", required=False)
    else:
        author = ((data.get("commit") or {}).get("author") or {}) if isinstance(data.get("commit"), dict) else {}
        committed_at = _time(author.get("date"), f"{where}.commit.author.date", required=False)
    return Commit(sha, committed_at, _pull_requests(data.get("pull_requests"), f"{where}.pull_requests"))


def _from_statuses(statuses, where):
    """``(state, succeeded_at, failed_at)`` from GitHub's deployment statuses (any order)."""
    read = []
    for index, item in enumerate(statuses):
        status = _object(item, f"{where}[{index}]")
        state = status.get("state")
        if state not in STATES:
            raise ExportError(f"{where}[{index}].state: expected one of {', '.join(STATES)}")
        read.append((_time(status.get("created_at"), f"{where}[{index}].created_at"), status.get("id") or 0, state))
    if not read:
        return "pending", None, None
    read.sort(key=lambda item: (item[0], item[1] if isinstance(item[1], int) else 0))
    succeeded = next((moment for moment, _id, state in read if state == SUCCESS), None)
    failed = next((moment for moment, _id, state in read if state in FAILED_STATES), None)
    return read[-1][2], succeeded, failed


def read_deployment(data, where):
    """A :class:`~.dora.Deployment` from a GitHub REST deployment (with statuses and commits) or the short form."""
    data = _object(data, where)
    identifier = _identifier(data.get("id"), f"{where}.id")
    environment = data.get("environment")
    if not isinstance(environment, str) or not environment:
        raise ExportError(f"{where}.environment: missing")
    created_at = _time(data.get("created_at"), f"{where}.created_at")
    if "statuses" in data:
        state, succeeded_at, failed_at = _from_statuses(
            _list(data["statuses"], f"{where}.statuses"), f"{where}.statuses"
        )
    else:
        state = data.get("state") or "pending"
        if state not in STATES:
            raise ExportError(f"{where}.state: expected one of {', '.join(STATES)}")
        succeeded_at = _time(data.get("succeeded_at"), f"{where}.succeeded_at", required=False)
        failed_at = _time(data.get("failed_at"), f"{where}.failed_at", required=False)
        if state == SUCCESS and succeeded_at is None:
            raise ExportError(f"{where}.succeeded_at: missing for a successful deployment without statuses")
    repository = data.get("repository")
    if isinstance(repository, dict):
        repository = repository.get("full_name")
    if not repository:
        found = _REPOSITORY_URL.search(data.get("repository_url") or "") or _REPOSITORY_URL.search(
            data.get("url") or ""
        )
        repository = found.group(1) if found else ""
    production = data.get("production_environment", data.get("is_production"))
    commits = tuple(
        read_commit(commit, f"{where}.commits[{index}]")
        for index, commit in enumerate(_list(data.get("commits"), f"{where}.commits"))
    )
    rollback_of = data.get("rollback_of")
    if rollback_of is not None:
        rollback_of = _identifier(rollback_of, f"{where}.rollback_of")
    return Deployment(
        id=identifier,
        environment=environment,
        created_at=created_at,
        state=state,
        repository=str(repository or ""),
        is_production=None if production is None else bool(production),
        succeeded_at=succeeded_at,
        failed_at=failed_at,
        is_rollback=bool(data.get("is_rollback")) or rollback_of is not None,
        rollback_of=rollback_of,
        commits=commits,
    )


def read_incident(data, where):
    data = _object(data, where)
    deployment = data.get("deployment_id")
    return Incident(
        id=_identifier(data.get("id"), f"{where}.id"),
        opened_at=_time(data.get("opened_at"), f"{where}.opened_at"),
        resolved_at=_time(data.get("resolved_at"), f"{where}.resolved_at", required=False),
        deployment=None if deployment in (None, False) else _identifier(deployment, f"{where}.deployment_id"),
        environment=str(data.get("environment") or ""),
        repository=str(data.get("repository") or ""),
        is_production=None if data.get("is_production") is None else bool(data.get("is_production")),
        false_positive=bool(data.get("false_positive")),
    )


def read_export(data):
    """``(deployments, incidents, failure window)`` of an export (its parsed JSON)."""
    if isinstance(data, list):
        data = {"deployments": data}
    data = _object(data, "export")
    deployments = [
        read_deployment(item, f"deployments[{index}]")
        for index, item in enumerate(_list(data.get("deployments"), "deployments"))
    ]
    seen = set()
    for index, deployment in enumerate(deployments):
        key = deployment.id  # GitHub's deployment ids are unique across repositories; the keys join on them
        if key in seen:
            raise ExportError(f"deployments[{index}].id: {deployment.id} appears twice")
        seen.add(key)
    incidents = [
        read_incident(item, f"incidents[{index}]")
        for index, item in enumerate(_list(data.get("incidents"), "incidents"))
    ]
    hours = data.get("failure_window_hours")
    if hours is None:
        window = DEFAULT_FAILURE_WINDOW
    elif isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_WINDOW_HOURS:
        raise ExportError(f"failure_window_hours: expected a number of hours in (0, {MAX_WINDOW_HOURS}]")
    else:
        window = timedelta(hours=hours)
    return deployments, incidents, window
