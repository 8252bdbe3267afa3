import re
import subprocess
import sys

import pytest

from autopilot.cli import main
from autopilot.github import signature
from autopilot.testing.fixtures import REPO


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "autopilot", *args], cwd=REPO, input=stdin, capture_output=True, check=False
    )


def test_sign_prints_the_header_value(tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_bytes(b'{"zen": "Design for failure."}')
    result = run("sign", "--secret", "abc", str(payload))
    assert result.returncode == 0
    assert result.stdout.decode().strip() == signature.sign("abc", payload.read_bytes())


def test_verify_answers_and_exits_accordingly(tmp_path):
    payload = tmp_path / "payload.json"
    payload.write_bytes(b"{}")
    good = signature.sign("abc", b"{}")
    ok = run("verify", "--secret", "abc", "--signature", good, str(payload))
    bad = run("verify", "--secret", "abd", "--signature", good, str(payload))
    assert (ok.returncode, ok.stdout.strip()) == (0, b"valid")
    assert (bad.returncode, bad.stdout.strip()) == (1, b"invalid")


def test_reads_standard_input_and_the_secret_from_the_environment():
    result = subprocess.run(
        [sys.executable, "-m", "autopilot", "sign", "-"],
        cwd=REPO,
        input=b"{}",
        capture_output=True,
        env={"AUTOPILOT_WEBHOOK_SECRET": "abc", "PATH": ""},
        check=False,
    )
    assert result.stdout.decode().strip() == signature.sign("abc", b"{}")


def test_errors_are_clear():
    assert run("sign", "/nonexistent/file", "--secret", "x").returncode == 2
    missing_secret = run("sign", "-", stdin=b"{}")
    assert missing_secret.returncode == 2 and b"--secret" in missing_secret.stderr


def test_main_runs_in_process_as_the_ops_autopilot_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as help_exit:
        main(["--help"])
    usage = capsys.readouterr().out
    assert help_exit.value.code == 0 and usage.startswith("usage: ops-autopilot ")
    assert re.findall(r"^    ([a-z][\w-]*)", usage, re.MULTILINE) == [
        *("sign", "verify", "diagnose", "route", "arch-check", "mask-secrets"),
        *("scan-report", "license-check", "deps", "dead-code", "dora"),
    ]
    payload = tmp_path / "payload.json"
    payload.write_bytes(b"{}")
    assert main(["sign", "--secret", "abc", str(payload)]) == 0
    assert capsys.readouterr().out.strip() == signature.sign("abc", b"{}")


def test_module_run_names_itself_in_usage():
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("usage: python3 -m autopilot ")
