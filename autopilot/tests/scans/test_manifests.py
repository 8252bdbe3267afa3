"""Which manifests a scan reads through the contents API: patterns, includes read once, trouble."""

import pytest

from autopilot.common.errors import RateLimited
from autopilot.github import rest_api
from autopilot.scans import manifests
from autopilot.scans.dependencies import DEFAULT_MANIFESTS
from autopilot.testing.github_scans_server import ScanGitHub

FILES = {
    "requirements.txt": "requests==2.28.2\n-r requirements-dev.txt\n",
    "requirements-dev.txt": "pytest==8.3.3\n",
    "requirements-docs.txt": "sphinx==7.4.7\n",
    "requirements.in": "not a match of requirements*.txt\n",
    "notrequirements.txt": "flask==3.0.3\n",
    "package.json": '{"dependencies": {"lodash": "4.17.20"}}',
    "ci/requirements-lint.txt": "ruff==0.6.9\n",
    "src/app.py": "print('hi')\n",
}


@pytest.fixture
def gh():
    server = ScanGitHub().start()
    server.seed_repo("acme/erp", FILES)
    yield server
    server.stop()


@pytest.fixture
def client(gh):
    return rest_api.connect(gh.url, "test-token", timeout=5, retries=0)


def names(scan):
    return sorted((d.file, d.name) for d in scan.result.dependencies)


def test_default_patterns_read_every_requirements_file_at_the_root_once(gh, client):
    assert "requirements*.txt" in DEFAULT_MANIFESTS
    scan = manifests.collect_dependencies(client, "acme/erp")
    assert names(scan) == [
        ("package.json", "lodash"),
        ("requirements-dev.txt", "pytest"),  # matched and included with -r: counted once
        ("requirements-docs.txt", "sphinx"),
        ("requirements.txt", "requests"),
    ]
    assert scan.missing == ("pyproject.toml",) and scan.errors == ()
    assert scan.ref == gh.branch_sha("acme/erp", "main")
    # one listing of the root, then the files at that commit
    listings = gh.calls("GET", r"/contents/?$")
    assert len(listings) == 1 and listings[0].arg("ref") == scan.ref


def test_patterns_in_a_folder_and_patterns_that_match_nothing(gh, client):
    scan = manifests.collect_dependencies(client, "acme/erp", ("ci/requirements-*.txt", "docs/*.txt", "x/*.toml"))
    assert names(scan) == [("ci/requirements-lint.txt", "ruff")]
    assert scan.missing == ("docs/*.txt", "x/*.toml")


def test_the_files_of_the_commit_read_not_a_later_push(gh, client):
    first = gh.branch_sha("acme/erp", "main")
    gh.commit("acme/erp", {"requirements-new.txt": "attrs==24.2.0\n"}, branch="main")
    old = manifests.collect_dependencies(client, "acme/erp", ref=first)
    new = manifests.collect_dependencies(client, "acme/erp")
    assert "attrs" not in {d.name for d in old.result.dependencies}
    assert "attrs" in {d.name for d in new.result.dependencies}


def test_a_rate_limited_listing_stops_the_scan_with_its_wait(gh, client):
    gh.fail_next(1, status=403, headers={"X-RateLimit-Remaining": "0", "Retry-After": "120"}, path_re=r"/contents/?$")
    with pytest.raises(RateLimited) as info:
        manifests.collect_dependencies(client, "acme/erp")
    assert info.value.retry_after == 120


def test_a_manifest_over_one_megabyte_is_read_through_the_blob_api(gh, client):
    """Past 1 MB the contents API answers ``encoding: "none"`` and no content: the git blob API has the bytes."""
    big = "# generated, do not edit\n" + "# padding line to make a large lock file\n" * 30_000 + "flask==3.0.3\n"
    assert len(big) > 1024 * 1024
    gh.commit("acme/erp", {"requirements-lock.txt": big}, branch="main")
    repo = client.get_repo("acme/erp")
    assert manifests.read_text(repo, "requirements-lock.txt") == big
    assert gh.calls("GET", r"/git/blobs/")
