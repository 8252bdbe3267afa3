"""Integrity of the held-out evaluation set of real CI failure logs.

The set (autopilot/data/diagnosis_heldout/) measures the diagnosis engine once its work is
done: no rule and no model may be written from it. These tests only check that the set is
what its README says: every log listed in SOURCES.tsv and every listed log present, every
source key in the held-out hash class, at most five logs per source, valid categories, and
no log identical to a file of the training corpus.
"""

import hashlib
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
SET_DIR = DATA / "diagnosis_heldout"
CORPUS_DIR = DATA / "diagnosis_corpus"
SOURCES = SET_DIR / "SOURCES.tsv"

# The split a source belongs to: sha1 of its key (owner/repo, or host/path for a page),
# lower-cased, modulo 3. 0 is the held-out test split.
SPLIT_CLASS = 0
MAX_PER_SOURCE = 5
CATEGORIES = (
    "dependency_missing",
    "environment_variable",
    "api_contract_mismatch",
    "network_timeout",
    "permission_denied",
    "configuration_error",
    "test_failure",
    "syntax_error",
    "resource_exhaustion",
    "unknown",
)
HEADER = ["path", "key", "source", "licence", "reason"]


def split_class(key):
    return int(hashlib.sha1(key.lower().encode()).hexdigest(), 16) % 3


def _rows():
    lines = SOURCES.read_text(encoding="utf-8").splitlines()
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


def _logs():
    return sorted(p.relative_to(SET_DIR).as_posix() for p in SET_DIR.glob("*/*.log"))


def test_split_class_rule():
    # Pinned so that the rule cannot drift from the one the collectors used.
    assert split_class("pytest-dev/pytest") == 0
    assert split_class("actions/checkout") == 1
    assert split_class("npm/cli") == 2
    assert split_class("PyTest-Dev/PyTest") == split_class("pytest-dev/pytest")


def test_every_log_listed_and_every_listed_log_present():
    listed = [row["path"] for row in _rows()]
    assert len(listed) == len(set(listed)), "a path is listed twice"
    assert sorted(listed) == _logs()


def test_no_stray_files():
    allowed = {"SOURCES.tsv", "README.md"}
    for path in SET_DIR.rglob("*"):
        rel = path.relative_to(SET_DIR)
        if path.is_dir():
            assert len(rel.parts) == 1 and rel.parts[0] in CATEGORIES, f"unexpected folder {rel}"
        elif len(rel.parts) == 1:
            assert rel.name in allowed, f"unexpected file {rel}"
        else:
            assert rel.suffix == ".log", f"unexpected file {rel}"


def test_categories_valid():
    for row in _rows():
        category, _, name = row["path"].partition("/")
        assert category in CATEGORIES, row["path"]
        assert name.endswith(".log") and "/" not in name, row["path"]


def test_every_key_in_the_heldout_class():
    wrong = [(row["path"], row["key"]) for row in _rows() if split_class(row["key"]) != SPLIT_CLASS]
    assert not wrong, f"keys outside class {SPLIT_CLASS}: {wrong}"


def test_at_most_five_per_source():
    counts = Counter(row["key"].lower() for row in _rows())
    over = {key: n for key, n in counts.items() if n > MAX_PER_SOURCE}
    assert not over, over


def test_logs_are_nonempty_text_of_at_least_three_lines():
    for rel in _logs():
        text = (SET_DIR / rel).read_text(encoding="utf-8")
        assert len([line for line in text.splitlines() if line.strip()]) >= 3, rel


def test_no_two_logs_identical():
    digests = Counter(hashlib.sha256((SET_DIR / rel).read_bytes()).hexdigest() for rel in _logs())
    assert all(n == 1 for n in digests.values())


def test_no_log_identical_to_a_training_corpus_file():
    if not CORPUS_DIR.is_dir():
        pytest.skip("no training corpus in this checkout")
    corpus = {hashlib.sha256(path.read_bytes()).hexdigest() for path in CORPUS_DIR.rglob("*") if path.is_file()}
    same = [rel for rel in _logs() if hashlib.sha256((SET_DIR / rel).read_bytes()).hexdigest() in corpus]
    assert not same, same


def test_every_category_folder_named_in_readme_counts():
    readme = (SET_DIR / "README.md").read_text(encoding="utf-8")
    counts = Counter(rel.split("/")[0] for rel in _logs())
    for category, n in counts.items():
        assert f"| `{category}` | {n} |" in readme, f"README count for {category} is not {n}"
    assert f"| **total** | **{sum(counts.values())}** |" in readme
