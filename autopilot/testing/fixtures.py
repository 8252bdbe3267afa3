"""Where the published GitHub webhook payloads are, and how to read them.

They live outside the repository, in ``../shared/fixtures/github-webhooks``
of the development workspace (see its SOURCES.md), and are read from there,
never copied. ``GITHUB_WEBHOOK_FIXTURES`` points elsewhere. Where the folder
is absent (a user's machine) tests that need them skip with this message.
"""

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("GITHUB_WEBHOOK_FIXTURES") or REPO.parent / "shared" / "fixtures" / "github-webhooks")
MISSING = f"published GitHub payloads not found at {FIXTURES} (they exist only in the development workspace)"


def available():
    return FIXTURES.is_dir()


def fixture_files():
    """``(event, path)`` of every published payload (the event is the folder name); empty if absent."""
    if not available():
        return []
    return sorted((path.parent.name, path) for path in FIXTURES.glob("*/*.json"))


def load(path):
    """``(body, payload)``: the bytes GitHub would send and their JSON.

    A wrapped capture ``{"event", "payload"}`` holds the delivery under
    ``payload``: that object, serialised, is the body.
    """
    raw = Path(path).read_bytes()
    data = json.loads(raw)
    if isinstance(data, dict) and set(data) == {"event", "payload"}:
        return json.dumps(data["payload"]).encode(), data["payload"]
    return raw, data
