import pytest

from autopilot.common import errors
from autopilot.github import ci, rest_api
from autopilot.testing.github_ci_server import CIGitHub


@pytest.fixture(scope="module")
def server():
    server = CIGitHub(token="t0k").start()
    yield server
    server.stop()


def connect(server):
    return rest_api.connect(server.url, "t0k", timeout=5, retries=0)


def test_a_comparison_of_more_than_300_files_is_said_to_be_partial(server):
    """GitHub lists at most 300 files of a comparison, on its first page only: the list is partial."""
    base = server.seed_repo("acme/big", {"README.md": "x\n"})
    head = server.commit("acme/big", {f"addons/mod/file_{i:03}.py": f"x = {i}\n" for i in range(350)}, parent=base)
    files, complete = ci.compare_files(connect(server), "acme/big", base, head)
    assert len(files) == ci.COMPARE_FILES_CAP == 300 and not complete
    small = server.commit("acme/big", {"README.md": "y\n"}, parent=head)
    files, complete = ci.compare_files(connect(server), "acme/big", head, small)
    assert [f["filename"] for f in files] == ["README.md"] and complete


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_for_not_refused(server, status):
    """GitHub: a secondary rate limit without retry-after (and x-ratelimit-remaining above 0) means 'wait a minute'."""
    run = server.add_run("acme/limits", conclusion="failure", jobs=[{"name": "test", "conclusion": "failure"}])
    server.secondary_rate_limit(1, path_re="rerun-failed-jobs", status=status)
    with pytest.raises(errors.RateLimited) as info:
        ci.rerun_failed_jobs(connect(server), "acme/limits", run["id"])
    assert info.value.retry_after >= 60
    server.secondary_rate_limit(1, path_re="rerun-failed-jobs", retry_after=240)
    with pytest.raises(errors.RateLimited) as told:
        ci.rerun_failed_jobs(connect(server), "acme/limits", run["id"])
    assert told.value.retry_after == 240
    assert ci.rerun_failed_jobs(connect(server), "acme/limits", run["id"])


def test_a_refusal_is_still_a_refusal(server):
    run = server.add_run("acme/limits", conclusion="failure", jobs=[{"name": "test", "conclusion": "failure"}])
    server.fail_next(1, status=403, body={"message": "Resource not accessible by integration"}, path_re="rerun")
    with pytest.raises(errors.Rejected):
        ci.rerun_failed_jobs(connect(server), "acme/limits", run["id"])
