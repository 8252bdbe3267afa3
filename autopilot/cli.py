"""Command line of the engine: ``python3 -m autopilot <command> ...``.

Runs without Odoo, so the same engine serves a developer's shell and a
GitHub Actions step. Every command prints its answer on stdout and exits
0 on success, 1 when the answer is negative (a signature that does not
verify), 2 on bad usage or unreadable input.
"""

# pylint: disable=print-used  # a command line answers on stdout
import argparse
import os
import sys

from . import cli_diagnose, review_cli, router_cli, scan_cli, signature

SECRET_ENV = "AUTOPILOT_WEBHOOK_SECRET"


def _read(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def _secret(args, parser):
    secret = args.secret or os.environ.get(SECRET_ENV, "")
    if not secret:
        parser.error(f"give --secret or set {SECRET_ENV}")
    return secret


def _cmd_sign(args, parser):
    print(signature.sign(_secret(args, parser), _read(args.file)))
    return 0


def _cmd_verify(args, parser):
    ok = signature.verify(_secret(args, parser), _read(args.file), args.signature)
    print("valid" if ok else "invalid")
    return 0 if ok else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="python3 -m autopilot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    sign = commands.add_parser("sign", help="print the X-Hub-Signature-256 value of a payload file")
    sign.add_argument("--secret", help=f"webhook secret (default: ${SECRET_ENV})")
    sign.add_argument("file", help="payload file, or - for standard input")
    sign.set_defaults(handler=_cmd_sign)

    verify = commands.add_parser("verify", help="check a payload file against a signature")
    verify.add_argument("--secret", help=f"webhook secret (default: ${SECRET_ENV})")
    verify.add_argument("--signature", required=True, help="the header value, sha256=<hex>")
    verify.add_argument("file", help="payload file, or - for standard input")
    verify.set_defaults(handler=_cmd_verify)

    cli_diagnose.register(commands)
    router_cli.register(commands)
    review_cli.register(commands)
    scan_cli.register(commands)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args, parser)
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}", file=sys.stderr)
        return 2
