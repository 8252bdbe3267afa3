"""``diagnose`` sub-command: name the cause of a failed CI job from its log.

``python3 -m autopilot diagnose job.log`` (or ``-`` for standard input)
prints exactly one JSON object on stdout — category, confidence,
suggested_fix, signature, retryable, excerpt, rule (plus source and step) —
so a GitHub Actions step can read it with ``jq`` or ``fromJSON``. Exit
status: 0 when a diagnosis was printed (whatever the category), 2 when the
log cannot be read (a JSON object with an ``error`` key is printed then).

Wire it into :mod:`autopilot.cli` with ``cli_diagnose.register(commands)``
in ``build_parser()``; the handler follows that module's
``handler(args, parser)`` convention.
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import sys

from . import diagnose as engine

MAX_BYTES = 64 * 1024 * 1024


def _read(path):
    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    with open(path, "rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _cmd_diagnose(args, parser):
    try:
        data = _read(args.logfile)
    except OSError as exc:
        print(json.dumps({"error": f"cannot read {args.logfile}: {exc.strerror or exc}"}))
        return 2
    if len(data) > MAX_BYTES:
        data = data[-MAX_BYTES:]
    found = engine.diagnose(data, min_confidence=args.min_confidence, max_lines=args.max_lines)
    print(json.dumps(found.summary(), ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def register(subparsers):
    """Add the ``diagnose`` command to an argparse sub-parsers object."""
    command = subparsers.add_parser(
        "diagnose",
        help="diagnose a failed CI job log and print one JSON object",
        description=__doc__.splitlines()[0],
    )
    command.add_argument("logfile", help="job log file, or - for standard input")
    command.add_argument(
        "--min-confidence",
        type=float,
        default=engine.DEFAULT_MIN_CONFIDENCE,
        help="below this confidence the category is 'unknown' (default: %(default)s)",
    )
    command.add_argument("--max-lines", type=int, default=40, help="excerpt size (default: %(default)s)")
    command.add_argument("--pretty", action="store_true", help="indent the JSON")
    command.set_defaults(handler=_cmd_diagnose)
    return command
