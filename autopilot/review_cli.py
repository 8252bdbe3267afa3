"""Command line of the review engine: ``arch-check`` over a local git checkout, ``mask-secrets``.

Wired into ``python3 -m autopilot`` by calling :func:`register` with the
sub-parsers of :func:`autopilot.cli.build_parser`. ``arch-check`` runs the
deterministic architecture checks on ``base...head`` of a checkout (what a
GitHub Actions step has), reading git only (``git diff``, ``git show``);
it exits 1 when a finding has severity ``error``. ``mask-secrets`` prints
a file with its secrets masked (for logs pasted into issues or prompts).
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import subprocess
import sys

from . import arch_checks, patches
from .secrets_mask import mask_secrets

GIT_TIMEOUT = 60


def _git(repo, *args):
    """Output of a read-only git command, or ``None`` when git refuses."""
    # a fixed executable and an argument list: nothing is parsed by a shell
    done = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def changed_files(repo, base, head):
    """The :class:`arch_checks.ChangedFile` items of ``base...head`` in a local checkout."""
    listing = _git(repo, "diff", "--name-status", "-M", "--no-color", f"{base}...{head}")
    if listing is None:
        raise ValueError(f"git cannot compare {base}...{head} in {repo}")
    statuses = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "changed"}
    files = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        status = statuses.get(parts[0][:1], "modified")
        path, previous = parts[-1], parts[1] if len(parts) > 2 else ""
        diff = _git(repo, "diff", "--no-color", "--no-ext-diff", "-U3", "-M", f"{base}...{head}", "--", path) or ""
        try:
            hunks = [h for fp in patches.parse_unified_diff(diff) for h in fp.hunks] if "\n@@" in diff else []
        except patches.PatchError:
            hunks = []
        files.append(arch_checks.ChangedFile(path, status, patches.hunks_text(hunks), previous))
    return files


def _cmd_arch_check(args, parser):
    packs = list(args.pack or arch_checks.DEFAULT_PACKS)
    try:
        for pack_file in args.pack_file or ():
            with open(pack_file, encoding="utf-8") as handle:
                packs.append(arch_checks.RulePack.from_dict(json.load(handle)))
        files = changed_files(args.repo, args.base, args.head)
        findings = arch_checks.run_checks(
            files,
            lambda path, ref: _git(args.repo, "show", f"{ref}:{path}"),
            args.head,
            args.base,
            packs=packs,
            root_name=args.root_name,
        )
    except (ValueError, arch_checks.RulePackError) as exc:
        parser.error(str(exc))
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], indent=1))
    else:
        for finding in findings:
            where = f"{finding.path}:{finding.line}" if finding.line else finding.path
            print(f"{finding.severity:7} {finding.rule:32} {where}: {finding.message}")
        counts = arch_checks.summarize(findings)
        print(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
    return 1 if any(f.severity == "error" for f in findings) else 0


def _cmd_mask_secrets(args, parser):
    if args.file == "-":
        data = sys.stdin.read()
    else:
        with open(args.file, encoding="utf-8", errors="replace") as handle:
            data = handle.read()
    masked, count = mask_secrets(data)
    sys.stdout.write(masked)
    print(f"{count} secret(s) masked", file=sys.stderr)
    return 0


def register(commands):
    """Add ``arch-check`` and ``mask-secrets`` to the engine's sub-parsers."""
    check = commands.add_parser("arch-check", help="run the architecture checks on base...head of a git checkout")
    check.add_argument("--repo", default=".", help="the checkout (default: current folder)")
    check.add_argument("--base", required=True, help="base ref, e.g. origin/18.0")
    check.add_argument("--head", default="HEAD", help="head ref (default: HEAD)")
    check.add_argument("--pack", action="append", help="rule pack name (repeatable; default: odoo, oca)")
    check.add_argument("--pack-file", action="append", help="a team rule pack as JSON (repeatable)")
    check.add_argument("--root-name", default="", help="addon name when the repository root is the addon")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(handler=_cmd_arch_check)

    mask = commands.add_parser("mask-secrets", help="print a file with tokens, keys and passwords masked")
    mask.add_argument("file", help="text file, or - for standard input")
    mask.set_defaults(handler=_cmd_mask_secrets)
