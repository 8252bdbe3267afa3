from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import const
from ..autopilot.selfheal import rules


class OpsFailurePattern(models.Model):
    """A known CI failure: a regular expression over the log excerpt, its category and fix.

    The knowledge base the diagnosis engine matches (``autopilot.selfheal.rules``);
    seeded once from :data:`~..autopilot.selfheal.rules.SEED_RULES`, then the Ops
    managers' to edit. A pattern that does not compile, matches empty text or
    backtracks catastrophically is refused when saved.
    """

    _name = "ops.failure.pattern"
    _description = "CI Failure Pattern"
    _order = "sequence, priority desc, id"

    name = fields.Char(required=True, help="Unique name of the rule (shown on diagnoses)")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    regex = fields.Text(
        string="Pattern",
        required=True,
        help="Regular expression (Python 'regex' syntax) searched in the failure excerpt, case-insensitive, "
        "^ and $ at line ends",
    )
    category = fields.Selection(const.FAILURE_CATEGORIES, required=True, index=True)
    suggested_fix = fields.Text(required=True)
    retryable = fields.Boolean(
        compute="_compute_retryable",
        store=True,
        readonly=False,
        precompute=True,
        help="A failure matched by this pattern is worth an automatic re-run (it decides, whatever the category); "
        "by default that of its category: network timeouts and resource exhaustion are",
    )
    severity = fields.Selection(const.FAILURE_SEVERITIES, required=True, default="medium")
    priority = fields.Integer(
        default=50, help="When several patterns match, the highest priority wins (specific beats generic)"
    )
    example = fields.Text(help="A log snippet the pattern must match")
    hit_count = fields.Integer(readonly=True, copy=False, help="Diagnoses this pattern decided")
    last_hit_at = fields.Datetime(readonly=True, copy=False)
    seeded = fields.Boolean(readonly=True, copy=False, help="Shipped with the addon")

    _sql_constraints = [("name_unique", "unique(name)", "A failure pattern name must be unique.")]

    @api.depends("category")
    def _compute_retryable(self):
        for pattern in self:
            pattern.retryable = pattern.category in rules.RETRYABLE_CATEGORIES

    @api.constrains("regex", "example")
    def _check_regex(self):
        for pattern in self:
            problem = rules.validate_pattern(pattern.regex)
            if problem:
                raise ValidationError(_("Pattern %(name)s: %(problem)s", name=pattern.name, problem=problem))
            if pattern.example and not rules.compile_pattern(pattern.regex).search(pattern.example, timeout=1.0):
                raise ValidationError(_("Pattern %s does not match its own example.", pattern.name))

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for pattern, vals in zip(self, vals_list, strict=True):
            if "name" not in (default or {}):
                vals["name"] = _("%s (copy)", pattern.name)
        return vals_list

    # ------------------------------------------------------------------
    # engine bridge
    # ------------------------------------------------------------------
    @api.model
    def _engine_rules(self):
        """The active patterns as engine rules (:class:`autopilot.selfheal.rules.Rule`), best first."""
        found = []
        for pattern in self.sudo().search([]):
            found.append(
                rules.Rule(
                    name=pattern.name,
                    pattern=pattern.regex,
                    category=pattern.category,
                    suggested_fix=pattern.suggested_fix,
                    retryable=pattern.retryable,
                    severity=pattern.severity,
                    priority=pattern.priority,
                    example=pattern.example or "",
                )
            )
        return found

    @api.model
    def _record_hit(self, name):
        """Count one diagnosis decided by the pattern ``name`` (atomic increment, no write conflicts)."""
        if not name:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE ops_failure_pattern SET hit_count = COALESCE(hit_count, 0) + 1, "
                "last_hit_at = NOW() AT TIME ZONE 'UTC' WHERE name = %s",
                name,
            )
        )
        self.invalidate_model(["hit_count", "last_hit_at"])

    @api.model
    def _seed_from_engine(self):
        """Create the shipped patterns that are not there yet (install, or a pattern added by an upgrade)."""
        existing = set(self.with_context(active_test=False).search([]).mapped("name"))
        vals_list = [
            {
                "name": rule.name,
                "regex": rule.pattern,
                "category": rule.category,
                "suggested_fix": rule.suggested_fix,
                "retryable": rule.retryable,
                "severity": rule.severity,
                "priority": rule.priority,
                "example": rule.example,
                "sequence": 10 + index,
                "seeded": True,
            }
            for index, rule in enumerate(rules.SEED_RULES)
            if rule.name not in existing
        ]
        return self.create(vals_list)
