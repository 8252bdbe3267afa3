"""Benchmark of the CI failure diagnosis engine, each figure next to a baseline measured in the same run.

Run from the repository root: ``python3 bench/run.py diagnosis`` (or
``python3 bench/diagnosis/run.py``; ``--quick`` for a smaller run). Prints
tables; no pass/fail.

1. **Held-out real logs** (``autopilot/data/diagnosis_heldout_c/``,
   ``autopilot/data/diagnosis_heldout_b/`` and ``autopilot/data/diagnosis_heldout/``,
   ``<category>/*.log``: real CI logs of public projects that no rule and no
   model ever saw; each batch was collected after the ones before it had been
   measured, by someone who never saw the engine): the
   shipped engine's top-1 accuracy, its precision when it answers with a
   confidence of at least 0.85 (and how many answers that is), per-category
   precision / recall / F1 with n, next to the seed's model (TF-IDF + random
   forest) and the naive baseline. Said clearly when the folder is absent.
   The calibration set (``autopilot/data/diagnosis_calibration``, real logs no
   rule or model saw, used only to fit the confidence) is reported the same
   way, marked as the set the confidence was fitted on.
2. **Models on the same folds**: the training corpus (hand-written failures in
   realistic runner logs + real logs of public projects) in 5 stratified
   folds; every candidate model (the seed's random forest, the shipped
   logistic regression, a calibrated linear SVM, complement naive Bayes) alone
   and inside the full diagnosis (rules + model), and the same candidates
   trained on the whole corpus and scored on the held-out and calibration sets.
3. **Speed**: a cold ``python3 -m autopilot diagnose`` on a 200-line log
   (median of fresh processes, model already cached on disk) next to
   ``python3 -c pass``; the warm diagnosis of a 10,000-line log next to a
   plain pass over it; retraining on 10,000 logs next to merely cleaning them
   (wall and CPU time: on a shared machine the wall time measures the others).
"""

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import precision_recall_fscore_support  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import ComplementNB  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from autopilot.selfheal import calibration, classifier, diagnosis, logs, rules, textmodel  # noqa: E402
from autopilot.selfheal.rules import CATEGORIES  # noqa: E402

DATA = ROOT / "autopilot" / "data"
HELDOUT_DIR = DATA / "diagnosis_heldout"
HELDOUT_B_DIR = DATA / "diagnosis_heldout_b"
HELDOUT_C_DIR = DATA / "diagnosis_heldout_c"
CALIBRATION_DIR = DATA / "diagnosis_calibration"
CONFIDENT = 0.85
SHIPPED = "TF-IDF + logistic regression (shipped)"
SEED = "TF-IDF + random forest (seed)"
SHORT = {SEED: "seed RF", SHIPPED: "shipped LR"}
CANDIDATES = {
    SEED: lambda: RandomForestClassifier(n_estimators=300, class_weight="balanced_subsample", n_jobs=1, random_state=0),
    SHIPPED: lambda: LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced", random_state=0),
    "TF-IDF + linear SVM, sigmoid-calibrated": lambda: CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced"), cv=3, method="sigmoid"
    ),
    "TF-IDF + complement naive Bayes": lambda: ComplementNB(alpha=0.3),
}
SHORT.update({name: name.split("+ ")[1].split(",")[0][:14] for name in CANDIDATES if name not in SHORT})

NAIVE_KEYWORDS = [
    ("resource_exhaustion", ("out of memory", "no space left", "killed", "heap")),
    ("network_timeout", ("timeout", "timed out", "econnreset", "could not resolve host")),
    ("permission_denied", ("permission denied", "403", "forbidden", "unauthorized")),
    ("dependency_missing", ("no module named", "not found", "cannot find module", "could not resolve")),
    ("environment_variable", ("environment variable", "not set", "keyerror")),
    ("syntax_error", ("syntaxerror", "syntax error", "lint")),
    ("test_failure", ("failed", "assert", "fail:")),
    ("configuration_error", ("invalid", "config", "unable to resolve action")),
    ("api_contract_mismatch", ("unexpected keyword", "has no attribute", "cannot import name")),
]


def naive_category(text):
    """Baseline: the last 100 lines, first category whose keyword appears."""
    tail = "\n".join(text.splitlines()[-100:]).lower()
    for category, words in NAIVE_KEYWORDS:
        if any(word in tail for word in words):
            return category
    return "unknown"


class SklearnModel:
    """A fitted candidate pipeline seen as the diagnosis sees a model (``probabilities``)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]

    def probabilities(self, prepared):
        values = self.pipeline.predict_proba([prepared])[0]
        return dict(zip(self.classes, (float(v) for v in values), strict=True))


def fit_candidate(name, prepared, labels, extra):
    with threadpool_limits(limits=1, user_api="blas"):
        pipe = classifier.pipeline(estimator=CANDIDATES[name]())
        pipe.fit(prepared + extra[0], labels + extra[1])
    return SklearnModel(pipe)


def rule_extra():
    examples = classifier.rule_examples()
    return classifier.prepare([text for text, _ in examples]), [label for _, label in examples]


def score(model, examples, prepared=None):
    """(model-alone predictions, diagnosis predictions) of ``model`` on ``examples``."""
    alone, full = [], []
    for index, (text, _label) in enumerate(examples):
        excerpt = logs.failure_excerpt(logs.clean_log(text))
        view = prepared[index] if prepared else textmodel.excerpt_text(excerpt)
        probabilities = model.probabilities(view)
        alone.append(max(probabilities, key=probabilities.get))
        full.append(diagnosis.diagnose_excerpt(excerpt, model=model, calibrated=calibration.IDENTITY).category)
    return alone, full


def accuracy(predicted, labels):
    return float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)])) if labels else float("nan")


def same_folds(examples, names, folds=5, seed=1):
    """Out-of-fold accuracy of each candidate, alone and in the diagnosis; the rules alone; the naive baseline."""
    labels = [label for _, label in examples]
    prepared = classifier.prepare([text for text, _ in examples])
    extra = rule_extra()
    out = {name: ([None] * len(examples), [None] * len(examples)) for name in names}
    seconds = dict.fromkeys(names, 0.0)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        for name in names:
            started = time.perf_counter()
            model = fit_candidate(name, [prepared[i] for i in train_index], [labels[i] for i in train_index], extra)
            seconds[name] += time.perf_counter() - started
            alone, full = score(model, [examples[i] for i in test_index], [prepared[i] for i in test_index])
            for position, i in enumerate(test_index):
                out[name][0][i] = alone[position]
                out[name][1][i] = full[position]
    rules_only = []
    for text, _ in examples:
        report = rules.match_rules(logs.failure_excerpt(logs.clean_log(text)).text)
        rules_only.append(report.best.rule.category if report else "unknown")
    naive = [naive_category(text) for text, _ in examples]
    return labels, out, rules_only, naive, seconds


def per_category(labels, predicted):
    present = [c for c in CATEGORIES if c in set(labels) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted, labels=present, zero_division=0)
    return {c: (precision[i], recall[i], f1[i], int(support[i])) for i, c in enumerate(present)}


def shipped_answers(examples):
    """The shipped engine (default model, shipped calibration) on ``examples``: (category, confidence) each."""
    answers = []
    for text, _ in examples:
        found = diagnosis.diagnose(text)
        answers.append((found.category, found.confidence))
    return answers


def report_real_set(title, directory, trained, note=""):
    """Top-1, precision at >= 0.85 and the per-category table of the shipped engine on a set of real logs."""
    examples = textmodel.load_corpus(directory) if directory.is_dir() else []
    if not examples:
        sys.stdout.write(f"\n{title}: ABSENT — no <category>/*.log under {directory.relative_to(ROOT)}; no figure.\n")
        return None
    labels = [label for _, label in examples]
    answers = shipped_answers(examples)
    predicted = [category for category, _ in answers]
    confident = [(c, label) for (c, conf), label in zip(answers, labels, strict=True) if conf >= CONFIDENT]
    precision = np.mean([c == label for c, label in confident]) if confident else float("nan")
    baselines = {name: score(model, examples) for name, model in trained.items()}
    naive = [naive_category(text) for text, _ in examples]
    sys.stdout.write(f"\n{title} ({len(examples)} real logs, {directory.relative_to(ROOT)}){note}\n")
    row("shipped engine top-1 (rules + model)", f"{accuracy(predicted, labels):.3f}", "", ">= 0.90")
    row(
        f"precision when confidence >= {CONFIDENT}",
        f"{precision:.3f} (n={len(confident)})",
        f"of {len(examples)} answers",
        ">= 0.95",
    )
    for name, (alone, full) in baselines.items():
        row(
            f"  {name}: diagnosis / model alone",
            f"{accuracy(full, labels):.3f}",
            f"alone {accuracy(alone, labels):.3f}",
        )
    row("  naive baseline (keywords, last 100 lines)", f"{accuracy(naive, labels):.3f}", "")
    engine = per_category(labels, predicted)
    seed = per_category(labels, baselines[SEED][1]) if SEED in baselines else {}
    naive_table = per_category(labels, naive)
    sys.stdout.write(
        f"  {'category':<22} {'n':>4}  {'engine P':>8} {'R':>5} {'F1':>5}   {'seed RF F1':>10}   {'naive F1':>8}\n"
    )
    for category in CATEGORIES:
        if category not in engine:
            continue
        p, r, f, n = engine[category]
        sys.stdout.write(
            f"  {category:<22} {n:>4}  {p:>8.2f} {r:>5.2f} {f:>5.2f}   "
            f"{seed.get(category, (0, 0, 0, 0))[2]:>10.2f}   {naive_table.get(category, (0, 0, 0, 0))[2]:>8.2f}\n"
        )
    misses = {}
    for label, category in zip(labels, predicted, strict=True):
        if label != category:
            misses[f"{label}->{category}"] = misses.get(f"{label}->{category}", 0) + 1
    if misses:
        sys.stdout.write("  misses (true->answer): " + ", ".join(f"{k}={v}" for k, v in sorted(misses.items())) + "\n")
    return accuracy(predicted, labels)


# ---------------------------------------------------------------------------
# speed

_NAMES = ["orders", "billing", "acme", "widget", "ledger", "payments", "catalog", "inventory", "sync", "portal"]


def vary(text, rng):
    """A plausible sibling of a corpus log: other numbers, names and noise lines."""
    text = re.sub(r"\d+", lambda m: str(rng.randint(0, 10 ** len(m.group(0)))), text)
    for name in rng.sample(_NAMES, 2):
        text = text.replace(name, rng.choice(_NAMES))
    lines = text.split("\n")
    cut = max(1, len(lines) // 3)
    noise = [
        f"2024-05-0{rng.randint(1, 9)}T10:00:00.0000000Z step output line {rng.randint(0, 99999)} ok"
        for _ in range(rng.randint(0, 40))
    ]
    return "\n".join(lines[:cut] + noise + lines[cut:])


def synthesise(examples, count, seed=7):
    rng = random.Random(seed)
    return [(vary(text, rng), label) for text, label in (rng.choice(examples) for _ in range(count))]


def sized_log(examples, lines, seed=3):
    """A test-failure job log of ``lines`` lines: a corpus log with passing-test, download and build noise."""
    rng = random.Random(seed)
    text = next(t for t, label in examples if label == "test_failure" and "##[group]Run" in t)
    body = text.split("\n")
    noise = []
    for i in range(max(0, lines - len(body))):
        kind = rng.random()
        if kind < 0.3:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z tests/unit/test_mod{i % 97}.py::test_case_{i} PASSED")
        elif kind < 0.5:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z   Downloading package{i}-1.{i % 10}.0-py3-none-any.whl")
        elif kind < 0.6:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z \x1b[32mok\x1b[0m {i} - handles error case {i} correctly")
        else:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z [{i}/10000] Compiling module_{i}.c")
    if len(body) >= lines:
        return "\n".join(body[-lines:])
    at = next(i for i, line in enumerate(body) if "##[group]Run" in line and "actions/" not in line)
    return "\n".join(body[:at] + noise + body[at:])


def median_ms(function, repeat):
    """Median wall and CPU (this process) milliseconds of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def cold_cli(examples, repeat):
    """Median seconds of a fresh ``python3 -m autopilot diagnose`` on a 200-line log, and of ``python3 -c pass``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "job.log"
        path.write_text(sized_log(examples, 200), encoding="utf-8")
        command = [sys.executable, "-m", "autopilot", "diagnose", str(path)]
        env = dict(os.environ)
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=600, check=True)  # builds the cache
        cli, bare = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60, check=True)
            cli.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", "pass"], cwd=ROOT, env=env, capture_output=True, timeout=60, check=True
            )
            bare.append(time.perf_counter() - started)
    return statistics.median(cli), statistics.median(bare)


def row(name, value, baseline, target=""):
    sys.stdout.write(f"| {name:<52} | {value:>16} | {baseline:>26} | {target:>10} |\n")


def header():
    sys.stdout.write(f"| {'measure':<52} | {'engine':>16} | {'baseline (same run)':>26} | {'target':>10} |\n")
    sys.stdout.write(f"|{'-' * 54}|{'-' * 18}|{'-' * 28}|{'-' * 12}|\n")


def main():
    quick = "--quick" in sys.argv
    sys.stdout.write(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    examples = textmodel.training_corpus()
    real = len(textmodel.load_corpus(textmodel.REAL_CORPUS_DIR))  # counted again below, as a set
    sys.stdout.write(
        f"training corpus: {len(examples)} labelled logs ({len(examples) - real} hand-written in runner logs, "
        f"{real} real), {len(CATEGORIES)} categories; confidence calibration: "
        f"{'fitted' if calibration.shipped().enabled else 'none (raw posterior)'}\n"
    )

    # 1. held-out and calibration sets
    extra = rule_extra()
    prepared = classifier.prepare([text for text, _ in examples])
    labels = [label for _, label in examples]
    trained = {name: fit_candidate(name, prepared, labels, extra) for name in CANDIDATES}
    report_real_set(
        "HELD-OUT SET, THIRD BATCH",
        HELDOUT_C_DIR,
        trained,
        note=" — collected after the first and second held-out sets had been measured",
    )
    report_real_set(
        "HELD-OUT SET, SECOND BATCH",
        HELDOUT_B_DIR,
        trained,
        note=" — collected after the first held-out set had been measured once",
    )
    report_real_set("HELD-OUT SET, FIRST BATCH", HELDOUT_DIR, trained)
    report_real_set(
        "CALIBRATION SET",
        CALIBRATION_DIR,
        trained,
        note=" — the confidence was fitted on it: its precision figure is not an unseen one",
    )

    report_folds(examples, quick)
    report_speed(examples, quick)


def report_folds(examples, quick):
    """The candidate models on the same folds of the training corpus."""
    names = list(CANDIDATES) if not quick else [SEED, SHIPPED]
    labels, out, rules_only, naive, seconds = same_folds(examples, names)
    real_set = set(textmodel.load_corpus(textmodel.REAL_CORPUS_DIR))
    sys.stdout.write("\nmodels on the same 5 stratified folds of the training corpus (out of fold):\n")
    header()
    for name in names:
        alone, full = out[name]
        row(name, f"{accuracy(full, labels):.3f}", f"model alone {accuracy(alone, labels):.3f}", "")
        row("  training time over the 5 folds", f"{seconds[name]:.1f} s", "", "")
    real_index = [i for i, (text, _) in enumerate(examples) if (text, labels[i]) in real_set]
    for name in names:
        row(
            f"  {SHORT[name]}: the {len(real_index)} real logs only",
            f"{accuracy([out[name][1][i] for i in real_index], [labels[i] for i in real_index]):.3f}",
            f"model alone {accuracy([out[name][0][i] for i in real_index], [labels[i] for i in real_index]):.3f}",
            "",
        )
    row("rules alone (written from this corpus)", f"{accuracy(rules_only, labels):.3f}", "", "")
    row("naive baseline (keywords, last 100 lines)", f"{accuracy(naive, labels):.3f}", "", "")
    sys.stdout.write("\nper-category F1 out of fold (diagnosis with each model):\n")
    tables = {name: per_category(labels, out[name][1]) for name in names}
    sys.stdout.write(f"  {'category':<22} {'n':>4}  " + "  ".join(f"{SHORT[n]:>14}" for n in names) + "\n")
    for category in CATEGORIES:
        count = sum(1 for label in labels if label == category)
        values = "  ".join(f"{tables[name].get(category, (0, 0, 0, 0))[2]:>14.2f}" for name in names)
        sys.stdout.write(f"  {category:<22} {count:>4}  {values}\n")


def report_speed(examples, quick):
    """Cold CLI, warm 10k-line diagnosis and retraining times."""
    sys.stdout.write("\n")
    header()
    repeat = 5 if quick else 11
    cli, bare = cold_cli(examples, repeat)
    row(
        "cold `python3 -m autopilot diagnose`, 200-line log",
        f"{cli:.3f} s",
        f"python3 -c pass {bare:.3f} s",
        "<= 0.5 s",
    )
    log = sized_log(examples, 10_000)
    diagnosis.default_model()
    diagnose_ms, diagnose_cpu_ms = median_ms(lambda: diagnosis.diagnose(log), 5 if quick else 21)
    plain_ms = median_ms(lambda: sum(len(line) for line in log.split("\n")), 5 if quick else 21)[0]
    row(
        "warm diagnosis of a 10k-line log (median)",
        f"{diagnose_ms:.1f} ms",
        f"plain pass {plain_ms:.1f} ms",
        "<= 50 ms",
    )
    row("  CPU time of that diagnosis (median)", f"{diagnose_cpu_ms:.1f} ms", "", "")
    count = 2_000 if quick else 10_000
    synthetic = synthesise(examples, count)
    started = time.perf_counter()
    for text, _ in synthetic:
        logs.clean_log(text)
    clean_seconds = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    classifier.train(synthetic, metrics=False)
    retrain_seconds, retrain_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    row(
        f"retrain on {count} synthesised logs",
        f"{retrain_seconds:.1f} s",
        f"clean only {clean_seconds:.1f} s",
        "<= 30 s",
    )
    row("  CPU time of that retrain", f"{retrain_cpu:.1f} s", "", "")
    sys.stdout.write(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")


if __name__ == "__main__":
    main()
