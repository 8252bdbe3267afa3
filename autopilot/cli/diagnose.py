"""``diagnose``: name the cause of a failed CI job from its log, as one JSON object.

``python3 -m autopilot diagnose job.log`` (or ``-`` for standard input)
prints exactly one JSON object on stdout — category, confidence,
suggested_fix, signature, retryable, excerpt, rule (plus source and step) —
so a GitHub Actions step can read it with ``jq`` or ``fromJSON``. Exit
status: 0 when a diagnosis was printed (whatever the category), 2 when the
log cannot be read (a JSON object with an ``error`` key is printed then).
"""

# pylint: disable=print-used  # a command line answers on stdout
import json

from ..selfheal import diagnosis
from ._io import read_tail

MAX_BYTES = 64 * 1024 * 1024


def run(args, parser):
    try:
        data = read_tail(args.logfile, MAX_BYTES)
    except OSError as exc:
        print(json.dumps({"error": f"cannot read {args.logfile}: {exc.strerror or exc}"}))
        return 2
    found = diagnosis.diagnose(data, min_confidence=args.min_confidence, max_lines=args.max_lines)
    print(json.dumps(found.summary(), ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def register(commands):
    command = commands.add_parser(
        "diagnose",
        help="diagnose a failed CI job log and print one JSON object",
        description=__doc__.splitlines()[0],
    )
    command.add_argument("logfile", help="job log file, or - for standard input")
    command.add_argument(
        "--min-confidence",
        type=float,
        default=diagnosis.DEFAULT_MIN_CONFIDENCE,
        help="below this confidence the category is 'unknown' (default: %(default)s)",
    )
    command.add_argument("--max-lines", type=int, default=40, help="excerpt size (default: %(default)s)")
    command.add_argument("--pretty", action="store_true", help="indent the JSON")
    command.set_defaults(handler=run)
