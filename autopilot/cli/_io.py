"""What the commands share: reading their input file (or standard input) with a size cap."""

import sys


def read_bytes(path, max_bytes=None):
    """The bytes of ``path`` (``-`` for standard input), at most ``max_bytes + 1`` of them when capped."""
    limit = -1 if max_bytes is None else max_bytes + 1
    if path == "-":
        return sys.stdin.buffer.read(limit)
    with open(path, "rb") as handle:
        return handle.read(limit)


def read_text(path):
    """The text of ``path`` (``-`` for standard input), undecodable bytes replaced."""
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()
