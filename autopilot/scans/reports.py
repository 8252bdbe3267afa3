"""Read the scanner reports a repository's own workflow uploads as artifacts.

Decides what a pip-audit JSON, Trivy JSON, npm audit JSON (report version 2
and the legacy version 1), SARIF 2.1.0 or CycloneDX JSON (1.4 to 1.6, its
``vulnerabilities``) file says, as
:class:`~.findings.Finding` records, so findings from a workflow's scanners
and from the engine's own OSV scan land in the same table.

Reports are untrusted: a file that is not the format it claims (or that no
format recognises) raises :class:`ReportFormatError` naming the format and
the JSON path that broke, never a half-read list.
"""

import json
import re
from dataclasses import dataclass

from ..common.errors import BadAnswer
from . import dependencies as deps_mod
from .dependencies import NPM, PYPI, VersionError
from .findings import (
    Finding,
    dedupe,
    max_severity,
    normalise_package,
    normalise_severity,
    severity_from_score,
    severity_from_vector,
    sort_findings,
)
from .licenses import cyclonedx_components, from_purl

MAX_REPORT_BYTES = 50 * 1024 * 1024
MAX_FINDINGS = 50_000
FORMATS = ("pip-audit", "trivy", "npm-audit", "sarif", "cyclonedx")

_TRIVY_ECOSYSTEMS = {
    "pip": PYPI,
    "pipenv": PYPI,
    "poetry": PYPI,
    "uv": PYPI,
    "python-pkg": PYPI,
    "npm": NPM,
    "yarn": NPM,
    "pnpm": NPM,
    "bun": NPM,
    "node-pkg": NPM,
}
_GHSA_RE = re.compile(r"GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
_SARIF_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}


class ReportFormatError(BadAnswer):
    """A report is not valid in the format it claims (``service`` is the format)."""

    kind = "bad_report"

    def __init__(self, fmt, path, message):
        super().__init__(fmt, f"{path}: {message}")
        self.format = fmt
        self.path = path


@dataclass(frozen=True)
class ReportResult:
    format: str
    findings: tuple
    #: what the scanner said it could not check (pip-audit ``skip_reason``...)
    skipped: tuple = ()
    tool: str = ""


# --------------------------------------------------------------------------
# typed accessors
# --------------------------------------------------------------------------


def _get(fmt, data, key, path, kind, required=True):
    value = data.get(key) if isinstance(data, dict) else None
    if value is None:
        if required:
            raise ReportFormatError(fmt, f"{path}.{key}", "missing")
        return kind()
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind):
        raise ReportFormatError(fmt, f"{path}.{key}", f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _obj(fmt, value, path):
    if not isinstance(value, dict):
        raise ReportFormatError(fmt, path, f"expected an object, got {type(value).__name__}")
    return value


def _text(value, limit=500):
    text = str(value or "").strip()
    return text.splitlines()[0][:limit] if text else ""


def _strings(values):
    return tuple(v for v in values or () if isinstance(v, str))


def _check_count(fmt, findings):
    if len(findings) > MAX_FINDINGS:
        raise ReportFormatError(fmt, "$", f"more than {MAX_FINDINGS} findings")


def _lowest_fix_above(ecosystem, version, candidates):
    """The smallest candidate newer than ``version`` (pip-audit and Trivy list one fix per release line)."""
    try:
        current = deps_mod.version_key(ecosystem, version)
    except VersionError:
        return candidates[0] if candidates else ""
    newer = []
    for candidate in candidates:
        try:
            key = deps_mod.version_key(ecosystem, candidate)
        except VersionError:
            continue
        if key > current:
            newer.append((key, candidate))
    return min(newer)[1] if newer else ""


# --------------------------------------------------------------------------
# pip-audit
# --------------------------------------------------------------------------


def parse_pip_audit(data):
    """``pip-audit -f json``: ``{"dependencies": [...], "fixes": [...]}`` (or the legacy bare list)."""
    fmt = "pip-audit"
    entries = data if isinstance(data, list) else _get(fmt, data, "dependencies", "$", list)
    findings, skipped = [], []
    for index, raw in enumerate(entries):
        path = f"$.dependencies[{index}]"
        entry = _obj(fmt, raw, path)
        name = _get(fmt, entry, "name", path, str)
        if entry.get("skip_reason"):
            skipped.append(f"{name}: {_text(entry['skip_reason'], 300)}")
            continue
        version = _get(fmt, entry, "version", path, str)
        for position, raw_vuln in enumerate(_get(fmt, entry, "vulns", path, list, required=False)):
            vpath = f"{path}.vulns[{position}]"
            vuln = _obj(fmt, raw_vuln, vpath)
            advisory = _get(fmt, vuln, "id", vpath, str)
            fixes = [str(v) for v in _get(fmt, vuln, "fix_versions", vpath, list, required=False)]
            package = normalise_package(PYPI, name)
            findings.append(
                Finding(
                    advisory_id=advisory,
                    aliases=_strings(vuln.get("aliases")),
                    package=package,
                    ecosystem=PYPI,
                    version=version,
                    fixed_version=_lowest_fix_above(PYPI, version, fixes),
                    severity="unknown",
                    summary=_text(vuln.get("description")),
                    url=f"https://osv.dev/vulnerability/{advisory}",
                    source=fmt,
                )
            )
    _check_count(fmt, findings)
    return ReportResult(fmt, tuple(findings), tuple(skipped), "pip-audit")


# --------------------------------------------------------------------------
# Trivy
# --------------------------------------------------------------------------


def parse_trivy(data):
    """``trivy ... -f json``: ``{"SchemaVersion": 2, "Results": [{"Target", "Type", "Vulnerabilities"}]}``."""
    fmt = "trivy"
    if isinstance(data, list):  # reports before schema version 2
        results = data
    else:
        schema = data.get("SchemaVersion")
        if schema is not None and schema not in (1, 2):
            raise ReportFormatError(fmt, "$.SchemaVersion", f"unsupported schema version {schema!r}")
        results = _get(fmt, data, "Results", "$", list, required=False)
    findings = []
    for index, raw in enumerate(results):
        path = f"$.Results[{index}]"
        result = _obj(fmt, raw, path)
        target = _get(fmt, result, "Target", path, str, required=False)
        ecosystem = _TRIVY_ECOSYSTEMS.get(str(result.get("Type") or ""), str(result.get("Type") or ""))
        for position, raw_vuln in enumerate(_get(fmt, result, "Vulnerabilities", path, list, required=False)):
            vpath = f"{path}.Vulnerabilities[{position}]"
            vuln = _obj(fmt, raw_vuln, vpath)
            # Trivy writes its structs with Go's omitempty: an unknown installed version is no field at all
            version = _get(fmt, vuln, "InstalledVersion", vpath, str, required=False)
            fixes = [f.strip() for f in str(vuln.get("FixedVersion") or "").split(",") if f.strip()]
            severity = normalise_severity(vuln.get("Severity"))
            if severity == "unknown":
                severity = _trivy_cvss(vuln.get("CVSS"))
            if ecosystem in (PYPI, NPM):
                fixed = _lowest_fix_above(ecosystem, version, fixes)
            else:
                fixed = fixes[0] if fixes else ""
            findings.append(
                Finding(
                    advisory_id=_get(fmt, vuln, "VulnerabilityID", vpath, str),
                    package=normalise_package(ecosystem, _get(fmt, vuln, "PkgName", vpath, str)),
                    ecosystem=ecosystem,
                    version=version,
                    fixed_version=fixed,
                    severity=severity,
                    summary=_text(vuln.get("Title") or vuln.get("Description")),
                    url=str(vuln.get("PrimaryURL") or ""),
                    source=fmt,
                    path=target,
                )
            )
    _check_count(fmt, findings)
    return ReportResult(fmt, tuple(findings), (), "trivy")


def _trivy_cvss(cvss):
    if not isinstance(cvss, dict):
        return "unknown"
    labels = []
    for source in cvss.values():
        if isinstance(source, dict):
            labels.append(severity_from_vector(source.get("V3Vector")))
            labels.append(severity_from_score(source.get("V3Score")) if source.get("V3Score") is not None else "")
    return max_severity(*labels)


# --------------------------------------------------------------------------
# npm audit
# --------------------------------------------------------------------------


def _npm_advisory_id(url, fallback):
    match = _GHSA_RE.search(str(url or ""))
    return "GHSA" + match.group(0)[4:].lower() if match else f"NPM-{fallback}"


def _npm_severity(label, cvss):
    severity = normalise_severity(label)
    if severity == "unknown" and isinstance(cvss, dict):
        severity = severity_from_vector(cvss.get("vectorString"))
        if severity == "unknown" and cvss.get("score"):
            severity = severity_from_score(cvss.get("score"))
    return severity


def parse_npm_audit(data):
    """``npm audit --json``: report version 2 (npm 7+) or the legacy ``advisories`` report (npm 6)."""
    fmt = "npm-audit"
    if isinstance(data.get("error"), dict):
        error = data["error"]
        reason = f"npm reported {error.get('code', 'an error')}: {_text(error.get('summary'))}"
        raise ReportFormatError(fmt, "$.error", reason)
    if "auditReportVersion" in data:
        if data["auditReportVersion"] != 2:
            raise ReportFormatError(fmt, "$.auditReportVersion", f"unsupported version {data['auditReportVersion']!r}")
        return _npm_v2(fmt, data)
    return _npm_v1(fmt, data)


def _npm_v2(fmt, data):
    findings = []
    for name, raw in _get(fmt, data, "vulnerabilities", "$", dict).items():
        path = f"$.vulnerabilities[{name!r}]"
        entry = _obj(fmt, raw, path)
        fix = entry.get("fixAvailable")
        fixed = str(fix.get("version") or "") if isinstance(fix, dict) and fix.get("name") == name else ""
        for position, raw_via in enumerate(_get(fmt, entry, "via", path, list)):
            if isinstance(raw_via, str):
                continue  # vulnerable through another package, which has its own entry
            vpath = f"{path}.via[{position}]"
            via = _obj(fmt, raw_via, vpath)
            url = str(via.get("url") or "")
            findings.append(
                Finding(
                    advisory_id=_npm_advisory_id(url, via.get("source", "unknown")),
                    package=normalise_package(NPM, via.get("name") or name),
                    ecosystem=NPM,
                    version="",  # npm audit v2 reports the vulnerable range, not the installed version
                    fixed_version=fixed,
                    severity=_npm_severity(via.get("severity"), via.get("cvss")),
                    summary=_text(via.get("title")),
                    url=url,
                    source=fmt,
                    path=str(via.get("range") or entry.get("range") or ""),
                )
            )
    _check_count(fmt, findings)
    return ReportResult(fmt, tuple(dedupe(findings)), (), "npm")


def _npm_v1(fmt, data):
    advisories = _get(fmt, data, "advisories", "$", dict)
    findings = []
    for key, raw in advisories.items():
        path = f"$.advisories[{key!r}]"
        advisory = _obj(fmt, raw, path)
        module = _get(fmt, advisory, "module_name", path, str)
        url = str(advisory.get("url") or "")
        advisory_id = str(advisory.get("github_advisory_id") or "") or _npm_advisory_id(url, advisory.get("id", key))
        patched = re.match(r"^\s*>=?\s*(\d+\.\d+\.\d+\S*)\s*$", str(advisory.get("patched_versions") or ""))
        versions = [
            str(_obj(fmt, item, f"{path}.findings[{i}]").get("version") or "")
            for i, item in enumerate(_get(fmt, advisory, "findings", path, list, required=False))
        ] or [""]
        for version in dict.fromkeys(versions):
            findings.append(
                Finding(
                    advisory_id=advisory_id,
                    aliases=_strings(advisory.get("cves")),
                    package=normalise_package(NPM, module),
                    ecosystem=NPM,
                    version=version,
                    fixed_version=patched.group(1) if patched else "",
                    severity=normalise_severity(advisory.get("severity")),
                    summary=_text(advisory.get("title") or advisory.get("overview")),
                    url=url,
                    source=fmt,
                )
            )
    _check_count(fmt, findings)
    return ReportResult(fmt, tuple(findings), (), "npm")


# --------------------------------------------------------------------------
# SARIF 2.1.0
# --------------------------------------------------------------------------


def parse_sarif(data):
    """SARIF 2.1.0 (CodeQL, Bandit, Semgrep, Trivy ``-f sarif``...): one finding per result."""
    fmt = "sarif"
    version = data.get("version")
    if version != "2.1.0":
        raise ReportFormatError(fmt, "$.version", f"expected '2.1.0', got {str(version)[:20]!r}")
    findings, tools = [], []
    for run_index, raw_run in enumerate(_get(fmt, data, "runs", "$", list)):
        rpath = f"$.runs[{run_index}]"
        run = _obj(fmt, raw_run, rpath)
        driver = _obj(fmt, _obj(fmt, run.get("tool"), f"{rpath}.tool").get("driver"), f"{rpath}.tool.driver")
        tool = _get(fmt, driver, "name", f"{rpath}.tool.driver", str)
        tools.append(tool)
        rules = [r if isinstance(r, dict) else {} for r in _get(fmt, driver, "rules", rpath, list, required=False)]
        by_id = {r.get("id"): r for r in rules if isinstance(r.get("id"), str)}
        for index, raw_result in enumerate(_get(fmt, run, "results", rpath, list, required=False)):
            findings.append(_sarif_result(fmt, raw_result, f"{rpath}.results[{index}]", tool, rules, by_id))
    _check_count(fmt, findings)
    return ReportResult(fmt, tuple(findings), (), ", ".join(dict.fromkeys(tools)))


def _sarif_result(fmt, raw, path, tool, rules, by_id):
    result = _obj(fmt, raw, path)
    rule_index = result.get("ruleIndex")
    rule = rules[rule_index] if isinstance(rule_index, int) and 0 <= rule_index < len(rules) else {}
    rule_id = result.get("ruleId") or (result.get("rule") or {}).get("id") or rule.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise ReportFormatError(fmt, f"{path}.ruleId", "missing")
    rule = by_id.get(rule_id, rule)
    message = _obj(fmt, result.get("message"), f"{path}.message")
    location = _sarif_location(result.get("locations"))
    properties = {**(rule.get("properties") or {}), **(result.get("properties") or {})}
    severity = "unknown"
    if properties.get("security-severity") is not None:
        severity = severity_from_score(properties.get("security-severity"))
    if severity == "unknown":
        level = result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
        severity = _SARIF_LEVELS.get(str(level), "unknown")
    summary = message.get("text") or ((rule.get("shortDescription") or {}).get("text")) or rule_id
    return Finding(
        advisory_id=rule_id,
        severity=severity,
        summary=_text(summary),
        url=str(rule.get("helpUri") or ""),
        source=f"sarif:{tool}",
        path=location[0],
        line=location[1],
    )


def _sarif_location(locations):
    if not isinstance(locations, list) or not locations or not isinstance(locations[0], dict):
        return "", 0
    physical = locations[0].get("physicalLocation") or {}
    artifact = physical.get("artifactLocation") or {}
    region = physical.get("region") or {}
    line = region.get("startLine")
    return str(artifact.get("uri") or ""), line if isinstance(line, int) and line > 0 else 0


# --------------------------------------------------------------------------
# CycloneDX
# --------------------------------------------------------------------------

#: vulnerabilities entered CycloneDX in 1.4; earlier BOMs list components only
_CDX_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")
#: VEX analysis states that say the product is not exposed
_CDX_NOT_EXPOSED = {"not_affected", "false_positive", "resolved"}


def _cdx_packages(fmt, data):
    """bom-ref -> ``(ecosystem, name, version)`` of the BOM's components."""
    try:
        listed = cyclonedx_components(data, fmt)
    except BadAnswer as exc:
        raise ReportFormatError(fmt, "$.components", exc.reason) from None
    packages = {}
    for _path, component in listed:
        ecosystem, name, version = from_purl(str(component.get("purl") or ""))
        identity = (ecosystem, name or component["name"], str(component.get("version") or version or ""))
        packages[str(component.get("bom-ref") or component.get("purl") or component["name"])] = identity
    return packages


def _cdx_severity(ratings):
    labels = []
    for rating in ratings if isinstance(ratings, list) else ():
        if not isinstance(rating, dict):
            continue
        label = normalise_severity(rating.get("severity"))
        if label == "unknown" and rating.get("vector"):
            label = severity_from_vector(rating.get("vector"))
        if label == "unknown" and rating.get("score") is not None:
            label = severity_from_score(rating.get("score"))
        labels.append(label)
    return max_severity(*labels)


def _cdx_versions(affect, installed, ecosystem):
    """``(installed, fixed)`` from an ``affects`` entry: its affected version, the lowest unaffected one above."""
    versions = [v for v in affect.get("versions") or [] if isinstance(v, dict) and isinstance(v.get("version"), str)]
    affected = [v["version"] for v in versions if v.get("status", "affected") == "affected"]
    installed = installed or (affected[0] if affected else "")
    unaffected = [v["version"] for v in versions if v.get("status") == "unaffected"]
    if ecosystem in (PYPI, NPM):
        return installed, _lowest_fix_above(ecosystem, installed, unaffected)
    return installed, unaffected[0] if unaffected else ""


def parse_cyclonedx(data):
    """CycloneDX JSON (``bomFormat: CycloneDX``): one finding per vulnerability and affected component.

    Vulnerabilities a VEX analysis declares ``not_affected``, ``false_positive``
    or ``resolved`` are left out; the fixed version is the lowest version an
    ``affects`` entry lists as ``unaffected`` above the installed one.
    """
    fmt = "cyclonedx"
    spec = str(data.get("specVersion") or "")
    if spec not in _CDX_VERSIONS:
        raise ReportFormatError(fmt, "$.specVersion", f"unsupported CycloneDX version {spec[:20]!r}")
    packages = _cdx_packages(fmt, data)
    findings = []
    for index, raw in enumerate(_get(fmt, data, "vulnerabilities", "$", list, required=False)):
        vpath = f"$.vulnerabilities[{index}]"
        vuln = _obj(fmt, raw, vpath)
        advisory = _get(fmt, vuln, "id", vpath, str)
        analysis = vuln.get("analysis") if isinstance(vuln.get("analysis"), dict) else {}
        if analysis.get("state") in _CDX_NOT_EXPOSED:
            continue
        references = [r for r in vuln.get("references") or [] if isinstance(r, dict)]
        aliases = tuple(str(r["id"]) for r in references if isinstance(r.get("id"), str) and r["id"] != advisory)
        advisories = [a for a in vuln.get("advisories") or [] if isinstance(a, dict) and a.get("url")]
        source = vuln.get("source") if isinstance(vuln.get("source"), dict) else {}
        url = str((advisories[0]["url"] if advisories else "") or source.get("url") or "")
        common = {
            "advisory_id": advisory,
            "aliases": aliases,
            "severity": _cdx_severity(vuln.get("ratings")),
            "summary": _text(vuln.get("description") or vuln.get("detail")),
            "url": url,
            "source": fmt,
        }
        affects = _get(fmt, vuln, "affects", vpath, list, required=False)
        for position, raw_affect in enumerate(affects):
            affect = _obj(fmt, raw_affect, f"{vpath}.affects[{position}]")
            ecosystem, name, installed = packages.get(str(affect.get("ref") or ""), ("", "", ""))
            version, fixed = _cdx_versions(affect, installed, ecosystem)
            package = normalise_package(ecosystem, name)
            findings.append(
                Finding(package=package, ecosystem=ecosystem, version=version, fixed_version=fixed, **common)
            )
        if not affects:
            findings.append(Finding(**common))
    _check_count(fmt, findings)
    tools = data.get("metadata", {}).get("tools") if isinstance(data.get("metadata"), dict) else None
    return ReportResult(fmt, tuple(dedupe(findings)), (), _cdx_tool(tools))


def _cdx_tool(tools):
    """The tool that wrote the BOM: ``metadata.tools`` is a list (up to 1.4) or ``{"components": [...]}`` (1.5+)."""
    if isinstance(tools, dict):
        tools = tools.get("components")
    names = [t.get("name") for t in tools or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
    return ", ".join(dict.fromkeys(names))


# --------------------------------------------------------------------------
# detection
# --------------------------------------------------------------------------

_PARSERS = {
    "pip-audit": parse_pip_audit,
    "trivy": parse_trivy,
    "npm-audit": parse_npm_audit,
    "sarif": parse_sarif,
    "cyclonedx": parse_cyclonedx,
}


def detect_format(data):
    """The format a decoded report is in, or :class:`ReportFormatError`."""
    if isinstance(data, dict):
        if data.get("bomFormat") == "CycloneDX":
            return "cyclonedx"  # before pip-audit: a BOM has a "dependencies" list too
        if data.get("version") == "2.1.0" or "sarif" in str(data.get("$schema", "")).lower():
            return "sarif"
        if "auditReportVersion" in data or "advisories" in data or isinstance(data.get("error"), dict):
            return "npm-audit"
        if "SchemaVersion" in data or "Results" in data or "ArtifactName" in data:
            return "trivy"
        if isinstance(data.get("dependencies"), list):
            return "pip-audit"
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        if all("Target" in item for item in data):
            return "trivy"
        if all("name" in item and ("vulns" in item or "skip_reason" in item) for item in data):
            return "pip-audit"
    raise ReportFormatError("report", "$", "not a pip-audit, Trivy, npm audit, SARIF 2.1.0 or CycloneDX report")


def parse_report(raw, fmt="auto"):
    """Decode and parse a report (bytes or text); ``fmt`` is one of :data:`FORMATS` or ``'auto'``."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_REPORT_BYTES:
            raise ReportFormatError(fmt, "$", f"larger than {MAX_REPORT_BYTES} bytes")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ReportFormatError(fmt, "$", "not UTF-8 text") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ReportFormatError(fmt, "$", f"not JSON ({exc.msg} at line {getattr(exc, 'lineno', '?')})") from None
    if fmt == "auto":
        fmt = detect_format(data)
    parser = _PARSERS.get(fmt)
    if parser is None:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {FORMATS}")
    if not isinstance(data, (dict, list)) or (isinstance(data, list) and fmt in ("npm-audit", "sarif", "cyclonedx")):
        raise ReportFormatError(fmt, "$", f"expected an object, got {type(data).__name__}")
    try:
        result = parser(data)
    except ReportFormatError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise ReportFormatError(fmt, "$", f"unexpected structure ({type(exc).__name__})") from None
    return ReportResult(result.format, tuple(sort_findings(result.findings)), result.skipped, result.tool)
