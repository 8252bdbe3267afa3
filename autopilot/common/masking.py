"""Mask secrets in text before it leaves the product (AI prompts, comments, logs).

:func:`mask_secrets` replaces what looks like a credential with
``[MASKED:<kind>]`` and says how many it replaced: GitHub tokens (``ghp_``,
``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), AWS access key ids,
Anthropic / OpenAI / Stripe / Slack / Google keys, JWTs, private key blocks,
``Bearer``/``token``/``Basic`` credentials, passwords in URLs, and generic
``password=`` / ``secret:`` / ``token=`` / ``api_key=`` assignments (the
value only; the name stays so a reviewer still understands the line).

Masking keeps the text's line structure, so the line numbers of a diff are
unchanged and a review can still point at them. It is idempotent: masked
text masks to itself with a count of zero.
"""

import re

PLACEHOLDER = "[MASKED:{}]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S,
)

#: (kind, pattern, group holding the secret: 0 = the whole match)
_TOKEN_PATTERNS = (
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})\b"), 0),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}"), 0),
    ("openai-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"), 0),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    (
        "aws-access-key",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b"),
        0,
    ),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), 0),
    ("bearer-token", re.compile(r"(?i)\b(?:bearer|token)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)"), 1),
    ("basic-auth", re.compile(r"(?i)\bbasic[ \t]+([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])"), 1),
    ("url-password", re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^/\s:@\"']+:(?!\[MASKED)([^/\s@\"']+)@"), 1),
)

_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?key"
    r"|private[_\-]?key|client[_\-]?secret|credentials?"
)
#: ``name = value`` / ``name: value`` / ``"name": "value"`` / ``name: str = value`` / ``name => value``
_ASSIGNMENT = re.compile(
    rf"(?i)(?P<key>\b[\w.\-]*(?:{_KEY_WORDS})[\w.\-]*)"
    r"(?P<sep>[\"']?[ \t]*(?::[ \t]*[A-Za-z_][\w\[\], |.]*[ \t]*=(?!=)|:=|=>|:(?!:)|(?<![=!<>])=(?!=))[ \t]*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|(?![=>])[^\s'\",;&)\]}]+)"
)
_NOT_SECRET = frozenset({"none", "null", "nil", "true", "false", "undefined", "required", "optional", "str", "string"})
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _placeholder(kind):
    return PLACEHOLDER.format(kind)


def _mask_block(match):
    """A private key block: every line masked, diff prefixes (``+``, ``-``, space) kept."""
    lines = match.group(0).split("\n")
    out = [_placeholder("private-key")]
    for line in lines[1:]:
        prefix = line[0] if line and line[0] in "+- " else ""
        out.append(prefix + _placeholder("private-key") if line.strip(" +-") else line)
    return "\n".join(out)


def _looks_like_code(key, value):
    """An unquoted value that is a variable, an attribute chain, a call or a template: not a secret."""
    lowered = value.lower()
    if lowered in _NOT_SECRET or value.startswith(("$", "%(", "{", "<", "[MASKED")):
        return True
    if "(" in value or "[" in value:
        return True
    if _IDENTIFIER.fullmatch(value):
        if "." in value:
            return True  # self.password, os.environ
        if key.isupper():
            return False  # DB_PASSWORD=hunter in an env file
        # password=password, api_key=key: a variable; s3cr3tValue123: a secret
        return not any(char.isdigit() for char in value)
    return False


def mask_secrets(text, known=()):
    """``(masked text, number of secrets replaced)``.

    ``known`` are secret values the caller holds (configured tokens, API
    keys, webhook secrets): every occurrence is masked whatever its shape.
    """
    if not text:
        return text or "", 0
    count = 0

    for secret in sorted({s for s in known if isinstance(s, str) and len(s) >= 6}, key=len, reverse=True):
        occurrences = text.count(secret)
        if occurrences:
            text = text.replace(secret, _placeholder("known-secret"))
            count += occurrences

    text, replaced = _PRIVATE_KEY.subn(_mask_block, text)
    count += replaced

    for kind, pattern, group in _TOKEN_PATTERNS:

        def replace(match, kind=kind, group=group):
            if group == 0:
                return _placeholder(kind)
            start, end = match.span(group)
            offset = match.start()
            whole = match.group(0)
            return whole[: start - offset] + _placeholder(kind) + whole[end - offset :]

        text, replaced = pattern.subn(replace, text)
        count += replaced

    masked_values = 0

    def replace_assignment(match):
        nonlocal masked_values
        value = match.group("value")
        quoted = value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]
        inner = value[1:-1] if quoted else value
        if not inner.strip() or inner.startswith(("[MASKED", "$", "%(", "{{", "${")) or inner.lower() in _NOT_SECRET:
            return match.group(0)
        if not quoted and _looks_like_code(match.group("key"), inner):
            return match.group(0)
        masked_values += 1
        new_value = f"{value[0]}{_placeholder('assignment')}{value[0]}" if quoted else _placeholder("assignment")
        return match.group("key") + match.group("sep") + new_value

    text = _ASSIGNMENT.sub(replace_assignment, text)
    return text, count + masked_values


def contains_secret(text, known=()):
    """True when :func:`mask_secrets` would change ``text``."""
    return mask_secrets(text, known)[1] > 0
