import random

from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.selfheal import classifier, fingerprint, logs


def test_mask_line_removes_what_varies_between_runs():
    cases = {
        "2024-03-01 12:00:01,123 231 ERROR odoo odoo.addons.sale.tests.test_x: FAIL: TestX.test_y": (
            "<TS> <PID> ERROR <DB> odoo.addons.sale.tests.test_x: FAIL: TestX.test_y"
        ),
        "request 6c1e4ea0-3b6e-4d1b-9d2e-7e0f7b2b8c11 failed": "request <UUID> failed",
        "fetch +9b2c41f0d2a7c3e0be71a0c4c5a9d8e1f2b3c4d5:refs/remotes/origin/feature/x": "fetch +<HEX>:<REF>",
        "connect ETIMEDOUT 140.82.112.4:443": "connect ETIMEDOUT <IP>",
        "Ran 14 tests in 0.006s": "Ran <NUM> tests in <NUM>",
        "segfault at 0x7ffd1234 in worker": "segfault at <HEX> in worker",
        "open '/tmp/tmpab12cd9x/data.json'": "open '<TMP>'",
        "File '/tmp/pytest-of-runner/pytest-12/test_io0/out.csv'": "File '<TMP>'",
    }
    for raw, masked in cases.items():
        assert fingerprint.mask_line(raw) == masked, raw


def test_mask_line_keeps_the_file_name_of_a_path():
    masked = fingerprint.mask_line("ImportError while importing '/home/runner/work/shop/shop/tests/test_api.py'.")
    assert masked == "ImportError while importing '<PATH>/test_api.py'."
    windows = fingerprint.mask_line(r"error CS0103 at D:\a\app\app\src\Program.cs(12,5)")
    assert "Program.cs" in windows
    assert r"D:\a" not in windows


def test_mask_line_keeps_identifiers_and_messages():
    line = "E   ModuleNotFoundError: No module named 'httpx2'"
    assert fingerprint.mask_line(line) == "E ModuleNotFoundError: No module named 'httpx2'"
    assert "TS2339" in fingerprint.mask_line("src/a.ts(58,24): error TS2339: Property 'data' does not exist")


PYTEST_FAILURE = [
    "##[group]Run pytest -q",
    "pytest -q",
    "##[endgroup]",
    "collected {count} items",
    "tests/test_cart.py:48: in test_total",
    "E   AssertionError: assert Decimal('90.00') == Decimal('95.00')",
    "FAILED tests/test_cart.py::test_total - AssertionError: assert 90 == 95",
    "FAILED tests/test_tax.py::test_vat - assert 19 == 21",
    "{failed} failed, {passed} passed in {secs}s",
    "##[error]Process completed with exit code 1.",
]


def render(template, run, branch, order=None):
    rng = random.Random(run)
    lines = [
        f"Switched to a new branch '{branch}'",
        f"Working directory is '/home/runner/work/shop-{branch.replace('/', '-')}/shop'",
        *template,
    ]
    if order is not None:
        failed = [i for i, line in enumerate(lines) if line.startswith("FAILED")]
        picked = [lines[i] for i in failed]
        rng.shuffle(picked)
        for i, line in zip(failed, picked, strict=True):
            lines[i] = line
    values = {"count": rng.randint(10, 500), "failed": 2, "passed": rng.randint(1, 400), "secs": rng.random() * 9}
    stamped = [
        f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T1{rng.randint(0, 9)}:00:00.{rng.randint(0, 9999999):07d}Z "
        + line.format(**values)
        for line in lines
    ]
    return "\n".join(stamped)


def signature_of(text):
    return fingerprint.fingerprint(logs.failure_excerpt(logs.clean_log(text)))[1]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["main", "feature/cart", "fix/vat-rounding", "renovate/pytest-8.x", "16.0-mig-sale"]),
)
def test_same_failure_same_signature_across_runs_and_branches(run_a, run_b, branch):
    first = signature_of(render(PYTEST_FAILURE, run_a, "main"))
    second = signature_of(render(PYTEST_FAILURE, run_b, branch, order=True))
    assert first == second


def test_different_failures_different_signatures():
    base = signature_of(render(PYTEST_FAILURE, 1, "main"))
    other_test = [line.replace("test_vat", "test_vat_reduced") for line in PYTEST_FAILURE]
    other_error = [
        line.replace("AssertionError: assert Decimal", "TypeError: unsupported Decimal") for line in PYTEST_FAILURE
    ]
    signatures = {base, signature_of(render(other_test, 1, "main")), signature_of(render(other_error, 1, "main"))}
    assert len(signatures) == 3


def test_corpus_failures_get_distinct_signatures():
    signatures = {}
    for text, category in classifier.load_corpus():
        signatures.setdefault(signature_of(text), set()).add(category)
    total = len(classifier.load_corpus())
    # a few corpus bodies are the same failure on purpose (e.g. an empty token input)
    assert len(signatures) >= 0.95 * total
    assert all(len(categories) == 1 for categories in signatures.values())


def test_fingerprint_returns_template_and_short_stable_hash():
    excerpt = logs.failure_excerpt(logs.clean_log(render(PYTEST_FAILURE, 3, "main")))
    template, signature = fingerprint.fingerprint(excerpt)
    assert len(signature) == fingerprint.SIGNATURE_LENGTH
    assert int(signature, 16) >= 0
    assert "<NUM> failed, <NUM> passed in <NUM>" in template
    assert fingerprint.fingerprint(list(excerpt.lines))[1] == fingerprint.fingerprint(list(excerpt.lines))[1]


def test_template_miner_merges_variable_tokens():
    miner = fingerprint.TemplateMiner(similarity=0.5)
    miner.add("Connection to db-primary lost after retry one")
    merged = miner.add("Connection to db-replica lost after retry two")
    assert merged == "Connection to <*> lost after retry <*>"
    assert miner.add("totally different line") == "totally different line"
    assert len(miner.templates) == 2


def test_empty_or_blank_text_is_never_fingerprinted():
    """sha256("") once merged two unrelated failures whose logs could not be read (signature e3b0c442)."""
    for lines in ([], [""], ["   ", "\t"], ["=====", "-----"]):
        assert fingerprint.fingerprint_excerpt(lines) is None, lines
        assert fingerprint.fingerprint(lines) is None, lines
        assert fingerprint.fingerprint_lines(lines) is None, lines
    assert fingerprint.fingerprint_excerpt(logs.failure_excerpt(logs.clean_log(""))) is None
    assert fingerprint.fingerprint_excerpt(logs.failure_excerpt(logs.clean_log("\n \n"))) is None
    assert fingerprint.fingerprint(["E   AssertionError: boom"]) is not None
