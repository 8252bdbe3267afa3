"""Failure classifier: TF-IDF over masked log excerpts + logistic regression.

Decides a failure category from the words of the excerpt when no rule (or
not only a rule) says it. Text is the excerpt of a log (see
:mod:`autopilot.selfheal.logs`), masked with :func:`autopilot.selfheal.fingerprint.mask_line`
so that numbers, paths and hashes do not become features; the key lines are
repeated so that they weigh more than context. Features are word uni/bigrams
plus character 3-4-grams inside word boundaries (robust to new package
names and spellings); the model is a multinomial logistic regression with
balanced class weights, whose probabilities are close to calibrated; the
cross-validated metrics (per category precision/recall/F1, accuracy and the
accuracy of confident predictions) are computed on out-of-fold predictions,
with folds adapted to the smallest class.

A :class:`TrainedModel` is plain data plus scikit-learn objects; it is stored
in the database with :meth:`TrainedModel.to_bytes` (zlib-compressed pickle
with a format header). Only load bytes that this addon wrote: unpickling is
code execution.
"""

import pickle
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from . import logs, textmodel
from .rules import CATEGORIES, seed_rules

FORMAT = b"APDX1"
CONFIDENT = 0.85
MAX_FOLDS = 5
# the model's view of a log and the shipped training data live with the compact model (no scikit-learn there)
excerpt_text = textmodel.excerpt_text
load_corpus = textmodel.load_corpus
training_corpus = textmodel.training_corpus
CORPUS_DIR = textmodel.CORPUS_DIR


class TrainingError(ValueError):
    """The examples cannot train a model (too few, unknown categories, a single class)."""


class ModelFormatError(ValueError):
    """Bytes that are not a model this addon stored."""


@dataclass(frozen=True)
class Prediction:
    """``category`` with its ``probability``; ``top_k`` is [(category, probability), ...] best first."""

    category: str
    probability: float
    top_k: list


@dataclass
class Metrics:
    """Cross-validated quality of a model (out-of-fold predictions).

    ``per_category`` maps a category to {precision, recall, f1, support};
    ``confident_accuracy`` is the accuracy of predictions whose probability is
    at least ``confident_threshold`` and ``confident_share`` their share.
    """

    folds: int
    accuracy: float
    macro_f1: float
    per_category: dict
    confident_threshold: float
    confident_accuracy: float | None
    confident_share: float
    confusion: list = field(default_factory=list)
    labels: list = field(default_factory=list)


def features():
    """The TF-IDF feature blocks every candidate model reads: word uni/bigrams and in-word character 3-4-grams."""
    words = TfidfVectorizer(
        analyzer=textmodel.word_features,
        sublinear_tf=True,
        min_df=1,
        max_features=40000,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        analyzer=textmodel.char_features,
        sublinear_tf=True,
        min_df=2,
        max_features=80000,
        dtype=np.float32,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def pipeline(seed=0, estimator=None):
    """The shipped model (multinomial logistic regression, balanced classes) or ``estimator`` on :func:`features`."""
    model = (
        estimator
        if estimator is not None
        else LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced", random_state=seed)
    )
    return Pipeline([("features", features()), ("model", model)])


@dataclass
class TrainedModel:
    """A trained classifier with its metrics; predict on a log excerpt (or a whole log)."""

    pipeline: Pipeline
    classes: list
    metrics: Metrics | None
    n_examples: int
    trained_at: float
    train_seconds: float
    sklearn_version: str = sklearn.__version__

    def predict(self, text, k=3):
        """Category, probability and top-k for one excerpt or log (str, bytes or Excerpt)."""
        return self.predict_prepared(excerpt_text(text), k)

    def predict_prepared(self, prepared, k=3):
        """Predict from text already passed through :func:`excerpt_text`."""
        probabilities = self.pipeline.predict_proba([prepared])[0]
        order = np.argsort(-probabilities)
        top = [(self.classes[i], float(probabilities[i])) for i in order[: max(1, k)]]
        return Prediction(top[0][0], top[0][1], top)

    def probabilities(self, prepared):
        """Probability of every category (dict) for prepared text."""
        values = self.pipeline.predict_proba([prepared])[0]
        return {self.classes[i]: float(values[i]) for i in range(len(self.classes))}

    def to_bytes(self):
        """Serialise for storage (a binary field): header + zlib(pickle)."""
        return FORMAT + zlib.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @classmethod
    def from_bytes(cls, data):
        """Load a model stored by :meth:`to_bytes` (raises :class:`ModelFormatError`)."""
        if not isinstance(data, bytes | bytearray | memoryview) or not bytes(data[: len(FORMAT)]) == FORMAT:
            raise ModelFormatError("not a diagnosis model (missing format header)")
        try:
            model = pickle.loads(zlib.decompress(bytes(data[len(FORMAT) :])))
        except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as exc:
            raise ModelFormatError(f"the stored model cannot be read: {exc}") from None
        if not isinstance(model, cls):
            raise ModelFormatError("the stored object is not a diagnosis model")
        return model


def _check(examples):
    texts, labels = [], []
    for number, item in enumerate(examples):
        try:
            text, label = item
        except (TypeError, ValueError):
            raise TrainingError(f"example {number} is not a (text, category) pair") from None
        if label not in CATEGORIES:
            raise TrainingError(f"example {number} has an unknown category {label!r}")
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str | logs.Excerpt):
            raise TrainingError(f"example {number} text must be str, bytes or Excerpt")
        texts.append(text)
        labels.append(label)
    if len(set(labels)) < 2:
        raise TrainingError("training needs examples of at least two categories")
    return texts, labels


def prepare(texts):
    """Excerpt and mask many logs for training (see :func:`excerpt_text`)."""
    return [excerpt_text(text) for text in texts]


def _folds(labels):
    counts = {label: labels.count(label) for label in set(labels)}
    return min(MAX_FOLDS, *counts.values())


def cross_validate(prepared, labels, seed=0, folds=None, extra=None):
    """Out-of-fold metrics for prepared texts; None when a class has fewer than 2 examples.

    ``extra`` is an optional (prepared texts, labels) pair added to every
    training fold and never scored (the rule examples).
    """
    folds = folds or _folds(labels)
    if folds < 2:
        return None
    extra_texts, extra_labels = extra if extra else ([], [])
    y = np.array(labels)
    predicted = np.empty(len(labels), dtype=object)
    confidence = np.zeros(len(labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    texts = np.array(prepared, dtype=object)
    for train_index, test_index in splitter.split(texts, y):
        pipe = pipeline(seed).fit(
            list(texts[train_index]) + list(extra_texts), list(y[train_index]) + list(extra_labels)
        )
        probabilities = pipe.predict_proba(list(texts[test_index]))
        best = probabilities.argmax(axis=1)
        predicted[test_index] = pipe.classes_[best]
        confidence[test_index] = probabilities[np.arange(len(best)), best]
    return _metrics(y, predicted.astype(str), confidence, folds)


def _metrics(y, predicted, confidence, folds):
    present = [c for c in CATEGORIES if c in set(y) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=present, zero_division=0)
    per_category = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(present)
    }
    confident = confidence >= CONFIDENT
    return Metrics(
        folds=folds,
        accuracy=float(accuracy_score(y, predicted)),
        macro_f1=float(f1_score(y, predicted, labels=[c for c in present if c in set(y)], average="macro")),
        per_category=per_category,
        confident_threshold=CONFIDENT,
        confident_accuracy=float((predicted[confident] == y[confident]).mean()) if confident.any() else None,
        confident_share=float(confident.mean()),
        confusion=confusion_matrix(y, predicted, labels=present).tolist(),
        labels=present,
    )


def rule_examples(rules=None):
    """[(example, category), ...] of the rules (default the seed rules) that carry an example.

    Every rule's example is a short, realistic failure in the words of its
    ecosystem; training on them too gives the model the knowledge base's
    vocabulary for failures the corpus has few logs of.
    """
    rules = seed_rules() if rules is None else rules
    return [(rule.example, rule.category) for rule in rules if rule.example and rule.category in CATEGORIES]


def train(examples, metrics=True, seed=0, rules=None):
    """Train on ``examples`` [(log or excerpt text, category), ...] and return a :class:`TrainedModel`.

    The examples of ``rules`` (default the seed rules, ``[]`` for none, see
    :func:`rule_examples`) are added to the training data; they are never
    scored. With ``metrics`` the model carries cross-validated metrics over
    ``examples`` (k-fold with k = min(5, size of the smallest class); none
    when a class has a single example). Raises :class:`TrainingError` for
    unusable examples.
    """
    started = time.perf_counter()
    texts, labels = _check(list(examples))
    prepared = prepare(texts)
    extra = rule_examples(rules)
    extra = (prepare([text for text, _ in extra]), [label for _, label in extra])
    # One BLAS thread: the solver's vector operations are too small to gain from threads, and
    # OpenBLAS threads spinning for work cost several times the CPU (and the wall time on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        scores = cross_validate(prepared, labels, seed, extra=extra) if metrics else None
        pipe = pipeline(seed).fit(prepared + extra[0], labels + extra[1])
    return TrainedModel(
        pipeline=pipe,
        classes=[str(c) for c in pipe.classes_],
        metrics=scores,
        n_examples=len(labels),
        trained_at=time.time(),
        train_seconds=time.perf_counter() - started,
    )
