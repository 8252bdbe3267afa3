"""Honest confidence: how often a diagnosis like this one was right on real logs no rule or model saw.

Decides the confidence the engine reports. The rules-plus-model posterior
(:mod:`.diagnosis`) is a certainty, not a frequency: on real logs of public
projects its answers given at 0.99 were right far less often than 99 %. The
calibration maps what the engine knows about an answer — its posterior, whether
rule and model agree, the model's own probability for the answer, how specific
the deciding rule is — to the probability that the answer is right, with a
logistic model (Platt scaling with a few features) fitted on a calibration set
of real CI logs kept apart from the training corpus and from the rules
(``bench/diagnosis/calibrate.py`` fits it and writes
``autopilot/data/confidence_calibration.toml``).

Without that file (or with ``enabled = false`` in it) the posterior is reported
as it is. The fitted table is data, read once per process with the standard
library: the CLI stays fast.
"""

import math
from dataclasses import dataclass
from functools import cache

from ..common.datafiles import DATA_DIR, DataFileError, read_toml

CALIBRATION_FILE = DATA_DIR / "confidence_calibration.toml"
SOURCES = ("both", "rule", "model", "none")
#: the features, in the order of the fitted weights
FEATURES = (
    "posterior_logit",
    "model_logit",
    "agree",
    "rule_only",
    "model_only",
    "specific_rule",
    "evidence",
    "conflict",
    "margin",
)
_EDGE = 1e-4


def _logit(p):
    p = min(1.0 - _EDGE, max(_EDGE, float(p)))
    return math.log(p / (1.0 - p))


def features(posterior, model_probability, source, rule_priority=0, evidence=True, conflict=False, margin=1.0):
    """The calibration features of one answer (see :data:`FEATURES`).

    ``conflict``: rules of several categories matched the excerpt (a test
    failure next to a timeout, say); ``margin``: how far the answer's posterior
    is ahead of the second category's.
    """
    return (
        _logit(posterior),
        _logit(model_probability),
        1.0 if source == "both" else 0.0,
        1.0 if source == "rule" else 0.0,
        1.0 if source == "model" else 0.0,
        1.0 if rule_priority >= 70 else 0.0,
        1.0 if evidence else 0.0,
        1.0 if conflict else 0.0,
        float(margin),
    )


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic map from :func:`features` to the probability that the answer is right."""

    weights: tuple
    intercept: float
    fitted_on: str = ""
    enabled: bool = True

    def confidence(self, values):
        """The calibrated confidence of an answer with :func:`features` ``values`` (its posterior when off)."""
        if not self.enabled:
            return 1.0 / (1.0 + math.exp(-values[0]))
        score = self.intercept + sum(w * x for w, x in zip(self.weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, score))))

    def to_toml(self):
        """The table as ``confidence_calibration.toml`` holds it."""
        lines = [
            "# Confidence calibration of the diagnosis, fitted by bench/diagnosis/calibrate.py: do not edit by hand.",
            f"# {self.fitted_on}" if self.fitted_on else "#",
            f"enabled = {'true' if self.enabled else 'false'}",
            f"intercept = {self.intercept!r}",
            "[weights]",
        ]
        lines += [f"{name} = {weight!r}" for name, weight in zip(FEATURES, self.weights, strict=True)]
        return "\n".join(lines) + "\n"


IDENTITY = Calibration(weights=(0.0,) * len(FEATURES), intercept=0.0, enabled=False)


def load(path=CALIBRATION_FILE):
    """The calibration of ``path``; :data:`IDENTITY` when there is none (raises :class:`DataFileError` if broken)."""
    if not path.exists():
        return IDENTITY
    document = read_toml(path)
    try:
        weights = document.get("weights", {})
        unknown = sorted(set(weights) - set(FEATURES))
        if unknown:
            raise DataFileError(path, f"unknown feature {unknown[0]!r}", field="weights")
        values = tuple(float(weights.get(name, 0.0)) for name in FEATURES)
        intercept = float(document.get("intercept", 0.0))
        enabled = document.get("enabled", True)
        if not isinstance(enabled, bool):
            raise DataFileError(path, "must be true or false", field="enabled")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DataFileError):
            raise
        raise DataFileError(path, f"not a calibration table: {exc}") from None
    if not all(math.isfinite(v) for v in (*values, intercept)):
        raise DataFileError(path, "weights must be finite numbers", field="weights")
    return Calibration(values, intercept, enabled=enabled)


@cache
def shipped():
    """The shipped calibration, read once per process."""
    return load()
