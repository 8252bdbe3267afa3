"""Diagnostic reports of failed CI runs: the JSON document and the GitHub issue text.

Decides what a report says and how it is written safely:

* :func:`build_report` — one JSON-ready document per run (schema
  :data:`SCHEMA`): the run, each failed job's diagnosis (category,
  confidence, suggested fix, signature, excerpt) and what was decided
  (retry, rollback, escalation);
* :func:`issue_title`, :func:`issue_body`, :func:`recurrence_comment` — the
  one GitHub issue opened per failure signature and the comment added when
  it happens again. Log text is untrusted: secrets are masked, it is put in a
  fenced block whose fence is longer than any backtick run inside it (so a
  log cannot close the block and inject Markdown), mentions and issue
  references cannot ping anyone, and the body stays under GitHub's limit.
  The body carries a hidden marker naming the signature so the issue can be
  found again (:func:`signature_marker`).
"""

import re

from ..common.markdown import code_block, defuse_mentions, defuse_references
from ..common.masking import mask_secrets

SCHEMA = "ops_autopilot.ci_report/1"
ISSUE_LABEL = "workflow-automation"
MAX_BODY = 60_000
MAX_EXCERPT_CHARS = 12_000
MAX_TITLE = 200
MAX_RUN_LINKS = 20

_MARKER = "<!-- ops-autopilot:signature={} -->"
_MARKER_RE = re.compile(r"<!-- ops-autopilot:signature=([0-9a-f]{6,64}) -->")


def _round(value):
    return round(float(value or 0.0), 3)


def diagnosis_entry(job_name, diagnosis, job_url="", job_id=0, cache=None):
    """The report entry of one failed job, from a diagnosis summary dict (see ``Diagnosis.summary``)."""
    entry = {
        "job": job_name,
        "job_id": job_id,
        "job_url": job_url,
        "category": diagnosis.get("category", "unknown"),
        "confidence": _round(diagnosis.get("confidence")),
        "suggested_fix": diagnosis.get("suggested_fix", ""),
        "signature": diagnosis.get("signature", ""),
        "retryable": bool(diagnosis.get("retryable")),
        "rule": diagnosis.get("rule"),
        "source": diagnosis.get("source", ""),
        "step": diagnosis.get("step", ""),
        "excerpt": mask_secrets("\n".join(diagnosis.get("excerpt") or []))[0].split("\n")
        if diagnosis.get("excerpt")
        else [],
    }
    if cache is not None:
        entry["cache"] = {"hits": cache.get("hits", 0), "misses": cache.get("misses", 0)}
    return entry


def build_report(run, entries, decision=None, generated_at=""):
    """The run's diagnostic report.

    :param run: dict with ``repository``, ``id``, ``name``, ``attempt``,
        ``head_sha``, ``head_branch``, ``url``, ``conclusion``
    :param entries: :func:`diagnosis_entry` dicts
    :param decision: dict describing what was decided (retry, rollback, escalation)
    """
    categories = sorted({e["category"] for e in entries})
    return {
        "schema": SCHEMA,
        "generated_at": generated_at,
        "run": {
            key: run.get(key)
            for key in ("repository", "id", "name", "attempt", "head_sha", "head_branch", "url", "conclusion")
        },
        "categories": categories,
        "jobs": list(entries),
        "decision": dict(decision or {}),
    }


# ---------------------------------------------------------------------------
# GitHub issue text


def signature_marker(signature):
    return _MARKER.format(signature)


def find_signature(body):
    """The signature named by an issue body's marker, or None."""
    found = _MARKER_RE.search(body or "")
    return found.group(1) if found else None


def _neutralise(text):
    """Stop @mentions and #references in untrusted text from notifying anyone (outside code blocks)."""
    return defuse_references(defuse_mentions(text))


def _inline(text, limit=300):
    text = " ".join(str(text or "").split())[:limit]
    text = mask_secrets(text)[0]
    return _neutralise(text.replace("`", "'").replace("<", "&lt;").replace(">", "&gt;"))


def fenced(text, language="text", limit=MAX_EXCERPT_CHARS):
    """``text`` as a Markdown code block that nothing inside it can close (secrets masked, size capped)."""
    text = mask_secrets(str(text or ""))[0]
    if len(text) > limit:
        text = text[:limit].rsplit("\n", 1)[0] + "\n… (cut)"
    return code_block(text, language)


def issue_title(category, signature, job_name="", workflow=""):
    where = " / ".join(p for p in (workflow, job_name) if p)
    title = f"CI failure: {category.replace('_', ' ')}" + (f" in {where}" if where else "")
    title += f" [{signature[:8]}]" if signature else ""
    return " ".join(title.split())[:MAX_TITLE]


def _run_links(runs):
    lines = []
    for run in list(runs)[-MAX_RUN_LINKS:]:
        label = _inline(run.get("label") or f"run {run.get('id')}", 120)
        url = str(run.get("url") or "")
        lines.append(f"- [{label}]({url})" if url.startswith(("https://", "http://")) else f"- {label}")
    return "\n".join(lines) or "- (no run link)"


def issue_body(entry, runs, template="", first_seen="", count=1):
    """The issue opened for a failure signature (``entry``: a :func:`diagnosis_entry`)."""
    confidence = f"{entry['confidence'] * 100:.0f} %"
    parts = [
        signature_marker(entry["signature"]),
        "Ops Autopilot could not heal this CI failure automatically.",
        "",
        "| | |",
        "|---|---|",
        f"| **Category** | `{entry['category']}` |",
        f"| **Confidence** | {confidence} |",
        f"| **Signature** | `{entry['signature']}` |",
        f"| **Job** | {_inline(entry.get('job'), 120)} |",
        f"| **Step** | {_inline(entry.get('step'), 120) or '-'} |",
        f"| **Occurrences** | {int(count)}" + (f" since {_inline(first_seen, 40)}" if first_seen else "") + " |",
        "",
        "### Suggested fix",
        "",
        _inline(entry.get("suggested_fix"), 1000) or "-",
        "",
        "### Log excerpt",
        "",
        fenced("\n".join(entry.get("excerpt") or [])),
        "",
        "### Runs",
        "",
        _run_links(runs),
    ]
    if template:
        parts += [
            "",
            "<details><summary>Failure template</summary>",
            "",
            fenced(template, limit=4000),
            "",
            "</details>",
        ]
    body = "\n".join(parts)
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY].rsplit("\n", 1)[0] + "\n\n… (report cut to fit GitHub's limit)"
    return body


def recurrence_comment(entry, run, count):
    """The comment added to a signature's issue when the failure happens again."""
    label = _inline(run.get("label") or f"run {run.get('id')}", 120)
    url = str(run.get("url") or "")
    link = f"[{label}]({url})" if url.startswith(("https://", "http://")) else label
    return "\n".join(
        [
            signature_marker(entry["signature"]),
            f"Seen again in {link} (occurrence {int(count)}): `{entry['category']}`, "
            f"confidence {entry['confidence'] * 100:.0f} %.",
            "",
            fenced("\n".join((entry.get("excerpt") or [])[-15:]), limit=4000),
        ]
    )
