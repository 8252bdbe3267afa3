"""How a failure excerpt is shown to people: its failing lines marked, and where the step's log is on GitHub.

Pure functions over the stored excerpt text, so the form of an old diagnosis
shows the same highlights as a new one. Escaping is the renderer's job (QWeb
``t-out``): nothing here builds HTML.
"""

from urllib.parse import urlsplit

from . import logs

#: a line this strong (:func:`~.logs.score_line`) is shown as a failing line
FAILING_SCORE = 3.0


def marked_lines(text):
    """``[(line, failing), ...]`` for an excerpt's text (``failing``: the line is evidence of the failure)."""
    lines = (text or "").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    return [(line, logs.score_line(line) >= FAILING_SCORE) for line in lines]


def failed_step_number(steps):
    """Number of the first failed step of a job's ``steps`` (as stored from GitHub's payload), or 0."""
    for step in steps or []:
        if step.get("conclusion") in ("failure", "timed_out") and step.get("number"):
            return int(step["number"])
    return 0


def excerpt_step_position(lines, excerpt):
    """``(step number, line)`` where ``excerpt``'s primary region starts in the cleaned ``lines`` (``(0, 0)``: unknown).

    GitHub numbers a job's steps from 1 ("Set up job", the log's preamble) and
    a step's log lines from its ``Run ...`` header; the cleaned log keeps one
    line per log line, so this is what GitHub shows, give or take the lines a
    progress bar redrew. Callers use the line only when the step number agrees
    with the failed step GitHub reported.
    """
    if not lines or not excerpt.lines:
        return 0, 0
    steps = logs.split_steps(lines)
    index = next((i for i in range(len(steps) - 1, -1, -1) if steps[i].start <= excerpt.start), None)
    if index is None or not steps[index].title:
        return 0, 0
    number = index + 1 if steps[0].title == "Set up job" else index + 2
    return number, excerpt.start - steps[index].start + 1


def step_log_url(job_url, step_number=0, line=0):
    """Link to a job's log on GitHub, at its step ``#step:N:L`` when the step number is known.

    Only ``http(s)`` URLs are returned (a ``javascript:`` URL from a forged
    payload must never become a link); ``""`` otherwise.
    """
    url = (job_url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return ""
    url = url.split("#", 1)[0]
    if step_number:
        return f"{url}#step:{int(step_number)}:{max(int(line or 1), 1)}"
    return url
