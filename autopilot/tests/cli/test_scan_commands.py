import pytest

from autopilot import cli
from autopilot.common.datafiles import DATA_DIR

SAMPLES = DATA_DIR / "scan_samples"


def run(*argv):
    return cli.main(list(argv))


def test_scan_report_fails_on_the_chosen_severity(capsys):
    assert run("scan-report", str(SAMPLES / "npm-audit-v2.json")) == 0
    out = capsys.readouterr().out
    assert "critical GHSA-xvch-5gv4-984h minimist" in out and out.strip().endswith("3 findings (npm-audit)")
    assert run("scan-report", str(SAMPLES / "npm-audit-v2.json"), "--fail-on", "critical") == 1
    assert run("scan-report", str(SAMPLES / "bandit.sarif"), "--fail-on", "critical") == 0


def test_scan_report_rejects_garbage(tmp_path, capsys):
    bad = tmp_path / "report.json"
    bad.write_text('{"version": "2.1.0", "runs": "nope"}')
    assert run("scan-report", str(bad)) == 2
    assert "$.runs" in capsys.readouterr().err


def test_license_check_exits_1_on_denied_packages(capsys):
    assert run("license-check", str(SAMPLES / "github-sbom.json")) == 1
    assert "ghostscript-wrapper" in capsys.readouterr().out
    assert run("license-check", str(SAMPLES / "github-sbom.json"), "--allowed", "MIT,Apache-2.0") == 0


def test_deps_and_dead_code_on_a_checkout(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n-e .\n")
    (tmp_path / "addon").mkdir()
    (tmp_path / "addon" / "tools.py").write_text("import os\n\ndef unused_helper():\n    return 1\n")
    assert run("deps", str(tmp_path / "requirements.txt")) == 0
    out = capsys.readouterr().out
    assert "requests" in out and "pinned=2.31.0" in out and "editable" in out
    assert run("dead-code", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "addon/tools.py:3: unused function 'unused_helper'" in out and "addon/tools.py:1: unused import" in out
    with pytest.raises(SystemExit):
        run("dead-code", str(tmp_path / "missing"))
