from datetime import datetime, timedelta, timezone

import pytest

from autopilot.common.errors import RateLimited
from autopilot.github import rest_api
from autopilot.scans import records, security_issues
from autopilot.scans.deadcode import DeadCodeFinding
from autopilot.scans.findings import Finding
from autopilot.scans.licenses import PackageVerdict, SbomPackage
from autopilot.scans.package_index import Update
from autopilot.scans.regression import RegressionResult
from autopilot.testing.github_scans_server import ScanGitHub

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
LODASH = Finding(
    "GHSA-35jh-r3h4-6jhm",
    aliases=("CVE-2021-23337",),
    package="lodash",
    ecosystem="npm",
    version="4.17.20",
    fixed_version="4.17.21",
    severity="high",
    summary="Command Injection in lodash",
    url="https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
    source="osv",
    path="package.json",
)


def test_security_values_keep_identity_and_numbers():
    values = records.security_values(LODASH)
    assert values["dedup_key"] == LODASH.fingerprint == "npm:lodash:4.17.20:GHSA-35jh-r3h4-6jhm"
    assert values["title"] == "lodash 4.17.20: Command Injection in lodash"
    assert values["aliases"] == "CVE-2021-23337" and values["severity"] == "high"
    code = Finding("B602", severity="weird", source="sarif:bandit", path="erp/run.py", line=12, summary="shell=True")
    assert records.security_values(code)["dedup_key"] == "sarif:bandit:erp/run.py:12:B602"
    assert records.security_values(code)["severity"] == "unknown"


def test_update_values_are_keyed_per_declaration_not_per_version():
    update = Update("PyPI", "Django", "4.2.15", "4.2.16", NOW, "patch", "requirements.txt", 3, "==4.2.15")
    newer = Update("PyPI", "django", "4.2.15", "4.2.17", NOW, "patch", "requirements.txt", 3, "==4.2.15")
    assert records.update_values(update)["dedup_key"] == records.update_values(newer)["dedup_key"]
    values = records.update_values(update)
    assert (values["version"], values["fixed_version"], values["severity"]) == ("4.2.15", "4.2.16", "low")
    assert "2026-11-22" in values["detail"]
    major = Update("npm", "lodash", "4.17.20", "5.0.0", None, "major", "package.json", 4)
    assert records.update_values(major)["severity"] == "medium"


def test_deadcode_values_survive_line_moves():
    one = DeadCodeFinding("erp/tools.py", 8, "function", "orphan", 60, "unused function 'orphan'", "https://x/#L8")
    moved = DeadCodeFinding("erp/tools.py", 30, "function", "orphan", 60, "unused function 'orphan'", "https://x/#L30")
    assert records.deadcode_values(one)["dedup_key"] == records.deadcode_values(moved)["dedup_key"]
    assert records.deadcode_values(one)["advisory_id"] == "vulture:unused-function"


def test_license_values_skip_allowed_and_rank_the_rest():
    def verdict(name, value):
        return PackageVerdict(SbomPackage(name, "1.0", "PyPI", "AGPL-3.0-only"), value, value)

    assert records.license_values(verdict("ok", "allowed")) is None
    assert records.license_values(verdict("bad", "denied"))["severity"] == "high"
    assert records.license_values(verdict("hmm", "review"))["severity"] == "low"
    assert records.license_values(verdict("Hmm_Pkg", "unknown"))["dedup_key"] == "license:PyPI:hmm-pkg"


def test_regression_values_carry_the_numbers():
    result = RegressionResult("workflow:ci.yml", 20, 7, 100.0, 120.0, 180.0, 200.0, 80.0, 0.0001, True, "median +80.0%")
    values = records.regression_values(result, "Workflow CI")
    assert values["dedup_key"] == "regression:workflow:ci.yml"
    assert "100.0 → 180.0 (+80.0%)" in values["detail"] and "20 baseline / 7 recent" in values["detail"]
    calm = RegressionResult("k", 20, 7, 100.0, 1, 101.0, 1, 1.0, 0.5, False, "no")
    assert records.regression_values(calm, "k") is None
    assert records.regression_stats(calm)["p_value"] == 0.5


def test_incidents_only_for_serious_security_findings():
    assert records.raises_incident("security", "critical")
    assert not records.raises_incident("security", "medium")
    assert not records.raises_incident("license_compliance", "high")
    assert records.incident_key("Acme/ERP", "ghsa-x") == "scan:security:acme/erp:GHSA-X"


@pytest.mark.parametrize(
    ("kind", "done", "retry_after", "expected"),
    [
        ("unavailable", 0, None, 900),
        ("unavailable", 1, None, 3600),
        ("rate_limited", 0, 7200, 7200),
        ("rate_limited", 0, 10, 900),
        ("bad_answer", 2, None, 4 * 3600),
        ("unavailable", 3, None, None),
        ("rejected", 0, None, None),
        ("not_found", 0, None, None),
    ],
)
def test_retry_delay(kind, done, retry_after, expected):
    assert records.retry_delay(kind, done, retry_after) == expected


def test_text_settings():
    assert records.parse_ignore_list("django:major, lodash@>=5\n# comment\n@babel/core:minor") == (
        "django:major",
        "lodash@>=5",
        "@babel/core:minor",
    )
    assert records.parse_workflow_inputs("target=18.0\n\n# note\nkeep = yes ") == {"target": "18.0", "keep": "yes"}
    assert records.parse_workflow_inputs('{"dry": true, "n": 3}') == {"dry": True, "n": "3"}
    for bad in ("novalue", "a=1\na=2", "bad name=1", "[1]", '{"x": [1]}', "{"):
        with pytest.raises(ValueError):
            records.parse_workflow_inputs(bad)


def test_claims_dispatch():
    at = datetime(2026, 11, 22, 12, 0)
    path = ".github/workflows/migration-dry-run.yml"
    args = ("workflow_dispatch", path, "main", at + timedelta(seconds=5), "migration-dry-run.yml", "main", at)
    assert records.claims_dispatch(*args)
    assert records.claims_dispatch("workflow_dispatch", path, "main", at - timedelta(seconds=30), path, "main", at)
    assert not records.claims_dispatch("push", *args[1:])
    assert not records.claims_dispatch("workflow_dispatch", path, "dev", *args[3:])
    assert not records.claims_dispatch(*args[:3], at - timedelta(minutes=5), *args[4:])
    assert not records.claims_dispatch(*args[:4], "other.yml", *args[5:])


# --------------------------------------------------------------------------
# one issue per advisory
# --------------------------------------------------------------------------


def test_issue_body_is_markdown_safe():
    hostile = Finding("GHSA-1", package="evil|pkg\n<!--", version="1", severity="critical", summary="x|y", source="osv")
    title, body = security_issues.build_issue("acme/erp", "GHSA-1", [hostile])
    assert title == "[critical] GHSA-1 in evil|pkg <!--"
    assert "| evil pkg < !-- |" in body and body.startswith("<!-- ops-autopilot:advisory:GHSA-1 -->")


def test_publish_opens_once_and_finds_closed_issues():
    gh = ScanGitHub().start()
    try:
        gh.seed_repo("acme/erp", {"README.md": "x"})
        client = rest_api.connect(gh.url, "test-token", timeout=5, retries=0)
        first = security_issues.publish_issue(client, "acme/erp", LODASH.advisory_id, [LODASH])
        again = security_issues.publish_issue(client, "acme/erp", LODASH.advisory_id.lower(), [LODASH])
        assert first.created and not again.created and again.number == first.number
        assert len(gh.calls("POST", r"/issues$")) == 1
        gh.scan_issues["acme/erp"][first.number]["state"] = "closed"
        assert security_issues.find_issue(client, "acme/erp", LODASH.advisory_id).number == first.number
        gh.fail_next(1, status=429, headers={"Retry-After": "60"}, path_re=r"/issues$")
        with pytest.raises(RateLimited):
            security_issues.publish_issue(client, "acme/erp", "GHSA-other", [LODASH])
    finally:
        gh.stop()
