import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autopilot.common.durations import human_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (False, ""),
        (0, "0 s"),
        (0.25, "250 ms"),
        (0.35, "350 ms"),
        (4.24, "4 s"),
        (45.4, "45 s"),
        (60, "1 min"),
        (125, "2 min 05 s"),
        (185, "3 min 05 s"),
        (1440, "24 min"),
        (1500, "25 min"),
        (3540, "59 min"),
        (636, "11 min"),
        (3570, "1 h"),
        (3899, "1 h 05 min"),
        (86_399, "1 d"),
        (3600, "1 h"),
        (3900, "1 h 05 min"),
        (7200, "2 h"),
        (86400 + 3 * 3600 + 100, "1 d 03 h"),
        (2 * 86400, "2 d"),
        (-90, "-1 min 30 s"),
    ],
)
def test_durations_read_like_people_write_them(seconds, text):
    assert human_duration(seconds) == text


def test_the_web_client_reads_durations_with_the_same_rules():
    """The duration widget (ops_history.js) and the server agree on every sample, or they drift apart."""
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed: the web client's copy of the rules is not checked")
    source = (Path(__file__).parents[3] / "static/src/components/ops_history/ops_history.js").read_text()
    function = re.search(r"export (function humanizeDuration\(seconds\) \{.*?\n\})\n", source, re.S).group(1)
    samples = [None, 0, 0.25, 1, 9.6, 45, 59.6, 60, 125, 599.6, 600, 636, 1440, 3570, 3599, 3600, 3900]
    samples += [7200, 86_399, 86_400, 86_400 * 2 + 3 * 3600 + 100, 10**6, -90]
    script = f"{function}\nconsole.log(JSON.stringify({json.dumps(samples)}.map(humanizeDuration)));"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(done.stdout) == [human_duration(value) for value in samples]
