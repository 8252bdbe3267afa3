"""The builtin rule packs as data: data/review_packs/<name>.toml, checked rule by rule at import."""

import pytest

from autopilot.common.datafiles import DATA_DIR, DataFileError
from autopilot.review import rule_packs
from autopilot.review.rule_packs import RulePack

GOOD = """
description = "Acme house rules."

[[rules]]
id = "acme-no-sudo"
kind = "forbidden_regex"
severity = "warning"
params = { regex = '\\.sudo\\(\\)', globs = ["*.py"], message = "sudo() needs a comment" }

[[rules]]
id = "acme-depends-mail"
kind = "manifest_depends"
description = "Every addon sends mail."
params = { all_of = ["mail"] }

[rules.applies_when]
addon_regex = '^acme_'
"""


def pack_file(tmp_path, text, name="acme"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path):
    with pytest.raises(DataFileError) as info:
        rule_packs.load_pack(path)
    return str(info.value)


def test_a_pack_file_is_the_pack_its_json_form_describes(tmp_path):
    pack = rule_packs.load_pack(pack_file(tmp_path, GOOD))
    assert pack == RulePack.from_dict(
        {
            "name": "acme",
            "description": "Acme house rules.",
            "rules": [
                {
                    "id": "acme-no-sudo",
                    "kind": "forbidden_regex",
                    "severity": "warning",
                    "params": {"regex": r"\.sudo\(\)", "globs": ["*.py"], "message": "sudo() needs a comment"},
                },
                {
                    "id": "acme-depends-mail",
                    "kind": "manifest_depends",
                    "description": "Every addon sends mail.",
                    "params": {"all_of": ["mail"]},
                    "applies_when": {"addon_regex": "^acme_"},
                },
            ],
        }
    )


SUDO = "rule 'acme-no-sudo' (entry 1): "
MAIL = "rule 'acme-depends-mail' (entry 2): "
MALFORMED = [
    ('kind = "manifest_depends"', 'kind = "no_such_kind"', MAIL + "unknown kind 'no_such_kind'"),
    ('id = "acme-depends-mail"\n', "", "rule (entry 2): 'id' must be a short lowercase identifier"),
    (
        'id = "acme-depends-mail"',
        'id = "acme-no-sudo"',
        "rule 'acme-no-sudo' (entry 2): field 'id': 'acme-no-sudo' is already used by entry 1",
    ),
    ('severity = "warning"', 'severity = "fatal"', SUDO + "severity must be one of ('error', 'warning', 'info')"),
    ("regex = '\\.sudo\\(\\)'", "regex = '(unclosed'", SUDO + "bad regex: "),
    ("addon_regex = '^acme_'", "addon_regex = '['", MAIL + "bad addon_regex: "),
    ('globs = ["*.py"]', 'globs = "*.py"', SUDO + "param 'globs' must be a list of strings"),
    ('all_of = ["mail"]', "all_of = [1]", MAIL + "param 'all_of' must be a list of strings"),
    ('severity = "warning"', "level = 3", SUDO + "unknown keys ['level']"),
    ('description = "Every addon sends mail."', "description = 3", MAIL + "'description' must be a string"),
    ('description = "Acme house rules."', "description = 3", "field 'description': must be a string"),
    (
        'description = "Acme house rules."',
        'name = "acme"',
        "unknown key 'name'; a pack file holds a description and [[rules]] entries",
    ),
    ("[[rules]]", "[[rule]]", "unknown key 'rule'; a pack file holds a description and [[rules]] entries"),
    ("[rules.applies_when]", "[rules.applies_when", "is not valid TOML: "),
]


@pytest.mark.parametrize(("old", "new", "expected"), MALFORMED)
def test_a_malformed_pack_file_names_the_file_and_the_rule(tmp_path, old, new, expected):
    assert old in GOOD
    path = pack_file(tmp_path, GOOD.replace(old, new))
    assert load_error(path).startswith(f"{path}: {expected}")


def test_a_pack_file_without_rules_or_with_a_bad_name_is_refused(tmp_path):
    empty = pack_file(tmp_path, 'description = "nothing"\n')
    assert load_error(empty) == f"{empty}: has no [[rules]] entries"
    badly_named = pack_file(tmp_path, GOOD, name="Acme Rules")
    assert load_error(badly_named) == (
        f"{badly_named}: the file name is not a pack name (lowercase letters, digits, _ . -)"
    )


def test_every_pack_file_of_a_folder_is_loaded_by_its_name(tmp_path):
    pack_file(tmp_path, GOOD)
    pack_file(tmp_path, GOOD.replace("acme-", "beta-"), name="beta")
    (tmp_path / "README.md").write_text("not a pack")
    assert [pack.name for pack in rule_packs.load_packs(tmp_path)] == ["acme", "beta"]


def test_the_registry_holds_the_shipped_pack_files():
    shipped = rule_packs.load_packs()
    assert sorted(pack.name for pack in shipped) == sorted(p.stem for p in (DATA_DIR / "review_packs").glob("*.toml"))
    assert {"odoo", "oca", "tax_ph"} <= {pack.name for pack in shipped}
    for pack in shipped:
        assert rule_packs.get_pack(pack.name) == pack
        assert RulePack.from_dict(pack.to_dict()) == pack
    assert set(rule_packs.DEFAULT_PACKS) <= set(rule_packs.available_packs())
