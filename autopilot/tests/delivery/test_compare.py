from datetime import datetime, timedelta

import pytest

from autopilot.common.errors import Rejected, ServiceError
from autopilot.delivery import deployments as d
from autopilot.github import rest_api
from autopilot.testing.github_delivery_server import DeliveryGitHub

MONDAY = datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def server():
    fake = DeliveryGitHub().start()
    fake.add_repo("acme/erp")
    yield fake
    fake.stop()


def client(server, token="test-token"):
    return rest_api.connect(server.url, token, timeout=5)


def compare_calls(server):
    return [c for c in server.calls() if "/compare/" in c.path]


def test_compare_pages_through_every_commit_oldest_first(server):
    base = server.dated_commit("acme/erp", "Initial", MONDAY)
    messages = [f"Change {i}" for i in range(1, 231)] + ["Add login (#12)", "Merge pull request #13 from acme/fix"]
    shas = server.history("acme/erp", messages, MONDAY + timedelta(hours=1), step=timedelta(minutes=5), author="alice")
    result = d.compare(client(server), "acme/erp", base, shas[-1], per_page=100)
    assert not result.too_many and result.commits_state == "done"
    assert [c.sha for c in result.commits] == shas
    assert result.commits[0].committed_at == MONDAY + timedelta(hours=1)
    assert result.commits[0].author == "alice"
    assert result.commits[-2].pull_request_numbers == (12,)
    assert result.commits[-1].pull_request_numbers == (13,)
    assert result.commits[-1].message == "Merge pull request #13 from acme/fix"
    pages = compare_calls(server)
    assert len(pages) == 3, [c.path for c in pages]  # 232 commits, 100 a page


def test_compare_keeps_the_oldest_commits_past_the_cap(server):
    base = server.dated_commit("acme/erp", "Initial", MONDAY)
    shas = server.history("acme/erp", [f"Change {i}" for i in range(12)], MONDAY + timedelta(hours=1))
    result = d.compare(client(server), "acme/erp", base, shas[-1], cap=5, per_page=3)
    assert result.too_many and result.commits_state == "too_many"
    assert [c.sha for c in result.commits] == shas[:5]


def test_compare_of_an_older_commit_brings_nothing(server):
    shas = server.history("acme/erp", ["One", "Two", "Three"], MONDAY)
    assert d.compare(client(server), "acme/erp", shas[2], shas[0]).commits == ()
    assert d.compare(client(server), "acme/erp", shas[1], shas[1]).commits == ()
    assert not compare_calls(server)[1:]  # the same commit is not asked at all


def test_compare_failure_is_a_service_error_without_the_token(server):
    shas = server.history("acme/erp", ["One", "Two"], MONDAY)
    with pytest.raises(Rejected) as caught:
        d.compare(client(server, token="wrong-token"), "acme/erp", shas[0], shas[1])
    assert "wrong-token" not in str(caught.value)
    with pytest.raises(ServiceError):
        d.compare(client(server), "acme/erp", "0" * 40, shas[1])


@pytest.mark.parametrize(
    "message, numbers",
    [
        ("Fix login (#123)", (123,)),
        ("Merge pull request #7 from acme/topic\n\nbody", (7,)),
        ("Refers to #9 in passing", ()),
        ("", ()),
    ],
)
def test_pull_request_numbers_from_merge_messages(message, numbers):
    assert d.pull_request_numbers(message) == numbers
