"""Start a workflow by hand (a migration dry-run) and find the run it created.

GitHub's dispatch call answers 204 without the run it starts, so the run
is found afterwards: the oldest ``workflow_dispatch`` run of that workflow
on that branch created since the dispatch (less a clock-skew margin),
skipping runs already claimed by earlier dispatches. ``None`` means "not
there yet": the caller looks again on its next cron pass.
"""

from datetime import datetime, timedelta, timezone

from ..common.errors import BadAnswer
from . import events
from .rest_api import github_call, paginate

MAX_INPUTS = 25
CLOCK_SKEW = timedelta(seconds=60)


def _inputs(inputs):
    """Workflow inputs as GitHub accepts them (strings and booleans, at most 25)."""
    inputs = dict(inputs or {})
    if len(inputs) > MAX_INPUTS:
        raise ValueError(f"a workflow takes at most {MAX_INPUTS} inputs")
    clean = {}
    for key, value in inputs.items():
        if not isinstance(key, str) or not key:
            raise ValueError("input names are non-empty strings")
        if isinstance(value, bool):
            clean[key] = value
        elif isinstance(value, (str, int, float)):
            clean[key] = str(value)
        else:
            raise ValueError(f"input {key!r} must be a string, number or boolean")
    return clean


def dispatch_workflow(client, full_name, workflow, ref, inputs=None):
    """Trigger ``workflow`` (file name like ``migrate.yml`` or id) on ``ref``; returns the dispatch time (naive UTC)."""
    clean = _inputs(inputs)
    repo = github_call("GitHub", client.get_repo, full_name)
    flow = github_call("GitHub", repo.get_workflow, workflow)
    dispatched_at = datetime.now(timezone.utc).replace(tzinfo=None)
    github_call("GitHub", flow.create_dispatch, ref, clean, throw=True)
    return dispatched_at


def find_dispatched_run(client, full_name, workflow, ref, since, exclude_ids=(), skew=CLOCK_SKEW):
    """The run a dispatch at ``since`` created, or None while GitHub has not listed it yet."""
    path = f"/repos/{full_name}/actions/workflows/{workflow}/runs"
    created = (since - skew).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"event": "workflow_dispatch", "branch": ref, "created": f">={created}"}
    raw_runs = github_call("GitHub", lambda: list(paginate(client, path, params, "workflow_runs", limit=100)))
    candidates = []
    for index, raw in enumerate(raw_runs):
        try:
            run = events.parse_workflow_run(raw, path=f"workflow_runs[{index}]")
        except events.PayloadError as exc:
            raise BadAnswer("GitHub", str(exc)) from None
        if run.event != "workflow_dispatch" or run.head_branch != ref or run.github_id in set(exclude_ids):
            continue
        if run.created_at is None or run.created_at < since - skew:
            continue
        candidates.append(run)
    return min(candidates, key=lambda r: (r.created_at, r.github_id)) if candidates else None
