"""Integrity of the calibration set of real CI failure logs.

The set (``autopilot/data/diagnosis_calibration``) calibrates the diagnosis engine's
confidence; no rule or model may be written from it.  These tests only check that
the set is what its README says it is: every log listed in SOURCES.tsv and every
listed log present, every source key in the calibration split's hash class, at most
five logs from one repository, the labels among the engine's categories, and no
log identical to a file of the rule-writing corpus.
"""

import collections
import csv
import hashlib
import pathlib

import pytest

from autopilot.selfheal.rules import CATEGORIES
from autopilot.testing.real_log_splits import CALIBRATION, split_of

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
SET_DIR = DATA / "diagnosis_calibration"
CORPUS_DIR = DATA / "diagnosis_corpus"

#: The split's hash class: sha1(key.lower()) % 3 == 1 is the calibration split.
SPLIT_CLASS = CALIBRATION
MAX_PER_KEY = 5
MIN_LOGS = 180
HEADER = ["path", "key", "source", "licence", "reason"]


def read_sources():
    with open(SET_DIR / "SOURCES.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def sources():
    header, rows = read_sources()
    assert header == HEADER
    return rows


def test_rows_are_complete(sources):
    for row in sources:
        assert len(row) == len(HEADER), row
        assert all(field.strip() for field in row), row


def test_every_listed_log_exists_and_every_log_is_listed(sources):
    listed = [row[0] for row in sources]
    assert len(listed) == len(set(listed)), "a log is listed twice"
    on_disk = sorted(p.relative_to(SET_DIR).as_posix() for p in SET_DIR.glob("*/*.log"))
    assert sorted(listed) == on_disk
    assert not [p for p in SET_DIR.rglob("*.log") if p.parent.parent != SET_DIR]


def test_categories_are_the_engines(sources):
    for row in sources:
        category = row[0].split("/")[0]
        assert category in CATEGORIES, row[0]
    for folder in SET_DIR.iterdir():
        if folder.is_dir():
            assert folder.name in CATEGORIES, folder


def test_keys_are_in_the_calibration_split(sources):
    wrong = [(row[0], row[1]) for row in sources if split_of(row[1]) != SPLIT_CLASS]
    assert not wrong


def test_at_most_five_logs_per_source(sources):
    counts = collections.Counter(row[1].lower() for row in sources)
    assert max(counts.values()) <= MAX_PER_KEY, counts.most_common(3)


def test_logs_are_real_excerpts(sources):
    for row in sources:
        text = (SET_DIR / row[0]).read_text(encoding="utf-8")
        lines = text.splitlines()
        assert len(lines) >= 3, row[0]
        assert len(text.split("\n")) <= 310, row[0]


def test_size_of_the_set(sources):
    assert len(sources) >= MIN_LOGS


def test_logs_are_distinct(sources):
    digests = collections.Counter(hashlib.sha256((SET_DIR / row[0]).read_bytes()).hexdigest() for row in sources)
    assert max(digests.values()) == 1


def test_no_log_is_a_copy_of_a_corpus_file(sources):
    if not CORPUS_DIR.is_dir():
        pytest.skip("no diagnosis corpus in this checkout")
    corpus = {hashlib.sha256(path.read_bytes()).hexdigest() for path in CORPUS_DIR.rglob("*") if path.is_file()}
    copies = [row[0] for row in sources if hashlib.sha256((SET_DIR / row[0]).read_bytes()).hexdigest() in corpus]
    assert not copies
