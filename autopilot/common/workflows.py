"""Naming workflows by globs: the one rule for "which workflows deploy / roll back / deploy to staging".

Moved here from :mod:`autopilot.selfheal` so the capabilities that name
workflows (self-healing's rollback, delivery's deploying workflows) share it.
"""

import fnmatch
import re


def split_patterns(text):
    """Patterns written one per line or comma separated (the form of ``ops.route.rule``)."""
    if isinstance(text, list | tuple):
        return tuple(p.strip() for p in text if p and p.strip())
    return tuple(p.strip() for p in re.split(r"[,\n]", text or "") if p.strip())


def workflow_matches(patterns, name, path):
    """True when a workflow (display name or file path) is named by ``patterns`` (globs, case-insensitive)."""
    candidates = {c.lower() for c in (name or "", path or "", (path or "").rsplit("/", 1)[-1]) if c}
    for pattern in split_patterns(patterns):
        lowered = pattern.lower()
        if any(fnmatch.fnmatchcase(candidate, lowered) for candidate in candidates):
            return True
    return False
