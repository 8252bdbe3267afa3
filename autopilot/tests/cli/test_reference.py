"""``docs/cli.md`` and the command line's parser say the same thing.

Every command of :func:`autopilot.cli.build_parser` has a section, in the
order ``--help`` lists them; every argument of a command is a row of its
section's argument table and every row is an argument; every choice of an
option is named; every command line shown in a code block parses. The
checker is tried on doctored copies too, so it is known to catch drift.
The README names every command, and its command lines parse.
"""

import argparse
import re
import shlex

import pytest

from autopilot.cli import build_parser
from autopilot.testing.fixtures import REPO

REFERENCE = REPO / "docs" / "cli.md"
PROGRAMS = re.compile(r"(?:ops-autopilot|python3 -m autopilot)\s")
SHELL_STOP = re.compile(r"\s*(?:\d?>|\||;|&&|\)|`)")
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def subcommands(parser):
    """``{name: sub-parser}`` in the order ``--help`` lists them."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def parser_arguments(command):
    """``{spelling: action}`` of a command's arguments: option strings and positional names, no ``--help``."""
    found = {}
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for spelling in action.option_strings or [action.metavar or action.dest]:
            found[spelling] = action
    return found


def sections(text):
    """``[(command, body)]`` of the ``## `command` `` sections, in the page's order."""
    parts = re.split(r"^## (.*)$", text, flags=re.M)
    found = []
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        name = re.fullmatch(r"`([a-z][a-z-]*)`", heading.strip())
        found.append((name.group(1) if name else heading.strip(), body))
    return found


def documented_arguments(body):
    """The spellings in the first cell of the rows of the section's ``| argument | meaning |`` table."""
    spellings, in_table = [], False
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else None
        if cells is None:
            in_table = False
        elif cells[0] == "argument":
            in_table = True
        elif in_table and not set(cells[0]) <= set("-: "):
            code = re.match(r"`([^`]+)`", cells[0])
            spellings.append(code.group(1).split()[0] if code else cells[0])
    return spellings


def command_lines(text):
    """The engine command lines shown in the page's code blocks, as argument lists (program left out)."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S)
    found = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            for start in PROGRAMS.finditer(line):
                rest = GITHUB_EXPRESSION.sub("X", line[start.end() :])
                rest = SHELL_STOP.split(rest, maxsplit=1)[0]
                found.append(shlex.split(rest))
    return found


def section_problems(commands, names):
    """Commands without a section, sections without a command, and sections out of ``--help`` order."""
    problems = [f"command {name}: no section" for name in commands if name not in names]
    problems += [f"section {name}: no such command" for name in names if name not in commands]
    if [n for n in names if n in commands] != [n for n in commands if n in names]:
        problems.append("sections are not in the order --help lists the commands")
    return problems


def argument_problems(name, command, body):
    """Where a section's argument table and its command's parser disagree."""
    problems = []
    arguments = parser_arguments(command)
    rows = documented_arguments(body)
    for spelling, action in arguments.items():
        if spelling not in rows:
            problems.append(f"{name} {spelling}: not in the argument table")
        problems += [
            f"{name} {spelling}: choice {choice} not named"
            for choice in action.choices or ()
            if str(choice) not in body
        ]
    problems += [
        f"{name} {spelling}: documented, but the command has no such argument"
        for spelling in rows
        if spelling not in arguments
    ]
    return problems


def example_problems(text, parser, commands):
    """Examples that do not parse, and commands without an example."""
    problems, shown = [], set()
    for argv in command_lines(text):
        try:
            parser.parse_args(argv)
        except SystemExit:
            problems.append(f"example does not parse: {shlex.join(argv)}")
        else:
            shown.add(argv[0])
    return problems + [f"command {name}: no example" for name in commands if name not in shown]


def reference_problems(text, parser):
    """What the page says that the parser does not, and the other way round; empty when they agree."""
    commands = subcommands(parser)
    documented = sections(text)
    problems = section_problems(commands, [name for name, _body in documented])
    for name, body in documented:
        if name in commands:
            problems += argument_problems(name, commands[name], body)
    return problems + example_problems(text, parser, commands)


def test_the_reference_matches_the_parser(capsys):
    assert reference_problems(REFERENCE.read_text(encoding="utf-8"), build_parser()) == []


def test_every_command_has_an_argument_table():
    text = REFERENCE.read_text(encoding="utf-8")
    for name, body in sections(text):
        assert documented_arguments(body), f"{name} has no argument table"


def _doctor(text, section, old, new):
    """``text`` with ``old`` replaced by ``new`` inside the section of ``section`` only."""
    start = text.index(f"## `{section}`\n")
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end
    assert old in text[start:end], f"{old!r} is not in the {section} section"
    return text[:start] + text[start:end].replace(old, new, 1) + text[end:]


@pytest.mark.parametrize(
    ("section", "old", "new", "problem"),
    [
        ("sign", "| `--secret SECRET` |", "| `--secrets SECRET` |", "sign --secret: not in the argument table"),
        (
            "sign",
            "| `--secret SECRET` |",
            "| `--secrets SECRET` |",
            "sign --secrets: documented, but the command has no such argument",
        ),
        ("deps", "| `files` |", "| `manifest` |", "deps files: not in the argument table"),
        ("route", "route --pretty files.json", "route --pretty --tree files.json", None),
        ("dead-code", "## `dead-code`", "## `deadcode`", None),
    ],
)
def test_the_checker_catches_drift(section, old, new, problem, capsys):
    text = _doctor(REFERENCE.read_text(encoding="utf-8"), section, old, new)
    problems = reference_problems(text, build_parser())
    assert problems, "a doctored reference passed the check"
    if problem:
        assert problem in problems


def test_the_checker_catches_a_removed_option_and_choice(capsys):
    parser = build_parser()
    text = REFERENCE.read_text(encoding="utf-8")
    scan_report = subcommands(parser)["scan-report"]
    fail_on = next(a for a in scan_report._actions if "--fail-on" in a.option_strings)
    fail_on.choices = [*fail_on.choices, "catastrophic"]
    assert "scan-report --fail-on: choice catastrophic not named" in reference_problems(text, parser)
    scan_report._remove_action(fail_on)
    for group in scan_report._action_groups:
        if fail_on in group._group_actions:
            group._group_actions.remove(fail_on)
    assert "scan-report --fail-on: documented, but the command has no such argument" in reference_problems(text, parser)


def test_the_readme_names_every_command_and_its_command_lines_parse(capsys):
    readme = (REPO / "README.rst").read_text(encoding="utf-8")
    parser = build_parser()
    for name in subcommands(parser):
        assert f"``{name}``" in readme, f"README.rst does not name {name}"
    shown = [
        shlex.split(SHELL_STOP.split(line.split("#")[0].strip(), maxsplit=1)[0])[1:]
        for line in readme.splitlines()
        if line.startswith("   ") and line.strip().startswith("ops-autopilot ")
    ]
    assert shown, "README.rst shows no command line"
    for argv in shown:
        parser.parse_args(argv)
