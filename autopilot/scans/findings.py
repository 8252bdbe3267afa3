"""The one finding type every security source maps to, its severity, and suppressions.

OSV answers, pip-audit / Trivy / npm audit reports and SARIF files all become
:class:`Finding` records with a stable :attr:`Finding.fingerprint`, so an
``ops.scan.finding`` can be upserted run after run whatever the source.

Severity is one of :data:`SEVERITIES`. It comes from a CVSS v3.x / v2 vector
(base score computed with the published formulas), else from a source's own
label (GitHub's ``MODERATE`` is ``medium``), else ``unknown``. CVSS v4 vectors
are not scored here (their scoring needs the specification's lookup tables);
sources that only give a v4 vector fall back to their label.

:func:`apply_suppressions` decides which findings people chose to hide, and
for how long: an expired suppression shows its findings again.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

SEVERITIES = ("unknown", "low", "medium", "high", "critical")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

_LABELS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
    "info": "low",
    "informational": "low",
    "note": "low",
    "none": "low",
}


def normalise_severity(label):
    """``'MODERATE'`` → ``'medium'``; anything unrecognised → ``'unknown'``."""
    return _LABELS.get(str(label or "").strip().lower(), "unknown")


def max_severity(*labels):
    """The most severe of the given labels (``unknown`` ranks lowest)."""
    best = "unknown"
    for raw in labels:
        label = raw if raw in _RANK else normalise_severity(raw)
        if _RANK[label] > _RANK[best]:
            best = label
    return best


def severity_from_score(score, version=3):
    """Qualitative rating of a CVSS base score (v2 has no ``critical``)."""
    try:
        score = float(score)
    except (TypeError, ValueError):
        return "unknown"
    if math.isnan(score) or score < 0 or score > 10:
        return "unknown"
    if version == 2:
        return "high" if score >= 7 else "medium" if score >= 4 else "low"
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    return "low"


# --------------------------------------------------------------------------
# CVSS base scores
# --------------------------------------------------------------------------

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
}


class CvssError(ValueError):
    """A CVSS vector this module cannot score."""


def _metrics(vector):
    metrics = {}
    for part in vector.split("/"):
        key, sep, value = part.partition(":")
        if not sep or not key or not value:
            raise CvssError(f"malformed CVSS part {part[:20]!r}")
        metrics[key] = value
    return metrics


def _roundup(value):
    """CVSS v3.1 Roundup: the smallest one-decimal number >= value, robust to float error."""
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def cvss3_base_score(vector):
    """Base score of a ``CVSS:3.x/AV:../..`` vector."""
    metrics = _metrics(vector)
    if not metrics.pop("CVSS", "").startswith("3"):
        raise CvssError("not a CVSS v3 vector")
    try:
        scope = metrics["S"]
        impact_parts = [_V3["C"][metrics[key]] for key in ("C", "I", "A")]
        exploitability = (
            8.22 * _V3["AV"][metrics["AV"]] * _V3["AC"][metrics["AC"]] * _V3_PR[scope][metrics["PR"]]
        ) * _V3["UI"][metrics["UI"]]
    except KeyError as exc:
        raise CvssError(f"missing or unknown CVSS v3 metric {exc}") from None
    iss = 1 - (1 - impact_parts[0]) * (1 - impact_parts[1]) * (1 - impact_parts[2])
    impact = 6.42 * iss if scope == "U" else 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def cvss2_base_score(vector):
    """Base score of a CVSS v2 vector (``AV:N/AC:L/Au:N/C:P/I:P/A:P``, optional ``(...)``)."""
    metrics = _metrics(vector.strip("()"))
    try:
        parts = [_V2["C"][metrics[key]] for key in ("C", "I", "A")]
        exploitability = 20 * _V2["AV"][metrics["AV"]] * _V2["AC"][metrics["AC"]] * _V2["Au"][metrics["Au"]]
    except KeyError as exc:
        raise CvssError(f"missing or unknown CVSS v2 metric {exc}") from None
    impact = 10.41 * (1 - (1 - parts[0]) * (1 - parts[1]) * (1 - parts[2]))
    factor = 0 if impact == 0 else 1.176
    return round(((0.6 * impact) + (0.4 * exploitability) - 1.5) * factor, 1)


def severity_from_vector(vector):
    """Severity of a CVSS vector string, ``'unknown'`` for v4 or anything unscorable."""
    vector = str(vector or "").strip()
    try:
        if vector.startswith("CVSS:3"):
            return severity_from_score(cvss3_base_score(vector))
        if vector.startswith("CVSS:4"):
            return "unknown"
        if "Au:" in vector:
            return severity_from_score(cvss2_base_score(vector), version=2)
    except CvssError:
        return "unknown"
    return "unknown"


# --------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------


def normalise_package(ecosystem, name):
    """PyPI names per PEP 503; npm names (and others) as written, stripped.

    The npm registry and OSV treat npm names as case-sensitive: ``JSONStream``
    and ``jsonstream`` are two packages, so neither may be folded into the other.
    """
    name = str(name or "").strip()
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name


@dataclass(frozen=True)
class Finding:
    """One vulnerability (or code-scanning alert) in one package version or file location."""

    advisory_id: str
    aliases: tuple = ()
    package: str = ""
    ecosystem: str = ""
    version: str = ""
    fixed_version: str = ""
    severity: str = "unknown"
    summary: str = ""
    url: str = ""
    #: where it came from: osv, pip-audit, trivy, npm-audit, sarif:<tool>
    source: str = ""
    #: file for code findings, target (lock file, image) for Trivy
    path: str = ""
    line: int = 0

    @property
    def fingerprint(self):
        """Stable identity across runs: the same advisory on the same package version (or location)."""
        if self.package:
            return f"{self.ecosystem}:{self.package}:{self.version}:{self.advisory_id}"
        return f"{self.source}:{self.path}:{self.line}:{self.advisory_id}"

    @property
    def ids(self):
        """The advisory id and its aliases, upper-cased, for matching."""
        return {self.advisory_id.upper(), *(alias.upper() for alias in self.aliases)}


def dedupe(findings):
    """Drop repeats: an advisory (or one of its aliases) already reported for the same package version
    (whichever source and manifest reported it), or for the same code location."""
    kept, seen = [], {}
    for finding in findings:
        if finding.package:
            scope = (finding.ecosystem, finding.package, finding.version)
        else:
            scope = (finding.source, finding.path, finding.line)
        known = seen.setdefault(scope, set())
        if finding.ids & known:
            continue
        known.update(finding.ids)
        kept.append(finding)
    return kept


def sort_findings(findings):
    """Most severe first, then by package and advisory."""
    return sorted(findings, key=lambda f: (-_RANK.get(f.severity, 0), f.package, f.path, f.advisory_id))


# --------------------------------------------------------------------------
# suppressions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Suppression:
    """Hide findings of an advisory and/or a package, for a reason, until ``expires_at`` (None: forever)."""

    advisory: str = ""
    package: str = ""
    reason: str = ""
    expires_at: datetime | None = None
    ecosystem: str = ""

    def __post_init__(self):
        if not self.advisory.strip() and not self.package.strip():
            raise ValueError("a suppression names an advisory, a package, or both")

    def active(self, now):
        if self.expires_at is None:
            return True
        return _aware(self.expires_at) > _aware(now)

    def matches(self, finding):
        if self.advisory and self.advisory.strip().upper() not in finding.ids:
            return False
        if self.ecosystem and finding.ecosystem and self.ecosystem != finding.ecosystem:
            return False
        if self.package:
            ecosystem = finding.ecosystem or self.ecosystem
            if normalise_package(ecosystem, self.package) != normalise_package(ecosystem, finding.package):
                return False
        return True


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def apply_suppressions(findings, suppressions, now):
    """Split findings into ``(active, suppressed)``; ``suppressed`` holds ``(finding, suppression)`` pairs.

    Only suppressions still in force at ``now`` count, so a finding whose
    suppression expired is active again.
    """
    in_force = [s for s in suppressions if s.active(now)]
    active, suppressed = [], []
    for finding in findings:
        match = next((s for s in in_force if s.matches(finding)), None)
        if match is None:
            active.append(finding)
        else:
            suppressed.append((finding, match))
    return active, suppressed
