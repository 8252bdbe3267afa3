"""The shipped translation template holds exactly the strings the addon shows."""

from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

POT = Path(__file__).resolve().parent.parent / "i18n" / "ops_autopilot.pot"


def exported_msgids(cr):
    """The msgids Odoo exports for the addon, demo records left out (the template is exported without them)."""
    return {
        source
        for _module, _kind, _name, xmlid, source, _value, _comments in TranslationModuleReader(cr, ["ops_autopilot"])
        if source and not str(xmlid).endswith("_demo")
    }


@tagged("post_install", "-at_install")
class TestTranslationTemplate(TransactionCase):
    def test_the_template_is_current(self):
        shipped = {entry.msgid for entry in polib.pofile(str(POT)) if entry.msgid}
        exported = exported_msgids(self.env.cr)
        missing, stale = sorted(exported - shipped), sorted(shipped - exported)
        self.assertFalse(missing, f"strings missing from {POT.name}; run `make pot`: {missing[:10]}")
        self.assertFalse(
            stale, f"strings {POT.name} still holds that the addon no longer has; run `make pot`: {stale[:10]}"
        )
