"""Identifiers read as people write them: a GitHub run id, a PR number or an HTTP status has no thousands separator.

Odoo 18 formats integers with the language's grouping unless the field's
``options`` say ``enable_formatting: false`` (``integer_field.js``,
``list_renderer.js``); the older ``format`` option is ignored. Every view of the
addon is checked, so an identifier added later in any view is held to it too.
"""

import re

from lxml import etree

from odoo.tests import TransactionCase, tagged

#: integer fields that are identifiers or codes, never quantities
IDENTIFIERS = {
    "github_id",
    "github_issue_number",
    "github_run_id",
    "hook_id",
    "last_status_code",
    "pr_number",
    "response_status",
    "run_number",
    "status",
    "status_code",
}

#: the option Odoo 18 ignores, and the one it reads (options are evaluated by the web client: false or False)
IGNORED = re.compile(r"""['"]format['"]\s*:""")
UNFORMATTED = re.compile(r"""['"]enable_formatting['"]\s*:\s*(false|False)\b""")


@tagged("post_install", "-at_install")
class TestReadableNumbers(TransactionCase):
    def addon_views(self):
        data = self.env["ir.model.data"].search([("module", "=", "ops_autopilot"), ("model", "=", "ir.ui.view")])
        return self.env["ir.ui.view"].browse(data.mapped("res_id")).filtered(lambda v: v.type not in ("qweb", "search"))

    def field_nodes(self, node, model):
        """(model, field node) of every field in ``node``, sub-views (a one2many's list) with their comodel."""
        for child in node:
            if not isinstance(child.tag, str) or child.tag == "search":
                continue
            if child.tag == "field":
                yield model, child
                field = model._fields.get(child.get("name"))
                if len(child) and field is not None and field.relational:
                    yield from self.field_nodes(child, self.env[field.comodel_name])
                    continue
            yield from self.field_nodes(child, model)

    def test_no_view_uses_the_ignored_format_option(self):
        for view in self.addon_views():
            for node in etree.fromstring(view.arch_db.encode()).iter("field"):
                self.assertNotRegex(
                    node.get("options") or "", IGNORED, f"{view.xml_id}: {node.get('name')} (use enable_formatting)"
                )

    def test_identifiers_are_shown_without_thousands_separators(self):
        checked, missing = 0, []
        for view in self.addon_views():
            for model, node in self.field_nodes(etree.fromstring(view.arch_db.encode()), self.env[view.model]):
                name = node.get("name")
                field = model._fields.get(name)
                if name not in IDENTIFIERS or not field or field.type != "integer" or node.get("invisible") == "1":
                    continue
                checked += 1
                if not UNFORMATTED.search(node.get("options") or ""):
                    missing.append(f"{view.xml_id}: {model._name}.{name}")
        self.assertFalse(missing, "identifiers shown with thousands separators:\n" + "\n".join(missing))
        self.assertGreater(checked, 10, "the views show identifiers: the check must have found them")
