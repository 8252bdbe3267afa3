"""Reading GitHub Actions job logs: cleaning, failure excerpts and cache events.

Decides three things about a raw job log:

* what its lines really say (:func:`clean_log`): runner timestamps, ANSI
  colours and carriage-return progress overwrites removed, workflow-command
  markers (``::error::``, ``::group::`` ...) written the one way the runner
  prints them (``##[error]``, ``##[group]`` ...);
* which few lines explain the failure (:func:`failure_excerpt`): every line
  that looks like evidence is scored (``##[error]``, tracebacks, ``FAILED``,
  ``npm ERR!``, pytest ``E`` lines, Odoo ``ERROR``/``FAIL:`` records ...),
  nearby evidence is grouped into regions, setup steps (checkout, setup-*,
  cache, apt) and step headers weigh less, the step that failed the job weighs
  more, and the best regions are returned with a little context;
* how the job's caches fared (:func:`cache_events`), for the cache-hit KPI.

Everything is linear in the size of the log: keywords are found with
``str.find`` over the whole text, and only the lines they hit are scored with
regular expressions, so a 10,000-line log is read in a few milliseconds.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from operator import add

# Longer logs keep their last MAX_CHARS characters: failures are reported at the end.
MAX_CHARS = 32 * 1024 * 1024

_TIMESTAMP = re.compile(r"\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_WORKFLOW_COMMAND = re.compile(
    r"^[ \t]*::(error|warning|notice|debug|group|endgroup)(?:[ \t][^\n]*?)?::",
    re.MULTILINE,
)
_RUNNER_MARKER = re.compile(r"^[ \t]*##\[(error|warning|notice|debug|group|endgroup|section|command)\]", re.MULTILINE)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# The same rules applied to the whole text at once: each pattern starts at a line start (after "\n",
# the text's start is handled by prefixing one) and never crosses a "\r" (a lone "\r" line is cleaned
# line by line, see _redrawn_line).
_TIMESTAMP_AT_LINE = re.compile("\n" + _TIMESTAMP.pattern)
_WORKFLOW_COMMAND_AT_LINE = re.compile(r"\n[ \t]*::(error|warning|notice|debug|group|endgroup)(?:[ \t][^\n\r]*?)?::")
_RUNNER_MARKER_AT_LINE = re.compile(r"\n[ \t]+##\[(error|warning|notice|debug|group|endgroup|section|command)\]")


def _as_text(text):
    if isinstance(text, bytes | bytearray | memoryview):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise TypeError(f"a log is text or bytes, not {type(text).__name__}")
    return text


def _last_overwrite(line):
    """The text a terminal shows for a line redrawn with carriage returns."""
    for part in reversed(line.split("\r")):
        if part.strip():
            return part
    return ""


def _redrawn_line(line):
    """Finish cleaning a line whose timestamp is gone: resolve ``\r`` overwrites, spell its marker as the runner."""
    if "\r" in line:
        line = _last_overwrite(line)
    head = line.lstrip()[:2]
    if head == "::":
        line = _WORKFLOW_COMMAND.sub(lambda m: f"##[{m.group(1)}]", line, count=1)
    elif head == "##" and line[:1] != "#":
        line = _RUNNER_MARKER.sub(lambda m: f"##[{m.group(1)}]", line, count=1)
    return line


def clean_log(text):
    """Return the log's lines as a person reads them in the Actions UI.

    Accepts str or bytes (undecodable bytes are replaced). Timestamps, ANSI
    escapes and control characters are removed, ``\\r\\n`` is a line end and a
    lone ``\\r`` keeps the last drawn version of the line. ``::error ...::msg``
    becomes ``##[error]msg`` (likewise warning, notice, debug, group,
    endgroup) so later stages see one spelling.
    """
    text = _as_text(text)
    if len(text) > MAX_CHARS:
        text = text[-MAX_CHARS:]
        text = text[text.find("\n") + 1 :]
    text = text.replace("\r\n", "\n")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = _without_control(text)
    # One pass per rule over the whole text instead of per-line regexes (several times faster
    # on long logs); only lines redrawn with a lone "\r" are cleaned one by one.
    text = _TIMESTAMP_AT_LINE.sub("\n", "\n" + text)
    if "::" in text:
        text = _WORKFLOW_COMMAND_AT_LINE.sub(lambda m: f"\n##[{m.group(1)}]", text)
    if "##[" in text:
        text = _RUNNER_MARKER_AT_LINE.sub(lambda m: f"\n##[{m.group(1)}]", text)
    lines = text.split("\n")
    del lines[0]
    if "\r" in text:
        lines = [_redrawn_line(line) if "\r" in line else line for line in lines]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _without_control(text):
    """``text`` without control characters (C0 but tab, line feed, carriage return; DEL), via bytes.translate.

    Control characters are single bytes in UTF-8 and never part of a
    multi-byte sequence, so deleting them from the encoded text is exact.
    """
    data = text.encode("utf-8", "surrogatepass")
    stripped = data.translate(None, _CONTROL_BYTES)
    if len(stripped) == len(data):
        return text
    return stripped.decode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------
# Steps


_SETUP_STEP = re.compile(
    r"^Run (?:actions/(?:checkout|setup-\w+|cache|upload-artifact|download-artifact|github-script|labeler|stale)"
    r"|docker/(?:setup-\w+|login-action|metadata-action)|astral-sh/setup-uv|pnpm/action-setup|ruby/setup-ruby"
    r"|gradle/(?:actions/setup-gradle|gradle-build-action)|dtolnay/rust-toolchain|shivammathur/setup-php"
    r"|[\w.-]+/[\w.-]*(?:setup|cache|checkout)[\w.-]*@)"
    r"|^Run (?:sudo )?apt(?:-get)? (?:update|install)|^Run (?:python -m )?pip install --upgrade pip\s*$"
    r"|^(?:Set up job|Set up runner|Initialize containers|Complete job|Stop containers)$",
    re.IGNORECASE,
)
_POST_STEP = re.compile(r"^(?:Post (?:job cleanup|Run )|Run Post |Cleaning up orphan processes)", re.IGNORECASE)


@dataclass(frozen=True)
class Step:
    """One step of a job log: its title and the line range it covers.

    ``header_end`` is the index of the first line after the step's
    ``##[group]`` header (the echoed script and env), ``end`` is exclusive.
    """

    title: str
    start: int
    header_end: int
    end: int

    @property
    def is_setup(self):
        return bool(_SETUP_STEP.search(self.title))

    @property
    def is_post(self):
        return bool(_POST_STEP.search(self.title))


def _line_starts(lines):
    return list(accumulate(map(add, map(len, lines), repeat(1)), initial=0))


def _positions(haystack, needle, starts, out):
    """Add the indices of the lines of ``haystack`` containing ``needle`` to ``out``."""
    pos = haystack.find(needle)
    while pos != -1:
        index = bisect_right(starts, pos) - 1
        out.add(index)
        pos = haystack.find(needle, starts[index + 1] if index + 1 < len(starts) else len(haystack))
    return out


def split_steps(lines, starts=None, text=None):
    """Cut a cleaned log into steps at its ``##[group]Run ...`` headers.

    Lines before the first header form a step titled ``Set up job`` (runner
    preamble). A log with no headers is one step titled ``""``.
    """
    if text is None:
        text = "\n".join(lines)
    if starts is None:
        starts = _line_starts(lines)
    groups = sorted(_positions(text, "##[group]", starts, set()))
    ends = sorted(_positions(text, "##[endgroup]", starts, set()))
    headers = []
    for index in groups:
        title = lines[index][len("##[group]") :].strip() if lines[index].startswith("##[group]") else ""
        if title.startswith(("Run ", "Post ")) or _POST_STEP.search(title):
            headers.append((index, title))
    plain = set()
    for marker in ("Post job cleanup.", "Cleaning up orphan processes"):
        _positions(text, marker, starts, plain)
    headers.extend((index, lines[index].strip()) for index in plain if lines[index].startswith(("Post ", "Cleaning")))
    headers.sort()
    if not headers:
        return [Step("", 0, 0, len(lines))]
    steps = []
    if headers[0][0] > 0:
        steps.append(Step("Set up job", 0, 0, headers[0][0]))
    for number, (index, title) in enumerate(headers):
        end = headers[number + 1][0] if number + 1 < len(headers) else len(lines)
        close = next((e for e in ends[bisect_right(ends, index - 1) :] if e >= index), None)
        header_end = close + 1 if close is not None and close < end else index + 1
        steps.append(Step(title, index, header_end, end))
    return steps


def _step_at(steps, index):
    lo, hi = 0, len(steps) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if steps[mid].start <= index:
            lo = mid
        else:
            hi = mid - 1
    return steps[lo]


# ---------------------------------------------------------------------------
# Evidence scoring

# Lower-case keywords that make a line worth scoring; found with str.find over
# the whole log (strong ones) or over its last TAIL_LINES lines (weak ones).
_STRONG_KEYWORDS = (
    "error",
    "fail",
    "fatal",
    "exception",
    "traceback",
    "err!",
    "denied",
    "killed",
    "sigkill",
    "signal: 9",
    "panic",
    "timed out",
    "timeout",
    "not found",
    "no module named",
    "out of memory",
    "no space left",
    "lost communication",
    "shutdown signal",
    "unmet dependencies",
)
_WEAK_KEYWORDS = (
    "no such",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "unable to",
    "missing",
    "refused",
    "invalid",
    "exit code",
    "exited with",
    "abort",
    "does not exist",
    "unexpected",
    "undefined",
    "forbidden",
    "unauthorized",
    "exceeded",
    "was canceled",
    "assert",
    "e   ",
    "✕",
    "●",
    "✖",
    "\u00d7",
    "would reformat",
    "is required",
    "not set",
    "unbound variable",
    "conflict",
    "segmentation",
    "unsupported",
    "reset by peer",
    "hang up",
)
TAIL_LINES = 4000
MAX_SCORED = 500

# Evidence tiers, strongest first: (weight, case-sensitive pattern, pattern
# matched against the lower-cased line). A line weighs as much as the first
# tier that matches it. Lower-case patterns are written in lower case so the
# regex engine can skip quickly to their first characters. A change here must
# keep _PATTERN_GUARDS (below) true: they skip a pattern when it cannot match.
_WEAK_ERROR = re.compile(r"^##\[error\].*(?:Process completed with exit code|exit code \d+\s*\.?$)", re.I)
_EVIDENCE = [
    (
        9.0,
        re.compile(
            r"^\s*(?:E\s+)?(?:[\w.]+\.)?_?[A-Z]\w*(?:Error|Exception|Failure|Exit)\b(?::|$)"
            r"|^(?:[a-z_]\w*\.)+[A-Z]\w+: "
            r"|^\s*(?:[\w.]+\.)?(?:ValidationError|UserError|AccessError|MissingError|ParseError|IntegrityError)"
        ),
        None,
    ),
    (
        8.0,
        re.compile(
            r"(?:FAILED|ERROR) [\w./\\-]+(?:::|\.py)"
            r"|npm (?:ERR!|error) (?:code|errno|\d{3}|ERESOLVE|Missing script|peer|Could not)"
            r"|(?:ERROR|CRITICAL) \S+ (?:odoo|openerp)[\w.]*: |(?:FAIL|ERROR): (?:\w+ \(|Test\w+\.\w+)"
            r"|--- FAIL: |FAIL\s+\S+\s+[\d.]+s|panic: |fatal error: |FATAL|OutOfMemory|OOMKilled"
        ),
        re.compile(
            r"fatal: |out of memory|no space left on device|\bkilled\b|sigkill|signal:? 9\b|exit code 137"
            r"|lost communication"
            r"|shutdown signal|exceeded the maximum execution time|heap limit"
        ),
    ),
    (
        7.0,
        re.compile(
            r"^E\s{2,}\S|^\s*(?:●|✕|\u00d7|✖) \S|^\[ERROR\] (?!Tests run:.*Failures: 0, Errors: 0)|\b40[13]\b"
            r"|^\s*> (?:Could not|Failed to|Execution failed|A problem occurred|There were failing|Task \S+ FAILED)"
        ),
        re.compile(
            r"^\s*(?:\S+: )?error(?:\[\w+\])?: |error ts\d+:|^\S+\(\d+,\d+\): error |^error |^error: "
            r"|timed? ?out\b|etimedout|econnreset|econnrefused|eai_again|connection refused|reset by peer|hang up"
            r"|could not resolve host|temporary failure in name resolution"
            r"|permission denied|access denied|eacces|eperm|forbidden|unauthorized"
            r"|not accessible by integration|unbound variable"
        ),
    ),
    (
        6.0,
        re.compile(r"^\s*\S+\s*\.{3,}\s*Failed$|^\* What went wrong:"),
        re.compile(
            r"^\s*npm (?:err!|error) |- hook id: |files were modified by this hook"
            r"|would reformat|no module named|cannot find module|could not find|not found|no such file"
            r"|does not exist|unmet dependenc|unable to (?:locate|resolve|find)|command not found|is not installed"
            r"|could not resolve"
        ),
    ),
    (
        5.0,
        re.compile(
            r"^\s*Traceback \(most recent call last\)"
            r"|^=+ .*\b\d+ (?:failed|errors?)\b.*=+$|^Tests?:.*\b\d+ failed|Tests run:.*(?:Failures|Errors): [1-9]"
            r"|^\s*\S+:\d+(?::\d+)?:? .*\b(?:[Ee]rror|E\d{3}|F\d{3}|[WCERF]\d{4})\b"
        ),
        None,
    ),
    (
        4.0,
        re.compile(r"\b(?:BUILD FAILED|FAILURE: Build failed|BUILD FAILURE|Build failed)\b"),
        re.compile(r"\b(?:errors?|exceptions?|failed|failures?|fatal)\b"),
    ),
    (2.0, None, re.compile(r"\bexit(?:ed)? (?:with )?(?:code|status) [1-9]\d*")),
    (1.0, None, re.compile(r"\b(?:cannot|can't|could not|unable to|missing|invalid|unexpected|undefined)\b")),
]

# Lines that contain a keyword but say that nothing went wrong (matched
# lower-cased, and only when one of the guard substrings is present).
_BENIGN_GUARD = (
    "0 error", "0 fail", ": 0", "no error", "without error", "--no-error", "reporting", "ignore", "fast",
    "continue-on-error", "fail-on-", "exit code 0", "##[debug]", "|| true", "downloading", "collecting",
    "successfully installed", "requirement already", "unpacking", "selecting previously", "preparing to unpack",
    "setting up", "get:", "echo", "if ", "then", "set -e", "cache",
)  # fmt: skip
_BENIGN = re.compile(
    r"(?:^|[^\d])0 (?:errors?|failures?|failed)\b(?!.*\b[1-9]\d* (?:errors?|failed))|errors?: 0\b"
    r"|failures: 0, errors: 0|\bno errors?\b|\bwithout errors?\b|--no-error|error_?reporting|ignore[_-]?errors?"
    r"|\bfail[_-]fast\b|continue-on-error|fail-on-|\bexit code 0\b|##\[debug\]|^\s*(?:echo|if|then|set -e)\b"
    r"|\|\| true\s*$|downloading .*(?:error|fail)|collecting \S*(?:error|fail)|successfully installed"
    r"|requirement already satisfied|^\s*(?:unpacking|selecting previously|preparing to unpack|setting up|get:\d+)"
    r"|cache is not found|cache not found for input keys"
)
# A tier can only match when the lower-cased line holds one of its guard substrings.
_GUARDS = {
    9.0: ("error", "exception", "failure", "exit", ": "),
    8.0: ("fail", "error", "npm", "critical", "panic", "fatal", "outofmemory", "oomkilled", "out of memory", "signal",
          "no space", "killed", "137", "lost communication", "shutdown", "exceeded", "heap limit"),
    7.0: ("e  ", "●", "✕", "\u00d7", "✖", "[error]", "401", "403", "error", "time", "etimedout", "econn", "eai_again",
          "> ",
          "refused", "reset by", "hang up", "resolve host", "temporary failure", "denied", "eacces", "eperm",
          "forbidden", "unauthorized", "integration", "unbound"),
}  # fmt: skip
# Cheaper still: each pattern of a tier runs only when the line holds one of the substrings (or starts
# with one of the prefixes) without which that pattern cannot match: (tokens, prefixes) for the exact
# pattern (original case) and for the folded one (lower case), by tier. Most scored lines say "error"
# or "failed" somewhere and would otherwise go through every pattern of every tier.
_PATTERN_GUARDS = {
    8.0: ((("FAIL", "ERROR", "npm ", "CRITICAL", "panic: ", "fatal error: ", "FATAL", "OutOfMemory", "OOMKilled"),
           ()),
          (("fatal: ", "out of memory", "no space left on device", "killed", "sigkill", "signal", "exit code 137",
            "lost communication", "exceeded the maximum execution time", "heap limit"), ())),
    7.0: ((("●", "✕", "\u00d7", "✖", "[ERROR] ", "401", "403", "> "), ("E",)),
          (("error: ", "error[", "error ts", "): error ", "time", "econn", "eai_again", "refused", "reset by",
            "hang up", "resolve host", "temporary failure", "denied", "eacces", "eperm", "forbidden", "unauthorized",
            "integration", "unbound"), ("error ",))),
    6.0: ((("Failed", "* What went wrong:"), ()),
          (("npm ", "- hook id: ", "files were modified by this hook", "would reformat", "no module named",
            "cannot find module", "could not", "not found", "no such file", "does not exist", "unmet dependenc",
            "unable to ", "is not installed"), ())),
    5.0: (((":", "Traceback"), ("=", "Test")), None),
    4.0: ((("BUILD FAIL", "Build failed"), ()), None),
    2.0: (None, (("exit",), ())),
    1.0: (None, (("cannot", "can't", "could not", "unable to", "missing", "invalid", "unexpected", "undefined"), ())),
}  # fmt: skip


def _may_match(guard, text):
    """Whether ``text`` passes a (tokens, prefixes) guard of _PATTERN_GUARDS (None passes everything)."""
    if guard is None:
        return True
    tokens, prefixes = guard
    return any(map(text.__contains__, tokens)) or (bool(prefixes) and text.startswith(prefixes))


_WARNING_PREFIXES = ("[warning]", "warning:", "warning ", "warn ", "npm warn", "[warn]", "w: ", "deprecation:")


def score_line(line):
    """Evidence weight of one cleaned line (0 = says nothing about a failure)."""
    if not line or len(line) > 4000:
        return 0.0 if not line else 1.0
    if line.startswith("##[error]"):
        return 2.0 if _WEAK_ERROR.search(line) else 10.0
    if line.startswith("##[warning]"):
        return 1.0
    lowered = line.lower()
    if any(map(lowered.__contains__, _BENIGN_GUARD)) and _BENIGN.search(lowered):
        return 0.0
    cap = 3.0 if lowered.lstrip().startswith(_WARNING_PREFIXES) else 10.0
    for weight, exact, folded in _EVIDENCE:
        guard = _GUARDS.get(weight)
        if guard is not None and not any(map(lowered.__contains__, guard)):
            continue
        exact_guard, folded_guard = _PATTERN_GUARDS.get(weight, (None, None))
        if exact is not None and _may_match(exact_guard, line) and exact.search(line):
            return min(weight, cap)
        if folded is not None and _may_match(folded_guard, lowered) and folded.search(lowered):
            return min(weight, cap)
    return 0.0


def _candidate_lines(lines, starts, lowered):
    """Indices of the lines worth scoring, at most MAX_SCORED, the last ones first."""
    hits = set()
    for keyword in _STRONG_KEYWORDS:
        _positions(lowered, keyword, starts, hits)
    tail_start = starts[max(0, len(lines) - TAIL_LINES)]
    tail = lowered[tail_start:] if tail_start else lowered
    tail_starts = [offset - tail_start for offset in starts[max(0, len(lines) - TAIL_LINES) :]]
    offset = max(0, len(lines) - TAIL_LINES)
    tail_hits = set()
    for keyword in _WEAK_KEYWORDS:
        _positions(tail, keyword, tail_starts, tail_hits)
    hits.update(index + offset for index in tail_hits)
    if len(hits) > MAX_SCORED:
        errors = {i for i in hits if lines[i].startswith("##[error]")}
        hits = set(sorted(hits)[-MAX_SCORED:]) | errors
    return hits


# ---------------------------------------------------------------------------
# Excerpt


@dataclass(frozen=True)
class Excerpt:
    """The lines that explain a failure.

    ``lines`` are cleaned log lines in log order, ``start``/``end`` the index
    range (end exclusive) of the primary region in the cleaned log, ``step``
    the title of the step it belongs to, ``scores`` the evidence weight of
    each excerpt line as :func:`score_line` gives it (same length as ``lines``).
    """

    lines: list
    start: int
    end: int
    step: str
    scores: list = field(default_factory=list)

    @property
    def text(self):
        return "\n".join(self.lines)

    def key_lines(self, limit=6):
        """The lines that identify the failure, in log order (at most ``limit``).

        The strongest evidence lines; when there are fewer than two, the last
        lines of the excerpt complete them (a silent failure is identified by
        what it printed last). The runner's "Process completed with exit code"
        line only counts when nothing else is there.
        """
        if not self.scores:
            return list(self.lines[-limit:])
        usable = [i for i, line in enumerate(self.lines) if line.strip() and not _WEAK_ERROR.search(line)]
        strong = sorted((i for i in usable if self.scores[i] >= 3.0), key=lambda i: (-self.scores[i], -i))[:limit]
        if len(strong) < 2:
            strong = sorted(set(strong) | set(usable[-(limit - len(strong)) :]))
        chosen = sorted(strong) or [len(self.lines) - 1]
        return [self.lines[i] for i in chosen]


@dataclass
class _Region:
    start: int
    end: int  # inclusive
    peak: float
    total: float
    weight: float = 1.0

    @property
    def value(self):
        return (self.peak + min(0.25 * (self.total - self.peak), self.peak)) * self.weight


_TRACE_START = re.compile(r"^\s*(?:Traceback \(most recent call last\)|Exception in thread|Caused by:)")
_TRACE_END = re.compile(r"^\s*(?:E\s+)?(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception|Failure|Exit|Interrupt)\b")
_NOISE_LINE = re.compile(r"^\s*(?:shell: |env:$|[A-Z_][A-Z0-9_]*: |with:$|  \w+: )")


def _failing_step(steps, lines, candidates):
    """The step whose ``##[error]`` ended the job (last one outside setup/post), if any."""
    failing = None
    for index in sorted(candidates):
        if lines[index].startswith("##[error]"):
            step = _step_at(steps, index)
            if not step.is_post:
                failing = step
    return failing


def failure_excerpt(lines, max_lines=40, context_before=6, context_after=2):
    """Pick the lines of a cleaned log that explain why the job failed.

    Returns an :class:`Excerpt`; when nothing in the log looks like evidence
    it holds the last non-empty lines of the log (or of the failing step).
    """
    max_lines = max(1, int(max_lines))
    if not lines:
        return Excerpt([], 0, 0, "", [])
    text = "\n".join(lines)
    starts = _line_starts(lines)
    candidates = _candidate_lines(lines, starts, text.lower())
    steps = split_steps(lines, starts, text)
    failing = _failing_step(steps, lines, candidates)

    scores = {}
    raw = {}
    for index in candidates:
        value = score_line(lines[index])
        if not value:
            continue
        raw[index] = value
        step = _step_at(steps, index)
        if index < step.header_end and index != step.start:
            value *= 0.15  # the echoed script and env of a step, not its output
        elif step.is_post:
            value *= 0.2
        elif step.is_setup and step is not failing:
            value *= 0.35
        if failing is not None and step is failing:
            value *= 1.5
        scores[index] = value

    regions = _regions(lines, scores, raw, len(lines))
    if not regions:
        return _fallback_excerpt(lines, steps, failing, max_lines)
    regions.sort(key=lambda r: -r.value)
    best = regions[0]
    if failing is not None and best.value < 3.0 and _step_at(steps, best.start) is not failing:
        # faint evidence elsewhere says less than the silent step that failed
        return _fallback_excerpt(lines, steps, failing, max_lines)
    chosen = [r for r in regions if r.value >= 0.3 * best.value][:8]

    keep = {}
    for rank, region in enumerate(chosen):
        step = _step_at(steps, region.start)
        before = context_before if rank == 0 else min(context_before, 2)
        lo = max(step.header_end if step.header_end <= region.start else step.start, region.start - before)
        hi = min(step.end - 1, region.end + context_after)
        for index in range(lo, hi + 1):
            if not lines[index].strip():
                continue
            own = scores.get(index, 0.0)
            importance = own * (1.0 if rank == 0 else 0.6) + (0.5 if lo <= index <= hi else 0)
            if region.start <= index <= region.end:
                importance += 0.3
            keep[index] = max(keep.get(index, 0.0), importance + (len(chosen) - rank) * 0.01)
    last_work = failing or next((step for step in reversed(steps) if not step.is_post), steps[-1])
    if last_work is not None:
        # the last words of the step that failed usually sum the failure up
        tail = [i for i in range(last_work.header_end, last_work.end) if lines[i].strip()][-4:]
        for index in tail:
            keep[index] = max(keep.get(index, 0.0), 1.0 + scores.get(index, 0.0))
    selected = sorted(keep, key=lambda i: (-keep[i], -i))[:max_lines]
    selected.sort()
    return Excerpt(
        [lines[i] for i in selected],
        best.start,
        best.end + 1,
        _step_at(steps, best.start).title,
        [raw.get(i, 0.0) for i in selected],
    )


def _regions(lines, scores, raw, count, gap=4):
    anchors = sorted(i for i, value in scores.items() if value >= 1.0 and raw[i] >= 3.0)
    regions = []
    for index in anchors:
        value = scores[index]
        if regions and index - regions[-1].end <= gap:
            region = regions[-1]
            region.end = index
            region.peak = max(region.peak, value)
            region.total += value
        else:
            regions.append(_Region(index, index, value, value))
    for region in regions:
        # a traceback explains itself only with its final exception line
        if _TRACE_START.match(lines[region.end]):
            for index in range(region.end + 1, min(count, region.end + 200)):
                if _TRACE_END.match(lines[index]):
                    region.end = index
                    break
        # later evidence is closer to what stopped the job
        region.weight = 0.85 + 0.15 * (region.end + 1) / count
    return regions


def _fallback_excerpt(lines, steps, failing, max_lines):
    limit = min(max_lines, 15)
    if failing is not None:
        span = range(failing.header_end, failing.end)
    else:
        work = [s for s in steps if not s.is_post] or steps
        span = range(work[-1].header_end if work[-1].header_end < work[-1].end else work[-1].start, work[-1].end)
    picked = [i for i in span if lines[i].strip()][-limit:]
    if not picked:
        picked = [i for i, line in enumerate(lines) if line.strip()][-limit:]
    if not picked:
        return Excerpt([], 0, 0, "", [])
    return Excerpt(
        [lines[i] for i in picked],
        picked[0],
        picked[-1] + 1,
        _step_at(steps, picked[0]).title,
        [round(score_line(lines[i]) * 0.5, 3) for i in picked],
    )


# ---------------------------------------------------------------------------
# Cache events


@dataclass(frozen=True)
class CacheEvent:
    """One cache restore seen in a log: ``kind`` is ``hit``, ``partial`` (a restore-key) or ``miss``."""

    kind: str
    key: str
    source: str
    line: int


@dataclass(frozen=True)
class CacheStats:
    """Cache restores of one job. ``hits`` counts exact and restore-key hits, ``misses`` the rest.

    Both are 0 when the job has no cache step: the caller reports "no data".
    """

    hits: int
    misses: int
    details: list

    @property
    def total(self):
        return self.hits + self.misses

    @property
    def hit_rate(self):
        """Fraction of restores that found a cache, or None without data."""
        return self.hits / self.total if self.total else None


_CACHE_RESTORED = re.compile(r"^(?:##\[\w+\])?\s*Cache restored from key:\s*(\S+)", re.I)
_CACHE_RESTORED_PLAIN = re.compile(r"^(?:##\[\w+\])?\s*Cache restored successfully", re.I)
_CACHE_MISS = re.compile(
    r"^(?:##\[\w+\])?\s*(?:Cache not found for input keys?:\s*(?P<keys>.+)"
    r"|(?P<tool>\w[\w-]*) cache is not found|Cache is not found|Cache not found\b"
    r"|(?:Warning: )?Failed to restore:? ?(?P<reason>.*))",
    re.I,
)
_CACHE_PRIMARY_HIT = re.compile(r"Cache hit occurred on the primary key (\S+?),? not saving cache", re.I)
_CACHE_KEY = re.compile(r"^\s*key:\s*(\S+)")


def _cache_source(steps, index):
    step = _step_at(steps, index)
    title = step.title.lower()
    for source in ("setup-node", "setup-python", "setup-go", "setup-java", "setup-gradle", "setup-uv", "setup-ruby"):
        if source in title:
            return source
    if "cache" in title:
        return "actions/cache"
    return title.removeprefix("run ").split("@")[0] or "cache"


def _primary_key(lines, step):
    for index in range(step.start, min(step.header_end, step.start + 40)):
        found = _CACHE_KEY.match(lines[index])
        if found:
            return found.group(1)
    return ""


def cache_events(lines):
    """Count the cache restores of a cleaned log (actions/cache and setup-* caches).

    A restore is a ``hit`` when its key is the step's primary key (or the
    post step says the primary key was hit), ``partial`` when a restore-key
    matched, ``miss`` when nothing was found or the restore failed. One event
    per cache step: "Cache restored successfully" next to "Cache restored
    from key" is one hit.
    """
    if not lines:
        return CacheStats(0, 0, [])
    text = "\n".join(lines)
    starts = _line_starts(lines)
    hits = _positions(text.lower(), "cache", starts, set())
    if not hits:
        return CacheStats(0, 0, [])
    steps = split_steps(lines, starts, text)
    primary_hits = set()
    per_step = {}
    for index in sorted(hits):
        line = lines[index].strip()
        step = _step_at(steps, index)
        if index < step.header_end:
            continue
        found = _CACHE_PRIMARY_HIT.search(line)
        if found:
            primary_hits.add(found.group(1))
            continue
        found = _CACHE_RESTORED.match(line)
        if found:
            key = found.group(1)
            primary = _primary_key(lines, step)
            kind = "partial" if primary and key != primary else "hit"
            per_step[step.start] = CacheEvent(kind, key, _cache_source(steps, index), index)
            continue
        if _CACHE_RESTORED_PLAIN.match(line):
            per_step.setdefault(step.start, CacheEvent("hit", "", _cache_source(steps, index), index))
            continue
        found = _CACHE_MISS.match(line)
        if found and step.start not in per_step:
            keys = (found.group("keys") or "").split(",")[0].strip()
            per_step[step.start] = CacheEvent("miss", keys, _cache_source(steps, index), index)
    details = []
    for event in sorted(per_step.values(), key=lambda e: e.line):
        confirmed = event.kind == "partial" and event.key in primary_hits
        details.append(CacheEvent("hit", event.key, event.source, event.line) if confirmed else event)
    hit_count = sum(1 for e in details if e.kind in ("hit", "partial"))
    return CacheStats(hit_count, len(details) - hit_count, details)
