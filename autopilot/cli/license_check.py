"""``license-check``: licence verdicts of the packages of an SPDX or CycloneDX SBOM, under a policy.

Reads GitHub's dependency-graph SBOM (or a bare SPDX 2.x document, or a CycloneDX JSON BOM) and prints
the licence summary; exit 1 when a package is denied, 2 when the SBOM cannot
be read.
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import sys
from pathlib import Path

from ..common.errors import BadAnswer
from ..scans import licenses


def run(args, parser):
    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
        packages = licenses.parse_sbom(document)
    except (ValueError, BadAnswer) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    policy = licenses.DEFAULT_POLICY
    if args.allowed or args.review or args.denied:
        policy = licenses.LicensePolicy.from_text(args.allowed or "", args.review or "", args.denied or "")
    summary = licenses.summarize(licenses.check_packages(packages, policy))
    print(licenses.summary_markdown(summary))
    return 1 if summary.denied else 0


def register(commands):
    command = commands.add_parser(
        "license-check", help="license verdicts of an SPDX or CycloneDX SBOM", description=__doc__.splitlines()[0]
    )
    command.add_argument("file", help="GitHub dependency-graph SBOM JSON, a bare SPDX 2.x document or a CycloneDX BOM")
    command.add_argument("--allowed", help="allowed SPDX ids (comma separated); default policy when none given")
    command.add_argument("--review", help="SPDX ids needing review")
    command.add_argument("--denied", help="denied SPDX ids")
    command.set_defaults(handler=run)
