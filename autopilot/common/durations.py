"""Durations as people read them: ``45 s``, ``3 min 05 s``, ``24 min``, ``1 h 05 min``, ``2 d 03 h``.

Never ``1,440`` (raw seconds with a thousands separator). One set of rules for
the whole addon: the forms, the dashboard tiles, the incident's times and the
web client's duration widget (``static/src/components/ops_history``), which
follows the same rules.
"""


def human_duration(seconds):
    """``seconds`` (int, float, None or False) as a short readable duration; ``""`` when unknown.

    Whole units, largest first, at most two of them: what a person reads at a
    glance. Sub-second durations are shown in milliseconds; seconds are shown
    below 10 minutes only; from 10 minutes on the duration is rounded to the
    minute, from a day on to the hour (10.6 min reads "11 min", never "10 min").
    """
    if seconds is None or seconds is False:
        return ""
    seconds = float(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if 0 < seconds < 1:
        return f"{sign}{round(seconds * 1000)} ms"
    if seconds < 600:
        minutes, secs = divmod(round(seconds), 60)
        text = f"{minutes} min" + (f" {secs:02d} s" if secs else "") if minutes else f"{secs} s"
        return sign + text
    hours, minutes = divmod(round(seconds / 60), 60)
    if hours < 24:
        text = f"{hours} h" + (f" {minutes:02d} min" if minutes else "") if hours else f"{minutes} min"
        return sign + text
    days, hours = divmod(round(seconds / 3600), 24)
    return sign + f"{days} d" + (f" {hours:02d} h" if hours else "")
