"""How scan results become stored findings, and what a scan run does after trouble.

The Odoo models persist what this module decides:

- one dictionary of finding values per engine result (security finding,
  dependency update, dead-code item, license verdict, performance
  regression), with the ``dedup_key`` that identifies the same finding
  run after run, its severity and a human title;
- which findings open an incident (high and critical security findings,
  one incident per advisory and repository) and the incident's key;
- whether a failed or partial run is queued again, and when
  (:func:`retry_delay`);
- the small text formats people type in the settings and the dry-run
  wizard (:func:`parse_ignore_list`, :func:`parse_workflow_inputs`).

Pure functions only: no network, no Odoo.
"""

import json
import re

from ..common.backoff import BackoffPolicy
from .dependencies import normalise_name

SCAN_TYPES = (
    "dependency_updates",
    "security",
    "performance_regression",
    "dead_code",
    "license_compliance",
    "migration_dry_run",
)
#: severities (ascending) shared with :mod:`.findings`
SEVERITIES = ("unknown", "low", "medium", "high", "critical")
INCIDENT_SEVERITIES = ("high", "critical")
UPDATE_SEVERITY = {"patch": "low", "minor": "low", "major": "medium"}
LICENSE_SEVERITY = {"review": "low", "unknown": "medium", "denied": "high"}
#: error kinds (:class:`~..common.errors.ServiceError.kind`) worth trying again soon
RETRYABLE_KINDS = ("unavailable", "rate_limited", "bad_answer")
MAX_TITLE = 250
MAX_DETAIL = 4000


def _cut(text, limit):
    text = str(text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------


def security_values(finding):
    """Values of one :class:`~.findings.Finding` (OSV, pip-audit, Trivy, npm audit, SARIF)."""
    title = finding.summary or finding.advisory_id
    if finding.package:
        title = f"{finding.package} {finding.version}: {title}"
    return {
        "dedup_key": finding.fingerprint,
        "severity": finding.severity if finding.severity in SEVERITIES else "unknown",
        "advisory_id": finding.advisory_id,
        "aliases": ", ".join(sorted(set(finding.aliases) - {finding.advisory_id})),
        "package": finding.package,
        "ecosystem": finding.ecosystem,
        "version": finding.version,
        "fixed_version": finding.fixed_version,
        "title": _cut(title, MAX_TITLE),
        "detail": _cut(finding.summary, MAX_DETAIL),
        "url": finding.url,
        "source": finding.source,
        "path": finding.path,
        "line": int(finding.line or 0),
    }


def update_values(update):
    """Values of one proposed :class:`~.package_index.Update` (one finding per declaration)."""
    name = normalise_name(update.ecosystem, update.name)
    return {
        "dedup_key": f"update:{update.ecosystem}:{name}:{update.file}",
        "severity": UPDATE_SEVERITY.get(update.kind, "low"),
        "advisory_id": f"update:{update.kind}",
        "package": update.name,
        "ecosystem": update.ecosystem,
        "version": update.current,
        "fixed_version": update.latest,
        "title": _cut(f"Bump {update.name} from {update.current} to {update.latest} ({update.kind})", MAX_TITLE),
        "detail": _cut(
            f"{update.file}:{update.line} declares {update.spec or update.current}; "
            f"{update.latest} was released {update.released_at:%Y-%m-%d}."
            if update.released_at
            else f"{update.file}:{update.line} declares {update.spec or update.current}.",
            MAX_DETAIL,
        ),
        "source": "index",
        "path": update.file,
        "line": int(update.line or 0),
    }


def deadcode_values(item):
    """Values of one :class:`~.deadcode.DeadCodeFinding`; the key survives the code moving lines."""
    kind = re.sub(r"[^a-z]+", "-", item.kind.lower()).strip("-") or "item"
    return {
        "dedup_key": f"deadcode:{item.path}:{kind}:{item.name}",
        "severity": "low",
        "advisory_id": f"vulture:unused-{kind}",
        "title": _cut(item.message, MAX_TITLE),
        "detail": f"{item.confidence}% confidence",
        "url": item.url,
        "source": "vulture",
        "path": item.path,
        "line": int(item.line or 0),
        "confidence": int(item.confidence or 0),
    }


def license_values(verdict):
    """Values of one :class:`~.licenses.PackageVerdict` that is not ``allowed`` (None when allowed)."""
    if verdict.verdict == "allowed":
        return None
    package = verdict.package
    name = normalise_name(package.ecosystem, package.name) if package.ecosystem else package.name
    return {
        "dedup_key": f"license:{package.ecosystem}:{name}",
        "severity": LICENSE_SEVERITY.get(verdict.verdict, "medium"),
        "advisory_id": f"license:{verdict.verdict}",
        "package": package.name,
        "ecosystem": package.ecosystem,
        "version": package.version,
        "license": _cut(package.license, 250),
        "license_verdict": verdict.verdict,
        "title": _cut(f"{package.name} {package.version}: {package.license} ({verdict.verdict})", MAX_TITLE),
        "detail": _cut(verdict.reason, MAX_DETAIL),
        "source": "sbom",
    }


def regression_values(result, label):
    """Values of one regressed :class:`~.regression.RegressionResult` (None when not regressed)."""
    if not result.regressed:
        return None
    return {
        "dedup_key": f"regression:{result.key}",
        "severity": "medium",
        "advisory_id": "regression:slowdown",
        "package": label,
        "title": _cut(f"{label} slower: {result.reason}", MAX_TITLE),
        "detail": _cut(regression_text(result), MAX_DETAIL),
        "source": "regression",
    }


def regression_text(result):
    """The numbers behind a regression verdict, one line."""

    def number(value):
        return "-" if value is None else f"{value:.1f}"

    change = "-" if result.change_pct is None else f"{result.change_pct:+.1f}%"
    p_value = "-" if result.p_value is None else f"{result.p_value:.4f}"
    return (
        f"median {number(result.baseline_median)} → {number(result.recent_median)} ({change}), "
        f"p90 {number(result.baseline_p90)} → {number(result.recent_p90)}, "
        f"p={p_value}, samples {result.baseline_n} baseline / {result.recent_n} recent"
    )


def regression_stats(result):
    """JSON-safe numbers of one comparison, for the run's statistics."""
    return {
        "key": result.key,
        "baseline_n": result.baseline_n,
        "recent_n": result.recent_n,
        "baseline_median": result.baseline_median,
        "baseline_p90": result.baseline_p90,
        "recent_median": result.recent_median,
        "recent_p90": result.recent_p90,
        "change_pct": result.change_pct,
        "p_value": result.p_value,
        "regressed": result.regressed,
        "reason": result.reason,
    }


# --------------------------------------------------------------------------
# incidents
# --------------------------------------------------------------------------


def raises_incident(scan_type, severity):
    """High and critical security findings open an incident; nothing else does."""
    return scan_type == "security" and severity in INCIDENT_SEVERITIES


def incident_key(full_name, advisory_id):
    """One incident per advisory and repository, whatever the package version or run."""
    return f"scan:security:{full_name.lower()}:{advisory_id.upper()}"


# --------------------------------------------------------------------------
# retries
# --------------------------------------------------------------------------

#: queued again after 15 min, 1 h, 4 h; the scheduled run tomorrow takes over after that
RETRY_POLICY = BackoffPolicy(initial=900, base=4.0, max_delay=4 * 3600, jitter=0.0, max_attempts=3)


def retry_delay(kind, retries_done, retry_after=None, policy=RETRY_POLICY):
    """Seconds before the next retry of a run that ended with an error of ``kind``, or None.

    ``retries_done`` counts the retries already made for this repository and
    scan type since its last scheduled run.

    Outside trouble (unreachable, rate limited, garbage answers) is retried
    with backoff, never sooner than the service's ``Retry-After``; refusals
    and missing things (a wrong token, a repository without a manifest
    API) wait for the next scheduled run, as do runs past the attempt cap.
    """
    if kind not in RETRYABLE_KINDS or not policy.can_retry(retries_done):
        return None
    delay = policy.delay(retries_done + 1)
    if retry_after:
        delay = max(delay, float(retry_after))
    return delay


# --------------------------------------------------------------------------
# text settings
# --------------------------------------------------------------------------


def parse_ignore_list(text):
    """Ignore rules from a settings text (one per line or comma separated, ``#`` comments)."""
    rules = []
    for line in str(text or "").splitlines():
        content = line.split("#", 1)[0]
        rules += [part.strip() for part in content.split(",") if part.strip()]
    return tuple(rules)


_INPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")


def parse_workflow_inputs(text):
    """``workflow_dispatch`` inputs from ``key=value`` lines or a JSON object; raises ValueError."""
    text = str(text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("inputs are not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("inputs must be a JSON object")
        items = list(data.items())
    else:
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"line {number}: write name=value")
            items.append((key.strip(), value.strip()))
    inputs = {}
    for key, value in items:
        if not isinstance(key, str) or not _INPUT_NAME_RE.match(key):
            raise ValueError(f"{str(key)[:40]!r} is not a workflow input name")
        if key in inputs:
            raise ValueError(f"input {key!r} is given twice")
        if isinstance(value, bool):
            inputs[key] = value
        elif isinstance(value, (str, int, float)):
            inputs[key] = str(value)
        else:
            raise ValueError(f"input {key!r} must be a string, number or boolean")
    if len(inputs) > 25:
        raise ValueError("a workflow takes at most 25 inputs")
    return inputs


# --------------------------------------------------------------------------
# migration dry-runs
# --------------------------------------------------------------------------

#: GitHub's and our clocks may disagree by this much (as :data:`.dispatch.CLOCK_SKEW`)
DISPATCH_SKEW_SECONDS = 60


def workflow_matches(path, workflow):
    """Whether a run's workflow ``path`` (``.github/workflows/x.yml``) is ``workflow`` (file name or path)."""
    path, workflow = str(path or ""), str(workflow or "").strip()
    if not path or not workflow:
        return False
    return path == workflow or path.rsplit("/", 1)[-1] == workflow.rsplit("/", 1)[-1]


def claims_dispatch(event, path, branch, started_at, workflow, ref, dispatched_at, skew=DISPATCH_SKEW_SECONDS):
    """Whether a workflow run (from a webhook or the API) is the one a dispatch created.

    Same rule as :func:`.dispatch.find_dispatched_run`: a ``workflow_dispatch``
    run of that workflow on that branch that started after the dispatch
    (less the clock skew). Several pending dispatches are matched oldest first.
    """
    if event != "workflow_dispatch" or branch != ref or not workflow_matches(path, workflow):
        return False
    if started_at is None or dispatched_at is None:
        return True
    return (started_at - dispatched_at).total_seconds() >= -skew
