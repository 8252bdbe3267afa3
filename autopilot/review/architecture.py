"""Deterministic architecture checks over a pull request's changed Odoo addons (no AI).

Given the PR's changed files (path, status, GitHub ``patch``) and a loader
``loader(path, ref) -> text | None``, :func:`run_checks` finds every Odoo addon
the PR touches and decides which rules it breaks: manifest shape and version
(``18.0.x.y.z``), README, data files that exist, access rules for new models,
XML that parses, Odoo 18 deprecations, OCA module structure, risky Python.

The work is in four modules: :mod:`.addons` finds the touched addons and reads
their files, :mod:`.rule_packs` holds the rules (data: the builtin packs are
``autopilot/data/review_packs/*.toml``), :mod:`.check_kinds` is the code each
kind of rule runs, and this module runs the packs' rules over the addons and
summarises the findings. What a caller of the checks needs is importable from
here.
"""

import fnmatch
import re
from collections.abc import Mapping

from .addons import ChangedFile, LoaderError, Source, find_addons
from .check_kinds import CHECK_KINDS, CheckFinding
from .rule_packs import DEFAULT_PACKS, SEVERITIES, RulePack, RulePackError, get_pack

__all__ = [
    "DEFAULT_PACKS",
    "SEVERITIES",
    "ChangedFile",
    "CheckFinding",
    "LoaderError",
    "RulePack",
    "RulePackError",
    "run_checks",
    "summarize",
]


def _applies(rule, addon):
    conditions = rule.applies_when
    if not conditions:
        return True
    if "addon_regex" in conditions and re.search(conditions["addon_regex"], addon.name or ""):
        return True
    if "depends_any" in conditions and set(conditions["depends_any"]) & set(addon.manifest_list("depends")):
        return True
    globs = conditions.get("changed_globs", ())
    return any(fnmatch.fnmatch(addon.rel(f.path), g) for f in addon.changed() for g in globs)


def _resolve(packs):
    resolved = []
    for item in packs:
        if isinstance(item, str):
            resolved.append(get_pack(item))
        elif isinstance(item, Mapping):
            resolved.append(RulePack.from_dict(item))
        else:
            resolved.append(item)
    return resolved


_SEVERITY_ORDER = {name: index for index, name in enumerate(SEVERITIES)}


def run_checks(files, loader, head_ref, base_ref=None, packs=DEFAULT_PACKS, root_name="", disabled=()):
    """Findings of the rule packs on the addons the changed files touch, most severe first.

    ``files``: :class:`ChangedFile` items; ``loader(path, ref)`` returns a
    file's text at ``ref`` or ``None`` when absent; ``root_name`` names the
    addon when the repository root is one; ``disabled``: rule ids to skip.
    A rule that crashes on odd input reports itself instead of stopping the run.
    """
    source = Source(loader, head_ref, base_ref)
    addons = find_addons(list(files), source, root_name)
    findings = []
    for pack in _resolve(packs):
        for rule in pack.rules:
            if rule.id in disabled:
                continue
            for addon in addons:
                if not _applies(rule, addon):
                    continue
                try:
                    findings.extend(CHECK_KINDS[rule.kind](rule, addon))
                except LoaderError:
                    raise
                except Exception as exc:  # one broken rule must not hide the others
                    findings.append(
                        CheckFinding(rule.id, "info", addon.where, 0, f"check failed: {type(exc).__name__}")
                    )
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 9), f.path, f.line, f.rule))


def summarize(findings):
    """``{"error": n, "warning": n, "info": n}``."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts
