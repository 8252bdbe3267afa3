"""What the repository's token may do: GitHub's refusals name the permission, the check reports per feature."""

import pytest

from autopilot.common import errors
from autopilot.github import ci, permissions, rest_api
from autopilot.testing.github_ci_server import CIGitHub

REPO = "acme/erp"


@pytest.fixture
def server():
    server = CIGitHub(token="t0k").start()
    server.seed_repo(REPO, {"README.md": "erp\n"})
    yield server
    server.stop()


def connect(server):
    return rest_api.connect(server.url, "t0k", timeout=5, retries=0)


def failed_run(server):
    return server.add_run(REPO, conclusion="failure", jobs=[{"name": "test", "conclusion": "failure"}])


def test_a_refusal_for_a_missing_permission_names_it(server):
    """A fine-grained token without Actions: write: GitHub's 403 says which permission it wanted."""
    server.token_permissions = {"metadata": "read", "actions": "read", "contents": "read"}
    run = failed_run(server)
    with pytest.raises(errors.Rejected) as info:
        ci.rerun_failed_jobs(connect(server), REPO, run["id"])
    assert "actions=write" in str(info.value)
    assert info.value.permissions == (("actions=write",),)
    assert not server.reruns


def test_accepted_permissions_header():
    assert rest_api.accepted_permissions({"X-Accepted-GitHub-Permissions": "actions=write"}) == (("actions=write",),)
    both = "repository_projects=write; organization_projects=admin"
    assert rest_api.accepted_permissions({"x-accepted-github-permissions": both}) == (
        ("repository_projects=write",),
        ("organization_projects=admin",),
    )
    assert rest_api.accepted_permissions({"x-accepted-github-permissions": "contents=read,pull_requests=write"}) == (
        ("contents=read", "pull_requests=write"),
    )
    assert rest_api.accepted_permissions({}) == ()


def test_a_fine_grained_token_is_checked_by_reading_and_its_writes_are_unknown(server):
    server.token_permissions = {"metadata": "read", "actions": "write", "contents": "read", "pull_requests": "read"}
    checks = {c.feature: c for c in permissions.check_token(connect(server), REPO, hook_id=None)}
    assert checks["sync"].state == "ok"
    assert checks["issues"].state == "missing" and "issues=read" in checks["issues"].detail
    assert checks["contents"].state == "ok"
    assert checks["reruns"].state == "unchecked", "a write cannot be tried without doing it"
    assert checks["deliveries"].state == "not_applicable", "no hook yet"
    assert not server.writes(), "the check changes nothing on GitHub"


def test_a_classic_tokens_scopes_answer_for_every_feature(server):
    server.token_scopes = "repo, workflow"
    checks = {c.feature: c for c in permissions.check_token(connect(server), REPO, hook_id=None)}
    assert {c.state for c in checks.values()} == {"ok", "not_applicable"}
    assert checks["reruns"].state == checks["pull_requests"].state == "ok"
    server.token_scopes = "read:user"
    checks = {c.feature: c for c in permissions.check_token(connect(server), REPO, hook_id=4242)}
    assert checks["reruns"].state == "missing" and "repo" in checks["reruns"].detail
    assert checks["deliveries"].state == "missing"
