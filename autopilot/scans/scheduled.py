"""One call per scheduled scan, so the Odoo crons stay thin.

Decides how the pieces of a scan combine and what state the run ends in:

- :func:`security_scan`: manifests at the default branch head → OSV
  findings, plus the findings of scanner reports a workflow run uploaded as
  an artifact (optional) → duplicates merged → suppressions applied;
- :func:`update_scan`: manifests → newest acceptable releases → grouped pull
  request plan under the open-PR limit, leaving out proposals closed unmerged
  (the cron then calls
  :func:`~.update_prs.open_update_pr` once per planned group, recording each
  group's success or failure on its own);
- :func:`license_scan`: SBOM → verdicts → summary.

Each returns a result with ``status`` ``"done"`` or ``"partial"`` and a
``reason``. ``partial`` means an outside service failed midway and the
result holds what was gathered before (the cron records both and retries
later). Failures before anything was gathered raise the
:class:`~..common.errors.ServiceError`, which the cron records as a failed run.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

from ..common.errors import RateLimited, ServiceError, ServiceUnavailable
from . import artifacts, licenses, manifests, osv, package_index, update_prs
from .dependencies import DEFAULT_MANIFESTS
from .findings import apply_suppressions, dedupe, sort_findings


@dataclass(frozen=True)
class SecurityScan:
    ref: str
    #: findings to record (suppressed ones are left out)
    findings: tuple
    #: ``(finding, suppression)`` pairs, for the run's statistics
    suppressed: tuple
    #: manifest lines that name no versioned package (``Unparseable``)
    unparseable: tuple
    #: dependencies not checked (no pinned version)
    unpinned: tuple
    #: ``(path, reason)`` for manifests or report files that could not be read
    errors: tuple = ()
    status: str = "done"
    reason: str = ""
    retry_after: float | None = None
    checked: int = 0


def security_scan(
    client,
    full_name,
    osv_client,
    suppressions=(),
    now=None,
    paths=DEFAULT_MANIFESTS,
    run_id=None,
    artifact_name=None,
    cache=None,
):
    """Vulnerabilities of the default branch's pinned dependencies (and of a run's report artifact)."""
    now = now or datetime.now(timezone.utc)
    declared = manifests.collect_dependencies(client, full_name, paths)
    errors = list(declared.errors)
    status, reason, retry_after = "done", "", None
    try:
        result = osv.scan_dependencies(osv_client, declared.result.dependencies, cache=cache)
    except ServiceError as error:
        if error.partial is None:
            raise
        result, status, reason, retry_after = error.partial, "partial", str(error), error.retry_after
    found = list(result.findings)
    if run_id and artifact_name:
        report_findings, report_errors, failure = _artifact_findings(client, full_name, run_id, artifact_name)
        found += report_findings
        errors += report_errors
        if failure is not None and status == "done":
            # what OSV found is kept; the run is partial and retried for the reports it could not read
            status, reason, retry_after = "partial", str(failure), failure.retry_after
    active, suppressed = apply_suppressions(sort_findings(dedupe(found)), suppressions, now)
    return SecurityScan(
        declared.ref,
        tuple(active),
        tuple(suppressed),
        declared.result.unparseable,
        result.skipped,
        tuple(errors),
        status,
        reason,
        retry_after,
        result.checked,
    )


def _artifact_findings(client, full_name, run_id, artifact_name):
    """``(findings, errors, failure)``: a failed download is an error of its own, never the scan's.

    ``failure`` is the first failure worth trying again (GitHub unavailable or
    rate limiting); an artifact GitHub refuses (expired, too large, not a zip)
    is only listed in ``errors``.
    """
    found, errors = [], []
    try:
        listed = artifacts.list_artifacts(client, full_name, run_id, artifact_name)
    except ServiceError as error:
        return found, [(artifact_name, str(error))], error if _transient(error) else None
    failure = None
    for artifact in listed:
        try:
            files = artifacts.download_artifact(client, full_name, artifact)
        except ServiceError as error:
            errors.append((artifact.name, str(error)))
            failure = failure or (error if _transient(error) else None)
            continue
        errors += [(f"{artifact.name}/{path}", reason) for path, reason in files.skipped]
        for report in artifacts.read_reports(files.files):
            if report.error:
                errors.append((f"{artifact.name}/{report.path}", report.error))
            else:
                found += report.result.findings
    return found, errors, failure


def _transient(error):
    return isinstance(error, ServiceUnavailable | RateLimited)


@dataclass(frozen=True)
class UpdateScan:
    ref: str
    check: package_index.UpdateCheck
    plan: package_index.GroupPlan
    unparseable: tuple = ()
    errors: tuple = ()
    status: str = "done"
    reason: str = ""
    retry_after: float | None = None
    #: the parsed ignore rules the check applied
    ignore: tuple = ()


def update_scan(
    client,
    full_name,
    indexes,
    min_release_age_days=3,
    ignore=(),
    allow_prerelease=False,
    max_open=package_index.DEFAULT_MAX_OPEN,
    now=None,
    paths=DEFAULT_MANIFESTS,
):
    """Updates worth proposing and the pull requests to open now (``plan.to_open``) or refresh."""
    rules = tuple(r if isinstance(r, package_index.IgnoreRule) else package_index.IgnoreRule.parse(r) for r in ignore)
    declared = manifests.collect_dependencies(client, full_name, paths)
    status, reason, retry_after = "done", "", None
    try:
        check = package_index.check_updates(
            declared.result.dependencies, indexes, min_release_age_days, rules, allow_prerelease, now
        )
    except ServiceError as error:
        if error.partial is None:
            raise
        check, status, reason, retry_after = error.partial, "partial", str(error), error.retry_after
    open_branches = update_prs.open_update_branches(client, full_name, package_index.BRANCH_PREFIX)
    closed = [g for g in package_index.build_groups(check.updates) if g.branch not in open_branches]
    declined = update_prs.declined_updates(client, full_name, closed)
    plan = package_index.group_updates(check.updates, max_open, open_branches, declined=declined)
    return UpdateScan(
        declared.ref, check, plan, declared.result.unparseable, declared.errors, status, reason, retry_after, rules
    )


@dataclass(frozen=True)
class LicenseScan:
    verdicts: tuple
    summary: licenses.LicenseSummary
    markdown: str


def license_scan(client, full_name, policy=licenses.DEFAULT_POLICY):
    """License verdicts of every dependency GitHub's dependency graph knows, with the report summary."""
    verdicts = licenses.check_packages(licenses.parse_sbom(licenses.fetch_sbom(client, full_name)), policy)
    summary = licenses.summarize(verdicts)
    return LicenseScan(tuple(verdicts), summary, licenses.summary_markdown(summary))
