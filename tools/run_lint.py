#!/usr/bin/env python3
"""Run every pre-commit hook on every file, as CI does; exit non-zero when one fails.

Installs ``requirements-lint.txt`` (pre-commit) first when it is missing; pre-commit then
installs each hook's pinned tools from PyPI and npm into its cache (``~/.cache/pre-commit``)
the first time. Hooks that fix files (ruff, ruff format, prettier, eslint, whitespace) leave
their fixes in the work tree and still fail, so CI never passes on code it had to rewrite.

Arguments are handed to ``pre-commit run``: ``tools/run_lint.py eslint`` runs one hook.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devenv


def main(argv):
    try:
        devenv.ensure_requirements([devenv.ROOT / "requirements-lint.txt"])
    except devenv.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure", *argv]
    return subprocess.run(command, cwd=devenv.ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
