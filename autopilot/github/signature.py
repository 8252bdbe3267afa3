"""GitHub webhook signatures (``X-Hub-Signature-256``).

GitHub signs the raw request body with HMAC-SHA256 using the hook's secret and
sends ``sha256=<hex digest>``. Verification must use the raw bytes exactly as
received and a constant-time comparison.
"""

import hashlib
import hmac

PREFIX = "sha256="


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"expected bytes or str, got {type(value).__name__}")


def sign(secret, body):
    """Return the ``X-Hub-Signature-256`` header value for ``body``."""
    if not secret:
        raise ValueError("a non-empty secret is required to sign a payload")
    digest = hmac.new(_as_bytes(secret), _as_bytes(body), hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify(secret, body, header):
    """Tell whether ``header`` is a valid signature of ``body`` under ``secret``.

    Never raises on malformed input: a missing secret, a missing header or a
    header of the wrong shape simply does not verify.
    """
    if not secret or not header or not isinstance(header, str):
        return False
    if not header.startswith(PREFIX):
        return False
    expected = sign(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))
