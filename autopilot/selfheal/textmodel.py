"""The classifier's view of a log, and its linear model as plain arrays (no scikit-learn, no numpy).

Decides two things the diagnosis needs on every call, cheaply:

* what text the classifier reads (:func:`excerpt_text`) and which features it
  takes from it (:func:`word_features`, :func:`char_features`): the same
  functions train the scikit-learn pipeline (:mod:`.classifier`) and run the
  compact model here, so both always see identical features;
* the category probabilities of a trained linear model (TF-IDF blocks, each
  L2-normalised, then a multinomial logistic regression) computed in pure
  Python from its arrays (:class:`LinearTextModel`). Importing scikit-learn
  costs about a second; a CI step that runs ``python3 -m autopilot diagnose``
  once per failed job needs none of it once the model is cached.

:class:`LinearTextModel` files are a small header, the vocabularies as text and
the weights as float32 arrays: loading one runs no code (unlike a pickle),
so a cache directory shared with other users cannot execute anything.
"""

import array
import hashlib
import json
import math
import os
import re
import sys
from itertools import pairwise
from pathlib import Path

from ..common.datafiles import DATA_DIR
from . import fingerprint, logs
from .rules import CATEGORIES, RULES_DIR

MAX_CHARS = 4000
FILE_FORMAT = b"APDL1\n"

_WORD = re.compile(r"<[a-z]+>|[a-z][a-z0-9_]+(?:[.'][a-z0-9_]+)*")
_WHITE_SPACES = re.compile(r"\s\s+")


#: hand-written failure outputs wrapped in realistic runner logs (``bench/diagnosis/build_corpus.py``)
CORPUS_DIR = DATA_DIR / "diagnosis_corpus"
#: real logs of public projects' CI, each named in ``SOURCES.tsv`` beside them
REAL_CORPUS_DIR = DATA_DIR / "diagnosis_real"
TRAINING_DIRS = (CORPUS_DIR, REAL_CORPUS_DIR)
# what the trained default model depends on besides its data: the code that turns a log into features
_FEATURE_SOURCES = ("logs.py", "fingerprint.py", "textmodel.py", "classifier.py")


class ModelFileError(ValueError):
    """A file that is not a compact diagnosis model (or a damaged one)."""


def excerpt_text(text, max_lines=40):
    """The model's view of a log or excerpt: masked key lines, then the other masked lines once each."""
    if isinstance(text, logs.Excerpt):
        excerpt = text
    else:
        lines = logs.clean_log(text)
        excerpt = logs.failure_excerpt(lines, max_lines=max_lines)
    masked = {}
    body = []
    for line in excerpt.lines:
        text = masked.get(line)
        if text is None:
            text = masked[line] = fingerprint.mask_line(line)
            body.append(text)
    keys = [masked.get(line) or fingerprint.mask_line(line) for line in excerpt.key_lines()]
    return ("\n".join(keys) + "\n" + "\n".join(body))[:MAX_CHARS]


def word_features(text):
    """Word unigrams and bigrams of lower-cased text (masks such as ``<num>`` are words)."""
    tokens = _WORD.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


def char_features(text):
    """Character 3- and 4-grams inside words, each word padded with one space (scikit-learn's ``char_wb``)."""
    grams = []
    append = grams.append
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in (3, 4):
            append(padded[:n])
            for offset in range(1, size - n + 1):
                append(padded[offset : offset + n])
            if size <= n:
                break
    return grams


ANALYZERS = {"words": word_features, "chars": char_features}


class LinearTextModel:
    """TF-IDF blocks and a linear classifier, as arrays: ``probabilities(prepared)`` like the trained pipeline.

    ``blocks`` is a list of (analyzer name, vocabulary {term: column}, idf
    array); the columns of block ``b`` follow those of the blocks before it.
    ``weights`` holds, feature after feature, one weight per class
    (``len(classes)`` values, or one for a two-class model), ``intercepts``
    one per weight row.
    """

    def __init__(self, classes, blocks, weights, intercepts):
        self.classes = [str(c) for c in classes]
        self.blocks = blocks
        self.weights = weights
        self.intercepts = list(intercepts)
        self.rows = len(self.intercepts)
        expected = sum(len(idf) for _name, _vocabulary, idf in blocks) * self.rows
        if len(weights) != expected or self.rows not in (1, len(self.classes)):
            raise ModelFileError("the weights do not fit the vocabularies and classes")

    @classmethod
    def from_pipeline(cls, pipeline):
        """The compact form of a fitted ``Pipeline([("features", FeatureUnion), ("model", linear model)])``."""
        union = pipeline.named_steps["features"]
        model = pipeline.named_steps["model"]
        blocks = []
        for name, vectorizer in union.transformer_list:
            if ANALYZERS.get(name) is not vectorizer.analyzer:
                raise ModelFileError(f"feature block {name!r} does not use this module's analyzer")
            blocks.append((name, dict(vectorizer.vocabulary_), array.array("f", vectorizer.idf_.tolist())))
        coef = model.coef_
        weights = array.array("f", coef.T.reshape(-1).tolist())
        return cls(model.classes_.tolist(), blocks, weights, model.intercept_.tolist())

    def probabilities(self, prepared):
        """Probability of every category (dict) for text already passed through :func:`excerpt_text`."""
        rows, weights = self.rows, self.weights
        scores = list(self.intercepts)
        offset = 0
        for name, vocabulary, idf in self.blocks:
            counts = {}
            get = vocabulary.get
            for term in ANALYZERS[name](prepared):
                column = get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            values = {column: (1.0 + math.log(count)) * idf[column] for column, count in counts.items()}
            norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
            for column, value in values.items():
                start = (offset + column) * rows
                for row in range(rows):
                    scores[row] += value / norm * weights[start + row]
            offset += len(idf)
        if rows == 1:
            positive = 1.0 / (1.0 + math.exp(-scores[0]))
            return {self.classes[0]: 1.0 - positive, self.classes[1]: positive}
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def predict(self, text):
        """(category, probability) for a log, an excerpt or its text."""
        probabilities = self.probabilities(excerpt_text(text))
        best = max(probabilities, key=probabilities.get)
        return best, probabilities[best]

    # -- files ---------------------------------------------------------

    def to_bytes(self):
        header = {
            "classes": self.classes,
            "intercepts": self.intercepts,
            "blocks": [{"name": name, "size": len(idf)} for name, _vocabulary, idf in self.blocks],
            "byteorder": sys.byteorder,
        }
        parts = [FILE_FORMAT, json.dumps(header).encode() + b"\n"]
        for _name, vocabulary, idf in self.blocks:
            terms = sorted(vocabulary, key=vocabulary.get)
            if any("\n" in term for term in terms):
                raise ModelFileError("a vocabulary term holds a line break")
            text = "\n".join(terms).encode("utf-8", "surrogatepass")
            parts += [len(text).to_bytes(8, "little"), text, idf.tobytes()]
        parts.append(self.weights.tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data):
        """Read :meth:`to_bytes` output (raises :class:`ModelFileError`)."""
        try:
            if not data.startswith(FILE_FORMAT):
                raise ModelFileError("not a compact diagnosis model (missing format header)")
            end = data.index(b"\n", len(FILE_FORMAT))
            header = json.loads(data[len(FILE_FORMAT) : end])
            position = end + 1
            blocks = []
            for block in header["blocks"]:
                length = int.from_bytes(data[position : position + 8], "little")
                position += 8
                terms = data[position : position + length].decode("utf-8", "surrogatepass").split("\n")
                position += length
                idf = _floats(data, position, block["size"], header["byteorder"])
                position += 4 * block["size"]
                if len(terms) != block["size"]:
                    raise ModelFileError("a vocabulary does not have the size its header says")
                blocks.append((block["name"], dict(zip(terms, range(len(terms)), strict=True)), idf))
                if block["name"] not in ANALYZERS:
                    raise ModelFileError(f"unknown feature block {block['name']!r}")
            rows = len(header["intercepts"])
            size = sum(b["size"] for b in header["blocks"]) * rows
            weights = _floats(data, position, size, header["byteorder"])
            if position + 4 * size != len(data):
                raise ModelFileError("the file is longer or shorter than its header says")
            return cls(header["classes"], blocks, weights, header["intercepts"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"the model file cannot be read: {exc}") from None

    def save(self, path):
        """Write atomically (a reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(self.to_bytes())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path):
        return cls.from_bytes(Path(path).read_bytes())


def _floats(data, position, count, byteorder):
    values = array.array("f")
    chunk = data[position : position + 4 * count]
    if len(chunk) != 4 * count:
        raise ModelFileError("the file ends before its arrays")
    values.frombytes(chunk)
    if byteorder != sys.byteorder:
        values.byteswap()
    return values


# ---------------------------------------------------------------------------
# training data


def load_corpus(directory=CORPUS_DIR):
    """The labelled logs of one folder: [(log text, category), ...].

    Layout: ``<directory>/<category>/*.log``; folders that are not categories
    are ignored, and so is a missing ``directory``.
    """
    directory = Path(directory)
    examples = []
    for category in CATEGORIES:
        folder = directory / category
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.log")):
            examples.append((path.read_bytes().decode("utf-8", errors="replace"), category))
    return examples


def training_corpus(directories=TRAINING_DIRS):
    """The shipped training examples: the hand-written corpus, then the real logs."""
    return [example for directory in directories for example in load_corpus(directory)]


def training_key(directories=TRAINING_DIRS, rules_dir=RULES_DIR):
    """A hash of everything the shipped default model is trained from (logs, rule examples, feature code).

    A model cached under this key is the model training would give now; any
    change to a corpus file, a rule file or the feature code gives a new key.
    """
    digest = hashlib.sha256(FILE_FORMAT)
    here = Path(__file__).resolve().parent
    files = [here / name for name in _FEATURE_SOURCES]
    files += sorted(Path(rules_dir).glob("*.toml"))
    for directory in directories:
        for category in CATEGORIES:
            files += sorted((Path(directory) / category).glob("*.log"))
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.parent.name}/{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
