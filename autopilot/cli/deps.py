"""``deps``: list the dependencies that manifests declare (requirements files, pyproject.toml, package.json).

Exit 2 when a manifest cannot be parsed (the others are still listed).
"""

# pylint: disable=print-used  # a command line answers on stdout
import sys
from pathlib import Path

from ..scans import dependencies


def _local_loader(path):
    """``-r`` includes of a local requirements file (paths relative to the current directory)."""
    target = Path(path)
    return target.read_text("utf-8") if target.is_file() else None


def run(args, parser):
    status = 0
    for name in args.files:
        path = Path(name)
        try:
            result = dependencies.parse_manifest(name, path.read_text("utf-8"), loader=_local_loader)
        except dependencies.ManifestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        for dep in result.dependencies:
            pinned = dep.pinned_version or "-"
            print(f"{dep.ecosystem:5} {dep.name:30} {dep.spec or '*':20} pinned={pinned:12} {dep.file}:{dep.line}")
        for bad in result.unparseable:
            print(f"unparseable {bad.file}:{bad.line}: {bad.text} ({bad.reason})")
    return status


def register(commands):
    command = commands.add_parser(
        "deps", help="list the dependencies manifests declare", description=__doc__.splitlines()[0]
    )
    command.add_argument("files", nargs="+", help="requirements*.txt, pyproject.toml or package.json")
    command.set_defaults(handler=run)
