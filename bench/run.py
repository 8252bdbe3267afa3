#!/usr/bin/env python3
"""`make bench`: run every benchmark in bench/*/run.py (or those named on the command line)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names):
    scripts = sorted(HERE.glob("*/run.py"))
    if names:
        scripts = [s for s in scripts if s.parent.name in names]
    failed = []
    for script in scripts:
        print(f"\n######## bench/{script.parent.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False).returncode:
            failed.append(script.parent.name)
    if failed:
        print(f"\nbenchmarks that could not run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
