import base64
import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement

from autopilot.common.errors import NotFound, RateLimited, Rejected
from autopilot.github import dispatch, rest_api
from autopilot.scans import manifests, update_prs
from autopilot.scans.package_index import Update, group_updates
from autopilot.testing.github_scans_server import ScanGitHub

REQUIREMENTS = """\
# pinned for production
requests[socks] == 2.31.0 ; python_version >= "3.8"  # HTTP client
Django~=4.2
flask>=2,<3
numpy==1.26.4 \\
    --hash=sha256:aaaa
zope.interface==5.0
-r requirements-dev.txt
"""

PACKAGE_JSON = """{
  "name": "acme-web",
  "scripts": {"lodash": "1.0.0"},
  "dependencies": {
    "lodash": "^4.17.20",
    "@babel/core": "~7.24.0",
    "left-pad": "github:stevemao/left-pad"
  },
  "devDependencies": {"jest": "29.7.0", "eslint": ">=8 <9"}
}
"""

PYPROJECT = """\
[project]
name = "acme"
dependencies = [
  "requests==2.31.0",
  'babel ~= 2.14 ; python_version > "3"',
]

[tool.poetry.dependencies]
python = "^3.10"
Werkzeug = { version = "^3.0.3", extras = ["watchdog"] }
lxml = "5.2.1"

[tool.other]
lxml = "1.0"
"""


def changed_lines(before, after):
    return [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]


def test_requirements_edit_keeps_everything_but_the_version():
    changes = {"requests": "2.32.3", "django": "5.1.2", "flask": "3.0.3", "numpy": "2.1.0", "zope-interface": "7.1"}
    result = update_prs.edit_requirements(REQUIREMENTS, changes)
    assert changed_lines(REQUIREMENTS, result.text) == [
        (
            'requests[socks] == 2.31.0 ; python_version >= "3.8"  # HTTP client',
            'requests[socks] == 2.32.3 ; python_version >= "3.8"  # HTTP client',
        ),
        ("Django~=4.2", "Django~=5.1"),
        ("zope.interface==5.0", "zope.interface==7.1"),
    ]
    assert dict(result.problems).keys() == {"flask", "numpy"}
    assert "hash" in dict(result.problems)["numpy"] and "by hand" in dict(result.problems)["flask"]
    assert update_prs.edit_requirements(result.text, changes).text == result.text  # idempotent


def test_package_json_edit_only_touches_dependency_sections():
    result = update_prs.edit_package_json(
        PACKAGE_JSON, {"lodash": "4.17.21", "@babel/core": "7.25.2", "jest": "30.0.0", "eslint": "9.0.0"}
    )
    assert changed_lines(PACKAGE_JSON, result.text) == [
        ('    "lodash": "^4.17.20",', '    "lodash": "^4.17.21",'),
        ('    "@babel/core": "~7.24.0",', '    "@babel/core": "~7.25.2",'),
        (
            '  "devDependencies": {"jest": "29.7.0", "eslint": ">=8 <9"}',
            '  "devDependencies": {"jest": "30.0.0", "eslint": ">=8 <9"}',
        ),
    ]
    assert '"scripts": {"lodash": "1.0.0"}' in result.text
    assert [name for name, _ in result.problems] == ["eslint"]


def test_pyproject_edit_pep621_and_poetry_tables_only():
    result = update_prs.edit_pyproject(
        PYPROJECT, {"requests": "2.32.3", "babel": "2.16.0", "werkzeug": "3.1.3", "lxml": "5.3.0"}
    )
    assert changed_lines(PYPROJECT, result.text) == [
        ('  "requests==2.31.0",', '  "requests==2.32.3",'),
        ("  'babel ~= 2.14 ; python_version > \"3\"',", "  'babel ~= 2.16 ; python_version > \"3\"',"),
        (
            'Werkzeug = { version = "^3.0.3", extras = ["watchdog"] }',
            'Werkzeug = { version = "^3.1.3", extras = ["watchdog"] }',
        ),
        ('lxml = "5.2.1"', 'lxml = "5.3.0"'),
    ]


@pytest.mark.parametrize(
    ("ecosystem", "spec", "version", "expected"),
    [
        ("PyPI", "==1.0", "2.0", "==2.0"),
        ("PyPI", "===1.0", "2.0", "===2.0"),
        ("PyPI", "~=1.4", "2.1.3", "~=2.1"),
        ("PyPI", "~=1.4.2", "2.1", "~=2.1.0"),
        ("PyPI", "^1.2", "2.0.1", "^2.0"),
        ("PyPI", "1.2.3", "1.3.0", "1.3.0"),
        ("npm", "1.2.3", "2.0.0", "2.0.0"),
        ("npm", "^1.2.3", "2.0.0", "^2.0.0"),
        ("npm", "=1.2.3", "1.3.0", "=1.3.0"),
    ],
)
def test_new_spec_keeps_the_style(ecosystem, spec, version, expected):
    assert update_prs.new_spec(ecosystem, spec, version) == expected


@pytest.mark.parametrize(("ecosystem", "spec"), [("PyPI", ">=1,<2"), ("PyPI", "==1.*"), ("npm", "1.x"), ("npm", "*")])
def test_ranges_are_left_to_humans(ecosystem, spec):
    with pytest.raises(update_prs.EditError):
        update_prs.new_spec(ecosystem, spec, "3.0.0")


@given(
    st.lists(st.sampled_from(["requests", "Django", "flask", "numpy", "zope.interface", "lxml"]), max_size=4),
    st.sampled_from(["1.0", "2.5.1", "10.0.0"]),
)
def test_edits_change_only_the_named_declarations(names, version):
    changes = {name.lower().replace(".", "-"): version for name in names}
    result = update_prs.edit_requirements(REQUIREMENTS, changes)
    for _before, after in changed_lines(REQUIREMENTS, result.text):
        requirement = Requirement(after.split("#")[0])
        assert requirement.name.lower().replace(".", "-") in changes
        assert requirement.specifier.contains(version)  # the edited declaration admits the new version
    assert len(result.text.splitlines()) == len(REQUIREMENTS.splitlines())


# --------------------------------------------------------------------------
# through GitHub
# --------------------------------------------------------------------------


@pytest.fixture
def gh():
    server = ScanGitHub().start()
    server.seed_repo(
        "acme/erp",
        {
            "requirements.txt": REQUIREMENTS,
            "requirements-dev.txt": "pytest==8.3.3\n",
            "web/package.json": PACKAGE_JSON,
            "README.md": "# ERP\n",
        },
    )
    yield server
    server.stop()


def connect(server):
    return rest_api.connect(server.url, "test-token", timeout=5, retries=0)


NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def updates():
    return [
        Update("PyPI", "requests", "2.31.0", "2.32.3", NOW - timedelta(days=30), "minor", "requirements.txt", 2),
        Update("PyPI", "pytest", "8.3.3", "8.4.1", NOW - timedelta(days=9), "minor", "requirements-dev.txt", 1),
        Update("PyPI", "numpy", "1.26.4", "1.27.0", NOW - timedelta(days=9), "minor", "requirements.txt", 5),
        Update("npm", "lodash", "4.17.20", "4.17.21", NOW - timedelta(days=800), "patch", "web/package.json", 5),
    ]


def test_manifests_are_read_at_one_commit_with_includes(gh):
    scan = manifests.collect_dependencies(
        connect(gh), "acme/erp", ["requirements.txt", "web/package.json", "pyproject.toml"]
    )
    assert scan.ref == gh.branch_sha("acme/erp", "main")
    names = {(d.name, d.file) for d in scan.result.dependencies}
    assert ("pytest", "requirements-dev.txt") in names and ("lodash", "web/package.json") in names
    assert scan.missing == ("pyproject.toml",) and scan.errors == ()
    refs = {call.query.get("ref", [None])[0] for call in gh.calls("GET", r"/contents/")}
    assert refs == {scan.ref}


def test_grouped_draft_pr_is_opened_on_its_own_branch(gh):
    client = connect(gh)
    main_before = gh.files_at("acme/erp", "main")
    plan = group_updates(updates(), max_groups=5)
    pypi_group = next(g for g in plan.to_open if g.key == "pypi-minor")
    result = update_prs.open_update_pr(client, "acme/erp", pypi_group, labels=("dependencies",))
    assert result.created and result.number and result.branch == "autopilot/deps/pypi-minor"
    assert result.changed_files == ("requirements-dev.txt", "requirements.txt")
    assert [name for name, _ in result.problems] == ["numpy"]
    branch_files = gh.files_at("acme/erp", result.branch)
    assert "requests[socks] == 2.32.3" in branch_files["requirements.txt"]
    assert branch_files["requirements-dev.txt"] == "pytest==8.4.1\n"
    assert gh.files_at("acme/erp", "main") == main_before  # the default branch is never written
    assert all(call.json().get("branch") == result.branch for call in gh.calls("PUT", r"/contents/"))
    (created,) = gh.calls("POST", r"/pulls$")
    body = created.json()
    assert body["draft"] is True and body["base"] == "main" and body["head"] == result.branch
    assert "| `requests` | 2.31.0 | 2.32.3 |" in body["body"] and "`numpy`: hash-pinned" in body["body"]
    assert base64.b64decode(gh.calls("PUT", r"/contents/")[0].json()["content"]).decode().count("\n") > 0
    assert update_prs.open_update_branches(client, "acme/erp") == ("autopilot/deps/pypi-minor",)
    pull = client.get_repo("acme/erp").get_pull(result.number)
    assert pull.draft and [label.name for label in pull.labels] == ["dependencies"]


def test_where_drafts_are_not_supported_a_ready_pull_request_is_opened(gh):
    """Private repositories of some plans answer 422 to a draft: the PR is opened ready, and its body says so."""
    gh.drafts_unsupported.add("acme/erp")
    group = next(g for g in group_updates(updates(), max_groups=5).to_open if g.key == "pypi-minor")
    result = update_prs.open_update_pr(connect(gh), "acme/erp", group)
    assert result.created and result.number and not result.draft
    first, second = gh.calls("POST", r"/pulls$")
    assert first.json()["draft"] is True and second.json()["draft"] is False
    assert "cannot be a draft" in second.json()["body"]
    assert not connect(gh).get_repo("acme/erp").get_pull(result.number).draft


def test_a_manifest_over_one_megabyte_is_edited(gh):
    """The contents API gives no content past 1 MB (``encoding: "none"``): the edit reads the git blob instead."""
    padding = "# pinned by the release team\n" * 40_000
    gh.commit("acme/erp", {"requirements.txt": padding + REQUIREMENTS}, branch="main")
    group = next(g for g in group_updates(updates(), max_groups=5).to_open if g.key == "pypi-minor")
    result = update_prs.open_update_pr(connect(gh), "acme/erp", group)
    assert "requirements.txt" in result.changed_files
    edited = gh.files_at("acme/erp", result.branch)["requirements.txt"]
    assert edited.startswith(padding) and "requests[socks] == 2.32.3" in edited


def test_running_twice_changes_nothing(gh):
    client = connect(gh)
    group = group_updates(updates()).to_open[0]
    first = update_prs.open_update_pr(client, "acme/erp", group)
    writes = len(gh.writes())
    second = update_prs.open_update_pr(client, "acme/erp", group)
    assert (second.number, second.created, second.changed_files) == (first.number, False, ())
    assert len(gh.writes()) == writes  # no commit, no ref, no pull request


def test_a_proposal_closed_unmerged_is_declined_until_a_newer_release(gh):
    client = connect(gh)
    group = group_updates(updates()).to_open[0]
    assert group.key == "npm-patch"
    result = update_prs.open_update_pr(client, "acme/erp", group)
    assert f"ops-autopilot:update-set:{group.fingerprint}" in gh.pulls[("acme/erp", result.number)]["body"]
    assert update_prs.declined_updates(client, "acme/erp", [group]) == ()  # still open
    gh.pulls[("acme/erp", result.number)]["state"] = "closed"
    declined = update_prs.declined_updates(client, "acme/erp", [group])
    assert declined == ((group.branch, group.fingerprint),)
    plan = group_updates(updates(), declined=declined)
    assert [g.key for g in plan.declined] == ["npm-patch"] and "npm-patch" not in {g.key for g in plan.to_open}
    newer = [dataclasses.replace(u, latest="4.17.22") if u.name == "lodash" else u for u in updates()]
    replan = group_updates(newer, declined=declined)
    assert not replan.declined and "npm-patch" in {g.key for g in replan.to_open}


def test_nothing_to_change_opens_nothing(gh):
    client = connect(gh)
    only_hashed = [u for u in updates() if u.name == "numpy"]
    result = update_prs.open_update_pr(client, "acme/erp", group_updates(only_hashed).to_open[0])
    assert result.number is None and not result.created and result.problems
    assert not gh.calls("POST", r"/pulls$")


def test_github_trouble_is_typed(gh):
    client = connect(gh)
    group = group_updates(updates()).to_open[0]
    gh.fail_next(1, status=429, headers={"Retry-After": "45"}, path_re=r"/git/refs$")
    with pytest.raises(RateLimited) as info:
        update_prs.open_update_pr(client, "acme/erp", group)
    assert info.value.retry_after == 45
    with pytest.raises(NotFound):
        manifests.collect_dependencies(client, "acme/missing")


# --------------------------------------------------------------------------
# migration dry-run dispatch
# --------------------------------------------------------------------------


def test_dispatch_and_find_the_run(gh):
    client = connect(gh)
    workflow = gh.add_workflow("acme/erp")
    gh.add_run(
        "acme/erp",
        path=workflow["path"],
        event="workflow_dispatch",
        branch="main",
        started=datetime.now(timezone.utc) - timedelta(hours=3),
    )  # an older dry-run
    at = dispatch.dispatch_workflow(
        client, "acme/erp", "migration-dry-run.yml", "main", {"target_version": 18.0, "dry_run": True}
    )
    assert gh.dispatches == [("acme/erp", workflow["id"], "main", {"target_version": "18.0", "dry_run": True})]
    run = dispatch.find_dispatched_run(client, "acme/erp", "migration-dry-run.yml", "main", at)
    assert run is not None and run.event == "workflow_dispatch" and run.created_at >= at - dispatch.CLOCK_SKEW
    assert (
        dispatch.find_dispatched_run(
            client, "acme/erp", "migration-dry-run.yml", "main", at, exclude_ids=[run.github_id]
        )
        is None
    )


def test_dispatch_errors(gh):
    client = connect(gh)
    gh.add_workflow("acme/erp")
    with pytest.raises(Rejected, match="422"):
        dispatch.dispatch_workflow(client, "acme/erp", "migration-dry-run.yml", "no-such-branch")
    with pytest.raises(NotFound):
        dispatch.dispatch_workflow(client, "acme/erp", "unknown.yml", "main")
    with pytest.raises(ValueError):
        dispatch.dispatch_workflow(client, "acme/erp", "migration-dry-run.yml", "main", {"x": ["list"]})
    gh.dispatch_creates_runs = False
    at = dispatch.dispatch_workflow(client, "acme/erp", "migration-dry-run.yml", "main")
    assert dispatch.find_dispatched_run(client, "acme/erp", "migration-dry-run.yml", "main", at) is None
