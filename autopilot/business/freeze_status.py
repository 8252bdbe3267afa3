"""The ``ops-autopilot/freeze`` commit status on open pull requests, through GitHub's statuses API.

While a freeze is in force, each open pull request's head commit carries a
*pending* status whose description is the freeze's reason; when it ends (or
is overridden) the status turns *success*. A branch protection rule that
requires the context blocks merges during a freeze. Only changes are sent:
:func:`plan_statuses` compares what each head should show with what was last
posted (the model keeps that), so a cron cycle without change sends nothing.
"""

from dataclasses import dataclass

from ..github import rest_api
from ..github.rest_api import github_call

CONTEXT = "ops-autopilot/freeze"
#: GitHub refuses longer descriptions (422 "description is too long (maximum is 140 characters)")
MAX_DESCRIPTION = 140
PENDING = "pending"
SUCCESS = "success"
#: open pull requests looked at per repository and cycle
MAX_PULLS = 300


def status_description(reason, frozen=True):
    """What the status says: the freeze's reason (cut to GitHub's 140 characters), or that none is in force."""
    if not frozen:
        return "No change freeze in force"
    text = " ".join(f"Change freeze: {reason or 'in force'}".split())
    if len(text) <= MAX_DESCRIPTION:
        return text
    return text[: MAX_DESCRIPTION - 1].rstrip() + "…"


@dataclass(frozen=True)
class PullHead:
    number: int
    sha: str


@dataclass(frozen=True)
class StatusChange:
    number: int
    sha: str
    state: str
    description: str


def open_pull_heads(client, full_name, limit=MAX_PULLS):
    """The open pull requests of ``full_name`` and their head commits (GitHub's list-pulls, paginated)."""
    items = github_call(
        "GitHub",
        lambda: list(rest_api.paginate(client, f"/repos/{full_name}/pulls", {"state": "open"}, limit=limit)),
    )
    return [PullHead(int(item["number"]), str(item["head"]["sha"])) for item in items]


def plan_statuses(heads, posted, frozen, reason=""):
    """The statuses to send: each head whose last posted ``(state, description)`` differs from the wanted one.

    ``posted``: ``{sha: (state, description)}`` of what was sent before. A
    head never marked is marked *success* too outside a freeze, so a branch
    protection rule requiring the context never waits for a status that
    would not come.
    """
    state = PENDING if frozen else SUCCESS
    description = status_description(reason, frozen)
    return [
        StatusChange(head.number, head.sha, state, description)
        for head in heads
        if posted.get(head.sha) != (state, description)
    ]


def post_status(client, full_name, sha, state, description, target_url=None):
    """``POST /repos/{owner}/{repo}/statuses/{sha}`` with the freeze context (PyGithub's requester: auth, timeout)."""
    body = {"state": state, "context": CONTEXT, "description": description[:MAX_DESCRIPTION]}
    if target_url:
        body["target_url"] = target_url
    _headers, data = github_call(
        "GitHub", client.requester.requestJsonAndCheck, "POST", f"/repos/{full_name}/statuses/{sha}", input=body
    )
    return data
