import pytest

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
