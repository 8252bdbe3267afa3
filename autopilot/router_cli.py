"""``route`` sub-command: where a change should go.

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
import sys

from . import router

MAX_BYTES = 32 * 1024 * 1024


def _read(path):
    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    with open(path, "rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _fail(message):
    print(json.dumps({"error": message}))
    return 2


def _cmd_route(args, parser):
    try:
        data = _read(args.file)
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


def register(subparsers):
    """Add the ``route`` command to an argparse sub-parsers object."""
    command = subparsers.add_parser(
        "route",
        help="classify a change (push/pull_request payload or file list) and print one JSON object",
        description=__doc__.splitlines()[0],
    )
    command.add_argument("file", help="JSON file, or - for standard input")
    command.add_argument("--details", action="store_true", help="add per-file categories and counts")
    command.add_argument("--pretty", action="store_true", help="indent the JSON")
    command.set_defaults(handler=_cmd_route)
    return command
