"""Benchmark of the CI failure diagnosis engine, each figure next to a baseline.

Run from the repository root: ``python3 bench/diagnosis/run.py`` (add
``--quick`` for a smaller run). Prints a table; no pass/fail.

* accuracy on the shipped corpus, out of fold (5-fold, the model never sees
  the log it diagnoses): the classifier alone, the rules alone, the full
  diagnosis (rules + classifier), and the naive baseline "last 100 lines +
  keyword table";
* confident accuracy: how often answers with confidence >= 0.85 are right;
* time to diagnose a 10,000-line log (median of N, default model already
  trained), next to a plain pass over the same log (split + length sum);
* time to retrain on 10,000 labelled logs synthesised from the corpus (names,
  numbers and noise varied), next to the time to merely clean those logs;
* both timings also as CPU time of this process (``time.process_time``): on a
  shared machine the wall time mostly measures the other processes;
* with ``--heldout DIR`` (one or more times): top-1 and confident accuracy of
  the shipped engine on real CI logs kept outside the repository
  (``DIR/<category>/*.log``, never used for training), next to the corpus
  figure; skipped with a message when DIR is absent.
"""

import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from autopilot.selfheal import classifier, diagnosis, logs, rules  # noqa: E402

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


def corpus_accuracy(examples, folds=5, seed=1):
    labels = np.array([label for _, label in examples])
    results = {"model": [], "rules": [], "diagnosis": [], "naive": [], "confident": []}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        model = classifier.train([examples[i] for i in train_index], metrics=False)
        for i in test_index:
            text, label = examples[i]
            excerpt = logs.failure_excerpt(logs.clean_log(text))
            results["model"].append(model.predict(excerpt).category == label)
            report = rules.match_rules(excerpt.text)
            results["rules"].append((report.best.rule.category if report else "unknown") == label)
            found = diagnosis.diagnose_excerpt(excerpt, model=model)
            results["diagnosis"].append(found.category == label)
            if found.confidence >= classifier.CONFIDENT and found.category != "unknown":
                results["confident"].append(found.category == label)
            results["naive"].append(naive_category(text) == label)
    return {key: (float(np.mean(value)) if value else float("nan"), len(value)) for key, value in results.items()}


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


def big_log(examples, lines=10_000, seed=3):
    rng = random.Random(seed)
    text = next(t for t, label in examples if label == "test_failure")
    body = text.split("\n")
    noise = []
    for i in range(lines - len(body)):
        kind = rng.random()
        if kind < 0.3:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z tests/unit/test_mod{i % 97}.py::test_case_{i} PASSED")
        elif kind < 0.5:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z   Downloading package{i}-1.{i % 10}.0-py3-none-any.whl")
        elif kind < 0.6:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z \x1b[32mok\x1b[0m {i} - handles error case {i} correctly")
        else:
            noise.append(f"2024-03-01T12:00:00.{i:07d}Z [{i}/10000] Compiling module_{i}.c")
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


def row(name, value, baseline, target=""):
    sys.stdout.write(f"| {name:<44} | {value:>14} | {baseline:>26} | {target:>10} |\n")


def heldout_dirs(argv):
    """The directories given with ``--heldout DIR`` (or ``--heldout=DIR``)."""
    dirs = []
    for index, arg in enumerate(argv):
        if arg == "--heldout" and index + 1 < len(argv):
            dirs.append(argv[index + 1])
        elif arg.startswith("--heldout="):
            dirs.append(arg.split("=", 1)[1])
    return dirs


def heldout_accuracy(directory):
    """Top-1 / confident accuracy of the default engine on ``directory``, or None when it holds no logs."""
    examples = classifier.load_corpus(directory)
    if not examples:
        return None
    right, confident, misses = 0, [], {}
    for text, label in examples:
        found = diagnosis.diagnose(text)
        right += found.category == label
        if found.category != label:
            misses[label] = misses.get(label, 0) + 1
        if found.confidence >= classifier.CONFIDENT and found.category != "unknown":
            confident.append(found.category == label)
    share = float(np.mean(confident)) if confident else float("nan")
    return right / len(examples), len(examples), share, len(confident), misses


def report_heldout(dirs, corpus_accuracy_value):
    for directory in dirs:
        path = Path(directory)
        result = heldout_accuracy(path) if path.is_dir() else None
        if result is None:
            sys.stdout.write(f"\nheld-out {directory}: skipped (no such directory or no <category>/*.log in it)\n")
            continue
        top1, count, conf, n_conf, misses = result
        sys.stdout.write(f"\nheld-out {directory} ({count} real logs, never trained on):\n")
        row("held-out top-1 (rules + model)", f"{top1:.3f}", f"corpus OOF {corpus_accuracy_value:.3f}", ">= 0.90")
        row("held-out accuracy when confidence >= 0.85", f"{conf:.3f} (n={n_conf})", "", ">= 0.90")
        if misses:
            sys.stdout.write("  misses by true category: " + ", ".join(f"{k}={v}" for k, v in sorted(misses.items())))
            sys.stdout.write("\n")


def main():
    quick = "--quick" in sys.argv
    examples = classifier.load_corpus()
    sys.stdout.write(f"corpus: {len(examples)} labelled logs, {len({label for _, label in examples})} categories\n\n")

    started = time.perf_counter()
    model = classifier.train(examples)
    cv_seconds = time.perf_counter() - started
    metrics = model.metrics
    scores = corpus_accuracy(examples)

    log = big_log(examples)
    diagnosis.default_model()
    repeat = 5 if quick else 21
    diagnose_ms, diagnose_cpu_ms = median_ms(lambda: diagnosis.diagnose(log), repeat)
    plain_ms = median_ms(lambda: sum(len(line) for line in log.split("\n")), repeat)[0]

    count = 2_000 if quick else 10_000
    synthetic = synthesise(examples, count)
    started = time.perf_counter()
    for text, _ in synthetic:
        logs.clean_log(text)
    clean_seconds = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    classifier.train(synthetic, metrics=False)
    retrain_seconds = time.perf_counter() - started
    retrain_cpu = time.process_time() - started_cpu

    sys.stdout.write(f"| {'measure':<44} | {'engine':>14} | {'baseline (same run)':>26} | {'target':>10} |\n")
    sys.stdout.write(f"|{'-' * 46}|{'-' * 16}|{'-' * 28}|{'-' * 12}|\n")
    row("classifier CV accuracy (train() metrics)", f"{metrics.accuracy:.3f}", f"naive {scores['naive'][0]:.3f}")
    row("classifier CV macro-F1", f"{metrics.macro_f1:.3f}", "")
    row("rules alone, out of fold", f"{scores['rules'][0]:.3f}", f"naive {scores['naive'][0]:.3f}")
    row("diagnosis (rules + model), out of fold", f"{scores['diagnosis'][0]:.3f}", f"naive {scores['naive'][0]:.3f}")
    conf, n_conf = scores["confident"]
    row("accuracy when confidence >= 0.85", f"{conf:.3f} (n={n_conf})", "", ">= 0.90")
    row(
        "time to diagnose a 10k-line log (median)", f"{diagnose_ms:.1f} ms", f"plain pass {plain_ms:.1f} ms", "<= 50 ms"
    )
    row("  CPU time of that diagnosis (median)", f"{diagnose_cpu_ms:.1f} ms", "", "")
    row(
        f"retrain on {count} synthesised logs",
        f"{retrain_seconds:.1f} s",
        f"clean only {clean_seconds:.1f} s",
        "<= 30 s",
    )
    row("  CPU time of that retrain", f"{retrain_cpu:.1f} s", "", "")
    row("train + 5-fold CV metrics on the corpus", f"{cv_seconds:.1f} s", "", "")
    report_heldout(heldout_dirs(sys.argv), scores["diagnosis"][0])
    sys.stdout.write("\nper-category F1 (classifier alone, cross-validated):\n")
    for category, values in metrics.per_category.items():
        sys.stdout.write(
            f"  {category:<24} P={values['precision']:.2f} R={values['recall']:.2f} "
            f"F1={values['f1']:.2f} n={values['support']}\n"
        )


if __name__ == "__main__":
    main()
