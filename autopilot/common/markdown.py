"""Untrusted text made safe for the Markdown the product writes to GitHub.

Issues, comments and pull requests quote logs, model answers and incident
details. Two things must never happen through them: a quoted ``@someone``
or ``#123`` notifying a person or cross-linking an issue, and quoted text
closing a code block to inject Markdown of its own. :func:`defuse_mentions`
and :func:`defuse_references` insert a zero-width space that GitHub does not
link; :func:`code_block` fences text with more backticks than any run
inside it.
"""

import re

ZERO_WIDTH_SPACE = "\u200b"
#: what GitHub reads as a mention: @ then a login or an org/team (logins start alphanumeric, teams may hold - and _)
_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
#: an issue or pull request reference, ``#12``, not inside a word or an HTML entity
_REFERENCE = re.compile(r"(?<![\w&])#(?=\d)")
_BACKTICKS = re.compile(r"`+")


def defuse_mentions(text):
    """``text`` whose ``@login`` and ``@org/team`` notify nobody."""
    return _MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def defuse_references(text):
    """``text`` whose ``#123`` links to no issue or pull request."""
    return _REFERENCE.sub("#" + ZERO_WIDTH_SPACE, text)


def code_block(text, language="text"):
    """``text`` in a fenced block that nothing inside it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"
