"""The training-data figures of the diagnosis, without touching the held-out sets.

Run from the repository root: ``python3 bench/diagnosis/folds.py``. It reads the
training corpus only (``autopilot/data/diagnosis_corpus`` and
``autopilot/data/diagnosis_real``) and prints, on the same 5 stratified folds as
``bench/diagnosis/run.py``, the out-of-fold top-1 accuracy of the shipped model
alone and of the full diagnosis (rules + model), on the whole corpus and on its
real logs, then how the rules and the model agree on the real logs (the rule
deciding, the model deciding, both wrong). For the confidence figures on the
calibration set use ``bench/diagnosis/calibrate.py --dry-run``; the held-out
measurement is ``bench/run.py diagnosis`` (the lead runs it).
"""

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402 - the same folds and candidate models as the benchmark

from autopilot.selfheal import textmodel  # noqa: E402


def main():
    examples = textmodel.training_corpus()
    labels, out, rules_only, _naive, _seconds = run.same_folds(examples, [run.SHIPPED])
    alone, full = out[run.SHIPPED]
    real_set = set(textmodel.load_corpus(textmodel.REAL_CORPUS_DIR))
    real = [i for i, example in enumerate(examples) if example in real_set]

    def share(predicted, index):
        return run.accuracy([predicted[i] for i in index], [labels[i] for i in index])

    everything = range(len(examples))
    sys.stdout.write(f"training corpus: {len(examples)} logs, {len(real)} of them real (5 stratified folds)\n")
    for name, predicted in (("diagnosis (rules + model)", full), ("model alone", alone), ("rules alone", rules_only)):
        sys.stdout.write(f"  {name:<26} all {share(predicted, everything):.3f}  real {share(predicted, real):.3f}\n")
    differ = Counter()
    for i in real:
        if alone[i] != full[i]:
            differ[
                "diagnosis right" if full[i] == labels[i] else "model right" if alone[i] == labels[i] else "both wrong"
            ] += 1
    sys.stdout.write(f"  real logs where the diagnosis differs from the model alone: {dict(differ) or 'none'}\n")
    for i in real:
        if full[i] != labels[i]:
            sys.stdout.write(f"    missed: {labels[i]} answered {full[i]} (model alone: {alone[i]})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
