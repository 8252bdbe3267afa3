"""What the commands share: reading their input (a file, or ``-`` for standard input) and the webhook secret."""

import os
import sys
from collections import deque

SECRET_ENV = "AUTOPILOT_WEBHOOK_SECRET"
_CHUNK = 1024 * 1024


def read_bytes(path, max_bytes=None):
    """The bytes of ``path``, at most ``max_bytes + 1`` of them when capped (so a caller can tell it was over)."""
    limit = -1 if max_bytes is None else max_bytes + 1
    if path == "-":
        return sys.stdin.buffer.read(limit)
    with open(path, "rb") as handle:
        return handle.read(limit)


def read_tail(path, max_bytes):
    """The last ``max_bytes`` bytes of ``path``: where a log says why it failed."""
    if path == "-":
        kept, size = deque(), 0
        while chunk := sys.stdin.buffer.read(_CHUNK):
            kept.append(chunk)
            size += len(chunk)
            while len(kept) > 1 and size - len(kept[0]) >= max_bytes:
                size -= len(kept.popleft())
        return b"".join(kept)[-max_bytes:] if max_bytes else b""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - max_bytes))
        return handle.read(max_bytes)


def read_text(path):
    """The text of ``path``, undecodable bytes replaced."""
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def webhook_secret(args, parser):
    """The secret of ``--secret`` or of the environment; a usage error when there is none."""
    secret = args.secret or os.environ.get(SECRET_ENV, "")
    if not secret:
        parser.error(f"give --secret or set {SECRET_ENV}")
    return secret
