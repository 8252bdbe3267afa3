"""``python3 -m autopilot dora``: GitHub's REST deployments (held to the OpenAPI description) in, four keys out."""

import json
import subprocess
import sys

import pytest

from autopilot.delivery import dora_export
from autopilot.testing import contracts
from autopilot.testing.fixtures import REPO

API = "https://api.github.com/repos/acme/shop"


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "autopilot", "dora", *args], cwd=REPO, input=stdin, capture_output=True, check=False
    )


def github_status(id_, state, created_at, deployment_id):
    """A deployment status as ``GET /repos/{owner}/{repo}/deployments/{id}/statuses`` answers it."""
    return {
        "url": f"{API}/deployments/{deployment_id}/statuses/{id_}",
        "id": id_,
        "node_id": f"DES_{id_}",
        "state": state,
        "creator": None,
        "description": "",
        "environment": "production",
        "target_url": "",
        "log_url": "",
        "environment_url": "",
        "created_at": created_at,
        "updated_at": created_at,
        "deployment_url": f"{API}/deployments/{deployment_id}",
        "repository_url": API,
    }


def github_deployment(id_, created_at, environment="production", statuses=(), commits=(), **extra):
    """A deployment as ``GET /repos/{owner}/{repo}/deployments`` answers it, with its statuses and commits."""
    deployment = {
        "url": f"{API}/deployments/{id_}",
        "id": id_,
        "node_id": f"DE_{id_}",
        "sha": f"{id_:040x}",
        "ref": "main",
        "task": "deploy",
        "payload": {},
        "original_environment": environment,
        "environment": environment,
        "description": None,
        "creator": None,
        "created_at": created_at,
        "updated_at": created_at,
        "statuses_url": f"{API}/deployments/{id_}/statuses",
        "repository_url": API,
        "transient_environment": False,
        "production_environment": environment == "production",
    }
    return (
        deployment,
        [github_status(n, state, at, id_) for n, (state, at) in enumerate(statuses, id_ * 10)],
        [
            {"sha": sha, "commit": {"author": {"name": "Dev", "email": "dev@example.com", "date": date}}}
            for sha, date in commits
        ],
        extra,
    )


def export():
    """Two weeks on acme/shop (the period asked for is the second one, 23-30 November 2026).

    Production: 1001 on the 20th (the week before: success); 1002 on the 23rd, commit authored 2 h before its
    success, an incident linked 1 h later, resolved after 30 min; 1003 on the 24th fails and is rolled back by
    1004 30 min after the failure; 1005 on the 26th succeeds. Staging 2001 on the 23rd.
    By hand: 2 successful deploys (1002, 1005) in 7 days = 2.0 / week -> high; lead time 2 h (one change)
    -> elite; failure rate 2 of 3 (1002 incident, 1003 failed) = 66.7 % -> low; restore: 30 min (incident)
    and 30 min (1003 -> 1004) -> median 30 min -> elite.
    """
    pieces = [
        github_deployment(1001, "2026-11-20T10:00:00Z", statuses=[("success", "2026-11-20T10:05:00Z")]),
        github_deployment(
            1002,
            "2026-11-23T10:00:00Z",
            statuses=[("in_progress", "2026-11-23T10:01:00Z"), ("success", "2026-11-23T10:05:00Z")],
            commits=[("a" * 40, "2026-11-23T08:05:00+00:00")],
        ),
        github_deployment(
            1003,
            "2026-11-24T10:00:00Z",
            statuses=[("in_progress", "2026-11-24T10:01:00Z"), ("failure", "2026-11-24T10:10:00Z")],
        ),
        github_deployment(
            1004, "2026-11-24T10:30:00Z", statuses=[("success", "2026-11-24T10:40:00Z")], rollback_of=1003
        ),
        github_deployment(1005, "2026-11-26T10:00:00Z", statuses=[("success", "2026-11-26T10:05:00Z")]),
        github_deployment(2001, "2026-11-23T09:00:00Z", "staging", statuses=[("success", "2026-11-23T09:05:00Z")]),
    ]
    deployments = []
    for deployment, statuses, commits, extra in pieces:
        deployments.append({**deployment, "statuses": statuses, "commits": commits, **extra})
    incidents = [
        {
            "id": 7,
            "opened_at": "2026-11-23T11:05:00Z",
            "resolved_at": "2026-11-23T11:35:00Z",
            "deployment_id": 1002,
            "environment": "production",
            "repository": "acme/shop",
        }
    ]
    return {"deployments": deployments, "incidents": incidents}, pieces


def test_the_export_is_what_githubs_rest_api_answers():
    if not contracts.available():
        pytest.skip("the pinned @octokit/openapi description is not installed")
    description = contracts.description()
    _data, pieces = export()
    for deployment, statuses, _commits, _extra in pieces:
        assert description.problems("/components/schemas/deployment", "response", deployment, "deployment") == []
        for status in statuses:
            assert description.problems("/components/schemas/deployment-status", "response", status, "status") == []


def test_text_answer_with_bands(tmp_path):
    data, _pieces = export()
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data))
    result = run("--days", "7", "--until", "2026-11-29", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "acme/shop / production" in out and "staging" not in out
    lines = {line.split("  ")[1].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert "2.0 / week" in lines["Deployment frequency"] and "[High]" in lines["Deployment frequency"]
    assert "2 h" in lines["Lead time for changes"] and "[Elite]" in lines["Lead time for changes"]
    assert "66.7%" in lines["Change failure rate"] and "[Low]" in lines["Change failure rate"]
    assert "30 min" in lines["Time to restore service"] and "[Elite]" in lines["Time to restore service"]
    assert "State of DevOps Report 2023" in out


def test_json_answer_and_the_band_gate():
    data, _pieces = export()
    body = json.dumps(data).encode()
    result = run("--json", "--days", "7", "--until", "2026-11-30T00:00:00Z", "-", stdin=body)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [production] = answer["results"]
    assert (production["repository"], production["environment"]) == ("acme/shop", "production")
    bands = {key["key"]: key["band"] for key in production["keys"]}
    assert bands == {
        "deployment_frequency": "high",
        "lead_time": "elite",
        "change_failure_rate": "low",
        "time_to_restore": "elite",
    }
    frequency = production["keys"][0]
    assert (frequency["previous"], frequency["trend"]) == (pytest.approx(1 / 7), "up")
    gate = run("--days", "7", "--until", "2026-11-29", "--fail-below", "medium", "-", stdin=body)
    assert gate.returncode == 1
    staging = run(
        "--days", "7", "--until", "2026-11-29", "--environment", "staging", "--fail-below", "high", "-", stdin=body
    )
    assert staging.returncode == 0 and b"acme/shop / staging" in staging.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"deployments": {}}', "deployments: expected a list"),
        (b'{"deployments": [{"id": 1, "environment": "production"}]}', "deployments[0].created_at: missing"),
        (
            b'{"deployments": [{"id": 1, "environment": "production", "created_at": "yesterday"}]}',
            "deployments[0].created_at: not an ISO 8601 time",
        ),
        (
            b'{"deployments": [{"id": 1, "environment": "p", "created_at": "2026-11-23T10:00:00Z",'
            b' "statuses": [{"state": "done", "created_at": "2026-11-23T10:00:00Z"}]}]}',
            "deployments[0].statuses[0].state: expected one of",
        ),
        (b'{"failure_window_hours": -1}', "failure_window_hours"),
    ],
)
def test_bad_input_is_a_clear_error(body, message):
    result = run("-", stdin=body)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    as_json = run("--json", "-", stdin=body)
    assert as_json.returncode == 2 and message in json.loads(as_json.stdout)["error"]


def test_missing_file_and_bad_usage():
    assert run("/nonexistent/export.json").returncode == 2
    assert run("--days", "0", "-", stdin=b"[]").returncode == 2
    assert run("--until", "soon", "-", stdin=b"[]").returncode == 2


def test_short_forms_read_like_the_long_ones():
    deployments, incidents, window = dora_export.read_export(
        [
            {
                "id": "x",
                "environment": "prod",
                "created_at": "2026-11-23T10:00:00+01:00",
                "state": "success",
                "succeeded_at": "2026-11-23T09:05:00",
                "commits": [{"sha": "s", "committed_at": "2026-11-23T08:00:00", "pull_requests": "#12, #15"}],
            }
        ]
    )
    [deployment] = deployments
    assert deployment.created_at.isoformat() == "2026-11-23T09:00:00"  # converted to UTC
    assert deployment.production and deployment.commits[0].pull_requests == (12, 15)
    assert (incidents, window.total_seconds()) == ([], 86400)
