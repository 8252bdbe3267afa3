"""Diagnosis of a failed CI job: one calibrated answer from rules and classifier.

Decides the category of a failure, how sure the engine is, what to do about
it, whether a retry may help, and the failure's signature. The log is
cleaned and excerpted (:mod:`autopilot.selfheal.logs`), fingerprinted
(:mod:`autopilot.selfheal.fingerprint`), matched against the rules
(:mod:`autopilot.selfheal.rules`) and read by the classifier
(:mod:`autopilot.selfheal.classifier`).

How the two opinions combine: the classifier gives a probability for every
category; a matching rule is treated as a noisy witness that is right with
probability ``r`` (its reliability, by priority tier: specific rules are
trusted more than generic ones) and otherwise points at a random other
category. Bayes' rule then gives the posterior

    P(c | text, rule says R)  ∝  P_model(c | text)^t · (r if c == R else (1 - r) / (K - 1))

(``t`` = :data:`MODEL_TEMPER` tempers the model, whose certainty comes from
many correlated words), so a specific rule outweighs a hesitant model, a
confident model can overrule a generic rule, and agreement gives a high
confidence. Without any
evidence line in the excerpt (nothing looked like an error) the confidence is
halved. Below ``min_confidence`` the answer is ``unknown``: a guess is worse
than an honest "don't know" for retry and escalation decisions. The raw
posterior must also reach :data:`DEFAULT_MIN_CONFIDENCE` (or ``min_confidence``
when lower): the calibration cannot turn an unsupported guess into an answer.
"""

import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import calibration, fingerprint, logs, textmodel
from .rules import CATEGORIES, RETRYABLE_CATEGORIES, match_rules

# Below this the answer is ``unknown``. Measured on real CI logs kept out of the repository: the
# model's top answer between 0.3 and 0.4 is still right far more often than ``unknown`` would be,
# while logs without any evidence line are halved and stay under it.
DEFAULT_MIN_CONFIDENCE = 0.3
EVIDENCE_SCORE = 3.0
#: the model's probabilities are raised to this power before a matching rule weighs in (tempered: the
#: model's certainty comes from many correlated words, so it counts as less evidence than it claims)
MODEL_TEMPER = 0.5

CATEGORY_FIXES = {
    "dependency_missing": "Install the missing package, module or tool in the job (and pin it in the project's "
    "dependency files); regenerate the lock file if it is out of sync.",
    "environment_variable": "Define the variable or secret for this job (workflow env:, repository or environment "
    "secrets); forks and Dependabot runs get no secrets.",
    "api_contract_mismatch": "An interface changed on one side: align the caller with the current API, schema, "
    "field or view (or pin the dependency version the code expects).",
    "network_timeout": "A network call failed or timed out: retry the job; add retries and timeouts to the "
    "download or service call if it recurs.",
    "permission_denied": "Grant the missing permission: token scopes (workflow permissions:), registry or cloud "
    "roles, file modes.",
    "configuration_error": "Fix the workflow or tool configuration named in the error (paths, versions, options).",
    "test_failure": "A test failed: reproduce it locally with the same test id and fix the code or the test.",
    "syntax_error": "Fix the syntax or lint error at the reported file and line; run pre-commit locally.",
    "resource_exhaustion": "The job ran out of memory, disk or runner capacity: retry, then reduce parallelism or "
    "use a larger runner.",
    "unknown": "No known cause was recognised: read the excerpt; add a failure pattern once the cause is known.",
}


def rule_reliability(rule):
    """How often a rule of this priority is right about its category (the witness's reliability)."""
    if rule.priority >= 70:
        return 0.92
    if rule.priority >= 45:
        return 0.85
    return 0.72


@dataclass(frozen=True)
class Diagnosis:
    """The engine's answer about one failed job.

    ``source`` says who decided: ``rule``, ``model``, ``both`` (they agree) or
    ``none`` (unknown). ``candidates`` are the three most likely categories
    with their probabilities, ``skipped_rules`` the names of rules that could
    not run (invalid or too slow).
    """

    category: str
    confidence: float
    suggested_fix: str
    signature: str
    template: str
    retryable: bool
    excerpt: list
    rule_name: str
    source: str
    step: str = ""
    candidates: list = field(default_factory=list)
    skipped_rules: list = field(default_factory=list)
    raw_confidence: float = 0.0
    features: tuple = ()

    def to_dict(self):
        return asdict(self)

    def summary(self):
        """The fields a CI step or an incident needs, JSON-ready."""
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "raw_confidence": round(self.raw_confidence, 3),
            "suggested_fix": self.suggested_fix,
            "signature": self.signature,
            "retryable": self.retryable,
            "excerpt": list(self.excerpt),
            "rule": self.rule_name or None,
            "source": self.source,
            "step": self.step,
        }


_logger = logging.getLogger(__name__)
_default_model = None
_default_lock = threading.Lock()
#: where the default model is cached (else $XDG_CACHE_HOME/ops_autopilot, else ~/.cache/ops_autopilot)
CACHE_ENV = "OPS_AUTOPILOT_CACHE"


def cache_dir():
    """The folder of the cached default model."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ops_autopilot"


def default_model():
    """The model trained from the shipped corpus, once per process (thread-safe, lazy).

    It is built once per version of its training data and kept on disk
    (:func:`cache_dir`, named by :func:`~.textmodel.training_key`), so a fresh
    process — a CI step, a new Odoo worker — loads it in milliseconds instead
    of importing scikit-learn and training for seconds.
    """
    global _default_model  # noqa: PLW0603 - a per-process cache
    if _default_model is None:
        with _default_lock:
            if _default_model is None:
                _default_model = _cached_model()
    return _default_model


def _cached_model():
    path = cache_dir() / f"diagnosis-{textmodel.training_key()[:32]}.model"
    try:
        return textmodel.LinearTextModel.load(path)
    except FileNotFoundError:
        _logger.debug("no cached diagnosis model at %s: training one", path)
    except (OSError, textmodel.ModelFileError) as exc:
        _logger.warning("cached diagnosis model %s unusable (%s): training a new one", path, exc)
    from . import classifier  # noqa: PLC0415 - scikit-learn costs ~1 s to import: only without a cached model

    trained = classifier.train(textmodel.training_corpus(), metrics=False)
    model = textmodel.LinearTextModel.from_pipeline(trained.pipeline)
    try:
        model.save(path)
        for old in path.parent.glob("diagnosis-*.model"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        _logger.warning("the diagnosis model cannot be cached in %s: %s", path.parent, exc)
    return model


def diagnose(log_text, rules=None, model=None, min_confidence=DEFAULT_MIN_CONFIDENCE, max_lines=40, calibrated=None):
    """Diagnose a raw job log (str or bytes).

    ``rules=None`` means :data:`~autopilot.selfheal.rules.SEED_RULES` (pass the
    rules stored in the database to use managers' patterns); ``model=None``
    uses :func:`default_model`; ``calibrated=None`` the shipped confidence
    calibration (:mod:`.calibration`; pass :data:`~.calibration.IDENTITY` for
    the raw posterior).
    """
    lines = logs.clean_log(log_text)
    excerpt = logs.failure_excerpt(lines, max_lines=max_lines)
    return diagnose_excerpt(excerpt, rules=rules, model=model, min_confidence=min_confidence, calibrated=calibrated)


def _as_excerpt(excerpt):
    if isinstance(excerpt, logs.Excerpt):
        return excerpt
    if isinstance(excerpt, bytes | str):
        excerpt = logs.clean_log(excerpt)
    lines = [str(line) for line in excerpt]
    return logs.Excerpt(lines, 0, len(lines), "", [logs.score_line(line) for line in lines])


def diagnose_excerpt(excerpt, rules=None, model=None, min_confidence=DEFAULT_MIN_CONFIDENCE, calibrated=None):
    """Diagnose lines already extracted (an Excerpt, a list of lines, or excerpt text)."""
    excerpt = _as_excerpt(excerpt)
    found = fingerprint.fingerprint_excerpt(excerpt)
    if not any(line.strip() for line in excerpt.lines):
        return _unknown(excerpt, found, 0.0, 0.0, [], [])

    report = match_rules(excerpt.text, rules)
    skipped = [s.rule.name for s in report.skipped]
    best_rule = report.best.rule if report else None
    model = model if model is not None else default_model()
    calibrated = calibrated if calibrated is not None else calibration.shipped()
    model_posterior = posterior = model.probabilities(textmodel.excerpt_text(excerpt))
    model_top = max(posterior, key=posterior.get)

    if best_rule is not None:
        reliability = rule_reliability(best_rule)
        others = (1.0 - reliability) / (len(CATEGORIES) - 1)
        # the model reads the whole excerpt, the rule one line: a log full of test-runner words makes
        # the model sure of ``test_failure`` even when the line the rule found names the cause
        weighted = {
            c: p**MODEL_TEMPER * (reliability if c == best_rule.category else others) for c, p in posterior.items()
        }
        if best_rule.category not in weighted:
            weighted[best_rule.category] = reliability * 1e-3
        total = sum(weighted.values()) or 1.0
        posterior = {c: p / total for c, p in weighted.items()}

    has_evidence = bool(excerpt.scores) and max(excerpt.scores) >= EVIDENCE_SCORE
    if not has_evidence and best_rule is None:
        posterior = {c: p * 0.5 for c, p in posterior.items()}

    ranked = sorted(posterior.items(), key=lambda item: -item[1])
    candidates = [(c, round(p, 4)) for c, p in ranked[:3]]
    category, raw = ranked[0]
    rule = next((m.rule for m in report if m.rule.category == category), None)
    if rule is not None and rule is best_rule:
        source = "both" if model_top == category else "rule"
    else:
        source = "model" if rule is None else ("both" if model_top == category else "rule")
    values = calibration.features(
        raw,
        model_posterior.get(category, 0.0),
        source,
        rule.priority if rule else 0,
        has_evidence,
        conflict=len({m.rule.category for m in report}) > 1,
        margin=raw - (ranked[1][1] if len(ranked) > 1 else 0.0),
    )
    confidence = raw if not calibrated.enabled else calibrated.confidence(values)
    # the calibration is fitted on answers and shrinks toward their average: it can lift a guess that
    # nothing in the log supports (raw posterior under the floor) over the threshold, so the floor
    # applies to the raw posterior too (not when every answer is asked for, min_confidence 0)
    floor = min(min_confidence, DEFAULT_MIN_CONFIDENCE)
    if category == "unknown" or confidence < min_confidence or raw < floor:
        return _unknown(excerpt, found, confidence, raw, candidates, skipped, values)
    return Diagnosis(
        category=category,
        confidence=float(confidence),
        suggested_fix=rule.suggested_fix if rule else CATEGORY_FIXES[category],
        signature=found.signature if found else "",
        template=found.template if found else "",
        retryable=rule.retryable if rule else category in RETRYABLE_CATEGORIES,
        excerpt=list(excerpt.lines),
        rule_name=rule.name if rule else "",
        source=source,
        step=excerpt.step,
        candidates=candidates,
        skipped_rules=skipped,
        raw_confidence=float(raw),
        features=values,
    )


def _unknown(excerpt, found, confidence, raw, candidates, skipped, values=()):
    return Diagnosis(
        category="unknown",
        confidence=float(confidence),
        suggested_fix=CATEGORY_FIXES["unknown"],
        signature=found.signature if found else "",
        template=found.template if found else "",
        retryable=False,
        excerpt=list(excerpt.lines),
        rule_name="",
        source="none",
        step=excerpt.step,
        candidates=candidates,
        skipped_rules=skipped,
        raw_confidence=float(raw),
        features=values,
    )
