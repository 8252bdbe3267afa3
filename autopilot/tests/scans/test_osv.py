import copy
import json
from datetime import datetime, timezone

import pytest

from autopilot.common.backoff import BackoffPolicy
from autopilot.common.datafiles import DATA_DIR
from autopilot.common.errors import BadAnswer, NotFound, RateLimited, ServiceUnavailable
from autopilot.github import rest_api
from autopilot.scans import dependencies, findings, osv, scheduled
from autopilot.scans.dependencies import Dependency
from autopilot.scans.findings import Suppression
from autopilot.testing import contracts, pypi_contracts
from autopilot.testing.github_scans_server import ScanGitHub
from autopilot.testing.scan_servers import FakeOSV

SAMPLES = DATA_DIR / "scan_samples"
RECORDS = {r["id"]: r for r in json.loads((SAMPLES / "osv-records.json").read_text())}
NO_RETRY = BackoffPolicy(initial=0.01, max_attempts=0)


def dep(name, version, ecosystem="PyPI", file="requirements.txt"):
    return Dependency(ecosystem, name, f"=={version}" if version else ">=1", version, file, 1)


@pytest.fixture
def server():
    fake = FakeOSV().start()
    for record in RECORDS.values():
        fake.add_vuln(copy.deepcopy(record))
    yield fake
    fake.stop()


def client(server, **options):
    return osv.OSVClient(server.url, **{"timeout": 2, "policy": NO_RETRY, **options})


DEPS = [
    dep("requests", "2.28.2"),
    dep("Django", "3.2.9"),
    dep("lodash", "4.17.20", "npm", "package.json"),
    dep("flask", "3.0.3"),
    dep("requests", "2.28.2", file="requirements-dev.txt"),
    dep("babel", None),
]


def test_scan_maps_advisories_to_findings(server):
    scan = osv.scan_dependencies(client(server), DEPS)
    assert scan.checked == 4  # requests is asked once though declared twice
    assert [d.name for d in scan.skipped] == ["babel"]
    found = {f.advisory_id: f for f in scan.findings}
    assert set(found) == {"GHSA-j8r2-6x86-q33q", "PYSEC-2021-439", "GHSA-35jh-r3h4-6jhm"}
    requests = found["GHSA-j8r2-6x86-q33q"]
    assert (requests.package, requests.version, requests.fixed_version) == ("requests", "2.28.2", "2.31.0")
    assert requests.severity == "medium"  # CVSS 3.1 base 6.1
    assert "CVE-2023-32681" in requests.aliases and requests.source == "osv"
    assert requests.url == "https://nvd.nist.gov/vuln/detail/CVE-2023-32681"  # the ADVISORY reference
    django = found["PYSEC-2021-439"]
    assert django.fixed_version == "3.2.10"  # the fix on the 3.2 line, not 2.2.25
    assert django.severity == "unknown" and django.summary.startswith("In Django 2.2 before")
    assert found["GHSA-35jh-r3h4-6jhm"].severity == "high"  # CVSS 7.2
    assert scan.findings[0].severity == "high"  # most severe first
    assert len(server.calls("GET", r"/v1/vulns/")) == 3


def test_batches_respect_the_size_and_pages_are_followed(server):
    server.page_size = 1
    for number in range(3):
        extra = copy.deepcopy(RECORDS["GHSA-35jh-r3h4-6jhm"])
        extra["id"], extra["aliases"] = f"GHSA-xxxx-xxxx-00{number}", []
        server.add_vuln(extra)
    scan = osv.scan_dependencies(client(server, batch_size=2), DEPS)
    lodash = sorted(f.advisory_id for f in scan.findings if f.package == "lodash")
    assert lodash == ["GHSA-35jh-r3h4-6jhm", "GHSA-xxxx-xxxx-000", "GHSA-xxxx-xxxx-001", "GHSA-xxxx-xxxx-002"]
    batches = [json.loads(call.body)["queries"] for call in server.calls("POST", "/v1/querybatch")]
    assert all(len(queries) <= 2 for queries in batches)
    tokens = [q.get("page_token") for queries in batches for q in queries if q.get("page_token")]
    assert tokens == ["1", "2", "3"]  # lodash's pages, asked one after the other


def test_aliases_of_one_advisory_are_reported_once(server):
    twin = copy.deepcopy(RECORDS["GHSA-35jh-r3h4-6jhm"])
    twin["id"], twin["aliases"] = "CVE-2021-23337", ["GHSA-35jh-r3h4-6jhm"]
    server.add_vuln(twin)
    scan = osv.scan_dependencies(client(server), DEPS)
    assert len([f for f in scan.findings if f.package == "lodash"]) == 1


def test_details_are_cached_while_unmodified(server):
    cache = {}
    osv.scan_dependencies(client(server), DEPS, cache=cache)
    osv.scan_dependencies(client(server), DEPS, cache=cache)
    assert len(server.calls("GET", r"/v1/vulns/")) == 3
    server.vulns["GHSA-j8r2-6x86-q33q"]["modified"] = "2026-11-21T00:00:00Z"
    osv.scan_dependencies(client(server), DEPS, cache=cache)
    assert [c.path for c in server.calls("GET", r"/v1/vulns/")][3:] == ["/v1/vulns/GHSA-j8r2-6x86-q33q"]


def test_client_refuses_more_than_the_api_limit():
    with pytest.raises(ValueError):
        osv.OSVClient("http://127.0.0.1:9", batch_size=1001)


def test_rate_limited_querybatch(server):
    server.fail_next(1, status=429, headers={"Retry-After": "60"}, path_re="querybatch")
    with pytest.raises(RateLimited) as info:
        osv.scan_dependencies(client(server), DEPS)
    assert info.value.retry_after == 60


def test_failure_while_fetching_details_keeps_partial_findings(server):
    server.fail_next(1, status=500, path_re=r"/v1/vulns/PYSEC")
    with pytest.raises(ServiceUnavailable) as info:
        osv.scan_dependencies(client(server), DEPS)
    partial = info.value.partial
    assert {f.advisory_id for f in partial.findings} == {"GHSA-j8r2-6x86-q33q"}


def test_missing_advisory_is_not_found(server):
    with pytest.raises(NotFound):
        client(server).vuln("GHSA-none-none-none")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"results": []}, "0 results for 4 queries"),
        ({"oops": True}, "no results"),
        ({"results": [{"vulns": "x"}] * 4}, "is not a list"),
        ({"results": [{"vulns": [{"id": "../../etc"}]}] * 4}, "malformed"),
        ({"results": [{"vulns": [], "next_page_token": 7}] * 4}, "not a string"),
        ("garbage", "not JSON"),
    ],
)
def test_garbage_batch_answers(server, answer, message):
    body = answer if not isinstance(answer, str) else "<<garbage>>"
    server.fail_next(1, status=200, body=body, off_contract=True)  # answers OSV never gives, on purpose
    with pytest.raises(BadAnswer, match=message):
        osv.scan_dependencies(client(server), DEPS)


def test_endless_pagination_is_cut(server):
    server.fail_next(100, status=200, body={"results": [{"vulns": [], "next_page_token": "again"}]}, path_re="query")
    with pytest.raises(BadAnswer, match="pagination"):
        client(server, max_pages=3).query_batch([osv.Query("PyPI", "requests", "2.28.2")])


# --------------------------------------------------------------------------
# severity and fixed versions (pure)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score", "label"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8, "high"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1, "medium"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3, "medium"),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "low"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "low"),
    ],
)
def test_cvss3_scores(vector, score, label):
    assert findings.cvss3_base_score(vector) == score
    assert findings.severity_from_vector(vector) == label


def test_cvss2_and_unscorable_vectors():
    assert findings.cvss2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    assert findings.severity_from_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P") == "high"
    assert findings.severity_from_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") == "unknown"
    assert findings.severity_from_vector("CVSS:3.1/AV:X/AC:L") == "unknown"
    assert findings.severity_from_vector("garbage") == "unknown"


def test_database_label_when_no_usable_vector():
    record = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
        "database_specific": {"severity": "MODERATE"},
        "affected": [{"package": {"ecosystem": "npm", "name": "x"}, "ecosystem_specific": {"severity": "HIGH"}}],
    }
    assert osv.vuln_severity(record, "npm", "x") == "high"  # the highest label known
    record["affected"][0]["ecosystem_specific"] = {}
    assert osv.vuln_severity(record, "npm", "x") == "medium"


def test_fixed_version_edge_cases():
    record = {
        "id": "X",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Pkg_Name"},
                "ranges": [
                    {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.4"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.0.7"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}]},
                ],
            }
        ],
    }
    assert osv.fixed_version(record, "PyPI", "pkg-name", "2.0.3") == "2.0.7"
    assert osv.fixed_version(record, "PyPI", "pkg-name", "1.2") == ""  # last_affected: no fix published
    assert osv.fixed_version(record, "PyPI", "pkg-name", "3.1") == ""  # still open
    assert osv.fixed_version(record, "PyPI", "pkg-name", "1.7") == "2.0.7"  # outside: the next fix
    assert osv.fixed_version(record, "npm", "pkg-name", "2.0.3") == ""  # another ecosystem


# --------------------------------------------------------------------------
# the whole security scan, as a cron runs it
# --------------------------------------------------------------------------


def test_security_scan_merges_osv_and_artifact_reports_and_applies_suppressions(server):
    gh = ScanGitHub().start()
    try:
        gh.seed_repo(
            "acme/erp",
            {
                "requirements.txt": "requests==2.28.2\nDjango==3.2.9\nbabel>=2\n-e .\n",
                "package.json": '{"dependencies": {"lodash": "4.17.20"}}',
            },
        )
        gh.add_run("acme/erp", run_id=991)
        gh.add_artifact(
            "acme/erp", 991, "security", {"trivy.json": (SAMPLES / "trivy.json").read_bytes(), "junk.json": b"]"}
        )
        client = rest_api.connect(gh.url, "test-token", timeout=5, retries=0)
        now = datetime(2026, 11, 22, tzinfo=timezone.utc)
        scan = scheduled.security_scan(
            client,
            "acme/erp",
            osv.OSVClient(server.url, timeout=2, policy=NO_RETRY),
            suppressions=[Suppression(advisory="CVE-2021-23337", reason="template() unused")],
            now=now,
            run_id=991,
            artifact_name="security",
        )
        assert scan.status == "done" and scan.checked == 3 and scan.ref == gh.branch_sha("acme/erp", "main")
        ids = {f.advisory_id for f in scan.findings}
        # OSV's GHSA-j8r2 and Trivy's CVE-2023-32681 are one advisory on requests 2.28.2: reported once
        assert "GHSA-j8r2-6x86-q33q" in ids and "CVE-2023-32681" not in ids
        assert "CVE-2024-2961" in ids  # only Trivy saw the OS package
        # OSV (package.json) and Trivy (package-lock.json) report lodash's advisory once, then it is suppressed
        assert {f.advisory_id for f, _ in scan.suppressed} == {"GHSA-35jh-r3h4-6jhm"}
        assert [d.name for d in scan.unpinned] == ["babel"] and scan.unparseable
        assert [path for path, _ in scan.errors] == ["security/junk.json"]

        # the artifact's storage host fails: OSV's findings are kept, the scan is partial and says why
        gh.storage.fail_next(1, status=503, path_re=r"^/artifacts/")
        kept = scheduled.security_scan(
            client,
            "acme/erp",
            osv.OSVClient(server.url, timeout=2, policy=NO_RETRY),
            now=now,
            run_id=991,
            artifact_name="security",
        )
        assert kept.status == "partial" and "503" in kept.reason
        assert "GHSA-j8r2-6x86-q33q" in {f.advisory_id for f in kept.findings}
        assert [path for path, _ in kept.errors] == ["security"]

        server.fail_next(1, status=503, path_re=r"/v1/vulns/PYSEC")
        partial = scheduled.security_scan(
            client, "acme/erp", osv.OSVClient(server.url, timeout=2, policy=NO_RETRY), now=now
        )
        assert partial.status == "partial" and "503" in partial.reason and partial.findings
        server.fail_next(1, status=429, headers={"Retry-After": "300"}, path_re="querybatch")
        with pytest.raises(RateLimited):
            scheduled.security_scan(client, "acme/erp", osv.OSVClient(server.url, timeout=2, policy=NO_RETRY), now=now)
    finally:
        gh.stop()


def test_npm_names_keep_their_case(server):
    """npm names are case-sensitive (``JSONStream`` is not ``jsonstream``): OSV is asked for the name as declared."""
    server.add_vuln(
        {
            "id": "GHSA-jsonstream-test",
            "modified": "2026-01-01T00:00:00Z",
            "summary": "JSONStream parses what it should not",
            "affected": [{"package": {"ecosystem": "npm", "name": "JSONStream"}, "versions": ["1.3.1"]}],
        }
    )
    package_json = '{"dependencies": {"JSONStream": "1.3.1", "jsonstream": "1.3.1"}}'
    declared = dependencies.parse_package_json(package_json).dependencies
    assert [d.name for d in declared] == ["JSONStream", "jsonstream"], "two packages, not one"
    scan = osv.scan_dependencies(client(server), declared)
    (finding,) = scan.findings
    assert (finding.advisory_id, finding.package) == ("GHSA-jsonstream-test", "JSONStream")
    asked = [q["package"]["name"] for q in json.loads(server.calls("POST", "/v1/querybatch")[0].body)["queries"]]
    assert sorted(asked) == ["JSONStream", "jsonstream"]


def test_the_fake_osv_is_held_to_the_published_record_schema(server):
    """A record OSV's own schema refuses fails the test that served it (a fake no more forgiving than OSV)."""
    if contracts._osv_validators() is None:
        pytest.skip(pypi_contracts.UNAVAILABLE)
    mark = contracts.LOG.mark()
    bad = copy.deepcopy(next(iter(RECORDS.values())))
    bad["id"] = "NOT-A-KNOWN-PREFIX-1"
    del bad["modified"]
    server.add_vuln(bad)
    client(server).vuln(bad["id"])
    problems = contracts.LOG.since(mark)
    contracts.LOG.discard_since(mark)
    assert len(problems) == 1 and "'modified' is a required property" in problems[0] and ".id" in problems[0]
    good = copy.deepcopy(next(iter(RECORDS.values())))
    client(server).vuln(good["id"])
    assert contracts.LOG.since(mark) == []
