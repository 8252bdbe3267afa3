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
