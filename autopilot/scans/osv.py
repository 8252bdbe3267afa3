"""Known vulnerabilities of pinned dependencies, from the OSV API.

Decides which declared dependency versions are affected by a published
advisory. One ``POST /v1/querybatch`` per 1000 package versions (the API's
limit) returns advisory ids only, following each query's
``next_page_token``; ``GET /v1/vulns/{id}`` then gives the details (once per
id per scan, ``cache`` lets a caller keep them across scans keyed by the
``modified`` stamp). Each advisory becomes a :class:`~.findings.Finding`
with the version that fixes it (from the affected ranges' events) and a
severity from its CVSS vector or the database's own label.

Only pinned dependencies are queried: a range has no single version to ask
about, so those are returned in ``skipped``.
"""

import re
from dataclasses import dataclass

from ..common.errors import BadAnswer, ServiceError
from ..common.json_client import JsonClient, quote_segment
from . import dependencies as deps_mod
from .dependencies import VersionError
from .findings import Finding, dedupe, max_severity, normalise_package, severity_from_vector, sort_findings

OSV_URL = "https://api.osv.dev"
MAX_BATCH = 1000
MAX_PAGES = 50
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


@dataclass(frozen=True)
class Query:
    ecosystem: str
    name: str
    version: str

    def payload(self, page_token=None):
        body = {"package": {"ecosystem": self.ecosystem, "name": self.name}, "version": self.version}
        if page_token:
            body["page_token"] = page_token
        return body


class OSVClient:
    """The two OSV endpoints a scan needs, with batching, pagination and answer checks."""

    def __init__(self, base_url=OSV_URL, batch_size=MAX_BATCH, max_pages=MAX_PAGES, **client_options):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"OSV accepts 1 to {MAX_BATCH} queries per batch")
        self.http = JsonClient("OSV", base_url, **client_options)
        self.batch_size = batch_size
        self.max_pages = max_pages
        #: advisory id -> ``modified`` stamp from the last batch answers
        self.modified = {}

    def query_batch(self, queries):
        """Advisory ids affecting each query, in the queries' order."""
        queries = list(queries)
        ids = [[] for _ in queries]
        pending = [(index, None) for index in range(len(queries))]
        rounds = 0
        while pending:
            rounds += 1
            if rounds > self.max_pages * max(1, -(-len(queries) // self.batch_size)):
                raise BadAnswer("OSV", "pagination did not end")
            chunk, pending = pending[: self.batch_size], pending[self.batch_size :]
            payload = {"queries": [queries[index].payload(token) for index, token in chunk]}
            answer = self.http.post("/v1/querybatch", payload)
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise BadAnswer("OSV", f"querybatch answered {_count(results)} results for {len(chunk)} queries")
            for (index, _token), result in zip(chunk, results, strict=True):
                vulns, token = _result_parts(result, index, self.modified)
                ids[index].extend(v for v in vulns if v not in ids[index])
                if token:
                    pending.append((index, token))
        return ids

    def vuln(self, vuln_id):
        """The full OSV record of one advisory."""
        if not _ID_RE.match(vuln_id):
            raise BadAnswer("OSV", f"unusable advisory id {vuln_id[:40]!r}")
        record = self.http.get(f"/v1/vulns/{quote_segment(vuln_id)}")
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise BadAnswer("OSV", f"vulns/{vuln_id}: not an OSV record")
        return record


def _count(results):
    return len(results) if isinstance(results, list) else "no"


def _result_parts(result, index, modified):
    if not isinstance(result, dict):
        raise BadAnswer("OSV", f"results[{index}] is not an object")
    vulns = result.get("vulns") or []
    if not isinstance(vulns, list):
        raise BadAnswer("OSV", f"results[{index}].vulns is not a list")
    found = []
    for position, vuln in enumerate(vulns):
        vuln_id = vuln.get("id") if isinstance(vuln, dict) else None
        if not isinstance(vuln_id, str) or not _ID_RE.match(vuln_id):
            raise BadAnswer("OSV", f"results[{index}].vulns[{position}].id is missing or malformed")
        found.append(vuln_id)
        if isinstance(vuln.get("modified"), str):
            modified[vuln_id] = vuln["modified"]
    token = result.get("next_page_token")
    if token is not None and not isinstance(token, str):
        raise BadAnswer("OSV", f"results[{index}].next_page_token is not a string")
    return found, token


# --------------------------------------------------------------------------
# mapping an OSV record to a finding (pure)
# --------------------------------------------------------------------------


def _affected_entries(vuln, ecosystem, package):
    entries = []
    for entry in vuln.get("affected") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), dict):
            continue
        pkg = entry["package"]
        if str(pkg.get("ecosystem", "")).split(":")[0] != ecosystem:
            continue
        if normalise_package(ecosystem, pkg.get("name")) == normalise_package(ecosystem, package):
            entries.append(entry)
    return entries


def _key(ecosystem, version):
    if version == "0":
        return None  # "introduced: 0" means since the beginning
    return deps_mod.version_key(ecosystem, version)


def _intervals(ecosystem, range_):
    """``(introduced, end, end_inclusive)`` keys of one ECOSYSTEM/SEMVER range."""
    events = []
    for event in range_.get("events") or []:
        if not isinstance(event, dict) or len(event) != 1:
            continue
        ((kind, value),) = event.items()
        if kind not in ("introduced", "fixed", "last_affected") or not isinstance(value, str):
            continue
        try:
            events.append((kind, value, _key(ecosystem, value)))
        except VersionError:
            continue
    intervals, start = [], False
    for kind, value, key in events:
        if kind == "introduced":
            start = (value, key)
        elif start is not False:
            intervals.append((start[1], value, key, kind == "last_affected"))
            start = False
    if start is not False:
        intervals.append((start[1], None, None, False))
    return intervals


def fixed_version(vuln, ecosystem, package, version):
    """The release that fixes ``version`` of ``package`` (empty when no fix is published)."""
    try:
        current = deps_mod.version_key(ecosystem, version)
    except VersionError:
        return ""
    fixes = []
    for entry in _affected_entries(vuln, ecosystem, package):
        for range_ in entry.get("ranges") or []:
            if not isinstance(range_, dict) or range_.get("type") not in ("ECOSYSTEM", "SEMVER"):
                continue
            for low, end_text, end, inclusive in _intervals(ecosystem, range_):
                inside_low = low is None or current >= low
                inside_high = end is None or (current <= end if inclusive else current < end)
                if inside_low and inside_high:
                    return "" if inclusive or end_text is None else end_text
                if end_text and not inclusive and end > current:
                    fixes.append((end, end_text))
    return min(fixes)[1] if fixes else ""


def vuln_severity(vuln, ecosystem="", package=""):
    """From CVSS v3/v2 vectors first, else ``database_specific`` / ``ecosystem_specific`` labels."""
    entries = _affected_entries(vuln, ecosystem, package) if ecosystem else []
    scores = list(vuln.get("severity") or [])
    for entry in entries:
        scores.extend(entry.get("severity") or [])
    from_vectors = [
        severity_from_vector(item.get("score"))
        for item in scores
        if isinstance(item, dict) and item.get("type") in ("CVSS_V3", "CVSS_V2")
    ]
    best = max_severity(*from_vectors)
    if best != "unknown":
        return best
    labels = [_label(vuln.get("database_specific"))]
    for entry in entries:
        labels += [_label(entry.get("database_specific")), _label(entry.get("ecosystem_specific"))]
    return max_severity(*labels)


def _label(section):
    return section.get("severity") if isinstance(section, dict) else None


def _url(vuln):
    references = [r for r in vuln.get("references") or [] if isinstance(r, dict) and isinstance(r.get("url"), str)]
    for kind in ("ADVISORY", "WEB"):
        for reference in references:
            if reference.get("type") == kind:
                return reference["url"]
    return f"https://osv.dev/vulnerability/{vuln.get('id', '')}"


def finding_from_vuln(vuln, ecosystem, package, version, path=""):
    """A :class:`Finding` for ``package`` at ``version`` from its OSV record."""
    summary = vuln.get("summary") or (str(vuln.get("details") or "").strip().splitlines() or [""])[0]
    aliases = tuple(a for a in vuln.get("aliases") or [] if isinstance(a, str))
    return Finding(
        advisory_id=str(vuln.get("id")),
        aliases=aliases,
        package=package,
        ecosystem=ecosystem,
        version=version,
        fixed_version=fixed_version(vuln, ecosystem, package, version),
        severity=vuln_severity(vuln, ecosystem, package),
        summary=str(summary)[:500],
        url=_url(vuln),
        source="osv",
        path=path,
    )


# --------------------------------------------------------------------------
# scanning dependencies
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class OsvScan:
    findings: tuple
    #: number of distinct package versions asked about
    checked: int
    #: dependencies without a pinned version (nothing to ask OSV about)
    skipped: tuple = ()


def scan_dependencies(client, dependencies, cache=None):
    """Findings for every pinned dependency; ``cache`` maps advisory id → ``(modified, record)``.

    A cached record is reused while OSV reports the same ``modified`` stamp.

    A failure while fetching details raises the :class:`ServiceError` with the
    findings gathered so far as ``partial``.
    """
    cache = {} if cache is None else cache
    pinned, skipped, paths = [], [], {}
    for dep in dependencies:
        if not dep.pinned_version:
            skipped.append(dep)
            continue
        query = Query(dep.ecosystem, dep.name, dep.pinned_version)
        if query not in paths:
            pinned.append(query)
            paths[query] = dep.file
    id_lists = client.query_batch(pinned)
    findings = []
    for query, ids in zip(pinned, id_lists, strict=True):
        for vuln_id in ids:
            try:
                record = _details(client, vuln_id, cache)
            except ServiceError as error:
                partial = OsvScan(tuple(sort_findings(dedupe(findings))), len(pinned), tuple(skipped))
                raise error.with_partial(partial) from None
            findings.append(finding_from_vuln(record, query.ecosystem, query.name, query.version, paths[query]))
    return OsvScan(tuple(sort_findings(dedupe(findings))), len(pinned), tuple(skipped))


def _details(client, vuln_id, cache):
    known = cache.get(vuln_id)
    if known and (known[0] == client.modified.get(vuln_id) or vuln_id not in client.modified):
        return known[1]
    record = client.vuln(vuln_id)
    cache[vuln_id] = (record.get("modified"), record)
    return record
