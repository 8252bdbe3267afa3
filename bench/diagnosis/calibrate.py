"""Fit the diagnosis' confidence calibration on the calibration set of real CI logs.

Run from the repository root: ``python3 bench/diagnosis/calibrate.py [DIR]``
(default ``autopilot/data/diagnosis_calibration``, ``<category>/*.log``: real
logs of public projects, none in the training corpus, none read to write a
rule). Every log is diagnosed by the shipped engine with the raw posterior;
a logistic model over the features of :mod:`autopilot.selfheal.calibration`
learns how often such answers are right, and is written to
``autopilot/data/confidence_calibration.toml``. Add ``--dry-run`` to print
without writing.

Printed: the set's top-1 accuracy, then for the raw posterior and for the
calibration (leave-one-out: each log scored by a calibration fitted without
it) the expected calibration error, the Brier score, and how many answers
reach 0.85 with how many of them right.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from autopilot.selfheal import calibration, diagnosis, textmodel  # noqa: E402

DEFAULT_DIR = ROOT / "autopilot" / "data" / "diagnosis_calibration"
CONFIDENT = 0.85
C = 1.0


def observations(directory, model=None):
    """(features, right, category, label) of every log of ``directory``, diagnosed with the raw posterior."""
    rows = []
    for text, label in textmodel.load_corpus(directory):
        found = diagnosis.diagnose(text, model=model, min_confidence=0.0, calibrated=calibration.IDENTITY)
        category = found.category
        rows.append((found.features, category == label, category, label))
    return rows


def fit(x, y):
    if len(set(y)) < 2:
        return calibration.Calibration((0.0,) * len(calibration.FEATURES), 4.0 if y[0] else -4.0)
    model = LogisticRegression(C=C, max_iter=5000).fit(x, y)
    return calibration.Calibration(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]))


def leave_one_out(x, y):
    predicted = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        table = fit(x[keep], y[keep])
        score = table.intercept + float(np.dot(table.weights, x[i]))
        predicted[i] = 1.0 / (1.0 + np.exp(-score))
    return predicted


def report(name, confidence, right):
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = sum(
        abs(confidence[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum()
        for b in range(10)
        if (bins == b).any()
    ) / len(right)
    confident = confidence >= CONFIDENT
    precision = right[confident].mean() if confident.any() else float("nan")
    brier = float(np.mean((confidence - right) ** 2))
    sys.stdout.write(
        f"  {name:<34} ECE {ece:.3f}  Brier {brier:.3f}  >= {CONFIDENT}: {int(confident.sum())} answers, "
        f"precision {precision:.3f}\n"
    )


def main(argv):
    dry_run = "--dry-run" in argv
    args = [a for a in argv if not a.startswith("--")]
    directory = Path(args[0]) if args else DEFAULT_DIR
    rows = observations(directory)
    if not rows:
        sys.stdout.write(f"no logs under {directory}: nothing to calibrate\n")
        return 1
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    raw = np.array([1.0 / (1.0 + np.exp(-r[0][0])) for r in rows])
    sys.stdout.write(f"calibration set {directory}: {len(rows)} logs, top-1 {y.mean():.3f}\n")
    report("raw posterior", raw, y)
    report("calibrated (leave-one-out)", leave_one_out(x, y), y)
    table = fit(x, y)
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", str(directory)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    where = directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory
    table = calibration.Calibration(
        table.weights, table.intercept, fitted_on=f"fitted on {len(rows)} logs of {where} {commit}".rstrip()
    )
    pairs = zip(calibration.FEATURES, table.weights, strict=True)
    sys.stdout.write("weights: " + ", ".join(f"{n}={w:+.2f}" for n, w in pairs))
    sys.stdout.write(f", intercept={table.intercept:+.2f}\n")
    if not dry_run:
        calibration.CALIBRATION_FILE.write_text(table.to_toml(), encoding="utf-8")
        sys.stdout.write(f"written: {calibration.CALIBRATION_FILE.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
