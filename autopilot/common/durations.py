"""Durations as people read them: ``45 s``, ``3 min 05 s``, ``24 min``, ``1 h 05 min``, ``2 d 3 h``.

Never ``1,440`` (raw seconds with a thousands separator).
"""


def human_duration(seconds):
    """``seconds`` (int, float or None) as a short readable duration; ``""`` when unknown or negative.

    Seconds are shown below 10 minutes; above, the duration is rounded to the minute.
    """
    if seconds is None or seconds is False or seconds < 0:
        return ""
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    if total < 600:
        minutes, secs = divmod(total, 60)
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    minutes = round(total / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
