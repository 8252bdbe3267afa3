"""``dead-code``: the Odoo-aware vulture scan of a checkout: definitions nothing seems to use."""

# pylint: disable=print-used  # a command line answers on stdout
import os
from pathlib import Path

from ..scans import deadcode

MAX_FILE_BYTES = 1024 * 1024


def _read_checkout(root):
    sources = {}
    for folder, directories, files in os.walk(root):
        directories[:] = [d for d in directories if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for name in files:
            if not name.endswith(deadcode.READ_SUFFIXES):
                continue
            full = Path(folder) / name
            if full.is_symlink() or full.stat().st_size > MAX_FILE_BYTES:
                continue
            sources[full.relative_to(root).as_posix()] = full.read_bytes()
    return sources


def run(args, parser):
    root = Path(args.directory)
    if not root.is_dir():
        parser.error(f"{root} is not a directory")
    findings, scanned, skipped = deadcode.analyse_sources(_read_checkout(root), min_confidence=args.min_confidence)
    for finding in findings:
        print(f"{finding.path}:{finding.line}: {finding.message} ({finding.confidence}% confidence)")
    for path, reason in skipped:
        print(f"skipped {path}: {reason}")
    print(f"{len(findings)} possibly unused items in {scanned} Python files")
    return 0


def register(commands):
    command = commands.add_parser("dead-code", help="Odoo-aware vulture scan of a checkout", description=__doc__)
    command.add_argument("directory")
    command.add_argument("--min-confidence", type=int, default=deadcode.DEFAULT_MIN_CONFIDENCE)
    command.set_defaults(handler=run)
