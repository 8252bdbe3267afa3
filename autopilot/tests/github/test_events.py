import json
from datetime import datetime

import pytest

from autopilot.github import events
from autopilot.testing import github_payloads as gp
from autopilot.testing.fixtures import fixture_files
from autopilot.testing.fixtures import load as load_fixture


@pytest.mark.parametrize("event, path", fixture_files() or [pytest.param(None, None, marks=pytest.mark.skip)])
def test_every_published_payload_parses(needs_fixtures, event, path):
    _body, payload = load_fixture(path)
    envelope = events.parse_envelope(event, payload)
    assert envelope.repository or envelope.organization
    obj = events.parse_event(event, payload)
    if event in events.HANDLED_EVENTS:
        assert obj is not None
    else:
        assert obj is None


def test_published_failed_job_keeps_its_steps(needs_fixtures):
    _body, payload = load_fixture(needs_fixtures / "workflow_job" / "completed.failure.with-organization.payload.json")
    job = events.parse_event("workflow_job", payload)
    assert job.conclusion == "failure"
    assert job.run_id == 2202229078
    assert [s.name for s in job.steps if s.conclusion == "failure"] == ["Run yarn run format-check"]
    assert job.labels == ("ubuntu-latest",)


def test_published_wrapped_capture_is_a_running_run(needs_fixtures):
    _body, payload = load_fixture(needs_fixtures / "workflow_run" / "in_progress.pkg-pr-new.wrapped.json")
    run = events.parse_event("workflow_run", payload)
    assert run.status == "in_progress"
    assert run.finished_at is None


def test_built_workflow_run_round_trips():
    payload = gp.workflow_run_event("acme/erp", run_id=42, status="completed", conclusion="failure", run_attempt=2)
    run = events.parse_event("workflow_run", payload)
    assert (run.github_id, run.status, run.conclusion, run.run_attempt) == (42, "completed", "failure", 2)
    assert run.finished_at == run.updated_at
    assert isinstance(run.started_at, datetime) and run.started_at.tzinfo is None


def test_timestamps_are_naive_utc():
    assert events.parse_timestamp("2019-05-15T15:20:41-05:00") == datetime(2019, 5, 15, 20, 20, 41)
    assert events.parse_timestamp("2021-08-05T10:26:08.000Z") == datetime(2021, 8, 5, 10, 26, 8)
    assert events.parse_timestamp(None) is None
    with pytest.raises(events.PayloadError, match="not an ISO 8601"):
        events.parse_timestamp("yesterday")


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda p: p.update(workflow_run="x"), "payload.workflow_run"),
        (lambda p: p["workflow_run"].update(id="42"), "payload.workflow_run.id"),
        (lambda p: p["workflow_run"].update(id=True), "payload.workflow_run.id"),
        (lambda p: p["workflow_run"].update(id=2**80), "payload.workflow_run.id"),
        (lambda p: p["workflow_run"].update(id=-1), "payload.workflow_run.id"),
        (lambda p: p["workflow_run"].update(status=None), "payload.workflow_run.status"),
        (lambda p: p["workflow_run"].update(name=["CI"]), "payload.workflow_run.name"),
        (lambda p: p["workflow_run"].update(head_branch="a\x00b"), "payload.workflow_run.head_branch"),
        (lambda p: p["workflow_run"].update(pull_requests=[1]), "payload.workflow_run.pull_requests[0]"),
        (lambda p: p["workflow_run"].update(created_at=12), "payload.workflow_run.created_at"),
    ],
)
def test_wrong_types_are_named_in_the_error(mutate, where):
    payload = gp.workflow_run_event("acme/erp")
    mutate(payload)
    with pytest.raises(events.PayloadError) as info:
        events.parse_event("workflow_run", payload)
    assert info.value.path == where


def test_long_strings_are_cut():
    payload = gp.workflow_run_event("acme/erp", name="x" * 5000)
    assert len(events.parse_event("workflow_run", payload).name) == 1024


def test_envelope_checks_repository_name():
    with pytest.raises(events.PayloadError, match="owner/name"):
        events.parse_envelope("push", {"repository": {"full_name": "no-slash"}})
    with pytest.raises(events.PayloadError):
        events.parse_envelope("push", [])
    envelope = events.parse_envelope("ping", {"organization": {"login": "octo-org"}})
    assert envelope.repository is None and envelope.organization == "octo-org"


def test_check_run_of_actions_finds_its_run_in_the_details_url():
    payload = {
        "check_run": {
            "id": 9,
            "status": "completed",
            "conclusion": "failure",
            "details_url": "https://github.com/acme/erp/actions/runs/1234/job/9",
            "check_suite": {"id": 77, "head_branch": "main"},
            "app": {"slug": "github-actions", "name": "GitHub Actions"},
        }
    }
    job = events.parse_event("check_run", payload)
    assert (job.run_id, job.check_suite_id, job.source, job.head_branch) == (1234, 77, "check_run", "main")


def test_check_run_of_another_app_is_grouped_by_suite():
    payload = {
        "check_run": {
            "id": 9,
            "status": "queued",
            "details_url": "https://ci.example.com/build/5",
            "check_suite": {"id": 77},
            "app": {"slug": "circleci"},
        }
    }
    job = events.parse_event("check_run", payload)
    assert (job.run_id, job.check_suite_id) == (0, 77)


def test_push_changed_files_follow_the_commits():
    payload = gp.push_event(
        "acme/erp",
        commits=[
            {"added": ["a.py", "tmp.txt"], "modified": ["README.md"]},
            {"modified": ["a.py"], "removed": ["tmp.txt", "old.py"]},
        ],
    )
    push = events.parse_event("push", payload)
    assert push.branch == "main"
    assert {(f.filename, f.status) for f in push.changed_files} == {
        ("a.py", "added"),
        ("README.md", "modified"),
        ("old.py", "removed"),
    }


def test_tag_push_has_no_branch():
    push = events.parse_event("push", gp.push_event("acme/erp", ref="refs/tags/v1.0"))
    assert push.branch == ""


def test_pull_request_from_a_fork_is_flagged():
    same = events.parse_event("pull_request", gp.pull_request_event("acme/erp"))
    fork = events.parse_event("pull_request", gp.pull_request_event("acme/erp", head_full_name="mallory/erp"))
    assert not same.is_fork and fork.is_fork
    payload = gp.pull_request_event("acme/erp")
    payload["pull_request"]["head"]["repo"] = None  # the fork was deleted
    assert events.parse_event("pull_request", payload).is_fork


def test_merged_pull_request_state():
    pr = events.parse_event(
        "pull_request", gp.pull_request_event("acme/erp", action="closed", state="closed", merged=True)
    )
    assert pr.state == "merged"


def test_ping_and_hook_delivery():
    ping = events.parse_event("ping", gp.ping_event("acme/erp", hook_id=77))
    assert ping.hook_id == 77 and "workflow_run" in ping.events
    delivery = events.parse_hook_delivery(
        {"id": 1, "guid": "g", "delivered_at": "2026-01-01T00:00:00Z", "status_code": 502, "redelivery": False}
    )
    assert not delivery.succeeded


def test_unhandled_events_parse_to_none():
    assert events.parse_event("repository_dispatch", {"repository": {"full_name": "a/b"}}) is None


def test_payload_must_be_an_object():
    with pytest.raises(events.PayloadError):
        events.parse_event("push", json.loads("[1, 2]"))
