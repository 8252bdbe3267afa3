import dataclasses
from datetime import datetime

from odoo import _, models

from ..autopilot.scans import package_index, records, update_prs
from .ops_scan_run_dependencies import UPDATE_LABELS


def _group_payload(group):
    """An update group as JSON-able data (see :func:`_group_from`)."""
    updates = [
        {**dataclasses.asdict(u), "released_at": u.released_at.isoformat() if u.released_at else None}
        for u in group.updates
    ]
    return {
        "key": group.key,
        "ecosystem": group.ecosystem,
        "kind": group.kind,
        "branch_prefix": group.branch_prefix,
        "updates": updates,
    }


def _group_from(payload):
    updates = tuple(
        package_index.Update(
            **{**u, "released_at": datetime.fromisoformat(u["released_at"]) if u.get("released_at") else None}
        )
        for u in payload["updates"]
    )
    return package_index.UpdateGroup(
        key=payload["key"],
        ecosystem=payload["ecosystem"],
        kind=payload["kind"],
        updates=updates,
        branch_prefix=payload.get("branch_prefix") or package_index.BRANCH_PREFIX,
    )


class OpsScanRun(models.Model):
    """Dependency-update pull requests wait while their repository is frozen (``ops.freeze.hold``)."""

    _inherit = "ops.scan.run"

    def _freeze_hold_update_pr(self, group):
        """Hold ``group``'s new pull request when the repository is frozen; True when held."""
        window = self.env["ops.freeze.window"]._active_freeze(self.repository_id)
        if not window:
            return False
        self.env["ops.freeze.hold"]._hold(window, self, "update_pr", group.branch, group.title, _group_payload(group))
        return True

    def _scan_dependency_updates(self):
        outcome = super()._scan_dependency_updates()
        held = (
            self.env["ops.freeze.hold"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "=", self.id), ("state", "=", "held")])
        )
        if held:
            outcome.summary = " ".join(
                [
                    outcome.summary,
                    _(
                        "%(count)s pull requests held by the change freeze “%(window)s”: opened when it ends.",
                        count=len(held),
                        window=held[0].window_id.name,
                    ),
                ]
            )
            outcome.stats["held"] = held.mapped("key")
        return outcome

    def _freeze_release(self, hold):
        """Open the held dependency-update pull request; returns its URL."""
        repo = hold.repository_id.sudo()
        group = _group_from(hold._payload())
        result = update_prs.open_update_pr(repo._github_client(), repo.full_name, group, labels=UPDATE_LABELS)
        keys = [records.update_values(update)["dedup_key"] for update in group.updates]
        findings = (
            self.env["ops.scan.finding"]
            .sudo()
            .search(
                [("repository_id", "=", repo.id), ("scan_type", "=", "dependency_updates"), ("dedup_key", "in", keys)]
            )
        )
        if result.number:
            findings.write({"github_pr_number": result.number, "github_pr_url": result.url})
        return result.url
