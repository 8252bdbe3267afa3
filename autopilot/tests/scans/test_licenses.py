import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopilot.common.datafiles import DATA_DIR
from autopilot.common.errors import BadAnswer, NotFound, RateLimited, ServiceUnavailable
from autopilot.github import rest_api
from autopilot.scans import licenses, scheduled
from autopilot.scans.licenses import LicensePolicy
from autopilot.testing.github_scans_server import ScanGitHub

SAMPLE = json.loads((DATA_DIR / "scan_samples" / "github-sbom.json").read_text())
POLICY = LicensePolicy.from_text(
    allowed="MIT, Apache-2.0\nBSD-3-Clause LGPL-3.0-or-later",
    review="MPL-2.0, GPL-3.0-or-later  # copyleft: ask legal\nCC-BY-4.0",
    denied="AGPL-3.0-only AGPL-3.0-or-later",
)


@pytest.mark.parametrize(
    ("expression", "verdict"),
    [
        ("MIT", "allowed"),
        ("mit", "allowed"),
        ("AGPL-3.0-only", "denied"),
        ("MIT OR AGPL-3.0-only", "allowed"),  # one allowed option suffices
        ("MIT AND AGPL-3.0-only", "denied"),  # both apply: the worst wins
        ("GPL-3.0-or-later OR AGPL-3.0-only", "review"),
        ("(MIT OR AGPL-3.0-only) AND MPL-2.0", "review"),
        ("MIT OR AGPL-3.0-only AND MPL-2.0", "allowed"),  # AND binds tighter than OR
        ("(MIT OR AGPL-3.0-only) AND (Apache-2.0 OR MPL-2.0)", "allowed"),
        ("Apache-2.0 AND Foo-1.0", "unknown"),
        ("AGPL-3.0-only OR Foo-1.0", "unknown"),
        ("GPL-3.0+", "review"),  # "+" means or-later
        ("LGPL-3.0-or-later WITH openvpn-openssl-exception", "allowed"),
        ("NOASSERTION", "unknown"),
        ("", "unknown"),
        ("MIT AND (", "unknown"),
        ("MIT OR OR Apache-2.0", "unknown"),
        ("MIT WITH", "unknown"),
        ("(MIT OR Apache-2.0) WITH Foo", "unknown"),
    ],
)
def test_expression_verdicts(expression, verdict):
    assert licenses.evaluate(expression, POLICY)[0] == verdict


def test_reasons_name_the_deciding_license_and_parse_errors():
    assert licenses.evaluate("MIT AND AGPL-3.0-only", POLICY)[1] == "denied: AGPL-3.0-only"
    assert "unparseable" in licenses.evaluate("MIT AND (", POLICY)[1]


def test_with_exception_can_be_listed_whole():
    policy = LicensePolicy.from_text(allowed="GPL-2.0-only WITH Classpath-exception-2.0", denied="GPL-2.0-only")
    assert licenses.evaluate("GPL-2.0-only WITH Classpath-exception-2.0", policy)[0] == "allowed"
    assert licenses.evaluate("GPL-2.0-only", policy)[0] == "denied"
    assert licenses.evaluate("GPL-2.0", policy)[0] == "denied"  # deprecated id means -only


def test_policy_refuses_an_id_under_two_verdicts():
    with pytest.raises(ValueError, match="mit"):
        LicensePolicy.from_lists(allowed=["MIT"], denied=["mit"])


def test_sbom_packages_skip_the_repository_and_read_purls():
    packages = {p.name: p for p in licenses.parse_sbom(SAMPLE)}
    assert "com.github.acme/erp" not in packages and "acme/erp" not in packages
    assert packages["@fortawesome/fontawesome-free"].ecosystem == "npm"
    assert packages["requests"].ecosystem == "PyPI" and packages["requests"].version == "2.31.0"
    assert packages["internal-helpers"].license == "NOASSERTION"
    assert packages["actions/checkout"].ecosystem == "GitHub Actions"
    assert packages["actions/checkout"].license == "MIT"  # licenseDeclared when nothing concluded


def test_cyclonedx_components_and_their_licences():
    """A CycloneDX BOM's components (licence ids, expressions and names) are read like an SPDX SBOM's packages."""
    bom = json.loads((DATA_DIR / "scan_samples" / "cyclonedx.json").read_text())
    packages = {p.name: p for p in licenses.parse_sbom(bom)}
    assert set(packages) == {"Django", "requests", "JSONStream", "@acme/left-pad", "lodash", "psycopg2"}
    assert (packages["Django"].ecosystem, packages["Django"].version, packages["Django"].license) == (
        "PyPI",
        "3.2.9",
        "BSD-3-Clause",
    )
    assert packages["JSONStream"].license == "MIT OR Apache-2.0" and packages["JSONStream"].ecosystem == "npm"
    assert packages["@acme/left-pad"].license == "NOASSERTION", "a licence name that is no SPDX id"
    assert packages["psycopg2"].license == "NOASSERTION"
    verdicts = {v.package.name: v.verdict for v in licenses.check_packages(packages.values(), POLICY)}
    assert verdicts["JSONStream"] == "allowed" and verdicts["@acme/left-pad"] == "unknown"


def test_verdicts_and_monthly_summary():
    verdicts = licenses.check_packages(licenses.parse_sbom(SAMPLE), POLICY)
    by_name = {v.package.name: v.verdict for v in verdicts}
    assert by_name == {
        "requests": "allowed",
        "psycopg2": "allowed",
        "chardet": "unknown",
        "@fortawesome/fontawesome-free": "unknown",  # OFL-1.1 is not in the policy
        "jszip": "allowed",
        "ghostscript-wrapper": "denied",
        "internal-helpers": "unknown",
        "actions/checkout": "allowed",
    }
    summary = licenses.summarize(verdicts)
    assert summary.total == 8
    assert summary.counts == {"allowed": 4, "review": 0, "unknown": 3, "denied": 1}
    assert [v.package.name for v in summary.denied] == ["ghostscript-wrapper"]
    text = licenses.summary_markdown(summary)
    assert "4 allowed" in text and "ghostscript-wrapper" in text and "AGPL-3.0-or-later" in text


def test_default_policy_suits_an_lgpl_addon():
    assert licenses.evaluate("LGPL-3.0-only")[0] == "allowed"
    assert licenses.evaluate("AGPL-3.0-or-later")[0] == "denied"
    assert licenses.evaluate("GPL-3.0-only")[0] == "review"


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"sbom": {"spdxVersion": "SPDX-3.0"}},
        {"sbom": {"spdxVersion": "SPDX-2.3", "packages": {}}},
        {"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "x"}]},
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {}},
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library"}]},
    ],
)
def test_garbage_sboms_are_bad_answers(document):
    with pytest.raises(BadAnswer):
        licenses.parse_sbom(document)


@pytest.fixture
def gh():
    server = ScanGitHub().start()
    server.add_repo("acme/erp")
    yield server
    server.stop()


def test_sbom_through_the_github_api(gh):
    client = rest_api.connect(gh.url, "test-token", timeout=5, retries=0)
    with pytest.raises(NotFound):
        licenses.fetch_sbom(client, "acme/erp")  # dependency graph disabled
    gh.sboms["acme/erp"] = SAMPLE["sbom"]
    packages = licenses.parse_sbom(licenses.fetch_sbom(client, "acme/erp"))
    assert len(packages) == 8
    assert gh.calls("GET", "/dependency-graph/sbom")[-1].headers["authorization"] == "token test-token"
    gh.fail_next(1, status=429, headers={"Retry-After": "90"}, body={"message": "API rate limit exceeded"})
    with pytest.raises(RateLimited) as info:
        licenses.fetch_sbom(client, "acme/erp")
    assert info.value.retry_after == 90 and "API rate limit exceeded" in str(info.value)
    # PyGithub's retry turns a secondary-rate-limit 403 into "too many 403 error responses"
    gh.fail_next(1, status=403, headers={"Retry-After": "90"}, body={"message": "secondary rate limit"})
    with pytest.raises(RateLimited, match="403"):
        licenses.fetch_sbom(client, "acme/erp")
    gh.fail_next(1, status=502)
    with pytest.raises(ServiceUnavailable, match="502"):
        licenses.fetch_sbom(client, "acme/erp")


ids = st.sampled_from(["MIT", "Apache-2.0", "MPL-2.0", "AGPL-3.0-only", "Foo-1.0", "GPL-3.0-or-later"])
trees = st.recursive(ids, lambda inner: st.tuples(st.sampled_from(["AND", "OR"]), inner, inner), max_leaves=6)


def render(tree):
    if isinstance(tree, str):
        return tree
    op, left, right = tree
    return f"({render(left)} {op} {render(right)})"


RANK = {v: i for i, v in enumerate(licenses.VERDICTS)}


@given(trees, trees)
def test_or_takes_the_best_and_and_the_worst(left, right):
    a, b = licenses.evaluate(render(left), POLICY)[0], licenses.evaluate(render(right), POLICY)[0]
    either = licenses.evaluate(f"{render(left)} OR {render(right)}", POLICY)[0]
    both = licenses.evaluate(f"{render(left)} AND {render(right)}", POLICY)[0]
    assert either == min(a, b, key=RANK.get) and both == max(a, b, key=RANK.get)
    assert licenses.evaluate(f"{render(right)} OR {render(left)}", POLICY)[0] == either


def test_license_scan_in_one_call(gh):
    gh.sboms["acme/erp"] = SAMPLE["sbom"]
    client = rest_api.connect(gh.url, "test-token", timeout=5, retries=0)
    scan = scheduled.license_scan(client, "acme/erp", POLICY)
    assert scan.summary.counts["denied"] == 1 and len(scan.verdicts) == 8
    assert scan.markdown.startswith("### License compliance")
