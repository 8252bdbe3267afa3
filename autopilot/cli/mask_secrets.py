"""``mask-secrets``: print a file with its tokens, keys and passwords masked.

For logs pasted into issues or prompts; the count of masked secrets goes to standard error.
"""

# pylint: disable=print-used  # a command line answers on stdout
import sys

from ..common.masking import mask_secrets
from ._io import read_text


def run(args, parser):
    masked, count = mask_secrets(read_text(args.file))
    sys.stdout.write(masked)
    print(f"{count} secret(s) masked", file=sys.stderr)
    return 0


def register(commands):
    command = commands.add_parser(
        "mask-secrets", help="print a file with tokens, keys and passwords masked", description=__doc__
    )
    command.add_argument("file", help="text file, or - for standard input")
    command.set_defaults(handler=run)
