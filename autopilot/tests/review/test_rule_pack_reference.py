"""``docs/review.md`` documents the rule pack format and check kinds the engine has.

The table of check kinds names exactly the kinds registered in
:data:`check_kinds.CHECK_KINDS`, and the example custom pack is one the
engine accepts, so a team copying it starts from a valid pack.
"""

import json
import re

from autopilot.review import architecture, check_kinds
from autopilot.testing.fixtures import REPO

REFERENCE = REPO / "docs" / "review.md"


def documented_kinds(text):
    """The first cells of the rows of the ``| kind | parameters | finds |`` table."""
    table = text.split("| kind | parameters | finds |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)


def test_every_check_kind_is_documented_once():
    kinds = documented_kinds(REFERENCE.read_text(encoding="utf-8"))
    # the engine's own kinds: other tests register throw-away kinds in the same registry
    engine_kinds = [name for name, check in check_kinds.CHECK_KINDS.items() if check.__module__ == check_kinds.__name__]
    assert sorted(kinds) == sorted(engine_kinds)


def test_the_example_custom_pack_is_valid():
    text = REFERENCE.read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", text, flags=re.S).group(1))
    pack = architecture.RulePack.from_dict(example)
    rule = pack.rules[0]
    assert (pack.name, rule.kind, rule.severity) == ("acme", "forbidden_regex", "warning")
    assert re.search(rule.params["regex"], "env['res.partner'].sudo().search([])")
