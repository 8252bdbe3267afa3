import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..autopilot.review import rule_packs

PACK_SOURCES = [
    ("builtin", "Shipped with the engine"),
    ("custom", "Defined here (JSON)"),
]


class OpsReviewRulePack(models.Model):
    """A pack of architecture check rules that reviews run.

    The rules themselves are data of the engine (:mod:`autopilot.review.rule_packs`):
    a *builtin* pack selects one of the engine's registered packs by code
    (``odoo``, ``oca``, ``tax_ph``), a *custom* pack carries its own rules as
    JSON in the engine's format (:meth:`rule_packs.RulePack.from_dict`), built
    from the engine's check kinds. Any pack can switch off some of its rules.
    """

    _name = "ops.review.rule.pack"
    _description = "Review Rule Pack"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Builtin packs: the engine's pack name (odoo, oca, tax_ph). Custom packs: the 'name' of the JSON.",
    )
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    source = fields.Selection(PACK_SOURCES, default="custom", required=True)
    description = fields.Text()
    definition = fields.Text(
        help='Custom packs: {"name": ..., "description": ..., "rules": [{"id", "kind", "severity", "params", '
        '"applies_when", "description"}]}; kinds are those of the engine (see docs/review.md).'
    )
    disabled_rules = fields.Char(help="Rule ids of this pack to skip, separated by commas")
    company_id = fields.Many2one("res.company", index=True, help="Empty: every company")
    repository_ids = fields.Many2many(
        "ops.repository", string="Only for repositories", help="Empty: every repository of the company"
    )
    rule_count = fields.Integer(compute="_compute_rules")
    rules_overview = fields.Text(compute="_compute_rules", string="Rules")

    _sql_constraints = [
        ("code_company_unique", "unique(code, company_id)", "A rule pack code is used once per company."),
    ]

    @api.depends("source", "code", "definition", "disabled_rules")
    def _compute_rules(self):
        for pack in self:
            try:
                engine_pack = pack._engine_pack()
            except (rule_packs.RulePackError, ValueError):
                pack.rule_count = 0
                pack.rules_overview = _("The pack is not valid.")
                continue
            disabled = pack._disabled_rule_ids()
            lines = [
                f"{'(off) ' if rule.id in disabled else ''}{rule.id} [{rule.severity}] {rule.kind}"
                f"{': ' + rule.description if rule.description else ''}"
                for rule in engine_pack.rules
            ]
            pack.rule_count = len([rule for rule in engine_pack.rules if rule.id not in disabled])
            pack.rules_overview = "\n".join(lines)

    @api.constrains("source", "code", "definition")
    def _check_definition(self):
        for pack in self:
            try:
                pack._engine_pack()
            except (rule_packs.RulePackError, ValueError) as exc:
                raise ValidationError(
                    _("Rule pack %(name)s is not valid: %(error)s", name=pack.name, error=exc)
                ) from None

    def _disabled_rule_ids(self):
        self.ensure_one()
        return {rule.strip() for rule in (self.disabled_rules or "").split(",") if rule.strip()}

    def _engine_pack(self):
        """The engine's :class:`rule_packs.RulePack` this record stands for (raises when invalid)."""
        self.ensure_one()
        if self.source == "builtin":
            return rule_packs.get_pack(self.code)
        try:
            data = json.loads(self.definition or "")
        except ValueError as exc:
            raise rule_packs.RulePackError(f"the definition is not JSON: {exc}") from None
        pack = rule_packs.RulePack.from_dict(data)
        if pack.name != self.code:
            raise rule_packs.RulePackError(f"the JSON names the pack {pack.name!r}, the record {self.code!r}")
        return pack

    @api.model
    def _packs_for(self, repository):
        """The engine packs (disabled rules left out) of the active packs that apply to ``repository``."""
        packs = self.search(
            [
                ("company_id", "in", [repository.company_id.id, False]),
                "|",
                ("repository_ids", "=", False),
                ("repository_ids", "in", repository.ids),
            ]
        )
        engine_packs = []
        for pack in packs:
            try:
                engine_pack = pack._engine_pack()
            except (rule_packs.RulePackError, ValueError):
                continue  # an invalid pack cannot be saved; one broken by an engine upgrade is skipped
            disabled = pack._disabled_rule_ids()
            rules = tuple(rule for rule in engine_pack.rules if rule.id not in disabled)
            if rules:
                engine_packs.append(rule_packs.RulePack(engine_pack.name, rules, engine_pack.description))
        return engine_packs
