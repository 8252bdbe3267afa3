import json
import zipfile
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from autopilot.common.datafiles import DATA_DIR
from autopilot.common.errors import BadAnswer, RateLimited, ServiceUnavailable, TooLarge
from autopilot.github import rest_api
from autopilot.github.archives import read_zip
from autopilot.scans import artifacts, reports
from autopilot.scans.findings import Finding, Suppression, apply_suppressions
from autopilot.testing import npm_contracts
from autopilot.testing.github_scans_server import ScanGitHub, make_zip

SAMPLES = DATA_DIR / "scan_samples"


def sample(name):
    return (SAMPLES / name).read_bytes()


def by_id(result):
    return {f.advisory_id: f for f in result.findings}


def test_pip_audit_report():
    result = reports.parse_report(sample("pip-audit.json"))
    assert result.format == "pip-audit"
    found = by_id(result)
    assert set(found) == {"PYSEC-2021-439", "GHSA-j8r2-6x86-q33q", "PYSEC-2022-168"}
    assert found["PYSEC-2021-439"].fixed_version == "3.2.10"  # lowest fix above 3.2.9, not 2.2.25
    assert found["PYSEC-2022-168"].package == "pillow" and found["PYSEC-2022-168"].fixed_version == ""
    assert "CVE-2023-32681" in found["GHSA-j8r2-6x86-q33q"].aliases
    assert result.skipped and result.skipped[0].startswith("odoo-addon-internal:")
    legacy = reports.parse_report(sample("pip-audit-legacy.json"))
    assert [(f.package, f.fixed_version) for f in legacy.findings] == [("aiohttp", "3.7.4")]


def test_trivy_report():
    result = reports.parse_report(sample("trivy.json"))
    assert result.format == "trivy"
    found = by_id(result)
    assert len(result.findings) == 4
    assert found["CVE-2023-32681"].ecosystem == "PyPI" and found["CVE-2023-32681"].severity == "medium"
    assert found["CVE-2021-44420"].package == "django" and found["CVE-2021-44420"].fixed_version == "3.2.10"
    assert found["CVE-2021-23337"].severity == "high"  # UNKNOWN label: computed from the CVSS vector
    assert found["CVE-2021-23337"].path == "package-lock.json"
    assert found["CVE-2024-2961"].ecosystem == "debian" and found["CVE-2024-2961"].fixed_version == "2.36-9+deb12u7"


def test_trivy_omits_an_empty_installed_version():
    """Trivy writes its report with Go's ``omitempty``: a finding without a known version has no field at all."""
    report = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "requirements.txt",
                "Type": "pip",
                "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-2023-32681", "PkgName": "requests", "FixedVersion": "2.31.0"},
                    {"VulnerabilityID": "CVE-2021-44420", "PkgName": "Django", "InstalledVersion": "3.2.9"},
                ],
            }
        ],
    }
    result = reports.parse_report(json.dumps(report))
    found = by_id(result)
    assert (found["CVE-2023-32681"].version, found["CVE-2023-32681"].fixed_version) == ("", "2.31.0")
    assert found["CVE-2021-44420"].version == "3.2.9"


def test_npm_audit_v2_report():
    result = reports.parse_report(sample("npm-audit-v2.json"))
    found = by_id(result)
    assert set(found) == {"GHSA-35jh-r3h4-6jhm", "GHSA-29mw-wpgm-hmr9", "GHSA-xvch-5gv4-984h"}
    assert found["GHSA-35jh-r3h4-6jhm"].fixed_version == "4.17.21"
    assert found["GHSA-29mw-wpgm-hmr9"].severity == "medium"  # npm's "moderate"
    assert found["GHSA-xvch-5gv4-984h"].severity == "critical"
    assert found["GHSA-xvch-5gv4-984h"].fixed_version == ""  # the fix is an upgrade of another package
    assert result.findings[0].severity == "critical"


def test_npm_audit_v1_report():
    result = reports.parse_report(sample("npm-audit-v1.json"))
    pairs = sorted((f.advisory_id, f.package, f.version, f.fixed_version) for f in result.findings)
    assert pairs == [
        ("GHSA-vh95-rmgr-6w4m", "minimist", "0.0.8", ""),
        ("GHSA-vh95-rmgr-6w4m", "minimist", "1.2.0", ""),
        ("NPM-146", "growl", "1.9.2", "1.10.2"),
    ]
    growl = next(f for f in result.findings if f.package == "growl")
    assert growl.aliases == ("CVE-2017-16042",) and growl.severity == "critical"


def test_sarif_reports():
    bandit = reports.parse_report(sample("bandit.sarif"))
    assert bandit.tool == "Bandit"
    assert [(f.advisory_id, f.severity, f.path, f.line) for f in bandit.findings] == [
        ("B602", "high", "addons/ops_tools/models/backup.py", 57),
        ("B105", "low", "addons/ops_tools/demo/setup_demo.py", 12),
    ]
    codeql = by_id(reports.parse_report(sample("codeql.sarif")))
    assert codeql["py/sql-injection"].severity == "high"  # security-severity 8.8
    assert codeql["py/sql-injection"].url.startswith("https://codeql.github.com/")
    assert codeql["py/unused-import"].severity == "low"  # rule default level "note"
    assert codeql["py/sql-injection"].source == "sarif:CodeQL"
    assert codeql["py/sql-injection"].fingerprint != codeql["py/clear-text-logging-sensitive-data"].fingerprint


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("pip-audit.json", "pip-audit"),
        ("pip-audit-legacy.json", "pip-audit"),
        ("trivy.json", "trivy"),
        ("npm-audit-v1.json", "npm-audit"),
        ("npm-audit-v2.json", "npm-audit"),
        ("bandit.sarif", "sarif"),
        ("codeql.sarif", "sarif"),
    ],
)
def test_format_detection(name, fmt):
    assert reports.detect_format(json.loads(sample(name))) == fmt


@pytest.mark.parametrize(
    ("raw", "fmt", "fragment"),
    [
        (b"\xff\xfe not utf8", "auto", "not UTF-8"),
        (b"{not json", "auto", "not JSON"),
        (b'{"hello": "world"}', "auto", "not a pip-audit, Trivy"),
        (b'{"version": "2.0.0", "runs": []}', "sarif", "$.version"),
        (b'{"version": "2.1.0"}', "sarif", "$.runs: missing"),
        (
            b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "X"}}, "results": [{"message": {}}]}]}',
            "sarif",
            "ruleId",
        ),
        (
            b'{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-1"}]}]}',
            "trivy",
            "PkgName: missing",
        ),
        (b'{"SchemaVersion": 9}', "trivy", "unsupported schema"),
        (b'{"auditReportVersion": 2, "vulnerabilities": {"x": {"via": "nope"}}}', "npm-audit", "expected list"),
        (
            b'{"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile."}}',
            "auto",
            "ENOLOCK",
        ),
        (b'{"dependencies": [{"name": "x", "vulns": []}]}', "pip-audit", "version: missing"),
        (b"[1, 2, 3]", "sarif", "expected an object"),
    ],
)
def test_garbage_reports_name_the_problem(raw, fmt, fragment):
    with pytest.raises(reports.ReportFormatError) as info:
        reports.parse_report(raw, fmt)
    assert fragment in str(info.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "runs",
                    "Results",
                    "dependencies",
                    "vulns",
                    "name",
                    "auditReportVersion",
                    "vulnerabilities",
                    "advisories",
                    "via",
                    "SchemaVersion",
                    "tool",
                    "driver",
                    "results",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200)
@given(json_values, st.sampled_from(["auto", *reports.FORMATS]))
def test_any_json_yields_findings_or_a_format_error(value, fmt):
    try:
        result = reports.parse_report(json.dumps(value), fmt)
    except reports.ReportFormatError:
        return
    assert all(isinstance(f, Finding) for f in result.findings)


# --------------------------------------------------------------------------
# suppressions
# --------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def test_suppressions_by_advisory_alias_package_and_expiry():
    report = reports.parse_report(sample("pip-audit.json")).findings
    suppressions = [
        Suppression(advisory="cve-2023-32681", reason="no proxy in production", expires_at=NOW + timedelta(days=30)),
        Suppression(package="Pillow", reason="thumbnails only", expires_at=NOW - timedelta(seconds=1)),
        Suppression(advisory="PYSEC-2021-439", package="flask", reason="other package"),
    ]
    active, suppressed = apply_suppressions(report, suppressions, NOW)
    assert [f.advisory_id for f, _ in suppressed] == ["GHSA-j8r2-6x86-q33q"]
    assert sorted(f.advisory_id for f in active) == ["PYSEC-2021-439", "PYSEC-2022-168"]
    later_active, _ = apply_suppressions(report, suppressions, NOW + timedelta(days=31))
    assert len(later_active) == 3  # the 30-day suppression expired: shown again
    forever = [Suppression(package="DJANGO")]
    assert [f.package for f, _ in apply_suppressions(report, forever, NOW)[1]] == ["django"]
    with pytest.raises(ValueError):
        Suppression(reason="names nothing")


# --------------------------------------------------------------------------
# artifacts
# --------------------------------------------------------------------------


@pytest.fixture
def gh():
    server = ScanGitHub().start()
    server.add_repo("acme/erp")
    yield server
    server.stop()


def connect(server):
    return rest_api.connect(server.url, "test-token", timeout=5, retries=0)


def test_artifact_reports_are_listed_downloaded_and_parsed(gh):
    gh.add_artifact("acme/erp", 77, "coverage", {"coverage.xml": b"<xml/>"})
    gh.add_artifact(
        "acme/erp",
        77,
        "security-reports",
        {
            "pip-audit.json": sample("pip-audit.json"),
            "nested/codeql.sarif": sample("codeql.sarif"),
            "broken.json": b"{",
            "notes.txt": b"hello",
            "../../escape.json": b"{}",
        },
    )
    client = connect(gh)
    listed = artifacts.list_artifacts(client, "acme/erp", 77)
    assert [a.name for a in listed] == ["coverage", "security-reports"]
    (wanted,) = artifacts.list_artifacts(client, "acme/erp", 77, name="security-reports")
    files = artifacts.download_artifact(client, "acme/erp", wanted)
    assert set(files.files) == {"pip-audit.json", "nested/codeql.sarif", "broken.json", "notes.txt"}
    assert files.skipped == (("../../escape.json", "unsafe path"),)
    by_path = {r.path: r for r in artifacts.read_reports(files.files)}
    assert set(by_path) == {"pip-audit.json", "nested/codeql.sarif", "broken.json"}
    assert by_path["broken.json"].result is None and "not JSON" in by_path["broken.json"].error
    assert by_path["pip-audit.json"].result.format == "pip-audit"
    download = gh.storage.calls("GET", r"^/artifacts/")
    # GitHub redirects to blob storage on another host, which refuses the API token
    assert download and "authorization" not in download[0].headers


def test_artifact_trouble(gh):
    client = connect(gh)
    expired = gh.add_artifact("acme/erp", 5, "old", {"a.json": b"{}"}, expired=True)
    (listed,) = artifacts.list_artifacts(client, "acme/erp", 5)
    with pytest.raises(BadAnswer, match="expired"):
        artifacts.download_artifact(client, "acme/erp", listed)
    assert listed.id == expired["id"]
    gh.add_artifact("acme/erp", 6, "big", {"a.json": b"x" * 5000})
    (big,) = artifacts.list_artifacts(client, "acme/erp", 6)
    with pytest.raises(TooLarge):
        artifacts.download_artifact(client, "acme/erp", big, max_bytes=100)
    gh.add_artifact("acme/erp", 7, "garbage", raw_zip=b"this is not a zip file")
    (garbage,) = artifacts.list_artifacts(client, "acme/erp", 7)
    with pytest.raises(BadAnswer, match="not a zip"):
        artifacts.download_artifact(client, "acme/erp", garbage)
    gh.fail_next(1, status=429, headers={"Retry-After": "30"}, path_re="/artifacts$")
    with pytest.raises(RateLimited) as info:
        artifacts.list_artifacts(client, "acme/erp", 7)
    assert info.value.retry_after == 30
    gh.storage.fail_next(1, status=503, path_re=r"^/artifacts/")
    with pytest.raises(ServiceUnavailable):
        artifacts.download_artifact(client, "acme/erp", garbage)


def test_zip_bombs_and_links_are_left_out():
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.json", b"0" * 200_000)  # compresses to almost nothing
        link = zipfile.ZipInfo("link.json")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("ok.json", b"{}")
    files = read_zip(buffer.getvalue(), max_file_bytes=100_000)
    assert set(files.files) == {"ok.json"}
    assert dict(files.skipped) == {"big.json": "too large", "link.json": "link"}
    assert read_zip(make_zip({"a": b"1", "b": b"2"}), max_files=1).skipped == (("b", "file limit"),)


def test_cyclonedx_bom_vulnerabilities():
    """A CycloneDX BOM is its own format (it has a ``dependencies`` list too, which is not pip-audit's)."""
    data = json.loads(sample("cyclonedx.json"))
    assert reports.detect_format(data) == "cyclonedx"
    result = reports.parse_report(sample("cyclonedx.json"))
    assert (result.format, result.tool) == ("cyclonedx", "trivy")
    found = by_id(result)
    assert set(found) == {"CVE-2021-44420", "GHSA-j8r2-6x86-q33q"}, "the VEX 'not_affected' statement is left out"
    django = found["CVE-2021-44420"]
    assert (django.package, django.ecosystem, django.version, django.fixed_version) == (
        "django",
        "PyPI",
        "3.2.9",
        "3.2.10",
    )
    assert django.severity == "high" and "GHSA-v6rh-hp5x-86rv" in django.aliases
    assert django.url == "https://nvd.nist.gov/vuln/detail/CVE-2021-44420"
    requests = found["GHSA-j8r2-6x86-q33q"]
    assert (requests.package, requests.version, requests.severity) == ("requests", "2.28.2", "medium")
    assert "CVE-2023-32681" in requests.aliases


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"bomFormat": "CycloneDX", "specVersion": "0.9"}', "specVersion"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": {}}', "vulnerabilities"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"affects": []}]}', "id: missing"),
    ],
)
def test_broken_cyclonedx_boms_name_the_problem(raw, fragment):
    with pytest.raises(reports.ReportFormatError) as info:
        reports.parse_report(raw)
    assert fragment in str(info.value) and "cyclonedx" in str(info.value)


def test_the_cyclonedx_sample_is_valid_against_cyclonedxs_published_schema():
    """The sample the parsers read is one a real tool could write: CycloneDX's own JSON schema (pinned, from npm)."""
    folder = npm_contracts.package_dir("@cyclonedx/cyclonedx-library")
    if folder is None and npm_contracts.ensure():
        pytest.skip(npm_contracts.UNAVAILABLE)
    folder = npm_contracts.package_dir("@cyclonedx/cyclonedx-library") / "res" / "schema"
    bom = json.loads(sample("cyclonedx.json"))
    schema = json.loads((folder / f"bom-{bom['specVersion']}.SNAPSHOT.schema.json").read_text())
    # the BOM schema refers to its neighbours by file name, relative to its own $id
    resources = [
        (f"http://cyclonedx.org/schema/{name}", json.loads((folder / name).read_text()))
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")
    ]
    registry = Registry().with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT7)) for uri, contents in resources
    )
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema, registry=registry).iter_errors(bom)
    ]
    assert errors == []
