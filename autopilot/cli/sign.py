"""``sign``: print the ``X-Hub-Signature-256`` value GitHub would send with a payload file."""

# pylint: disable=print-used  # a command line answers on stdout
from ..github import signature
from ._io import SECRET_ENV, read_bytes, webhook_secret


def run(args, parser):
    print(signature.sign(webhook_secret(args, parser), read_bytes(args.file)))
    return 0


def register(commands):
    command = commands.add_parser(
        "sign", help="print the X-Hub-Signature-256 value of a payload file", description=__doc__
    )
    command.add_argument("--secret", help=f"webhook secret (default: ${SECRET_ENV})")
    command.add_argument("file", help="payload file, or - for standard input")
    command.set_defaults(handler=run)
