"""Security and dependency-update scans: both read the repository's manifests."""

from odoo import _, models

from ..autopilot.common.errors import ServiceError
from ..autopilot.scans import osv, package_index, records, scheduled, security_issues, update_prs
from .ops_params import get_param
from .ops_scan_run import ScanOutcome

UPDATE_LABELS = ("dependencies",)


def _count_by(values, key):
    counts = {}
    for item in values:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts


class OpsScanRun(models.Model):
    _inherit = "ops.scan.run"

    # ------------------------------------------------------------------
    # security
    # ------------------------------------------------------------------
    def _security_report_run(self):
        """The latest finished run of the repository's scanner workflow (its artifact holds reports).

        A failed run counts: pip-audit, ``trivy --exit-code 1`` and npm audit
        fail their job precisely when they find something, and the workflow
        uploads its reports anyway (``if: always()``). Cancelled and skipped
        runs do not.
        """
        repo = self.repository_id
        workflow = (repo.scan_report_workflow or "").strip()
        if not workflow:
            return self.env["ops.workflow.run"]
        return (
            self.env["ops.workflow.run"]
            .sudo()
            .search(
                [
                    ("repository_id", "=", repo.id),
                    ("source", "=", "workflow_run"),
                    ("outcome", "in", ("success", "failure")),
                    "|",
                    ("workflow_path", "=", workflow),
                    ("workflow_path", "=like", f"%/{workflow}"),
                ],
                order="started_at desc, id desc",
                limit=1,
            )
        )

    def _scan_security(self):
        repo = self.repository_id
        client = self._github()
        osv_client = osv.OSVClient(get_param(self.env, "scan_osv_url"), **self._http_options())
        suppressions = self.env["ops.scan.suppression"]._for_repository(repo)
        rules = [s._engine_rule() for s in suppressions if s.scan_type in (False, "security")]
        report_run = self._security_report_run()
        artifact = (repo.scan_report_artifact or "").strip() if report_run else ""
        scan = scheduled.security_scan(
            client,
            repo.full_name,
            osv_client,
            suppressions=rules,
            paths=repo._manifest_paths(),
            run_id=report_run.github_id if report_run else None,
            artifact_name=artifact or None,
        )
        engine_findings = list(scan.findings) + [finding for finding, _rule in scan.suppressed]
        values = [records.security_values(finding) for finding in engine_findings]
        complete = scan.status == "done" and not scan.errors
        self.write({"ref": scan.ref})
        findings = self._record(values, complete)
        by_key = {finding.fingerprint: finding for finding in engine_findings}
        self._raise_security_incidents(findings)
        if complete:
            self._resolve_fixed_incidents()
        issue_error = self._open_security_issues(client, findings, by_key)

        status, reason, kind, retry_after = "done", "", "", None
        if scan.status == "partial":
            status, reason, retry_after = "partial", scan.reason, scan.retry_after
            kind = "rate_limited" if scan.retry_after else "unavailable"
        elif scan.errors:
            status = "partial"
            reason = "; ".join(f"{path}: {why}" for path, why in scan.errors)[:1500]
        if issue_error:
            status = "partial"
            reason = "; ".join(r for r in (reason, str(issue_error)) if r)
            kind, retry_after = kind or issue_error.kind, retry_after or issue_error.retry_after
        severities = _count_by(values, "severity")
        high = severities.get("high", 0) + severities.get("critical", 0)
        summary = _(
            "%(checked)s pinned package versions checked: %(found)s findings (%(high)s high or critical), "
            "%(suppressed)s suppressed; %(unpinned)s dependencies without a pinned version not checked.",
            checked=scan.checked,
            found=len(scan.findings),
            high=high,
            suppressed=len(scan.suppressed),
            unpinned=len(scan.unpinned),
        )
        stats = {
            "checked": scan.checked,
            "findings": len(scan.findings),
            "suppressed": len(scan.suppressed),
            "by_severity": severities,
            "unpinned": [d.name for d in scan.unpinned][:200],
            "unparseable": [f"{u.file}:{u.line}: {u.reason}" for u in scan.unparseable][:200],
            "errors": [f"{path}: {why}" for path, why in scan.errors][:200],
            "report_run": report_run.github_id if report_run else None,
        }
        total = scan.checked + len(scan.unpinned)
        return ScanOutcome(status, summary, reason, stats, kind, retry_after, done=total, total=total)

    def _raise_security_incidents(self, findings):
        """One incident per high/critical advisory; it resolves itself once the scan no longer finds it.

        A finding whose incident people resolved while it is still found does
        not reopen it (they decided; a suppression says why); a finding fixed
        and found again raises a new one.
        """
        Incident = self.env["ops.incident"].sudo()
        serious = findings.filtered(
            lambda f: (
                f.status == "open"
                and records.raises_incident("security", f.severity)
                and (not f.incident_id or f.incident_id.state != "resolved")
            )
        )
        repo = self.repository_id
        for advisory in sorted(set(serious.mapped("advisory_id"))):
            group = serious.filtered(lambda f, a=advisory: f.advisory_id == a)
            worst = "critical" if "critical" in group.mapped("severity") else "high"
            packages = ", ".join(sorted({f"{f.package} {f.version}".strip() for f in group}))
            incident = Incident._raise_incident(
                {
                    "dedup_key": records.incident_key(repo.full_name, advisory),
                    "source": "scan",
                    "title": f"{advisory} ({worst}) in {repo.full_name}: {packages}"[:250],
                    "severity": worst,
                    "condition": advisory,
                    "category": "security scan",
                    "repository_id": repo.id,
                    "company_id": repo.company_id.id,
                    "description": "\n".join(f"{f.title} — fixed in {f.fixed_version or '?'}" for f in group),
                }
            )
            group.write({"incident_id": incident.id})

    def _resolve_fixed_incidents(self):
        """Incidents whose findings are all fixed, suppressed or ignored are resolved automatically."""
        Finding = self.env["ops.scan.finding"].sudo()
        linked = Finding.search(
            [
                ("repository_id", "=", self.repository_id.id),
                ("scan_type", "=", "security"),
                ("incident_id", "!=", False),
            ]
        )
        for incident in linked.incident_id.filtered(lambda i: i.state != "resolved"):
            if all(f.status != "open" for f in linked if f.incident_id == incident):
                incident._resolve(note=_("No longer found by the security scan."), auto=True)

    def _open_security_issues(self, client, findings, by_key):
        """One GitHub issue per high/critical advisory, once: returns the error that stopped it, if any."""
        repo = self.repository_id
        serious = findings.filtered(lambda f: f.status == "open" and records.raises_incident("security", f.severity))
        Finding = self.env["ops.scan.finding"].sudo()
        for advisory in sorted(set(serious.mapped("advisory_id"))):
            same = Finding.search(
                [("repository_id", "=", repo.id), ("scan_type", "=", "security"), ("advisory_id", "=", advisory)]
            )
            known = same.filtered("github_issue_url")[:1]
            if known:
                (same - known).filtered(lambda f: not f.github_issue_url).write(
                    {"github_issue_url": known.github_issue_url, "github_issue_number": known.github_issue_number}
                )
                continue
            group = [by_key[f.dedup_key] for f in serious if f.advisory_id == advisory and f.dedup_key in by_key]
            try:
                issue = security_issues.publish_issue(client, repo.full_name, advisory, group)
            except ServiceError as error:
                return error
            same.write({"github_issue_url": issue.url, "github_issue_number": issue.number})
        return None

    # ------------------------------------------------------------------
    # dependency updates
    # ------------------------------------------------------------------
    def _scan_dependency_updates(self):
        repo = self.repository_id
        client = self._github()
        options = self._http_options()
        indexes = {
            "PyPI": package_index.PyPIIndex(get_param(self.env, "scan_pypi_url"), **options),
            "npm": package_index.NpmRegistry(get_param(self.env, "scan_npm_url"), **options),
        }
        max_open = max(0, get_param(self.env, "scan_max_open_update_prs"))
        scan = scheduled.update_scan(
            client,
            repo.full_name,
            indexes,
            min_release_age_days=max(0, get_param(self.env, "scan_min_release_age_days")),
            ignore=records.parse_ignore_list(get_param(self.env, "scan_ignore_list")),
            max_open=max_open,
            paths=repo._manifest_paths(),
        )
        values = [records.update_values(update) for update in scan.check.updates]
        self.write({"ref": scan.ref})
        findings = self._record(values, complete=scan.status == "done" and not scan.errors)
        by_key = {f.dedup_key: f for f in findings}

        opened, refreshed, failures = [], [], []
        for group in scan.plan.to_open + scan.plan.already_open:
            if group in scan.plan.to_open and self._freeze_hold_update_pr(group):  # ops_scan_run_freeze.py
                continue
            try:
                result = update_prs.open_update_pr(client, repo.full_name, group, labels=UPDATE_LABELS)
            except ServiceError as error:
                failures.append((group, error))
                continue
            (opened if result.created else refreshed).append(result)
            keys = [records.update_values(update)["dedup_key"] for update in group.updates]
            group_findings = self.env["ops.scan.finding"].union(*(by_key[k] for k in keys if k in by_key))
            if result.number:
                group_findings.write({"github_pr_number": result.number, "github_pr_url": result.url})

        status, reason, kind, retry_after = "done", "", "", None
        if scan.status == "partial":
            status, reason, retry_after = "partial", scan.reason, scan.retry_after
            kind = "rate_limited" if scan.retry_after else "unavailable"
        elif scan.errors:
            status, reason = "partial", "; ".join(f"{path}: {why}" for path, why in scan.errors)[:1500]
        if failures:
            status = "partial"
            reason = "; ".join([reason] * bool(reason) + [f"{g.branch}: {e}" for g, e in failures])[:2000]
            kind = kind or failures[0][1].kind
            retry_after = retry_after or failures[0][1].retry_after
        summary = _(
            "%(updates)s updates available: %(opened)s pull requests opened, %(refreshed)s refreshed, "
            "%(deferred)s groups waiting for a free slot (at most %(max)s open), %(declined)s closed unmerged "
            "and not proposed again.",
            updates=len(scan.check.updates),
            opened=len(opened),
            refreshed=len(refreshed),
            deferred=len(scan.plan.deferred),
            max=max_open,
            declined=len(scan.plan.declined),
        )
        stats = {
            "updates": len(scan.check.updates),
            "by_kind": _count_by([{"kind": u.kind} for u in scan.check.updates], "kind"),
            "pull_requests": [
                {"branch": r.branch, "number": r.number, "url": r.url, "draft": r.draft} for r in opened + refreshed
            ],
            "deferred": [g.branch for g in scan.plan.deferred],
            "declined": [g.branch for g in scan.plan.declined],
            "index_failures": [f"{dep.name}: {error}" for dep, error in scan.check.failures][:200],
            "skipped": [d.name for d in scan.check.skipped][:200],
            "ignore_rules": [rule.name for rule in scan.ignore],
        }
        checked = len(scan.check.updates)
        return ScanOutcome(status, summary, reason, stats, kind, retry_after, done=checked, total=checked)
