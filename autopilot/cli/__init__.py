"""The engine's command line: ``ops-autopilot <command> ...`` or ``python3 -m autopilot <command> ...``.

Runs without Odoo, so the same engine serves a developer's shell and a
GitHub Actions step. One module per command, each with a ``register``
function that adds its sub-parser and a ``run(args, parser)`` handler. Every
command prints its answer on stdout and exits 0 on success, 1 when the
answer is negative (a signature that does not verify, an error-level
finding, a denied licence), 2 on bad usage or unreadable input.
"""

# pylint: disable=print-used  # a command line answers on stdout
import argparse
import sys

from . import arch_check, dead_code, deps, diagnose, license_check, mask_secrets, route, scan_report, sign, verify

#: in the order ``--help`` lists them
COMMANDS = (sign, verify, diagnose, route, arch_check, mask_secrets, scan_report, license_check, deps, dead_code)


def build_parser(prog="ops-autopilot"):
    parser = argparse.ArgumentParser(
        prog=prog, description="The ops_autopilot engine on the command line, without Odoo."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv=None, prog="ops-autopilot"):
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return args.handler(args, parser)
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}", file=sys.stderr)
        return 2
