"""Dead-code and license-compliance scans: both read the whole repository at its default branch."""

import dataclasses

from odoo import _, fields, models

from ..autopilot.common.errors import ServiceError
from ..autopilot.scans import deadcode, licenses, records, scheduled
from .ops_params import get_param
from .ops_scan_run import ScanOutcome

#: packages listed one by one in the license report (the counts cover them all)
MAX_REPORT_PACKAGES = 5000


class OpsScanRun(models.Model):
    _inherit = "ops.scan.run"

    scan_state = fields.Json(
        readonly=True, copy=False, help="Where a scan spread over several cron calls goes on from (dead code)"
    )

    # ------------------------------------------------------------------
    # dead code
    # ------------------------------------------------------------------
    def _scan_dead_code(self):
        """Vulture over the default branch, in steps that each fit one cron call's time budget.

        A step that runs out of time leaves the run queued with its state
        (the commit and what vulture has seen so far); the cron's next call
        goes on from there. Findings and the issue come once every file was read.
        """
        repo = self.repository_id
        client = self._github()

        def progress(done, total):
            self.write({"progress_done": done, "progress_total": total})

        state, scan = deadcode.scan_repository_step(
            client,
            repo.full_name,
            state=self.scan_state or None,
            api_url=repo.api_url,
            min_confidence=get_param(self.env, "scan_vulture_confidence"),
            deadline=self._scan_deadline(),
            progress=progress,
        )
        if scan is None:
            done, total = state["analysis"]["next"], state["analysis"]["total"]
            self.write({"scan_state": state, "ref": state["sha"]})
            summary = _(
                "%(done)s of %(total)s Python files read; the scan goes on in the next cron call.",
                done=done,
                total=total,
            )
            return ScanOutcome("queued", summary, done=done, total=total)
        self.write({"ref": scan.sha, "scan_state": False})
        findings = self._record([records.deadcode_values(item) for item in scan.findings], scan.complete)
        status, reason, kind, retry_after = "done", "", "", None
        if not scan.complete:
            status, reason = "partial", _("The repository exceeded the scan limits: part of it was scanned.")

        # one cleanup issue per scan, listing what people did not suppress or ignore
        still_open = {f.dedup_key for f in findings if f.status == "open"}
        reported = tuple(item for item in scan.findings if records.deadcode_values(item)["dedup_key"] in still_open)
        issue = deadcode.build_issue(dataclasses.replace(scan, findings=reported))
        if issue:
            try:
                published = deadcode.publish_issue(client, repo.full_name, *issue)
            except ServiceError as error:
                status, kind, retry_after = "partial", error.kind, error.retry_after
                reason = "; ".join(r for r in (reason, str(error)) if r)
            else:
                self.write({"github_issue_url": published.url})
                findings.filtered(lambda f: f.status == "open").write(
                    {"github_issue_url": published.url, "github_issue_number": published.number}
                )
        summary = _(
            "%(count)s possibly unused items in %(files)s Python files (confidence ≥ %(confidence)s%%)%(issue)s.",
            count=len(reported),
            files=scan.scanned_files,
            confidence=scan.min_confidence,
            issue=_(", listed in one cleanup issue") if issue and self.github_issue_url else "",
        )
        stats = {
            "scanned_files": scan.scanned_files,
            "findings": len(scan.findings),
            "reported": len(reported),
            "min_confidence": scan.min_confidence,
            "skipped": [f"{path}: {why}" for path, why in scan.skipped][:200],
            "complete": scan.complete,
        }
        return ScanOutcome(
            status, summary, reason, stats, kind, retry_after, done=scan.scanned_files, total=scan.scanned_files
        )

    # ------------------------------------------------------------------
    # licenses
    # ------------------------------------------------------------------
    def _scan_license_compliance(self):
        repo = self.repository_id
        try:
            policy = self.env["ops.license.policy"]._engine_policy()
        except ValueError as exc:
            return ScanOutcome("failed", reason=_("The license policy is inconsistent: %s", exc), kind="rejected")
        scan = scheduled.license_scan(self._github(), repo.full_name, policy)
        values = [v for v in (records.license_values(verdict) for verdict in scan.verdicts) if v]
        self._record(values, complete=True)
        summary = scan.summary
        counts = summary.counts
        packages = sorted(
            scan.verdicts,
            key=lambda v: (licenses.VERDICTS.index(v.verdict) * -1, v.package.ecosystem, v.package.name.lower()),
        )
        stats = {
            "period": fields.Datetime.to_string(self.started_at or fields.Datetime.now())[:7],
            "total": summary.total,
            "counts": counts,
            "by_license": summary.by_license,
            "packages": [
                [v.package.ecosystem, v.package.name, v.package.version, v.package.license, v.verdict]
                for v in packages[:MAX_REPORT_PACKAGES]
            ],
            "markdown": scan.markdown,
        }
        text = _(
            "%(total)s dependencies: %(allowed)s allowed, %(review)s to review, %(unknown)s unknown, "
            "%(denied)s denied.",
            total=summary.total,
            **{verdict: counts.get(verdict, 0) for verdict in licenses.VERDICTS},
        )
        return ScanOutcome("done", text, stats=stats, done=summary.total, total=summary.total)
