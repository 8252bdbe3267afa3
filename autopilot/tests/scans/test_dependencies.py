import functools
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopilot.scans import dependencies as deps
from autopilot.scans import npm_semver

REQUIREMENTS = """\
# production pins
requests[socks,security]==2.31.0 ; python_version >= "3.8"   # HTTP
Django >= 4.2, < 5
zope.Interface~=5.4
numpy==1.26.4 \\
    --hash=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\
    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
-i https://pypi.org/simple
--extra-index-url https://example.org/simple
-r requirements-dev.txt
-e git+https://github.com/acme/tool.git#egg=tool
https://files.example.org/pkg-1.0.tar.gz
./vendor/localpkg
flask @ https://github.com/pallets/flask/archive/main.zip
psycopg2-binary
not a requirement ###
"""


def by_name(result):
    return {d.name: d for d in result.dependencies}


def test_requirements_pins_ranges_extras_markers_and_lines():
    includes = {"requirements-dev.txt": "pytest==8.3.3  # tests\n-r requirements.txt\n"}
    result = deps.parse_requirements(REQUIREMENTS, "requirements.txt", loader=includes.get)
    found = by_name(result)
    assert found["requests"].pinned_version == "2.31.0"
    assert found["requests"].extras == ("security", "socks")
    assert found["requests"].marker == 'python_version >= "3.8"'
    assert found["requests"].line == 2
    assert found["django"].spec == ">=4.2,<5" and found["django"].pinned_version is None
    assert found["zope-interface"].spec == "~=5.4"  # PEP 503 name
    assert found["numpy"].hashed and found["numpy"].line == 5 and found["numpy"].pinned_version == "1.26.4"
    assert found["pytest"].file == "requirements-dev.txt" and found["pytest"].line == 1
    assert found["psycopg2-binary"].spec == "" and found["psycopg2-binary"].pinned_version is None
    reasons = {u.line: u.reason for u in result.unparseable}
    assert "editable" in reasons[11]
    assert "URL or local path" in reasons[12] and "URL or local path" in reasons[13]
    assert "URL" in reasons[14]
    assert "PEP 508" in reasons[16]
    cycle = [u for u in result.unparseable if u.file == "requirements-dev.txt"]
    assert cycle and "cycle" in cycle[0].reason


def test_includes_resolve_relative_and_refuse_escapes():
    files = {"reqs/base.txt": "-r common/extra.txt\nlxml==5.2.1\n", "reqs/common/extra.txt": "babel==2.16.0\n"}
    result = deps.parse_requirements("-r reqs/base.txt\n-r ../outside.txt\n", "requirements.txt", files.get)
    assert {d.name: d.file for d in result.dependencies} == {"babel": "reqs/common/extra.txt", "lxml": "reqs/base.txt"}
    assert [u.reason for u in result.unparseable] == ["include outside the repository"]
    missing = deps.parse_requirements("-r nope.txt\n", "requirements.txt", files.get)
    assert "not found" in missing.unparseable[0].reason
    unfollowed = deps.parse_requirements("-r reqs/base.txt\n", "requirements.txt")
    assert "not followed" in unfollowed.unparseable[0].reason


PYPROJECT = """\
[project]
name = "acme-erp"
dependencies = [
    "requests>=2.31",
    'lxml==5.2.1 ; sys_platform != "win32"',
    "pkg @ git+https://github.com/acme/pkg.git",
]

[project.optional-dependencies]
test = ["pytest==8.3.3", "hypothesis>=6"]

[tool.poetry.dependencies]
python = "^3.10"
babel = "^2.14"
Werkzeug = { version = "~3.0.3", extras = ["watchdog"] }
internal = { git = "https://github.com/acme/internal.git" }
pinned = "1.2.3"

[tool.poetry.group.dev.dependencies]
ruff = "0.6.9"
"""


def test_pyproject_pep621_and_poetry():
    result = deps.parse_pyproject(PYPROJECT)
    found = {(d.name, d.group): d for d in result.dependencies}
    assert found[("requests", "")].spec == ">=2.31" and found[("requests", "")].line == 4
    assert found[("lxml", "")].pinned_version == "5.2.1" and "win32" in found[("lxml", "")].marker
    assert found[("pytest", "test")].line == 10
    assert found[("babel", "")].spec == "^2.14" and found[("babel", "")].line == 14
    assert found[("werkzeug", "")].extras == ("watchdog",) and found[("werkzeug", "")].spec == "~3.0.3"
    assert found[("pinned", "")].pinned_version == "1.2.3"
    assert found[("ruff", "dev")].pinned_version == "0.6.9" and found[("ruff", "dev")].line == 20
    assert ("python", "") not in found
    assert sorted(u.reason.split(",")[0] for u in result.unparseable) == [
        "direct URL reference",
        "git/path/URL source",
    ]


def test_poetry_constraints_translate_to_pep440():
    assert deps.satisfies("PyPI", "2.99", "^2.14") and not deps.satisfies("PyPI", "3.0", "^2.14")
    assert deps.satisfies("PyPI", "0.2.9", "^0.2.3") and not deps.satisfies("PyPI", "0.3.0", "^0.2.3")
    assert deps.satisfies("PyPI", "3.0.9", "~3.0.3") and not deps.satisfies("PyPI", "3.1.0", "~3.0.3")
    assert deps.satisfies("PyPI", "1.2.3", "1.2.3") and not deps.satisfies("PyPI", "1.2.4", "1.2.3")
    assert deps.satisfies("PyPI", "5.0", "*")
    with pytest.raises(deps.VersionError):
        deps.pep440_specifier(">=not a version")


PACKAGE_JSON = """{
  "name": "acme-web",
  "version": "1.0.0",
  "scripts": {"lodash": "echo not a dependency"},
  "dependencies": {
    "lodash": "^4.17.20",
    "@babel/core": "7.24.0",
    "left-pad": "github:stevemao/left-pad",
    "local-lib": "file:../lib",
    "tagged": "latest",
    "shorthand": "acme/repo"
  },
  "devDependencies": {
    "jest": "~29.7.0",
    "Chalk": ">=4 <6"
  }
}
"""


def test_package_json_sections_lines_and_non_registry_specs():
    result = deps.parse_package_json(PACKAGE_JSON)
    found = by_name(result)
    assert found["lodash"].line == 6 and found["lodash"].group == ""
    assert found["@babel/core"].pinned_version == "7.24.0"
    assert found["jest"].group == "devDependencies" and found["jest"].line == 14
    assert found["Chalk"].spec == ">=4 <6"
    assert {u.text.split(":")[0] for u in result.unparseable} == {"left-pad", "local-lib", "tagged", "shorthand"}


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        ("package.json", "{not json", "not valid JSON"),
        ("package.json", "[]", "JSON object"),
        ("pyproject.toml", "[project\n", "not valid TOML"),
        ("setup.cfg", "", "not a known"),
    ],
)
def test_unreadable_manifests_raise_typed_errors(path, text, problem):
    with pytest.raises(deps.ManifestError, match=problem):
        deps.parse_manifest(path, text)


def test_manifest_dispatch_by_name():
    assert deps.manifest_kind("requirements-dev.txt") == "requirements"
    assert deps.manifest_kind("requirements/prod.txt") == "requirements"
    assert deps.manifest_kind("web/package.json") == "package.json"
    assert deps.manifest_kind("README.txt") is None


# --------------------------------------------------------------------------
# versions
# --------------------------------------------------------------------------


def test_pep440_order_and_bump_kinds():
    ordered = ["1.0.dev1", "1.0a1", "1.0rc1", "1.0", "1.0.post1", "1.1", "2.0", "1!0.1"]
    assert deps.sort_versions("PyPI", reversed(ordered)) == ordered
    assert deps.compare_versions("PyPI", "1.10", "1.9") == 1
    assert deps.bump_kind("PyPI", "1.2.3", "1.2.4") == "patch"
    assert deps.bump_kind("PyPI", "1.2", "1.3") == "minor"
    assert deps.bump_kind("PyPI", "1.9.9", "2.0") == "major"
    assert deps.bump_kind("PyPI", "2024.1", "1!0.1") == "major"
    assert deps.bump_kind("npm", "1.2.3", "1.2.4-beta.1") == "patch"
    with pytest.raises(deps.VersionError):
        deps.compare_versions("PyPI", "1.0", "banana")


@pytest.mark.parametrize(
    ("version", "spec", "inside"),
    [
        ("1.2.3", "^1.2.0", True),
        ("2.0.0", "^1.2.0", False),
        ("2.0.0-beta.1", "^1.2.0", False),
        ("1.3.0-beta", "^1.2.0", False),
        ("1.2.4-beta", "^1.2.4-alpha", True),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.4", "^0.0.3", False),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.9.9", "~1", True),
        ("1.9.9", "1.x", True),
        ("2.0.0", "1.x", False),
        ("1.2.7", "1.2.*", True),
        ("3.4.5", "*", True),
        ("3.4.5", "", True),
        ("1.5.0", "1.2 - 2.3", True),
        ("2.3.9", "1.2 - 2.3", True),
        ("2.4.0", "1.2 - 2.3", False),
        ("1.0.0", ">=1.0.0 <2", True),
        ("2.0.0", ">=1.0.0 <2", False),
        ("5.1.0", "<1 || >=5", True),
        ("3.0.0", "<1 || >=5", False),
        ("0.5.0", ">0.4", True),
        ("0.4.9", ">0.4", False),
        ("1.2.3", "= 1.2.3", True),
        ("1.2.3", ">= 1.2", True),
        ("1.2.3", "v1.2.3", True),
        ("1.2.3", "<=1.2", True),
    ],
)
def test_npm_ranges(version, spec, inside):
    assert deps.satisfies("npm", version, spec) is inside


def test_npm_bad_ranges_are_typed_errors():
    for spec in ("latest", ">=banana", "^1.2.x-beta"):
        with pytest.raises(deps.VersionError):
            deps.satisfies("npm", "1.0.0", spec)
    assert npm_semver.max_satisfying(["1.0.0", "1.5.0", "2.0.0", "junk"], "^1.0.0") == "1.5.0"


semver = st.builds(
    lambda major, minor, patch, pre: f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else ""),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 30),
    st.one_of(st.none(), st.sampled_from(["alpha", "alpha.1", "beta", "beta.2", "rc.1", "0", "1", "x-y"])),
)


@given(st.lists(semver, min_size=2, max_size=12))
def test_npm_order_is_a_total_order_consistent_with_compare(versions):
    by_key = sorted(versions, key=lambda v: deps.version_key("npm", v))
    by_compare = sorted(versions, key=functools.cmp_to_key(lambda a, b: deps.compare_versions("npm", a, b)))
    assert [deps.version_key("npm", v) for v in by_key] == [deps.version_key("npm", v) for v in by_compare]
    for a, b in itertools.pairwise(by_key):
        assert deps.compare_versions("npm", a, b) <= 0 and deps.compare_versions("npm", b, a) >= 0


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.sampled_from(["alpha", "beta.1", "rc.2", "0"]))
def test_npm_prerelease_sorts_before_its_release(major, minor, patch, pre):
    release = f"{major}.{minor}.{patch}"
    assert deps.compare_versions("npm", f"{release}-{pre}", release) == -1
    assert deps.is_prerelease("npm", f"{release}-{pre}") and not deps.is_prerelease("npm", release)


@given(semver.filter(lambda v: "-" not in v), semver.filter(lambda v: "-" not in v))
def test_npm_caret_and_tilde_match_their_definition(base, candidate):
    b = npm_semver.SemVer.parse(base)
    c = npm_semver.SemVer.parse(candidate)
    if b.major > 0:
        upper = (b.major + 1, 0, 0)
    elif b.minor > 0:
        upper = (0, b.minor + 1, 0)
    else:
        upper = (0, 0, b.patch + 1)
    assert deps.satisfies("npm", candidate, f"^{base}") is (b.triple <= c.triple < upper)
    assert deps.satisfies("npm", candidate, f"~{base}") is (b.triple <= c.triple < (b.major, b.minor + 1, 0))


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)), min_size=2, max_size=10))
def test_pep440_release_order_matches_tuple_order(triples):
    versions = [".".join(map(str, t)) for t in triples]
    ordered = deps.sort_versions("PyPI", versions)
    keys = [tuple(int(p) for p in v.split(".")) for v in ordered]
    assert keys == sorted(keys)
