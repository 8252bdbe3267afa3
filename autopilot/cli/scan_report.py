"""``scan-report``: print the findings of a scanner report (pip-audit, Trivy, npm audit, SARIF 2.1.0, CycloneDX).

Exit 1 when a finding reaches ``--fail-on``, 2 when the report cannot be read.
"""

# pylint: disable=print-used  # a command line answers on stdout
import sys
from pathlib import Path

from ..scans import reports
from ..scans.findings import SEVERITIES


def run(args, parser):
    try:
        result = reports.parse_report(Path(args.file).read_bytes(), args.format)
    except reports.ReportFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = SEVERITIES.index(args.fail_on) if args.fail_on else None
    for finding in result.findings:
        where = f" ({finding.path}:{finding.line})" if finding.line else f" ({finding.path})" if finding.path else ""
        package = f" {finding.package} {finding.version}".rstrip() if finding.package else ""
        fixed = f" -> {finding.fixed_version}" if finding.fixed_version else ""
        print(f"{finding.severity:8} {finding.advisory_id}{package}{fixed}{where}: {finding.summary}")
    for skipped in result.skipped:
        print(f"skipped  {skipped}")
    print(f"{len(result.findings)} findings ({result.format})")
    failing = threshold is not None and any(SEVERITIES.index(f.severity) >= threshold for f in result.findings)
    return 1 if failing else 0


def register(commands):
    command = commands.add_parser(
        "scan-report", help="print the findings of a scanner report", description=__doc__.splitlines()[0]
    )
    command.add_argument("file", help="pip-audit / Trivy / npm audit / CycloneDX JSON or SARIF 2.1.0 file")
    command.add_argument("--format", default="auto", choices=("auto", *reports.FORMATS))
    command.add_argument("--fail-on", choices=SEVERITIES[1:], help="exit 1 when a finding is this severe or more")
    command.set_defaults(handler=run)
