from datetime import datetime

import pytest

from autopilot.github import events
from autopilot.testing import github_payloads as gp
from autopilot.testing.fixtures import load as load_fixture


def test_published_deployment_status_parses(needs_fixtures):
    _body, payload = load_fixture(needs_fixtures / "deployment_status" / "payload.json")
    event = events.parse_event("deployment_status", payload)
    assert event.deployment.github_id == 145988746
    assert event.deployment.sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert event.deployment.environment == "production"
    assert event.deployment.creator == "Codertocat"
    assert event.deployment.created_at == datetime(2019, 5, 15, 15, 20, 53)
    assert event.deployment.production_environment is None  # this older example does not say
    assert event.status.state == "success"
    assert event.status.github_id == 209916254
    assert event.status.created_at == datetime(2019, 5, 15, 15, 20, 55)
    assert event.run is None


def test_published_pages_deployment_names_its_run(needs_fixtures):
    _body, payload = load_fixture(needs_fixtures / "deployment_status" / "gh-pages.payload.json")
    event = events.parse_event("deployment_status", payload)
    assert event.status.state == "in_progress"
    assert event.deployment.environment == "github-pages"
    assert event.deployment.production_environment is False
    assert event.run.github_id == payload["workflow_run"]["id"]
    assert event.run.head_sha == payload["workflow_run"]["head_sha"]
    assert event.status.log_url.startswith("https://github.com/CorsixTH/CorsixTH/runs/")


def test_built_deployment_round_trips():
    payload = gp.deployment_event(
        "acme/erp",
        deployment_id=77,
        sha="c" * 40,
        ref="v1.2",
        environment="staging",
        creator="alice",
        description="Deploy v1.2",
        run={"run_id": 9001, "name": "Deploy", "path": ".github/workflows/deploy.yml", "status": "in_progress"},
    )
    event = events.parse_event("deployment", payload)
    assert (event.deployment.github_id, event.deployment.sha, event.deployment.ref) == (77, "c" * 40, "v1.2")
    assert (event.deployment.environment, event.deployment.creator) == ("staging", "alice")
    assert event.deployment.description == "Deploy v1.2"
    assert event.deployment.production_environment is False
    assert event.status is None
    assert (event.run.github_id, event.run.path) == (9001, ".github/workflows/deploy.yml")


def test_deployment_without_a_run():
    event = events.parse_event("deployment", gp.deployment_event("acme/erp", deployment_id=78))
    assert event.run is None
    assert event.deployment.production_environment is True


def test_status_keeps_an_unlisted_state_for_the_engine_to_judge():
    deployment = gp.deployment("acme/erp", 79)
    payload = gp.deployment_status_event("acme/erp", deployment, "inactive", off_contract=True)
    assert events.parse_event("deployment_status", payload).status.state == "inactive"


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda p: p["deployment"].pop("id"), "payload.deployment.id"),
        (lambda p: p["deployment"].update(sha=42), "payload.deployment.sha"),
        (lambda p: p["deployment"].update(environment="  "), "payload.deployment.environment"),
        (lambda p: p.update(deployment=[]), "payload.deployment"),
        (lambda p: p["deployment_status"].pop("state"), "payload.deployment_status.state"),
        (lambda p: p["deployment_status"].update(created_at="yesterday"), "payload.deployment_status.created_at"),
        (lambda p: p["deployment"].update(production_environment="yes"), "payload.deployment.production_environment"),
        (lambda p: p.update(workflow_run="run"), "payload.workflow_run"),
    ],
)
def test_malformed_deployment_status_names_the_field(mutate, where):
    payload = gp.deployment_status_event("acme/erp", gp.deployment("acme/erp", 80), "success")
    mutate(payload)
    with pytest.raises(events.PayloadError) as caught:
        events.parse_event("deployment_status", payload)
    assert caught.value.path == where
