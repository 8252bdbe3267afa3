import io
import json
import sys

import pytest

from autopilot import cli
from autopilot.cli import _io
from autopilot.cli import diagnose as diagnose_command


@pytest.mark.parametrize("max_bytes", [1, 7, 10, 25, 1000])
def test_read_tail_keeps_the_end_of_a_file_and_of_standard_input(tmp_path, monkeypatch, max_bytes):
    data = bytes(range(256)) * 3
    path = tmp_path / "job.log"
    path.write_bytes(data)
    assert _io.read_tail(str(path), max_bytes) == data[-max_bytes:]
    monkeypatch.setattr(_io, "_CHUNK", 16)  # many chunks, so the rolling buffer is exercised
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _io.read_tail("-", max_bytes) == data[-max_bytes:]


def test_a_log_over_the_cap_is_diagnosed_from_its_end(tmp_path, monkeypatch, capsys):
    failure = "E   ModuleNotFoundError: No module named 'flask_cors'\n##[error]Process completed with exit code 1.\n"
    head = "".join(f"Collecting package-{i} (from -r requirements.txt)\n" for i in range(2000))
    path = tmp_path / "job.log"
    path.write_text(head + failure)
    monkeypatch.setattr(diagnose_command, "MAX_BYTES", len(failure) + 200)
    assert cli.main(["diagnose", str(path)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["category"] == "dependency_missing"
    assert any("flask_cors" in line for line in answer["excerpt"])
