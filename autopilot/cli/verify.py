"""``verify``: check a payload file against an ``X-Hub-Signature-256`` value; exit 1 when it does not match."""

# pylint: disable=print-used  # a command line answers on stdout
from ..github import signature
from ._io import SECRET_ENV, read_bytes, webhook_secret


def run(args, parser):
    ok = signature.verify(webhook_secret(args, parser), read_bytes(args.file), args.signature)
    print("valid" if ok else "invalid")
    return 0 if ok else 1


def register(commands):
    command = commands.add_parser("verify", help="check a payload file against a signature", description=__doc__)
    command.add_argument("--secret", help=f"webhook secret (default: ${SECRET_ENV})")
    command.add_argument("--signature", required=True, help="the header value, sha256=<hex>")
    command.add_argument("file", help="payload file, or - for standard input")
    command.set_defaults(handler=run)
