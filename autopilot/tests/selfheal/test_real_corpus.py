"""The real training logs: every one named in SOURCES.tsv, from a training source, never in another split."""

import csv
import hashlib

import pytest

from autopilot.common.datafiles import DATA_DIR
from autopilot.selfheal import textmodel
from autopilot.selfheal.rules import CATEGORIES
from autopilot.testing.real_log_splits import CALIBRATION, HELD_OUT, TRAINING, split_of

REAL = textmodel.REAL_CORPUS_DIR
OTHER_SPLITS = {HELD_OUT: DATA_DIR / "diagnosis_heldout", CALIBRATION: DATA_DIR / "diagnosis_calibration"}


def sources(folder):
    with open(folder / "SOURCES.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def logs_of(folder):
    return {p.relative_to(folder).as_posix() for p in folder.glob("*/*.log")}


def test_every_log_is_listed_with_its_source_and_the_other_way_round():
    rows = sources(REAL)
    assert len(rows) >= 120, "the real training logs are fewer than the README says"
    listed = [row["path"] for row in rows]
    assert len(listed) == len(set(listed))
    assert set(listed) == logs_of(REAL)
    for row in rows:
        assert row["path"].split("/")[0] in CATEGORIES
        assert row["source"].startswith("https://"), row
        assert row["licence"] and row["label reason"], row


def test_every_source_is_a_training_source():
    assert {split_of(row["key"]) for row in sources(REAL)} == {TRAINING}
    assert split_of("rust-lang/cargo") == 2 and split_of("pytest-dev/pytest") == 0


@pytest.mark.parametrize("split", sorted(OTHER_SPLITS))
def test_no_log_and_no_source_is_shared_with_another_split(split):
    folder = OTHER_SPLITS[split]
    if not (folder / "SOURCES.tsv").exists():
        pytest.skip(f"{folder.name} is not in this checkout")
    theirs = {row["key"].lower() for row in sources(folder)}
    assert not theirs & {row["key"].lower() for row in sources(REAL)}

    def digest(path):
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert not {digest(p) for p in folder.glob("*/*.log")} & {digest(p) for p in REAL.glob("*/*.log")}


def test_the_real_logs_are_part_of_the_training_data():
    corpus = textmodel.training_corpus()
    real = textmodel.load_corpus(REAL)
    assert len(real) == len(logs_of(REAL))
    assert corpus[-len(real) :] == real
