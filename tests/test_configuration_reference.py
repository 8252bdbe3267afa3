"""``docs/configuration.md`` lists every setting the addon has, with its label and default.

Each ``ops_autopilot.*`` parameter with a default has one row; a row's label is
the settings screen's label of that parameter (empty when the screen does not
show it) and its default is the one the code uses.
"""

import re
from pathlib import Path

from odoo.tests import TransactionCase, tagged

from ..models.ops_params import DEFAULTS, PREFIX

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
ROW = re.compile(
    r"^\| (?P<label>[^|]*?) *\| `" + re.escape(PREFIX) + r"(?P<name>[a-z_0-9]+)` \| (?P<default>[^|]*?) *\|", re.M
)


def documented_default(value):
    """How the page writes a default: on/off, a number as Python prints it, text in backticks, empty for none."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return f"`{value}`" if value else ""
    return str(value)


@tagged("post_install", "-at_install")
class TestConfigurationReference(TransactionCase):
    def setUp(self):
        super().setUp()
        self.rows = {}
        for match in ROW.finditer(REFERENCE.read_text(encoding="utf-8")):
            self.assertNotIn(match["name"], self.rows, f"{match['name']} is documented twice")
            self.rows[match["name"]] = match

    def test_every_setting_is_documented_and_nothing_else(self):
        self.assertEqual(sorted(self.rows), sorted(DEFAULTS))

    def test_documented_defaults_are_the_code_defaults(self):
        for name, value in DEFAULTS.items():
            with self.subTest(setting=name):
                self.assertEqual(self.rows[name]["default"], documented_default(value))

    def test_labels_are_those_of_the_settings_screen(self):
        labels = {
            field.config_parameter[len(PREFIX) :]: field.string
            for field in self.env["res.config.settings"]._fields.values()
            if (getattr(field, "config_parameter", None) or "").startswith(PREFIX)
        }
        for name, row in self.rows.items():
            with self.subTest(setting=name):
                self.assertEqual(row["label"], labels.get(name, ""))
