"""The freeze commit status through PyGithub against the local GitHub, validated against GitHub's description."""

import pytest
from github import GithubException

from autopilot.business import freeze_status as fs
from autopilot.common.errors import ServiceError
from autopilot.github import rest_api
from autopilot.testing.github_freeze_server import FreezeGitHub

REPO = "acme/shop"


@pytest.fixture
def github():
    server = FreezeGitHub().start()
    server.add_repo(REPO)
    server.commit(REPO, {"README.md": "hello\n"}, branch="main")
    yield server
    server.stop()


def client_of(server):
    return rest_api.connect(server.url, server.token, timeout=5)


def open_pull(server, number, branch):
    server.commit(REPO, {f"{branch}.txt": branch}, parent=server.branch_sha(REPO, "main"), branch=branch)
    server.add_pull(REPO, number, branch)
    return server.branch_sha(REPO, branch)


def test_description_is_cut_to_githubs_limit():
    text = fs.status_description("Year-end close " * 20)
    assert len(text) == fs.MAX_DESCRIPTION and text.endswith("…")
    assert fs.status_description("Month-end close") == "Change freeze: Month-end close"
    assert fs.status_description("x", frozen=False) == "No change freeze in force"


def test_pending_then_success_only_on_change(github):
    client = client_of(github)
    sha1, sha2 = open_pull(github, 1, "feature-a"), open_pull(github, 2, "feature-b")
    heads = fs.open_pull_heads(client, REPO)
    assert {(h.number, h.sha) for h in heads} == {(1, sha1), (2, sha2)}

    posted = {}
    for change in fs.plan_statuses(heads, posted, frozen=True, reason="Month-end close"):
        fs.post_status(client, REPO, change.sha, change.state, change.description, "https://erp.example/freeze/1")
        posted[change.sha] = (change.state, change.description)
    [status] = github.statuses_of(REPO, sha1, fs.CONTEXT)
    assert status["state"] == "pending" and status["description"] == "Change freeze: Month-end close"
    assert status["target_url"] == "https://erp.example/freeze/1"
    assert fs.plan_statuses(heads, posted, frozen=True, reason="Month-end close") == []  # nothing re-posted

    changes = fs.plan_statuses(heads, posted, frozen=False)
    assert {c.state for c in changes} == {"success"} and len(changes) == 2


def test_the_fake_refuses_what_github_refuses(github):
    client = client_of(github)
    sha = open_pull(github, 1, "feature-a")
    with pytest.raises(ServiceError):
        fs.post_status(client, REPO, "0" * 40, "pending", "x")  # unknown commit: 422
    too_long = "x" * 141
    with pytest.raises(GithubException) as refused:
        client.requester.requestJsonAndCheck(
            "POST", f"/repos/{REPO}/statuses/{sha}", input={"state": "pending", "description": too_long}
        )
    assert refused.value.status == 422 and "140" in str(refused.value.data)
    assert github.statuses_of(REPO, sha) == []
