#!/usr/bin/env python3
"""Run OCA's ``oca-checks-odoo-module`` on this repository, whose root is the addon itself.

The checker finds the module of a file by walking up from the file's directory to the top of
the git repository, and stops before looking in that top directory: an addon at the root of its
repository (this one) is never found, and every run passes without checking anything. So this
runs the checker on a copy of the tracked files, in a directory named after the addon outside
any git repository, and prints its findings with the repository's own paths.

Run by pre-commit inside the hook's environment (see .pre-commit-config.yaml): arguments
starting with ``-`` go to the checker (so write options as ``--name=value``), the others are the
files pre-commit hands over.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "ops_autopilot"


def tracked_files():
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name]


def main(argv):
    options = [arg for arg in argv if arg.startswith("-")]
    files = [arg for arg in argv if not arg.startswith("-")]
    with tempfile.TemporaryDirectory(prefix="oca-checks-") as tmp:
        copy = Path(tmp).resolve() / MODULE
        for name in {*tracked_files(), *files}:
            source = ROOT / name
            if source.is_file():  # a file deleted from the work tree is still listed by git
                target = copy / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        targets = [str(copy / name) for name in files] or [str(copy)]
        result = subprocess.run(
            ["oca-checks-odoo-module", *options, *targets], capture_output=True, text=True, check=False
        )
        # the checker prints paths absolute or relative to "/" (the top it falls back to)
        copy_prefix = re.compile(rf"/?{re.escape(str(copy).lstrip('/'))}/")
        sys.stdout.write(copy_prefix.sub("", result.stdout))
        sys.stderr.write(copy_prefix.sub("", result.stderr))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
