"""Failure fingerprints: a template and a stable signature for a log excerpt.

Decides when two failures are "the same failure". Each excerpt line is
masked — timestamps, durations, numbers and versions, hex hashes and SHAs,
UUIDs, IPs and ports, temporary names (``/tmp/tmpab12cd``,
``pytest-of-runner/pytest-12``), branch refs, and directories (a path keeps
its file name, which usually identifies the failure) — so what varies between
runs and branches disappears and what names the failure stays.

The signature hashes the masked *key lines* (the strongest evidence lines of
the excerpt, de-duplicated and sorted so that test order or repeated errors do
not matter). Unlike Drain's online clustering, which depends on the order in
which logs arrive, masking is a pure function of the text: the same failure
gives the same signature in every process, on every branch, forever; and
:class:`TemplateMiner` adds Drain-style merging (variable tokens become
``<*>``) for grouping many masked lines into templates when that is wanted.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from . import logs

SIGNATURE_LENGTH = 16
KEY_LINES = 6
MAX_LINE = 400

_MASKS = [
    # GitHub Actions and ISO timestamps, Odoo/Python logging timestamps, clock times
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<TS>"),
    (re.compile(r"\b\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\b"), "<TS>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:\.\d+)?\b"), "<TS>"),
    # Odoo log prefix: "<TS> <pid> LEVEL <db> logger:"
    (re.compile(r"<TS> \d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ "), r"<TS> <PID> \1 <DB> "),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<UUID>"),
    (re.compile(r"\bhttps?://[^\s'\"<>()]+"), lambda m: _mask_url(m.group(0))),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<IP>"),
    (re.compile(r"\b(?:refs/(?:heads|tags|pull|remotes)/|origin/)[\w./-]+"), "<REF>"),
    # temporary names
    (re.compile(r"(?:/tmp|/var/folders|/private/var|\\Temp)[/\\][\w./\\-]*"), "<TMP>"),
    (re.compile(r"pytest-of-[\w-]+/pytest-\d+(?:/[\w.-]+)*"), "<TMP>"),
    (re.compile(r"\b(?:tmp|temp)[\w-]{5,}\b", re.I), "<TMP>"),
    (re.compile(r"/home/runner/work/_temp/[\w.-]+"), "<TMP>"),
    # paths: keep the file name
    (re.compile(r"(?<![\w<])(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]([\w.@+~-]+)"), r"<PATH>/\1"),
    (re.compile(r"(?<![\w./<])(?:[\w.@+~-]+/){2,}([\w.@+~-]+\.\w{1,6})\b"), r"<PATH>/\1"),
    # hashes and ids
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<HEX>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b", re.I), "<HEX>"),
    (re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{20,}\b"), "<ID>"),
    # durations and sizes, then any other number (versions included)
    (
        re.compile(
            r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds?|m|min|minutes?|h|hours?|[KMGT]i?B|B|kB|%)(?![\w])"
        ),
        "<NUM>",
    ),
    (re.compile(r"(?<![A-Za-z_\d])\d+(?:[.,_]\d+)*(?![A-Za-z_\d])"), "<NUM>"),
    (re.compile(r"(?:<NUM>[.:-]?)+<NUM>"), "<NUM>"),
]
_PREFIXES = re.compile(r"^(?:##\[(?:error|warning|notice)\]|::(?:error|warning)[^:]*::|npm (?:ERR!|error) ?|E\s+|\s+)")
_SPACES = re.compile(r"\s+")
_DECOR = re.compile(r"^[=_*!~#\-+|>\s]{3,}|[=_*!~#\-+|\s]{3,}$")


def _mask_url(url):
    host, _, path = url.partition("://")[2].partition("/")
    path = path.split("?")[0]
    tail = path.rstrip("/").rsplit("/", 1)[-1] if path else ""
    return f"<URL:{host}>/{tail}" if tail else f"<URL:{host}>"


@lru_cache(maxsize=32768)
def mask_line(line):
    """Mask what varies between runs in one log line (see the module docstring)."""
    text = line[:MAX_LINE]
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()


def _normalise_key(line):
    text = _PREFIXES.sub("", mask_line(line))
    text = _DECOR.sub("", text).strip()
    return text


@dataclass(frozen=True)
class Fingerprint:
    """A failure's ``template`` (masked excerpt lines) and ``signature`` (hash of the masked key lines)."""

    template: str
    signature: str
    key_lines: tuple


def fingerprint_lines(key_lines, excerpt_lines=None):
    """Fingerprint from explicit key lines (and optional excerpt lines for the template).

    ``None`` when nothing is left to fingerprint (no lines, blank lines, only
    decoration): the hash of empty text would make every unreadable log "the
    same failure" and merge unrelated failures into one signature.
    """
    keys = sorted({k for k in (_normalise_key(line) for line in key_lines) if k})
    if not keys:
        return None
    digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:SIGNATURE_LENGTH]
    template_lines = excerpt_lines if excerpt_lines is not None else key_lines
    masked = []
    for line in template_lines:
        text = mask_line(line)
        if text and (not masked or masked[-1] != text):
            masked.append(text)
    return Fingerprint("\n".join(masked), digest, tuple(keys))


def fingerprint(excerpt, key_lines=KEY_LINES):
    """Return ``(template, signature)`` for an :class:`~autopilot.selfheal.logs.Excerpt` or a list of lines.

    The same failure across runs and branches gives the same signature;
    a different error message, exception, file name or test name gives a
    different one. ``None`` for an empty or blank excerpt (never fingerprinted).
    """
    found = fingerprint_excerpt(excerpt, key_lines)
    return (found.template, found.signature) if found else None


def fingerprint_excerpt(excerpt, key_lines=KEY_LINES):
    """Like :func:`fingerprint`, returning the full :class:`Fingerprint` (or ``None``)."""
    if isinstance(excerpt, logs.Excerpt):
        return fingerprint_lines(excerpt.key_lines(key_lines), excerpt.lines)
    lines = [line for line in excerpt if line.strip()]
    scored = sorted(range(len(lines)), key=lambda i: (-logs.score_line(lines[i]), -i))[:key_lines]
    return fingerprint_lines([lines[i] for i in sorted(scored)], lines)


# ---------------------------------------------------------------------------
# Drain-style template mining


class TemplateMiner:
    """Group masked lines into templates the way Drain does, in memory.

    Lines are masked, split into tokens and routed by token count and first
    token; a line joins the most similar template of its group when at least
    ``similarity`` of its tokens agree, and the tokens that differ become
    ``<*>``. Useful to summarise many failures; signatures do not depend on
    it because its templates depend on arrival order.
    """

    def __init__(self, similarity=0.6, max_templates_per_group=100):
        self.similarity = similarity
        self.max_templates = max_templates_per_group
        self._groups = {}

    def add(self, line):
        """Add one line; return its current template string."""
        tokens = mask_line(line).split(" ")
        key = (len(tokens), tokens[0] if tokens and not tokens[0].startswith("<") else "<*>")
        group = self._groups.setdefault(key, [])
        best, best_score = None, -1.0
        for template in group:
            same = sum(1 for a, b in zip(template, tokens, strict=True) if a in (b, "<*>"))
            score = same / len(tokens)
            if score > best_score:
                best, best_score = template, score
        if best is not None and best_score >= self.similarity:
            for index, token in enumerate(tokens):
                if best[index] != token:
                    best[index] = "<*>"
            return " ".join(best)
        if len(group) < self.max_templates:
            group.append(list(tokens))
        return " ".join(tokens)

    @property
    def templates(self):
        return sorted(" ".join(t) for group in self._groups.values() for t in group)
