"""Integrity of the held-out evaluation sets of real CI failure logs.

Three sets measure the diagnosis engine once its work is done; no rule and no model may be
written from them:

* ``autopilot/data/diagnosis_heldout/``: the first held-out batch;
* ``autopilot/data/diagnosis_heldout_b/``: the second batch, collected after the first had
  been measured once, from sources that appear in no other set;
* ``autopilot/data/diagnosis_heldout_c/``: the third batch, collected after the first two had
  been measured, from sources that appear in no other set.

These tests only check that each set is what its README says: every log listed in
SOURCES.tsv and every listed log present, every source key in the held-out hash class, at
most five logs per source, valid categories, and no log identical to a file of the training
corpus. For the second and third batches they also check that none of its source keys appears in any
other set's SOURCES.tsv and that none of its logs is byte-identical to any other data file.
"""

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from autopilot.selfheal.rules import CATEGORIES
from autopilot.testing.real_log_splits import HELD_OUT, split_of

DATA = Path(__file__).resolve().parents[2] / "data"
CORPUS_DIR = DATA / "diagnosis_corpus"
FIRST_SET = DATA / "diagnosis_heldout"
SECOND_SET = DATA / "diagnosis_heldout_b"
THIRD_SET = DATA / "diagnosis_heldout_c"
HELDOUT_SETS = (FIRST_SET, SECOND_SET, THIRD_SET)
# The batches collected with the stricter rule: no source shared with any other set, no file
# byte-identical to any other data file.
STRICT_SETS = (SECOND_SET, THIRD_SET)
# Every set that names its sources (their key column only is read here).
SOURCED_SETS = (FIRST_SET, SECOND_SET, THIRD_SET, DATA / "diagnosis_calibration", DATA / "diagnosis_real")
# Every data folder of real or corpus logs.
DATA_DIRS = (CORPUS_DIR, *SOURCED_SETS)

# The split a source belongs to: sha1 of its key (owner/repo, or host/path for a page),
# lower-cased, modulo 3. 0 is the held-out test split.
SPLIT_CLASS = HELD_OUT
MAX_PER_SOURCE = 5
HEADER = ["path", "key", "source", "licence", "reason"]

by_set = pytest.mark.parametrize("set_dir", HELDOUT_SETS, ids=lambda path: path.name)


def _rows(set_dir):
    lines = (set_dir / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    assert lines, "SOURCES.tsv is empty"
    header = lines[0].split("\t")
    assert header == HEADER
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        assert len(fields) == len(HEADER), f"SOURCES.tsv line {number}: {len(fields)} fields"
        assert all(f.strip() for f in fields), f"SOURCES.tsv line {number}: an empty field"
        rows.append(dict(zip(HEADER, fields, strict=True)))
    return rows


def _keys(set_dir):
    """The key column (second field) of a set's SOURCES.tsv, whatever its other columns."""
    lines = (set_dir / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {line.split("\t")[1].lower() for line in lines if line.strip()}


def _logs(set_dir):
    return sorted(p.relative_to(set_dir).as_posix() for p in set_dir.glob("*/*.log"))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_split_class_rule():
    # Pinned so that the rule cannot drift from the one the collectors used.
    assert split_of("pytest-dev/pytest") == 0
    assert split_of("actions/checkout") == 1
    assert split_of("npm/cli") == 2
    assert split_of("PyTest-Dev/PyTest") == split_of("pytest-dev/pytest")


@by_set
def test_every_log_listed_and_every_listed_log_present(set_dir):
    listed = [row["path"] for row in _rows(set_dir)]
    assert len(listed) == len(set(listed)), "a path is listed twice"
    assert sorted(listed) == _logs(set_dir)


@by_set
def test_no_stray_files(set_dir):
    allowed = {"SOURCES.tsv", "README.md"}
    for path in set_dir.rglob("*"):
        rel = path.relative_to(set_dir)
        if path.is_dir():
            assert len(rel.parts) == 1 and rel.parts[0] in CATEGORIES, f"unexpected folder {rel}"
        elif len(rel.parts) == 1:
            assert rel.name in allowed, f"unexpected file {rel}"
        else:
            assert rel.suffix == ".log", f"unexpected file {rel}"


@by_set
def test_categories_valid(set_dir):
    for row in _rows(set_dir):
        category, _, name = row["path"].partition("/")
        assert category in CATEGORIES, row["path"]
        assert name.endswith(".log") and "/" not in name, row["path"]


@by_set
def test_every_key_in_the_heldout_class(set_dir):
    rows = _rows(set_dir)
    wrong = [(row["path"], row["key"]) for row in rows if split_of(row["key"]) != SPLIT_CLASS]
    assert not wrong, f"keys outside class {SPLIT_CLASS}: {wrong}"


@by_set
def test_at_most_five_per_source(set_dir):
    counts = Counter(row["key"].lower() for row in _rows(set_dir))
    over = {key: n for key, n in counts.items() if n > MAX_PER_SOURCE}
    assert not over, over


@by_set
def test_logs_are_nonempty_text_of_at_least_three_lines(set_dir):
    for rel in _logs(set_dir):
        text = (set_dir / rel).read_text(encoding="utf-8")
        assert len([line for line in text.splitlines() if line.strip()]) >= 3, rel


@by_set
def test_no_two_logs_identical(set_dir):
    digests = Counter(_digest(set_dir / rel) for rel in _logs(set_dir))
    assert all(n == 1 for n in digests.values())


@by_set
def test_no_log_identical_to_a_training_corpus_file(set_dir):
    if not CORPUS_DIR.is_dir():
        pytest.skip("no training corpus in this checkout")
    corpus = {_digest(path) for path in CORPUS_DIR.rglob("*") if path.is_file()}
    same = [rel for rel in _logs(set_dir) if _digest(set_dir / rel) in corpus]
    assert not same, same


@by_set
def test_every_category_folder_named_in_readme_counts(set_dir):
    readme = (set_dir / "README.md").read_text(encoding="utf-8")
    counts = Counter(rel.split("/")[0] for rel in _logs(set_dir))
    for category, n in counts.items():
        assert f"| `{category}` | {n} |" in readme, f"README count for {category} is not {n}"
    assert f"| **total** | **{sum(counts.values())}** |" in readme


by_strict_set = pytest.mark.parametrize("set_dir", STRICT_SETS, ids=lambda path: path.name)


@by_strict_set
def test_batch_reuses_no_source_of_another_set(set_dir):
    keys = _keys(set_dir)
    for other in SOURCED_SETS:
        if other == set_dir or not (other / "SOURCES.tsv").is_file():
            continue
        shared = sorted(keys & _keys(other))
        assert not shared, f"sources also in {other.name}: {shared}"


@by_strict_set
def test_batch_copies_no_other_data_file(set_dir):
    others = {
        _digest(path): path
        for directory in DATA_DIRS
        if directory != set_dir and directory.is_dir()
        for path in directory.rglob("*")
        if path.is_file()
    }
    same = [(rel, others[d].name) for rel in _logs(set_dir) if (d := _digest(set_dir / rel)) in others]
    assert not same, same
