"""The split discipline of the real CI log sets in ``autopilot/data``.

A source (``owner/repo``, or host + path for a page without a repository)
belongs to exactly one set, decided by a hash of its key: 0 = held-out
(``diagnosis_heldout``, ``diagnosis_heldout_b``,
``diagnosis_heldout_c``), 1 = calibration
(``diagnosis_calibration``), 2 = training (``diagnosis_real``). The sets'
READMEs state the same rule; their integrity tests check it with this function.
"""

import hashlib

HELD_OUT, CALIBRATION, TRAINING = 0, 1, 2


def split_of(key):
    """The split a source key belongs to (case does not matter)."""
    return int(hashlib.sha1(key.lower().encode()).hexdigest(), 16) % 3
