"""``dora``: the four DORA keys (with their bands and trends) of an export of deployments and incidents.

``python3 -m autopilot dora FILE`` (or ``-`` for standard input) reads the
export described in docs/cli.md (GitHub's REST deployments with their
statuses and commits, incidents) and prints, per repository and
environment (production ones unless ``--environment`` names one), the four
keys over the period (``--days`` up to ``--until``, default: the last 30
days up to now) with their DORA band and the previous period's value;
``--json`` prints one JSON object instead. Exit status 0 on an answer, 1
when ``--fail-below`` is given and a key with a value is below that band, 2
when the input cannot be read.
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import sys
from datetime import UTC, datetime, timedelta

from ..delivery import dora, dora_export
from ._io import read_bytes

MAX_BYTES = 64 * 1024 * 1024
MAX_DAYS = 3660


def _fail(message, as_json):
    if as_json:
        print(json.dumps({"error": message}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2


def _until(text):
    if not text:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if len(text) == 10:  # a date: up to the end of that day
        moment += timedelta(days=1)
    return moment


def _text(start, end, environment, results):
    print(f"DORA keys {start.isoformat()} .. {end.isoformat()} ({environment or 'production'})")
    if not results:
        print("no deployments of that environment")
    for repository, name, keys in results:
        print(f"\n{repository or '(no repository)'} / {name}")
        for key in keys:
            band = f"[{key.band_label}]" if key.band else "[-]"
            previous = f"previous {key.previous_display}"
            extra = ""
            if key.key == "lead_time" and key.value is not None:
                extra = f", p90 {key.details['p90_display']}"
            elif key.key == "deployment_frequency" and key.details.get("four_keys"):
                extra = f", {key.details['four_keys']}"
            elif key.key == "time_to_restore" and key.details.get("unrestored"):
                extra = f", {key.details['unrestored']} not restored"
            print(f"  {key.label:26} {key.display:>14} {band:9} n={key.sample_size}{extra}; {previous}")
    print(f"\nbands: {dora.BAND_SOURCE}")


def run(args, parser):
    if not 1 <= args.days <= MAX_DAYS:
        parser.error(f"--days must be between 1 and {MAX_DAYS}")
    try:
        end = _until(args.until)
    except ValueError:
        parser.error(f"--until: not an ISO 8601 date or time: {args.until}")
    start = end - timedelta(days=args.days)
    try:
        data = read_bytes(args.file, MAX_BYTES)
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}", args.json)
    if len(data) > MAX_BYTES:
        return _fail(f"input larger than {MAX_BYTES} bytes", args.json)
    try:
        deployments, incidents, window = dora_export.read_export(json.loads(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _fail(f"not JSON: {exc}", args.json)
    except dora_export.ExportError as exc:
        return _fail(str(exc), args.json)
    if args.failure_window is not None:
        if not 0 < args.failure_window <= dora_export.MAX_WINDOW_HOURS:
            parser.error(f"--failure-window must be in (0, {dora_export.MAX_WINDOW_HOURS}] hours")
        window = timedelta(hours=args.failure_window)
    results = dora.report_by_place(deployments, incidents, start, end, args.environment, window)
    if args.json:
        print(
            json.dumps(
                {
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "environment": args.environment,
                    "failure_window_hours": window.total_seconds() / 3600,
                    "band_source": dora.BAND_SOURCE,
                    "results": [
                        {"repository": repository, "environment": name, "keys": [k.as_dict() for k in keys]}
                        for repository, name, keys in results
                    ],
                },
                indent=2,
            )
        )
    else:
        _text(start, end, args.environment, results)
    if args.fail_below:
        floor = dora.BANDS.index(args.fail_below)
        for _repository, _name, keys in results:
            if any(key.band is not None and dora.BANDS.index(key.band) > floor for key in keys):
                return 1
    return 0


def register(commands):
    command = commands.add_parser(
        "dora",
        help="the four DORA keys with bands of an export of deployments and incidents",
        description=__doc__.splitlines()[0],
    )
    command.add_argument("file", help="JSON export of deployments and incidents, or - for standard input")
    command.add_argument("--days", type=int, default=30, help="length of the period in days (default 30)")
    command.add_argument("--until", help="end of the period, ISO 8601 date or UTC time (default: now)")
    command.add_argument("--environment", help="environment name (default: the production environments)")
    command.add_argument(
        "--failure-window", type=float, help="hours after a deploy a failure is blamed on it (default 24)"
    )
    command.add_argument("--fail-below", choices=dora.BANDS[:-1], help="exit 1 when a key is below this band")
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.set_defaults(handler=run)
