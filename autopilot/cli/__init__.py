"""The engine's command line: ``ops-autopilot <command> ...`` or ``python3 -m autopilot <command> ...``.

Runs without Odoo, so the same engine serves a developer's shell and a
GitHub Actions step. One module per command, each with a ``register``
function that adds its sub-parser and a ``run(args, parser)`` handler. Every
command prints its answer on stdout and exits 0 on success, 1 when the
answer is negative (a signature that does not verify, an error-level
finding, a denied licence), 2 on bad usage or unreadable input.

A command's module is imported only when it is run (or when ``--help``
lists them all): ``diagnose`` in a CI step must not pay for the imports of
the architecture checker or the scanners.
"""

# pylint: disable=print-used  # a command line answers on stdout
import argparse
import importlib
import sys

#: the command modules, in the order ``--help`` lists them
COMMAND_MODULES = (
    "sign",
    "verify",
    "diagnose",
    "route",
    "arch_check",
    "mask_secrets",
    "scan_report",
    "license_check",
    "deps",
    "dead_code",
    "dora",
)
#: the command names as typed (a module registers one command named like it, "_" written "-")
COMMAND_NAMES = {name.replace("_", "-"): name for name in COMMAND_MODULES}


def command_module(name):
    """The module of command module ``name`` (one of :data:`COMMAND_MODULES`), imported on first use."""
    return importlib.import_module(f"{__name__}.{name}")


def build_parser(prog="ops-autopilot", only=None):
    """The parser of every command, or only of the command module ``only`` (what running one command needs)."""
    parser = argparse.ArgumentParser(
        prog=prog, description="The ops_autopilot engine on the command line, without Odoo."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name in (only,) if only else COMMAND_MODULES:
        command_module(name).register(commands)
    return parser


def _requested(argv):
    """The command module ``argv`` runs, or None (no command yet, ``--help``, a typo: every command is needed)."""
    for arg in argv:
        if arg.startswith("-"):
            return None
        return COMMAND_NAMES.get(arg)
    return None


def main(argv=None, prog="ops-autopilot"):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog, only=_requested(argv))
    args = parser.parse_args(argv)
    try:
        return args.handler(args, parser)
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}", file=sys.stderr)
        return 2
