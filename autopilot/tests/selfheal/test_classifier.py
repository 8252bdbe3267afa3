import pytest

from autopilot.selfheal import classifier
from autopilot.selfheal.rules import CATEGORIES

# The classifier alone, on a corpus of ~27 very different logs per category
# (10 categories, chance 0.10, naive "keyword in last 100 lines" about 0.32),
# reaches about 0.68 cross-validated accuracy; the floor leaves room for
# corpus growth and randomness without hiding a broken pipeline.
ACCURACY_FLOOR = 0.55


@pytest.fixture(scope="module")
def corpus():
    return classifier.load_corpus()


@pytest.fixture(scope="module")
def model(corpus):
    return classifier.train(corpus)


def test_corpus_has_enough_examples_per_category(corpus):
    counts = dict.fromkeys(CATEGORIES, 0)
    for _, category in corpus:
        counts[category] += 1
    assert min(counts.values()) >= 15, counts


def test_cross_validated_metrics(model, corpus):
    metrics = model.metrics
    assert metrics.folds == 5
    assert metrics.accuracy >= ACCURACY_FLOOR
    assert metrics.macro_f1 >= ACCURACY_FLOOR - 0.05
    assert set(metrics.per_category) == set(CATEGORIES)
    assert sum(values["support"] for values in metrics.per_category.values()) == len(corpus)
    for values in metrics.per_category.values():
        assert 0.0 <= values["precision"] <= 1.0
        assert 0.0 <= values["recall"] <= 1.0
    assert len(metrics.confusion) == len(metrics.labels)


def test_confident_predictions_are_right(model):
    metrics = model.metrics
    if metrics.confident_share:
        assert metrics.confident_accuracy >= 0.9


def test_predict_gives_sorted_top_k(model):
    text = "E   ModuleNotFoundError: No module named 'flask_cors'\nERROR tests/test_app.py"
    found = model.predict(text, k=4)
    assert found.category in CATEGORIES
    assert found.top_k[0][0] == found.category
    probabilities = [p for _, p in found.top_k]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(found.top_k) == 4
    assert sum(model.probabilities(classifier.excerpt_text(text)).values()) == pytest.approx(1.0)


def test_model_reads_what_it_was_taught(model):
    assert (
        model.predict("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory").category
        == "resource_exhaustion"
    )
    assert (
        model.predict("npm ERR! code E403\nnpm ERR! 403 Forbidden - PUT https://registry.npmjs.org/x").category
        == "permission_denied"
    )


def test_to_bytes_round_trip(model):
    data = model.to_bytes()
    again = classifier.TrainedModel.from_bytes(data)
    text = "curl: (28) Operation timed out after 30001 milliseconds with 0 bytes received"
    assert again.predict(text) == model.predict(text)
    assert again.classes == model.classes
    assert again.metrics.accuracy == model.metrics.accuracy


@pytest.mark.parametrize("data", [b"", b"not a model", classifier.FORMAT + b"garbage", "text"])
def test_from_bytes_refuses_foreign_data(data):
    with pytest.raises(classifier.ModelFormatError):
        classifier.TrainedModel.from_bytes(data)


def test_folds_adapt_to_the_smallest_class():
    examples = [
        ("E   AssertionError: assert 1 == 2", "test_failure"),
        ("FAILED tests/test_a.py::test_b - assert 0", "test_failure"),
        ("--- FAIL: TestX (0.00s)", "test_failure"),
        ("FAILED tests/test_c.py::test_d - AssertionError", "test_failure"),
        ("No space left on device", "resource_exhaustion"),
        ("JavaScript heap out of memory", "resource_exhaustion"),
        ("java.lang.OutOfMemoryError: Java heap space", "resource_exhaustion"),
    ]
    assert classifier.train(examples).metrics.folds == 3
    single = [*examples, ("SyntaxError: invalid syntax", "syntax_error")]
    trained = classifier.train(single)
    assert trained.metrics is None
    assert trained.predict("SyntaxError: invalid syntax").category in CATEGORIES


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ([("a", "test_failure"), ("b", "flaky")], "unknown category"),
        ([("a", "test_failure"), ("b", "test_failure")], "two categories"),
        ([("only text",)], "pair"),
        ([(42, "test_failure"), ("b", "unknown")], "text must be"),
    ],
)
def test_training_refuses_bad_examples(examples, message):
    with pytest.raises(classifier.TrainingError, match=message):
        classifier.train(examples, metrics=False)


def test_load_corpus_reads_category_folders(tmp_path):
    (tmp_path / "test_failure").mkdir()
    (tmp_path / "test_failure" / "a.log").write_bytes(b"FAILED x \xff")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "b.log").write_text("ignored")
    assert classifier.load_corpus(tmp_path) == [("FAILED x \ufffd", "test_failure")]


def test_rule_examples_are_training_text_and_never_scored():
    examples = classifier.rule_examples()
    assert len(examples) >= 100
    assert {category for _, category in examples} <= set(CATEGORIES)
    small = [("ModuleNotFoundError: No module named 'x'", "dependency_missing")] * 3
    small += [("FAILED tests/test_a.py::test_b - assert 1 == 2", "test_failure")] * 3
    trained = classifier.train(small, metrics=True)
    assert trained.n_examples == 6
    assert sum(values["support"] for values in trained.metrics.per_category.values()) == 6
    # the seed rules' vocabulary reaches the model: a category absent from the examples can be predicted
    assert "network_timeout" in trained.classes
    alone = classifier.train(small, metrics=False, rules=[])
    assert alone.classes == ["dependency_missing", "test_failure"]
