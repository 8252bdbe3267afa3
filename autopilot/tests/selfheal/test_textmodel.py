import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from autopilot.selfheal import classifier, diagnosis, textmodel

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def trained():
    return classifier.train(classifier.load_corpus(), metrics=False)


def test_features_are_scikit_learns():
    """The pure-Python analyzers give the features scikit-learn's own analyzers give."""
    text = "E   <NUM> AssertionError: assert None is True\n  File <PATH>/test_api.py, line <NUM>\n\tx  y"
    words = TfidfVectorizer(token_pattern=r"(?u)<[a-z]+>|[a-z][a-z0-9_]+(?:[.'][a-z0-9_]+)*", ngram_range=(1, 2))
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4))
    assert textmodel.word_features(text) == words.build_analyzer()(text)
    assert textmodel.char_features(text) == chars.build_analyzer()(text)
    assert textmodel.char_features("a bc") == chars.build_analyzer()("a bc")


def test_compact_model_gives_the_pipelines_probabilities(trained):
    compact = textmodel.LinearTextModel.from_pipeline(trained.pipeline)
    for text, _category in classifier.load_corpus()[::25]:
        prepared = textmodel.excerpt_text(text)
        expected = trained.probabilities(prepared)
        found = compact.probabilities(prepared)
        assert found.keys() == expected.keys()
        for category, probability in expected.items():
            assert found[category] == pytest.approx(probability, abs=1e-5)


def test_two_class_model():
    examples = [("ModuleNotFoundError: No module named 'x'", "dependency_missing")] * 3
    examples += [("FAILED tests/test_a.py::test_b - assert 1 == 2", "test_failure")] * 3
    two = classifier.train(examples, metrics=False, rules=[])
    compact = textmodel.LinearTextModel.from_pipeline(two.pipeline)
    prepared = textmodel.excerpt_text("E   assert 1 == 2\nFAILED tests/test_a.py::test_b")
    expected = two.probabilities(prepared)
    assert compact.probabilities(prepared) == pytest.approx(expected, abs=1e-5)
    assert max(expected, key=expected.get) == "test_failure"


def test_file_round_trip(trained, tmp_path):
    compact = textmodel.LinearTextModel.from_pipeline(trained.pipeline)
    path = tmp_path / "sub" / "m.model"
    compact.save(path)
    again = textmodel.LinearTextModel.load(path)
    prepared = textmodel.excerpt_text("npm ERR! code ETIMEDOUT\nnpm ERR! network request failed")
    assert again.probabilities(prepared) == compact.probabilities(prepared)
    assert [p.name for p in path.parent.iterdir()] == ["m.model"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: b"PK\x03\x04 a zip",
        lambda data: data[:-4],
        lambda data: data + b"\0\0\0\0",
        lambda data: data.replace(b'"size": ', b'"size": 1', 1),
        lambda data: data.replace(b'"classes"', b'"klasses"', 1),
    ],
)
def test_damaged_files_are_refused(trained, damage):
    data = textmodel.LinearTextModel.from_pipeline(trained.pipeline).to_bytes()
    with pytest.raises(textmodel.ModelFileError):
        textmodel.LinearTextModel.from_bytes(damage(data))


def test_training_key_follows_the_data(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "test_failure").mkdir(parents=True)
    log = corpus / "test_failure" / "a.log"
    log.write_text("FAILED tests/test_a.py::test_b")
    rules = tmp_path / "rules"
    rules.mkdir()
    first = textmodel.training_key([corpus], rules)
    assert textmodel.training_key([corpus], rules) == first
    log.write_text("FAILED tests/test_a.py::test_c")
    second = textmodel.training_key([corpus], rules)
    assert second != first
    (rules / "unknown.toml").write_text("")
    assert textmodel.training_key([corpus], rules) != second
    (corpus / "notes").mkdir()
    (corpus / "notes" / "x.log").write_text("not a category")
    assert textmodel.training_key([corpus], rules) != second


def _fresh_process(code, cache):
    env = {**os.environ, diagnosis.CACHE_ENV: str(cache)}
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return answer.stdout.strip()


def test_default_model_is_cached_on_disk_and_loaded_without_scikit_learn(tmp_path):
    code = (
        "import sys; from autopilot.selfheal import diagnosis; "
        "found = diagnosis.diagnose('E   ModuleNotFoundError: No module named \\'reportlab\\''); "
        "print(found.category, 'sklearn' in sys.modules)"
    )
    assert _fresh_process(code, tmp_path) == "dependency_missing True"
    cached = list(tmp_path.glob("diagnosis-*.model"))
    assert len(cached) == 1
    assert _fresh_process(code, tmp_path) == "dependency_missing False"
    # a damaged cache is replaced, not trusted
    cached[0].write_bytes(b"damaged")
    assert _fresh_process(code, tmp_path) == "dependency_missing True"
    assert textmodel.LinearTextModel.load(cached[0]).classes


def test_unwritable_cache_still_diagnoses(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    code = "from autopilot.selfheal import diagnosis; print(diagnosis.diagnose('No space left on device').category)"
    assert _fresh_process(code, blocker / "cache") == "resource_exhaustion"


def test_diagnose_command_imports_only_what_it_needs(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("##[group]Run pytest\nE   ModuleNotFoundError: No module named 'reportlab'\n")
    code = (
        "import sys; from autopilot import cli; "
        f"cli.main(['diagnose', {str(log)!r}]); "
        "print(sorted(m for m in ('sklearn', 'numpy', 'github', 'requests') if m in sys.modules))"
    )
    _fresh_process(code, tmp_path)
    assert _fresh_process(code, tmp_path).splitlines()[-1] == "[]"
