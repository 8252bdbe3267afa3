"""The published contracts the fakes are held to, as pinned npm packages installed outside the repository.

GitHub publishes its REST API as an OpenAPI description (``@octokit/openapi``,
with the GitHub Enterprise Server descriptions beside it) and its webhook
payloads as JSON schemas (``@octokit/webhooks-schemas``); CycloneDX publishes
its BOM schemas in ``@cyclonedx/cyclonedx-library``. The versions are pinned in
:data:`PINNED`; they are installed with npm into ``~/.cache/ops_autopilot/npm``
(``OPS_NPM_CACHE`` elsewhere), never into the repository, by ``tools/devenv.py``
before the tests, or by :func:`ensure` when a test run finds them missing.
Where npm is not installed they cannot be, and the checks that need them are
skipped with :data:`UNAVAILABLE`.

Standard library only: ``tools/devenv.py`` loads this file by path.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

PINNED = {
    "@octokit/openapi": "23.0.2",
    "@octokit/webhooks-schemas": "7.6.1",
    "@cyclonedx/cyclonedx-library": "10.3.0",
}
PREFIX = Path(
    os.environ.get("OPS_NPM_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ops_autopilot" / "npm"
)
UNAVAILABLE = (
    "the published contracts (" + ", ".join(f"{n}@{v}" for n, v in PINNED.items()) + ") are not installed in "
    f"{PREFIX} and npm is not available to install them: install Node.js and npm, then run the tests again"
)


def package_dir(name):
    """The installed package's folder when it is the pinned version, else None."""
    folder = PREFIX / "node_modules" / name
    try:
        version = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None
    return folder if version == PINNED[name] else None


def missing():
    return [f"{name}@{version}" for name, version in PINNED.items() if package_dir(name) is None]


def ensure(timeout=600):
    """Install the pinned packages that are missing; return the ones still missing (all of them without npm)."""
    wanted = missing()
    if not wanted:
        return []
    npm = shutil.which("npm")
    if not npm:
        return wanted
    PREFIX.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--ignore-scripts", *wanted]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, timeout=timeout)
    return missing()
