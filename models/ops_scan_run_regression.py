"""Performance regression: last week's workflow durations and health response times vs a baseline."""

from datetime import timedelta

from odoo import _, fields, models

from ..autopilot.scans import records
from ..autopilot.scans.regression import RegressionPolicy, detect_regressions
from .ops_params import get_param
from .ops_scan_run import ScanOutcome


class OpsScanRun(models.Model):
    _inherit = "ops.scan.run"

    def _regression_policy(self):
        return RegressionPolicy(
            recent_days=max(1, get_param(self.env, "scan_regression_recent_days")),
            baseline_days=max(1, get_param(self.env, "scan_regression_baseline_days")),
            min_change_pct=max(0.0, get_param(self.env, "scan_regression_min_change_pct")),
        )

    def _regression_samples(self, since):
        """``(key, at, value)`` samples and ``{key: label}``: successful workflow runs, then health probes."""
        repo = self.repository_id
        samples, labels = [], {}
        runs = (
            self.env["ops.workflow.run"]
            .sudo()
            .search(
                [
                    ("repository_id", "=", repo.id),
                    ("outcome", "=", "success"),
                    ("started_at", ">=", since),
                    ("duration", ">", 0),
                ]
            )
        )
        for run in runs:
            name = run.name or run.workflow_path or str(run.workflow_id)
            key = f"workflow:{run.workflow_path or name}"
            labels.setdefault(key, _("Workflow %s", name))
            samples.append((key, run.started_at, run.duration))
        samples += self._health_samples(since, labels)
        return samples, labels

    def _health_samples(self, since, labels):
        """Hourly average response times of the repository's health targets (raw samples are purged sooner)."""
        if "ops.health.sample.hourly" not in self.env:
            return []
        targets = (
            self.env["ops.health.target"]
            .sudo()
            .with_context(active_test=False)
            .search([("repository_id", "=", self.repository_id.id)])
        )
        if not targets:
            return []
        rows = (
            self.env["ops.health.sample.hourly"]
            .sudo()
            .search_read(
                [("target_id", "in", targets.ids), ("bucket", ">=", since), ("avg_response_ms", ">", 0)],
                ["target_id", "bucket", "avg_response_ms"],
            )
        )
        names = dict(zip(targets.ids, targets.mapped("display_name"), strict=True))
        result = []
        for row in rows:
            target_id = row["target_id"][0]
            key = f"health:{target_id}"
            labels.setdefault(key, _("Health %s", names.get(target_id, target_id)))
            result.append((key, row["bucket"], row["avg_response_ms"]))
        return result

    def _scan_performance_regression(self):
        policy = self._regression_policy()
        now = fields.Datetime.now()
        since = now - timedelta(days=policy.recent_days + policy.baseline_days)
        samples, labels = self._regression_samples(since)
        results = detect_regressions(samples, now, policy)
        values = [v for v in (records.regression_values(r, labels.get(r.key, r.key)) for r in results) if v]
        self._record(values, complete=True)
        regressed = [r for r in results if r.regressed]
        summary = _(
            "%(keys)s series compared (%(samples)s samples, last %(recent)s days vs the %(baseline)s before): "
            "%(regressed)s significantly slower by %(pct)s%% or more.",
            keys=len(results),
            samples=len(samples),
            recent=policy.recent_days,
            baseline=policy.baseline_days,
            regressed=len(regressed),
            pct=policy.min_change_pct,
        )
        stats = {
            "policy": {
                "recent_days": policy.recent_days,
                "baseline_days": policy.baseline_days,
                "min_change_pct": policy.min_change_pct,
                "alpha": policy.alpha,
            },
            "results": [{**records.regression_stats(r), "label": labels.get(r.key, r.key)} for r in results],
        }
        return ScanOutcome("done", summary, stats=stats, done=len(results), total=len(results))
