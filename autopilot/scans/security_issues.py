"""One GitHub issue per security advisory and repository, never two.

Decides what the issue says (the advisory, every affected package version
with its fix, where it is declared) and finds an issue already opened for
the advisory by its hidden marker, in any state: an advisory someone
closed as handled is not reopened by the next scan, and two scans never
open two issues for it.
"""

import re
from dataclasses import dataclass

from ..github.rest_api import github_call, paginate

LABEL = "security"
MARKER = "<!-- ops-autopilot:advisory:{} -->"
MAX_BODY = 60_000


def marker(advisory_id):
    return MARKER.format(advisory_id.upper())


def _cell(text):
    """Markdown table cell text: no pipes, no line breaks, no HTML comment openers."""
    return re.sub(r"[|\r\n]+", " ", str(text or "")).replace("<!--", "< !--").strip() or "-"


def build_issue(full_name, advisory_id, findings):
    """``(title, body)`` of the issue for ``advisory_id`` given its findings (engine ``Finding`` objects)."""
    findings = list(findings)
    first = findings[0]
    severity = first.severity
    packages = sorted({f.package for f in findings if f.package})
    subject = ", ".join(packages[:3]) + (" …" if len(packages) > 3 else "") if packages else first.path
    title = re.sub(r"\s+", " ", f"[{severity}] {advisory_id} in {subject}").strip()[:250]
    lines = [
        marker(advisory_id),
        f"**{_cell(advisory_id)}** ({severity}) affects `{_cell(full_name)}`.",
        "",
        _cell(first.summary) if first.summary else "",
        "",
        "| Package | Version | Fixed in | Declared in | Found by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for finding in findings:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        lines.append(
            f"| {_cell(finding.package)} | {_cell(finding.version)} | {_cell(finding.fixed_version or 'no fix yet')} "
            f"| {_cell(where)} | {_cell(finding.source)} |"
        )
    aliases = sorted({a for f in findings for a in f.aliases} - {advisory_id})
    if aliases:
        lines += ["", "Also known as: " + ", ".join(_cell(a) for a in aliases)]
    if first.url:
        lines += ["", f"Advisory: {first.url}"]
    lines += [
        "",
        "Opened once per advisory by ops_autopilot's security scan; close it when the fix is merged "
        "(a suppression with a reason in Odoo hides it from the next scans).",
    ]
    return title, "\n".join(lines)[:MAX_BODY]


@dataclass(frozen=True)
class AdvisoryIssue:
    number: int
    url: str
    created: bool


def find_issue(client, full_name, advisory_id, label=LABEL):
    """The issue already opened for the advisory (open or closed), or None."""
    wanted = marker(advisory_id).lower()
    path = f"/repos/{full_name}/issues"
    for raw in github_call("GitHub", lambda: list(paginate(client, path, {"state": "all", "labels": label}))):
        if "pull_request" in raw or wanted not in str(raw.get("body") or "").lower():
            continue
        return AdvisoryIssue(int(raw["number"]), str(raw.get("html_url") or ""), False)
    return None


def publish_issue(client, full_name, advisory_id, findings, label=LABEL):
    """Open the advisory's issue unless one exists; returns :class:`AdvisoryIssue`."""
    existing = find_issue(client, full_name, advisory_id, label)
    if existing:
        return existing
    title, body = build_issue(full_name, advisory_id, findings)
    repo = github_call("GitHub", client.get_repo, full_name)
    issue = github_call("GitHub", repo.create_issue, title=title, body=body, labels=[label])
    return AdvisoryIssue(issue.number, issue.html_url, True)
