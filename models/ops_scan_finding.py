from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Command

from .. import const
from ..autopilot.github import rest_api
from ..autopilot.scans.findings import Finding, apply_suppressions

FINDING_STATUSES = [
    ("open", "Open"),
    ("suppressed", "Suppressed"),
    ("fixed", "Fixed"),
    ("ignored", "Ignored"),
]
#: values a scan may change on a finding it sees again
SCAN_FIELDS = (
    "severity",
    "advisory_id",
    "aliases",
    "package",
    "ecosystem",
    "version",
    "fixed_version",
    "title",
    "detail",
    "url",
    "source",
    "path",
    "line",
    "license",
    "license_verdict",
    "confidence",
)


class OpsScanFinding(models.Model):
    """Something a scan found, kept once per repository across runs (``dedup_key``)."""

    _name = "ops.scan.finding"
    _description = "Scan Finding"
    _order = "status_rank, severity_rank desc, last_seen_at desc, id desc"
    _rec_name = "title"

    repository_id = fields.Many2one("ops.repository", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="repository_id.company_id", store=True, index=True)
    scan_type = fields.Selection(const.SCAN_TYPES, string="Type", required=True, readonly=True, index=True)
    dedup_key = fields.Char(required=True, readonly=True, index=True, help="Identity of the finding across runs")
    run_ids = fields.Many2many(
        "ops.scan.run", "ops_scan_finding_run_rel", "finding_id", "run_id", string="Seen in runs", readonly=True
    )
    last_run_id = fields.Many2one("ops.scan.run", string="Last run", readonly=True, ondelete="set null")
    severity = fields.Selection(const.FINDING_SEVERITIES, default="unknown", required=True, readonly=True, index=True)
    severity_rank = fields.Integer(compute="_compute_ranks", store=True)
    status = fields.Selection(FINDING_STATUSES, default="open", required=True, readonly=True, index=True)
    status_rank = fields.Integer(compute="_compute_ranks", store=True)
    title = fields.Char(required=True, readonly=True)
    detail = fields.Text(readonly=True)
    advisory_id = fields.Char(string="Advisory / rule", readonly=True, index=True)
    aliases = fields.Char(readonly=True)
    package = fields.Char(readonly=True, index=True)
    ecosystem = fields.Char(readonly=True)
    version = fields.Char(readonly=True)
    fixed_version = fields.Char(string="Fixed in / proposed", readonly=True)
    url = fields.Char(string="Advisory URL", readonly=True)
    source = fields.Char(readonly=True, help="osv, pip-audit, trivy, npm-audit, sarif:<tool>, vulture, sbom…")
    path = fields.Char(string="File", readonly=True)
    line = fields.Integer(readonly=True)
    github_url = fields.Char(string="On GitHub", compute="_compute_github_url")
    license = fields.Char(readonly=True)
    license_verdict = fields.Selection(const.LICENSE_VERDICTS, readonly=True)
    confidence = fields.Integer(readonly=True)
    first_seen_at = fields.Datetime(readonly=True)
    last_seen_at = fields.Datetime(readonly=True, index=True)
    fixed_at = fields.Datetime(readonly=True)
    suppression_id = fields.Many2one("ops.scan.suppression", readonly=True, ondelete="set null")
    incident_id = fields.Many2one("ops.incident", readonly=True, ondelete="set null", index="btree_not_null")
    ignore_reason = fields.Char(readonly=True)
    github_issue_number = fields.Integer(readonly=True)
    github_issue_url = fields.Char(string="GitHub issue", readonly=True)
    github_pr_number = fields.Integer(string="Pull request number", readonly=True)
    github_pr_url = fields.Char(string="Pull request", readonly=True)

    _sql_constraints = [
        (
            "dedup_unique",
            "unique(repository_id, scan_type, dedup_key)",
            "A finding is stored once per repository and scan type.",
        ),
    ]

    @api.depends("severity", "status")
    def _compute_ranks(self):
        severities = [key for key, _label in const.FINDING_SEVERITIES]
        statuses = [key for key, _label in FINDING_STATUSES]
        for finding in self:
            finding.severity_rank = severities.index(finding.severity) if finding.severity in severities else 0
            finding.status_rank = statuses.index(finding.status) if finding.status in statuses else 0

    @api.depends("url", "path", "line", "last_run_id.ref", "repository_id.api_url", "repository_id.full_name")
    def _compute_github_url(self):
        for finding in self:
            if finding.scan_type == "dead_code" and finding.url:
                finding.github_url = finding.url
                continue
            repo, ref = finding.repository_id, finding.last_run_id.ref or finding.repository_id.default_branch
            if finding.path and repo.full_name and finding.scan_type in ("security", "dependency_updates", "dead_code"):
                anchor = f"#L{finding.line}" if finding.line else ""
                base = rest_api.html_base(repo.api_url)
                finding.github_url = f"{base}/{repo.full_name}/blob/{ref}/{finding.path}{anchor}"
            else:
                finding.github_url = False

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def _check_manager(self):
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can change findings."))

    def action_suppress(self):
        self._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Suppress findings"),
            "res_model": "ops.scan.suppress.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def action_ignore(self):
        """Mark as not applicable for good (a false positive): later scans keep it ignored."""
        self._check_manager()
        self.sudo().write({"status": "ignored", "ignore_reason": _("Ignored by %s", self.env.user.name)})
        return True

    def action_reopen(self):
        self._check_manager()
        self.sudo().filtered(lambda f: f.status == "ignored").write({"status": "open", "ignore_reason": False})
        self.sudo()._apply_suppressions()
        return True

    # ------------------------------------------------------------------
    # recording (called by the scans, as superuser)
    # ------------------------------------------------------------------
    @api.model
    def _record(self, run, values_list, complete=True):
        """Upsert ``values_list`` (see :mod:`autopilot.scans.records`) as the findings ``run`` saw.

        A finding seen again keeps its status (a fixed one opens again); with
        ``complete`` (the scan saw everything), open findings this run did not
        see are fixed. A partial run never fixes anything: it may just not
        have got that far.
        """
        now = fields.Datetime.now()
        unique = {}
        for values in values_list:
            unique.setdefault(values["dedup_key"], values)
        domain = [("repository_id", "=", run.repository_id.id), ("scan_type", "=", run.scan_type)]
        existing = {f.dedup_key: f for f in self.search([*domain, ("dedup_key", "in", list(unique))])}
        seen = self.browse()
        to_create = []
        for key, values in unique.items():
            scanned = {name: values[name] for name in SCAN_FIELDS if name in values}
            common = {**scanned, "last_seen_at": now, "last_run_id": run.id, "run_ids": [Command.link(run.id)]}
            finding = existing.get(key)
            if finding:
                if finding.status == "fixed":
                    common.update(status="open", fixed_at=False, incident_id=False)
                finding.write(common)
                seen |= finding
            else:
                to_create.append(
                    {
                        **common,
                        "repository_id": run.repository_id.id,
                        "scan_type": run.scan_type,
                        "dedup_key": key,
                        "first_seen_at": now,
                        "status": "open",
                    }
                )
        seen |= self.create(to_create)
        if complete:
            gone = self.search(
                [*domain, ("status", "in", ("open", "suppressed")), ("dedup_key", "not in", list(unique))]
            )
            gone.write({"status": "fixed", "fixed_at": now, "suppression_id": False})
        seen._apply_suppressions()
        return seen

    def _engine_finding(self):
        self.ensure_one()
        aliases = tuple(a.strip() for a in (self.aliases or "").split(",") if a.strip())
        return Finding(
            advisory_id=self.advisory_id or "",
            aliases=aliases,
            package=self.package or "",
            ecosystem=self.ecosystem or "",
            version=self.version or "",
            severity=self.severity,
            source=self.source or "",
            path=self.path or "",
            line=self.line,
        )

    def _apply_suppressions(self):
        """Open ↔ suppressed after the suppressions in force now (the engine decides what matches)."""
        now = fields.Datetime.now()
        candidates = self.filtered(lambda f: f.status in ("open", "suppressed"))
        Suppression = self.env["ops.scan.suppression"].sudo()
        for repo in candidates.repository_id:
            pairs = [(record, record._engine_rule()) for record in Suppression._for_repository(repo)]
            by_rule = {id(rule): record for record, rule in pairs}
            for finding in candidates.filtered(lambda f, r=repo: f.repository_id == r):
                rules = [
                    rule for record, rule in pairs if not record.scan_type or record.scan_type == finding.scan_type
                ]
                _active, suppressed = apply_suppressions([finding._engine_finding()], rules, now)
                match = by_rule[id(suppressed[0][1])] if suppressed else Suppression.browse()
                status = "suppressed" if match else "open"
                if finding.status != status or finding.suppression_id != match:
                    finding.write({"status": status, "suppression_id": match.id})
