"""Rule packs: the architecture rules as data.

A :class:`Rule` names a check *kind* (:mod:`.check_kinds`) with its severity,
its parameters and when it applies; a :class:`RulePack` groups rules under a
name. The builtin packs are data files, ``autopilot/data/review_packs/
<name>.toml`` (``odoo``, ``oca``, and the optional ``tax_ph`` for Philippine
tax / BIR localisation modules), read and checked at import; a team's pack
is the same data as JSON (:meth:`RulePack.from_dict`), so a team adds its own
pack, or an Odoo record stores one, without writing Python. Packs register by
name (:func:`register_pack`, :func:`get_pack`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..common.datafiles import DATA_DIR, DataFileError, entries, read_toml
from .check_kinds import CHECK_KINDS, CheckFinding, is_str_list, params_problem

SEVERITIES = ("error", "warning", "info")
PACK_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,63}")


class RulePackError(ValueError):
    """A rule pack definition is malformed (unknown kind, bad severity, wrong types)."""


@dataclass(frozen=True)
class Rule:
    """One rule: a check kind, its severity and parameters, and when it applies."""

    id: str
    kind: str
    severity: str = "error"
    params: Mapping = field(default_factory=dict)
    #: the rule runs on an addon when ANY of these holds: ``addon_regex`` matches its name,
    #: it depends on one of ``depends_any``, one of its changed files matches ``changed_globs``
    applies_when: Mapping = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "applies_when", MappingProxyType(dict(self.applies_when)))

    def finding(self, path, line, message):
        return CheckFinding(self.id, self.severity, path, line, message)

    def to_dict(self):
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "params": dict(self.params),
            "applies_when": dict(self.applies_when),
            "description": self.description,
        }


@dataclass(frozen=True)
class RulePack:
    name: str
    rules: tuple = ()
    description: str = ""

    @classmethod
    def from_dict(cls, data):
        """Build a pack from plain data (e.g. JSON stored in Odoo); raises :class:`RulePackError`."""
        if not isinstance(data, Mapping):
            raise RulePackError("a rule pack is an object with 'name' and 'rules'")
        unknown = set(data) - {"name", "rules", "description"}
        if unknown:
            raise RulePackError(f"unknown rule pack keys: {sorted(unknown)}")
        name = data.get("name")
        if not isinstance(name, str) or not PACK_NAME.fullmatch(name):
            raise RulePackError("rule pack 'name' must be a short lowercase identifier")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise RulePackError(f"{name}: 'rules' must be a non-empty list")
        rules, seen = [], set()
        for index, raw in enumerate(raw_rules):
            try:
                rule = _rule_from_dict(raw)
            except RulePackError as exc:
                raise RulePackError(f"{name}.rules[{index}]: {exc}") from None
            if rule.id in seen:
                raise RulePackError(f"{name}: duplicate rule id {rule.id}")
            seen.add(rule.id)
            rules.append(rule)
        description = data.get("description", "")
        if not isinstance(description, str):
            raise RulePackError(f"{name}: 'description' must be a string")
        return cls(name=name, rules=tuple(rules), description=description)

    def to_dict(self):
        return {"name": self.name, "description": self.description, "rules": [r.to_dict() for r in self.rules]}


def _rule_from_dict(raw):
    """The :class:`Rule` of one rule's plain data; raises :class:`RulePackError` saying what is wrong."""
    if not isinstance(raw, Mapping):
        raise RulePackError("a rule is an object")
    unknown = set(raw) - {"id", "kind", "severity", "params", "applies_when", "description"}
    if unknown:
        raise RulePackError(f"unknown keys {sorted(unknown)}")
    rule_id, kind = raw.get("id"), raw.get("kind")
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,79}", rule_id):
        raise RulePackError("'id' must be a short lowercase identifier")
    if kind not in CHECK_KINDS:
        raise RulePackError(f"unknown kind {kind!r}")
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise RulePackError(f"severity must be one of {SEVERITIES}")
    params, applies = raw.get("params", {}), raw.get("applies_when", {})
    if not isinstance(params, Mapping) or not isinstance(applies, Mapping):
        raise RulePackError("'params' and 'applies_when' are objects")
    unknown = set(applies) - {"addon_regex", "depends_any", "changed_globs"}
    if unknown:
        raise RulePackError(f"unknown applies_when keys {sorted(unknown)}")
    if "addon_regex" in applies:
        try:
            re.compile(applies["addon_regex"])
        except (re.error, TypeError) as exc:
            raise RulePackError(f"bad addon_regex: {exc}") from None
    for key in ("depends_any", "changed_globs"):
        if key in applies and not is_str_list(applies[key]):
            raise RulePackError(f"applies_when.{key} must be a list of strings")
    problem = params_problem(kind, params)
    if problem:
        raise RulePackError(problem)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise RulePackError("'description' must be a string")
    return Rule(rule_id, kind, severity, params, applies, description)


# --------------------------------------------------------------------------
# the registry: packs by name
# --------------------------------------------------------------------------

_PACKS: dict[str, RulePack] = {}
DEFAULT_PACKS = ("odoo", "oca")


def register_pack(pack, replace=False):
    """Make a pack (a :class:`RulePack` or its dict form) available by name."""
    if isinstance(pack, Mapping):
        pack = RulePack.from_dict(pack)
    if pack.name in _PACKS and not replace:
        raise RulePackError(f"rule pack {pack.name} is already registered")
    _PACKS[pack.name] = pack
    return pack


def get_pack(name):
    if name not in _PACKS:
        raise RulePackError(f"unknown rule pack {name!r}; known: {', '.join(sorted(_PACKS))}")
    return _PACKS[name]


def available_packs():
    return dict(_PACKS)


# --------------------------------------------------------------------------
# the builtin packs: data/review_packs/<name>.toml
# --------------------------------------------------------------------------

PACKS_DIR = DATA_DIR / "review_packs"


def load_pack(path):
    """The pack of a TOML file named after it: a ``description`` and its ``[[rules]]``.

    Each rule has the fields of :meth:`RulePack.from_dict`'s rules; a bad
    file or rule raises :class:`~autopilot.common.datafiles.DataFileError`
    naming the file and the rule.
    """
    path = DATA_DIR / path
    document = read_toml(path)
    if not PACK_NAME.fullmatch(path.stem):
        raise DataFileError(path, "the file name is not a pack name (lowercase letters, digits, _ . -)")
    unknown = sorted(set(document) - {"description", "rules"})
    if unknown:
        raise DataFileError(path, f"unknown key {unknown[0]!r}; a pack file holds a description and [[rules]] entries")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise DataFileError(path, "must be a string", field="description")
    rules = []
    for entry in entries(path, document, "rules", kind="rule", key="id"):
        try:
            rules.append(_rule_from_dict(entry.data))
        except RulePackError as exc:
            raise entry.error(str(exc)) from None
    return RulePack(name=path.stem, rules=tuple(rules), description=description)


def load_packs(folder=PACKS_DIR):
    """The packs of every ``*.toml`` file of ``folder``, by file name."""
    return [load_pack(path) for path in sorted(folder.glob("*.toml"))]


for _pack in load_packs():
    register_pack(_pack)
