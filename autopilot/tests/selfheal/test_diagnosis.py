import io
import json
import sys

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from autopilot import cli
from autopilot.selfheal import calibration, classifier, diagnosis, logs
from autopilot.selfheal.rules import CATEGORIES, SEED_RULES, Rule

HEADER = [
    "Current runner version: '2.317.0'",
    "##[group]Run actions/checkout@v4",
    "with:",
    "  repository: acme/api",
    "##[endgroup]",
    "Syncing repository: acme/api",
]


def job_log(command, body, error_line="##[error]Process completed with exit code 1."):
    lines = [
        *HEADER,
        f"##[group]Run {command}",
        command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *body,
        *([error_line] if error_line else []),
        "Post job cleanup.",
        "Cleaning up orphan processes",
    ]
    return "\n".join(f"2024-06-0{1 + i % 9}T10:00:{i % 60:02d}.0000000Z {line}" for i, line in enumerate(lines))


# Logs written for these tests (not in the shipped corpus).
CASES = [
    (
        "dependency_missing",
        job_log("pytest", ["tests/test_pdf.py:2: in <module>", "E   ModuleNotFoundError: No module named 'reportlab'"]),
    ),
    (
        "environment_variable",
        job_log("./deploy.sh", ["Deploying build 812", "./deploy.sh: line 4: KUBE_CONTEXT: unbound variable"]),
    ),
    (
        "api_contract_mismatch",
        job_log(
            "oca_run_tests",
            [
                "2024-06-01 10:00:00,001 77 ERROR odoo odoo.addons.base.models.ir_ui_view: Element "
                "'<xpath expr=\"//field[@name='user_id']\">' cannot be located in parent view",
            ],
        ),
    ),
    (
        "network_timeout",
        job_log("npm ci", ["npm ERR! code ETIMEDOUT", "npm ERR! network request to https://registry.npmjs.org failed"]),
    ),
    (
        "permission_denied",
        job_log(
            "git push origin HEAD",
            [
                "remote: Permission to acme/api.git denied to github-actions[bot].",
                "fatal: unable to access 'https://github.com/acme/api/': The requested URL returned error: 403",
            ],
        ),
    ),
    (
        "configuration_error",
        job_log(
            "actions/setup-python@v5",
            [],
            "##[error]The version '3.6' with architecture 'x64' was not found for Ubuntu 24.04.",
        ),
    ),
    (
        "test_failure",
        job_log(
            "go test ./...",
            [
                "--- FAIL: TestRefund (0.00s)",
                "    refund_test.go:31: got 10, want 12",
                "FAIL\tgithub.com/acme/pay/refund\t0.010s",
            ],
        ),
    ),
    (
        "syntax_error",
        job_log(
            "python -m compileall app",
            ['  File "app/views.py", line 12', "    def index(request)", "SyntaxError: expected ':'"],
        ),
    ),
    (
        "resource_exhaustion",
        job_log("npm run build", ["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"]),
    ),
]


@pytest.mark.parametrize(("category", "text"), CASES, ids=[c for c, _ in CASES])
def test_diagnose_names_the_category_end_to_end(category, text):
    found = diagnosis.diagnose(text)
    assert found.category == category
    assert found.confidence >= diagnosis.DEFAULT_MIN_CONFIDENCE
    assert found.source in ("rule", "both")
    assert found.rule_name
    assert found.retryable == (category in ("network_timeout", "resource_exhaustion"))
    assert found.suggested_fix
    assert len(found.signature) == 16
    assert found.excerpt and all(isinstance(line, str) for line in found.excerpt)
    assert not any(line.startswith("Post job") for line in found.excerpt)


def test_noise_is_unknown():
    text = job_log("./build.sh", ["Building target linux-amd64", "Building target linux-arm64", "Done."])
    found = diagnosis.diagnose(text)
    assert found.category == "unknown"
    assert found.source == "none"
    assert not found.retryable
    assert found.excerpt[-1] == "##[error]Process completed with exit code 1."


def test_empty_or_random_input_is_unknown():
    assert diagnosis.diagnose("").category == "unknown"
    assert diagnosis.diagnose(b"\x00\x01\x02 lorem ipsum dolor sit amet").category == "unknown"


def test_a_calibration_cannot_lift_an_unsupported_guess_over_the_floor():
    """Nothing in the log supports any category: the raw posterior stays under the floor, and a
    calibration that would report every answer as sure (it is fitted on answers, not on noise) does
    not turn that guess into an answer; asked for every answer (min_confidence 0) it is still given."""
    sure = calibration.Calibration(weights=(0.0,) * len(calibration.FEATURES), intercept=5.0)
    noise = b"\x00\x01\x02 lorem ipsum dolor sit amet"
    found = diagnosis.diagnose(noise, calibrated=sure)
    assert found.category == "unknown"
    assert found.raw_confidence < diagnosis.DEFAULT_MIN_CONFIDENCE
    assert diagnosis.diagnose(noise, calibrated=sure, min_confidence=0.0).category != "unknown"


def test_cancelled_run_is_unknown_and_not_retryable():
    found = diagnosis.diagnose(job_log("make", ["compiling..."], "##[error]The operation was canceled."))
    assert found.category == "unknown"
    assert not found.retryable


def test_low_confidence_becomes_unknown():
    text = CASES[-1][1]
    assert diagnosis.diagnose(text, min_confidence=1.01).category == "unknown"


def test_model_can_overrule_nothing_without_rules():
    found = diagnosis.diagnose(CASES[-1][1], rules=[])
    assert found.rule_name == ""
    assert found.source in ("model", "none")


def test_bad_manager_rule_is_reported_not_fatal():
    evil = Rule("manager-evil", r"(a+)+$", "unknown", "never")
    text = job_log("pytest", ["a" * 4000 + "!", "E   ModuleNotFoundError: No module named 'reportlab'"])
    found = diagnosis.diagnose(text, rules=[evil, *SEED_RULES])
    assert found.category == "dependency_missing"
    assert "manager-evil" in found.skipped_rules


def test_diagnose_excerpt_accepts_lines_and_text():
    lines = ["npm ERR! code E404", "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fnope"]
    from_lines = diagnosis.diagnose_excerpt(lines)
    from_text = diagnosis.diagnose_excerpt("\n".join(lines))
    assert from_lines.category == from_text.category == "dependency_missing"
    assert from_lines.signature == from_text.signature


def test_default_model_is_trained_once():
    assert diagnosis.default_model() is diagnosis.default_model()


def test_summary_is_json_ready():
    summary = diagnosis.diagnose(CASES[0][1]).summary()
    assert json.loads(json.dumps(summary)) == summary
    assert set(summary) >= {"category", "confidence", "suggested_fix", "signature", "retryable", "excerpt", "rule"}


def test_calibration_on_held_out_logs():
    """Answers given with confidence >= 0.85 are right at least 90 % of the time (out of fold)."""
    examples = classifier.load_corpus()
    labels = np.array([label for _, label in examples])
    confident, answered = [], []
    for train_index, test_index in StratifiedKFold(3, shuffle=True, random_state=5).split(labels, labels):
        model = classifier.train([examples[i] for i in train_index], metrics=False)
        for i in test_index:
            found = diagnosis.diagnose(examples[i][0], model=model)
            answered.append(found.category == labels[i])
            if found.confidence >= 0.85 and found.category != "unknown":
                confident.append(found.category == labels[i])
    assert len(confident) >= len(examples) // 2
    assert np.mean(confident) >= 0.9
    assert np.mean(answered) >= 0.8


# --------------------------------------------------------------------- CLI


def run_cli(argv, capsys):
    root = cli.build_parser()
    args = root.parse_args(argv)
    status = args.handler(args, root)
    out = capsys.readouterr().out
    return status, out


def test_cli_prints_exactly_one_json_object(tmp_path, capsys):
    path = tmp_path / "job.log"
    path.write_text(CASES[3][1])
    status, out = run_cli(["diagnose", str(path)], capsys)
    assert status == 0
    decoded, end = json.JSONDecoder().raw_decode(out)
    assert out[end:].strip() == ""
    assert decoded["category"] == "network_timeout"
    assert decoded["retryable"] is True
    assert decoded["rule"] == "socket-errors"
    assert set(decoded) >= {"category", "confidence", "suggested_fix", "signature", "retryable", "excerpt", "rule"}
    assert decoded["category"] in CATEGORIES


def test_main_command_line_diagnoses_a_raw_actions_log(tmp_path, capsys):
    """``python3 -m autopilot diagnose LOGFILE`` (``cli.main``): one JSON object, ANSI and timestamps gone."""
    raw = "".join(
        f"2026-01-05T10:00:0{i}.1234567Z {line}\r\n"
        for i, line in enumerate(
            [
                "##[group]Run pytest -q",
                "\x1b[31mE   ModuleNotFoundError: No module named 'flask_cors'\x1b[0m",
                "##[error]Process completed with exit code 1.",
            ]
        )
    )
    path = tmp_path / "job.log"
    path.write_bytes(raw.encode())
    assert cli.main(["diagnose", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "one line: one JSON object"
    decoded = json.loads(out)
    assert decoded["category"] == "dependency_missing"
    assert 0.0 <= decoded["confidence"] <= 1.0
    assert not any("\x1b" in line or "2026-01-05T" in line for line in decoded["excerpt"])
    assert any("No module named 'flask_cors'" in line for line in decoded["excerpt"])


def test_cli_reads_standard_input(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(CASES[0][1].encode())))
    status, out = run_cli(["diagnose", "-"], capsys)
    assert status == 0
    assert json.loads(out)["category"] == "dependency_missing"


def test_cli_unreadable_file_is_a_json_error(tmp_path, capsys):
    status, out = run_cli(["diagnose", str(tmp_path / "missing.log")], capsys)
    assert status == 2
    assert "cannot read" in json.loads(out)["error"]


def test_excerpt_matches_the_cleaned_log():
    text = CASES[6][1]
    found = diagnosis.diagnose(text)
    cleaned = logs.clean_log(text)
    assert all(line in cleaned for line in found.excerpt)


def test_low_but_real_evidence_is_answered_and_noise_stays_unknown():
    assert diagnosis.DEFAULT_MIN_CONFIDENCE <= 0.3
    noise = job_log("./build.sh", ["Building target linux-amd64", "Done."])
    assert diagnosis.diagnose(noise).category == "unknown"


def test_crash_without_cause_is_unknown_not_a_guess():
    text = job_log("./run_tests.sh", ["./run_tests.sh: line 3:  2810 Segmentation fault      (core dumped) ./unit"])
    found = diagnosis.diagnose(text)
    assert found.category == "unknown"
    assert not found.retryable


def test_an_empty_log_gets_no_signature():
    """No text, no fingerprint: an unreadable log must never share a signature with another one."""
    for text in ("", "\n\n", "   \n\t\n"):
        found = diagnosis.diagnose(text)
        assert found.category == "unknown"
        assert found.signature == ""
        assert found.template == ""
        assert found.confidence == 0.0
