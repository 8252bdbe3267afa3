"""The confidence calibration: a fitted table read from data, applied to every diagnosis."""

import math

import pytest

from autopilot.common.datafiles import DataFileError
from autopilot.selfheal import calibration, diagnosis

TABLE = calibration.Calibration(weights=(1.0, 0.5, 0.2, 0.1, -0.3, 0.0, 0.0, -1.0, 0.5), intercept=-0.5)


def test_features_describe_the_answer():
    values = calibration.features(0.9, 0.6, "both", rule_priority=80, evidence=True, conflict=True, margin=0.7)
    assert dict(zip(calibration.FEATURES, values, strict=True)) == {
        "posterior_logit": pytest.approx(math.log(9)),
        "model_logit": pytest.approx(math.log(1.5)),
        "agree": 1.0,
        "rule_only": 0.0,
        "model_only": 0.0,
        "specific_rule": 1.0,
        "evidence": 1.0,
        "conflict": 1.0,
        "margin": 0.7,
    }
    assert calibration.features(1.0, 0.0, "model")[:2] == pytest.approx((math.log(9999), math.log(1 / 9999)))


def test_confidence_is_the_logistic_of_the_weighted_features():
    values = calibration.features(0.9, 0.6, "both", margin=0.7)
    score = TABLE.intercept + sum(w * x for w, x in zip(TABLE.weights, values, strict=True))
    assert TABLE.confidence(values) == pytest.approx(1 / (1 + math.exp(-score)))
    sure = calibration.features(0.99, 0.9, "both", margin=0.98)
    doubt = calibration.features(0.99, 0.9, "both", conflict=True, margin=0.98)
    assert TABLE.confidence(doubt) < TABLE.confidence(sure)
    # off: the posterior itself
    assert calibration.IDENTITY.confidence(values) == pytest.approx(0.9)


def test_the_table_round_trips_through_its_file(tmp_path):
    path = tmp_path / "calibration.toml"
    path.write_text(calibration.Calibration(TABLE.weights, TABLE.intercept, fitted_on="fitted on 3 logs").to_toml())
    again = calibration.load(path)
    assert again.weights == TABLE.weights and again.intercept == TABLE.intercept and again.enabled
    assert "fitted on 3 logs" in path.read_text()
    assert calibration.load(tmp_path / "missing.toml") is calibration.IDENTITY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("intercept = 0.1\n[weights]\nluck = 2.0\n", "unknown feature 'luck'"),
        ("intercept = 'high'\n", "not a calibration table"),
        ("enabled = 'yes'\n", "must be true or false"),
        ("intercept = nan\n", "finite"),
        ("[weights\n", "rules"),
    ],
)
def test_a_broken_table_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "calibration.toml"
    path.write_text(text)
    with pytest.raises(DataFileError) as info:
        calibration.load(path)
    assert "calibration.toml" in str(info.value)
    if message != "rules":
        assert message in str(info.value)


def test_the_shipped_table_is_fitted_and_used_by_the_diagnosis():
    shipped = calibration.shipped()
    assert shipped.enabled and any(shipped.weights)
    text = "npm ERR! code ETIMEDOUT\nnpm ERR! network request to https://registry.npmjs.org/x failed"
    found = diagnosis.diagnose(text)
    assert found.category == "network_timeout"
    assert found.confidence == pytest.approx(shipped.confidence(found.features))
    assert found.confidence != pytest.approx(found.raw_confidence)
    raw = diagnosis.diagnose(text, calibrated=calibration.IDENTITY)
    assert raw.confidence == pytest.approx(raw.raw_confidence) == pytest.approx(found.raw_confidence)
    assert found.summary()["raw_confidence"] == round(found.raw_confidence, 3)


def test_the_threshold_applies_to_the_calibrated_confidence():
    text = "npm ERR! code ETIMEDOUT\nnpm ERR! network request to https://registry.npmjs.org/x failed"
    found = diagnosis.diagnose(text)
    assert diagnosis.diagnose(text, min_confidence=found.confidence + 1e-6).category == "unknown"
    assert diagnosis.diagnose(text, min_confidence=found.confidence - 1e-6).category == "network_timeout"
