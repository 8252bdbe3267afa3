from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..autopilot.selfheal import router


class OpsRouteRule(models.Model):
    """One line of the change router's table: glob patterns → category → target workflow.

    Seeded from the engine's routing table (:data:`autopilot.selfheal.router.SEED_ROUTES`),
    then the Ops managers' to edit. A changed file belongs to every category
    whose patterns match it; the target workflows of those categories are
    what a push or pull request should run.
    """

    _name = "ops.route.rule"
    _description = "Change Routing Rule"
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    category = fields.Char(required=True, index=True, help="Lower-case identifier, e.g. oca_modules")
    patterns = fields.Text(
        required=True,
        help="Glob patterns, one per line or comma separated. 'dir/' is a directory at any depth, a pattern "
        "with another '/' is anchored at the root ('**' spans directories), a pattern without '/' matches file "
        "names ('*.py').",
    )
    target_workflow = fields.Char(help="Workflow file (or id) to dispatch for this category; empty: none")

    @api.constrains("category", "patterns")
    def _check_route(self):
        for rule in self:
            try:
                rule._engine_route()
            except ValueError as exc:
                raise ValidationError(_("Routing rule %(name)s: %(error)s", name=rule.name, error=exc)) from None

    def _engine_route(self):
        self.ensure_one()
        return router.Route(
            category=(self.category or "").strip(),
            patterns=router.split_patterns(self.patterns or ""),
            workflow=(self.target_workflow or "").strip(),
            label=self.name or "",
        )

    @api.model
    def _engine_routes(self):
        """The active rules as engine routes, in table order."""
        return tuple(rule._engine_route() for rule in self.sudo().search([]))

    @api.model
    def _seed_from_engine(self):
        """Create the shipped routing table (install only: the data file calls it in a noupdate block)."""
        if self.with_context(active_test=False).search_count([], limit=1):
            return self.browse()
        return self.create(
            [
                {
                    "name": route.label or route.category,
                    "sequence": 10 * (index + 1),
                    "category": route.category,
                    "patterns": "\n".join(route.patterns),
                    "target_workflow": route.workflow,
                }
                for index, route in enumerate(router.SEED_ROUTES)
            ]
        )
