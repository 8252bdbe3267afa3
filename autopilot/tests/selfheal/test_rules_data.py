"""The seed rules as data: data/rules/<category>.toml, read once and checked entry by entry."""

import subprocess
import sys

import pytest

from autopilot.common.datafiles import DATA_DIR, DataFileError
from autopilot.selfheal import rules

GOOD = """
[[rules]]
name = "reset"
severity = "high"
priority = 70
pattern = 'ECONNRESET|Connection reset by peer'
suggested_fix = "Retry."
example = "npm ERR! code ECONNRESET"
"""


def folder(tmp_path, **files):
    for category, text in files.items():
        (tmp_path / f"{category}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def load_error(tmp_path, **files):
    with pytest.raises(DataFileError) as info:
        rules.load_rules(folder(tmp_path, **files))
    return str(info.value)


def test_a_rule_takes_its_category_from_its_file_and_the_defaults_from_the_rule(tmp_path):
    second = """
[[rules]]
name = "quota"
retryable = false
pattern = ['storage ', 'quota']
suggested_fix = "Free."
example = "storage quota"
"""
    loaded = rules.load_rules(folder(tmp_path, network_timeout=GOOD, resource_exhaustion=second))
    assert loaded == (
        rules.Rule("reset", "ECONNRESET|Connection reset by peer", "network_timeout", "Retry.", True, "high", 70,
                   "npm ERR! code ECONNRESET"),
        rules.Rule("quota", "storage quota", "resource_exhaustion", "Free.", False, "medium", 50, "storage quota"),
    )  # fmt: skip


def test_files_are_read_in_the_order_of_the_categories(tmp_path):
    loaded = rules.load_rules(folder(tmp_path, unknown=GOOD.replace("reset", "last"), dependency_missing=GOOD))
    assert [(rule.name, rule.category, rule.retryable) for rule in loaded] == [
        ("reset", "dependency_missing", False),
        ("last", "unknown", False),
    ]


ENTRY = "rule 'reset' (entry 1): "
MALFORMED = [
    ("pattern = 'ECONNRESET|Connection reset by peer'\n", "", "field 'pattern': missing"),
    ("priority = 70", 'priority = "70"', "field 'priority': must be an integer, not a string"),
    (
        'severity = "high"',
        'severity = "urgent"',
        "field 'severity': 'urgent' is not one of low, medium, high, critical",
    ),
    ("priority = 70", "retryable = 1", "field 'retryable': must be true or false, not an integer"),
    ("ECONNRESET|", "ECONNRESET(|", "field 'pattern': the pattern does not compile: "),
    (
        "'ECONNRESET|Connection reset by peer'",
        "'(?:ECONNRESET)?'",
        "field 'pattern': the pattern matches empty text, so it would match every log",
    ),
    (
        "'ECONNRESET|Connection reset by peer'",
        "'" + "a" * 2001 + "'",
        "field 'pattern': the pattern is longer than 2000 characters",
    ),
    ('example = "npm ERR! code ECONNRESET"', "", "field 'example': missing"),
    (
        "priority = 70",
        'category = "unknown"',
        "unknown field 'category'; the fields are example, name, pattern, priority, retryable, severity, suggested_fix",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), MALFORMED)
def test_a_malformed_entry_names_the_file_the_entry_and_the_field(tmp_path, old, new, expected):
    assert old in GOOD
    message = load_error(tmp_path, network_timeout=GOOD.replace(old, new))
    assert message.startswith(f"{tmp_path / 'network_timeout.toml'}: {ENTRY}{expected}")


def test_an_entry_without_a_usable_name_is_named_by_its_number(tmp_path):
    message = load_error(tmp_path, network_timeout=GOOD + GOOD.replace('name = "reset"', "name = 7"))
    assert message == (
        f"{tmp_path / 'network_timeout.toml'}: rule (entry 2): field 'name': "
        "must be a string (or a list of strings), not an integer"
    )


def test_a_name_used_twice_is_refused_in_one_file_and_across_files(tmp_path):
    assert load_error(tmp_path, network_timeout=GOOD + GOOD) == (
        f"{tmp_path / 'network_timeout.toml'}: rule 'reset' (entry 2): field 'name': 'reset' is already used by entry 1"
    )
    (tmp_path / "network_timeout.toml").unlink()
    assert load_error(tmp_path, dependency_missing=GOOD, unknown=GOOD) == (
        f"{tmp_path / 'unknown.toml'}: rule 'reset' (entry 1): field 'name': 'reset' is already used in "
        "dependency_missing.toml entry 1"
    )


def test_a_file_that_is_not_a_category_is_refused(tmp_path):
    message = load_error(tmp_path, network_timout=GOOD)
    assert message.startswith(
        f"{tmp_path / 'network_timout.toml'}: the file name is not a category; the categories are "
    )


def test_a_file_that_is_not_toml_or_holds_more_than_rules_is_refused(tmp_path):
    assert load_error(tmp_path, syntax_error="[[rules]\n").startswith(
        f"{tmp_path / 'syntax_error.toml'}: is not valid TOML"
    )
    assert load_error(tmp_path, syntax_error="version = 2\n" + GOOD) == (
        f"{tmp_path / 'syntax_error.toml'}: unknown key 'version'; the file holds [[rules]] entries only"
    )


def test_the_shipped_table_is_read_once_and_is_the_default_of_matching():
    assert rules.SEED_RULES is rules.seed_rules() is rules.seed_rules()
    assert rules.load_rules() == rules.SEED_RULES
    assert {rule.category for rule in rules.SEED_RULES} == set(rules.CATEGORIES)
    assert sorted(path.stem for path in (DATA_DIR / "rules").glob("*.toml")) == sorted(rules.CATEGORIES)
    assert rules.match_rules("ECONNRESET").best.rule in rules.SEED_RULES
    with pytest.raises(AttributeError):
        rules.NO_SUCH_NAME  # noqa: B018


def test_importing_the_engine_does_not_read_the_table():
    """Only matching reads it: every command of the CLI, and every Odoo worker, imports this module."""
    code = (
        "import autopilot.cli, autopilot.selfheal.diagnosis, autopilot.selfheal.classifier\n"
        "from autopilot.selfheal import rules\n"
        "print(rules.seed_rules.cache_info().currsize, len(rules.SEED_RULES), rules.seed_rules.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=DATA_DIR.parents[1]
    )
    assert done.stdout.split() == ["0", str(len(rules.SEED_RULES)), "1"]
