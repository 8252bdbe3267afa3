"""``arch-check``: the architecture checks on ``base...head`` of a local git checkout.

What a GitHub Actions step has is a checkout: this reads git only
(``git diff``, ``git show``), runs the deterministic architecture checks of
the chosen rule packs and prints one finding per line (``--json`` for a
list). Exit 1 when a finding has severity ``error``, 2 on bad usage.
"""

# pylint: disable=print-used  # a command line answers on stdout
import json
import subprocess

from ..review import architecture, patches

GIT_TIMEOUT = 60


def _git(repo, *args):
    """Output of a read-only git command, or ``None`` when git refuses."""
    # a fixed executable and an argument list: nothing is parsed by a shell
    done = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def changed_files(repo, base, head):
    """The :class:`architecture.ChangedFile` items of ``base...head`` in a local checkout."""
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
        files.append(architecture.ChangedFile(path, status, patches.hunks_text(hunks), previous))
    return files


def run(args, parser):
    packs = list(args.pack or architecture.DEFAULT_PACKS)
    try:
        for pack_file in args.pack_file or ():
            with open(pack_file, encoding="utf-8") as handle:
                packs.append(architecture.RulePack.from_dict(json.load(handle)))
        files = changed_files(args.repo, args.base, args.head)
        findings = architecture.run_checks(
            files,
            lambda path, ref: _git(args.repo, "show", f"{ref}:{path}"),
            args.head,
            args.base,
            packs=packs,
            root_name=args.root_name,
        )
    except (ValueError, architecture.RulePackError) as exc:
        parser.error(str(exc))
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], indent=1))
    else:
        for finding in findings:
            where = f"{finding.path}:{finding.line}" if finding.line else finding.path
            print(f"{finding.severity:7} {finding.rule:32} {where}: {finding.message}")
        counts = architecture.summarize(findings)
        print(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
    return 1 if any(f.severity == "error" for f in findings) else 0


def register(commands):
    check = commands.add_parser(
        "arch-check",
        help="run the architecture checks on base...head of a git checkout",
        description=__doc__.splitlines()[0],
    )
    check.add_argument("--repo", default=".", help="the checkout (default: current folder)")
    check.add_argument("--base", required=True, help="base ref, e.g. origin/18.0")
    check.add_argument("--head", default="HEAD", help="head ref (default: HEAD)")
    check.add_argument("--pack", action="append", help="rule pack name (repeatable; default: odoo, oca)")
    check.add_argument("--pack-file", action="append", help="a team rule pack as JSON (repeatable)")
    check.add_argument("--root-name", default="", help="addon name when the repository root is the addon")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(handler=run)
