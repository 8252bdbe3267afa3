import subprocess
import sys

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
