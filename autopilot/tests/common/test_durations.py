import pytest

from autopilot.common.durations import human_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (-1, ""),
        (0, "0 s"),
        (45.4, "45 s"),
        (60, "1 min"),
        (185, "3 min 05 s"),
        (1440, "24 min"),
        (3570, "1 h"),
        (3540, "59 min"),
        (3599, "1 h"),
        (3900, "1 h 05 min"),
        (7200, "2 h"),
        (86400 + 3 * 3600 + 100, "1 d 3 h"),
        (2 * 86400, "2 d"),
    ],
)
def test_durations_read_like_people_write_them(seconds, text):
    assert human_duration(seconds) == text
