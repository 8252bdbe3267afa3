from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from ..autopilot.scans.findings import Suppression


class OpsScanSuppression(models.Model):
    """Hide findings of an advisory, rule or package, for a reason and until a date.

    The engine decides what a suppression matches (advisory ids and aliases,
    normalised package names); an expired suppression no longer counts, so
    its findings show again.
    """

    _name = "ops.scan.suppression"
    _description = "Scan Finding Suppression"
    _order = "expires_at desc nulls first, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    advisory = fields.Char(
        string="Advisory / rule", help="Advisory id or alias (GHSA-…, CVE-…, PYSEC-…) or a rule (vulture:unused-import)"
    )
    package = fields.Char(help="Package name; with an advisory, only that advisory in that package")
    ecosystem = fields.Selection(const.ECOSYSTEMS)
    scan_type = fields.Selection(const.SCAN_TYPES, string="Scan type", help="Empty: findings of every scan")
    repository_id = fields.Many2one("ops.repository", ondelete="cascade", index=True, help="Empty: every repository")
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        index=True,
    )
    reason = fields.Text(required=True)
    expires_at = fields.Datetime(string="Expires", help="Empty: until removed")
    user_id = fields.Many2one("res.users", string="By", default=lambda self: self.env.user, readonly=True)
    active = fields.Boolean(default=True)
    in_force = fields.Boolean(compute="_compute_in_force", search="_search_in_force")
    finding_ids = fields.One2many("ops.scan.finding", "suppression_id", readonly=True)
    finding_count = fields.Integer(compute="_compute_finding_count")

    @api.depends("advisory", "package", "repository_id.full_name")
    def _compute_name(self):
        for record in self:
            parts = [p for p in (record.advisory, record.package) if p]
            label = " in ".join(parts) if len(parts) == 2 else (parts[0] if parts else "")
            record.name = f"{label} ({record.repository_id.full_name})" if record.repository_id else label

    @api.depends("repository_id")
    def _compute_company_id(self):
        for record in self:
            record.company_id = record.repository_id.company_id or record.company_id or self.env.company

    @api.depends("active", "expires_at")
    def _compute_in_force(self):
        now = fields.Datetime.now()
        for record in self:
            record.in_force = record.active and (not record.expires_at or record.expires_at > now)

    def _search_in_force(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Unsupported search on in force"))
        now = fields.Datetime.now()
        domain = ["|", ("expires_at", "=", False), ("expires_at", ">", now)]
        return domain if (operator == "=") == value else ["!", *domain]

    def _compute_finding_count(self):
        for record in self:
            record.finding_count = len(record.finding_ids)

    @api.constrains("advisory", "package", "reason")
    def _check_rule(self):
        for record in self:
            try:
                record._engine_rule()
            except ValueError as exc:
                raise ValidationError(_("A suppression names an advisory or rule, a package, or both.")) from exc

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for key in ("advisory", "package"):
                if vals.get(key):
                    vals[key] = vals[key].strip()
        records = super().create(vals_list)
        records._refresh_findings()
        return records

    def write(self, vals):
        result = super().write(vals)
        self._refresh_findings()
        return result

    def unlink(self):
        findings = self.finding_ids
        result = super().unlink()
        findings.sudo()._apply_suppressions()
        return result

    def action_view_findings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_scan_finding_action")
        action["domain"] = [("suppression_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # matching
    # ------------------------------------------------------------------
    def _engine_rule(self):
        self.ensure_one()
        return Suppression(
            advisory=(self.advisory or "").strip(),
            package=(self.package or "").strip(),
            reason=self.reason or "",
            expires_at=self.expires_at or None,
            ecosystem=self.ecosystem or "",
        )

    @api.model
    def _for_repository(self, repository):
        """Active suppressions that may apply to ``repository`` (expiry is checked by the engine)."""
        return self.sudo().search(
            [
                "|",
                ("repository_id", "=", repository.id),
                "&",
                ("repository_id", "=", False),
                ("company_id", "=", repository.company_id.id),
            ]
        )

    @api.model
    def _refresh_findings(self):
        """Re-decide open/suppressed for the findings these suppressions (or any, on a model call) touch.

        Called when suppressions change and at the start of each scan cycle,
        so an expired suppression shows its findings again.
        """
        Finding = self.env["ops.scan.finding"].sudo()
        domain = [("status", "in", ("open", "suppressed"))]
        if self:
            repos = self.repository_id
            companies = self.filtered(lambda s: not s.repository_id).company_id
            scope = [("repository_id", "in", repos.ids)]
            if companies:
                scope = ["|", *scope, ("company_id", "in", companies.ids)]
            domain += scope
        Finding.search(domain)._apply_suppressions()
