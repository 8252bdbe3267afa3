"""``route``: where a change should go (categories, workflows, complexity), as one JSON object.

``python3 -m autopilot route FILE`` (or ``-`` for standard input) reads a
``push`` or ``pull_request`` webhook payload, or a JSON list of
``{"filename", "additions", "deletions"}``, and prints one JSON object
``{"categories", "workflows", "complexity"}`` (``--details`` adds the
per-file categories and the counts). Exit status 0 on an answer, 2 when the
input cannot be read or is not one of those shapes (a JSON object with an
``error`` key is printed then).
"""

# pylint: disable=print-used  # a command line answers on stdout
import json

from ..selfheal import router
from ._io import read_bytes

MAX_BYTES = 32 * 1024 * 1024


def _fail(message):
    print(json.dumps({"error": message}))
    return 2


def run(args, parser):
    try:
        data = read_bytes(args.file, MAX_BYTES)
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    if len(data) > MAX_BYTES:
        return _fail(f"input larger than {MAX_BYTES} bytes")
    try:
        decision = router.route(json.loads(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _fail(f"not JSON: {exc}")
    except ValueError as exc:
        return _fail(str(exc))
    answer = decision.to_dict() if args.details else decision.summary()
    print(json.dumps(answer, ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def register(commands):
    command = commands.add_parser(
        "route",
        help="classify a change (push/pull_request payload or file list) and print one JSON object",
        description=__doc__.splitlines()[0],
    )
    command.add_argument("file", help="JSON file, or - for standard input")
    command.add_argument("--details", action="store_true", help="add per-file categories and counts")
    command.add_argument("--pretty", action="store_true", help="indent the JSON")
    command.set_defaults(handler=run)
