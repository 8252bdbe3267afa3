import json
import subprocess
import sys

import pytest

from autopilot.selfheal import router
from autopilot.selfheal.router import ChangedFile, Route, categorize, complexity, route, route_files
from autopilot.testing import fixtures
from autopilot.testing import github_payloads as gp
from autopilot.testing.fixtures import REPO


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("addons/sale_stock_x/models/sale.py", ["oca_modules", "python"]),
        ("addons/web_x/static/src/js/widget.js", ["oca_modules", "javascript"]),
        ("custom_addons/acme_sale/__manifest__.py", ["custom_addons", "python"]),
        ("custom_addons/acme/migrations/18.0.1.1.0/pre-migrate.py", ["custom_addons", "database", "python"]),
        ("Dockerfile", ["docker"]),
        ("docker/Dockerfile.prod", ["docker"]),
        ("docker-compose.override.yml", ["docker"]),
        ("terraform/main.tf", ["infrastructure"]),
        ("infra/k8s/deployment.yaml", ["infrastructure"]),
        ("docs/index.rst", ["documentation"]),
        ("README.md", ["documentation"]),
        (".github/workflows/ci.yml", ["workflows"]),
        ("scripts/deploy.sh", ["scripts"]),
        ("scripts/tool.py", ["scripts", "python"]),
        ("web/src/App.tsx", ["javascript"]),
        ("db/schema.sql", ["database"]),
        ("setup.cfg", ["other"]),
    ],
)
def test_seed_routes_classify_files(path, expected):
    assert categorize(path) == expected


def test_custom_addons_is_not_an_oca_module():
    assert "oca_modules" not in categorize("custom_addons/x/models/a.py")
    assert "oca_modules" not in categorize("src/addons_extra/a.txt")


@pytest.mark.parametrize(
    ("files", "lines", "expected"),
    [
        (1, 0, "low"),
        (3, 50, "low"),
        (4, 10, "medium"),
        (3, 51, "medium"),
        (10, 300, "medium"),
        (11, 1, "high"),
        (2, 301, "high"),
    ],
)
def test_complexity_thresholds(files, lines, expected):
    assert complexity(files, lines) == expected


def test_route_list_of_files_counts_lines_and_orders_workflows():
    decision = route(
        [
            {"filename": "README.md", "additions": 5, "deletions": 1},
            {"filename": "addons/x/models/a.py", "additions": 40, "deletions": 10},
        ]
    )
    assert decision.summary() == {
        "categories": ["oca_modules", "python", "documentation"],
        "workflows": ["oca-tests.yml", "python-tests.yml", "docs.yml"],
        "complexity": "medium",
    }
    assert decision.changed_lines == 56 and decision.lines_known


def test_rename_counts_the_old_path_too():
    decision = route([{"filename": "docs/x.md", "additions": 0, "deletions": 0, "previous_filename": "db/x.sql"}])
    assert set(decision.categories) == {"documentation", "database"}


def test_a_rename_is_one_file_for_complexity():
    renames = [
        {"filename": f"docs/new{i}.md", "additions": 1, "deletions": 1, "previous_filename": f"docs/old{i}.md"}
        for i in range(3)
    ]
    decision = route(renames)
    assert len(decision.files) == 6, "both paths of each rename are routed"
    assert (decision.file_count, decision.changed_lines, decision.complexity) == (3, 6, "low")
    assert route([*renames, {"filename": "a.py", "additions": 1, "deletions": 0}]).complexity == "medium"


def test_push_payload_uses_the_net_files_of_its_commits():
    payload = gp.push_event(
        "acme/erp",
        commits=[
            {"added": ["addons/a/models/x.py", "tmp.txt"], "modified": []},
            {"removed": ["tmp.txt"], "modified": ["Dockerfile"]},
        ],
    )
    decision = route(payload)
    assert decision.files == {"Dockerfile": ["docker"], "addons/a/models/x.py": ["oca_modules", "python"]}
    assert not decision.lines_known
    assert decision.complexity == "low"


def test_pull_request_payload_without_files_judges_complexity_from_its_totals():
    payload = gp.pull_request_event("acme/erp")
    payload["pull_request"].update(changed_files=12, additions=10, deletions=0)
    decision = route(payload)
    assert decision.categories == [] and decision.complexity == "high"


def test_custom_routes_and_globs():
    routes = [
        Route("translations", ("*.po", "*.pot"), "i18n.yml"),
        Route("root_only", ("/setup.py",), ""),
        Route("deep", ("src/**/test_*.py",), "unit.yml"),
    ]
    decision = route_files(
        [
            ChangedFile("addons/x/i18n/fr.po", 1, 1),
            ChangedFile("setup.py", 1, 0),
            ChangedFile("src/a/b/test_x.py", 2, 0),
        ],
        routes,
    )
    assert decision.categories == ["translations", "root_only", "deep"]
    assert decision.workflows == ["i18n.yml", "unit.yml"], "a route without workflow dispatches nothing"
    assert categorize("lib/setup.py", routes) == ["other"], "a leading / anchors at the root"
    assert categorize("src/test_x.py", routes) == ["deep"], "** spans zero directories too"


@pytest.mark.parametrize("bad", ["", "  ", "x" * 600])
def test_bad_globs_are_refused(bad):
    assert router.glob_error(bad)
    with pytest.raises(ValueError):
        Route("x", (bad,))


def test_bad_categories_are_refused():
    with pytest.raises(ValueError):
        Route("Not A Category", ("*.py",))


def test_split_patterns_accepts_lines_and_commas():
    assert router.split_patterns("*.py, *.js\n docs/** \n") == ("*.py", "*.js", "docs/**")


def test_unreadable_inputs_raise_value_errors():
    for data in ({"zen": "x"}, 42, [{"additions": 1}], [3]):
        with pytest.raises(ValueError):
            route(data)


def _cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "autopilot", "route", *args], cwd=REPO, input=stdin, capture_output=True, check=False
    )


def test_cli_prints_one_json_object(tmp_path):
    path = tmp_path / "files.json"
    path.write_text(json.dumps([{"filename": "Dockerfile", "additions": 3, "deletions": 1}]))
    result = _cli(str(path))
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "categories": ["docker"],
        "workflows": ["docker-build.yml"],
        "complexity": "low",
    }


def test_cli_reads_stdin_and_reports_bad_input():
    ok = _cli("-", "--details", stdin=json.dumps(gp.push_event("a/b", commits=[{"added": ["x.sql"]}])).encode())
    assert ok.returncode == 0 and json.loads(ok.stdout)["files"] == {"x.sql": ["database"]}
    bad = _cli("-", stdin=b"{not json")
    assert bad.returncode == 2 and "error" in json.loads(bad.stdout)
    assert _cli("/nonexistent.json").returncode == 2


def test_cli_on_published_payloads(needs_fixtures):
    for event, path in fixtures.fixture_files():
        if event not in ("push", "pull_request"):
            continue
        result = _cli(str(path))
        assert result.returncode == 0, (path, result.stdout)
        answer = json.loads(result.stdout)
        assert set(answer) == {"categories", "workflows", "complexity"}
        _body, payload = fixtures.load(path)
        if event == "push" and any(c.get("added") == ["README.md"] for c in payload.get("commits", [])):
            assert answer["categories"] == ["documentation"]
