from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.selfheal import logs

TS = "2024-03-01T12:00:{:02d}.1234567Z "


def stamp(lines):
    return "\n".join(TS.format(i % 60) + line for i, line in enumerate(lines))


SETUP = [
    "Current runner version: '2.316.1'",
    "##[group]Run actions/checkout@v4",
    "with:",
    "  repository: acme/shop",
    "##[endgroup]",
    "Syncing repository: acme/shop",
    "##[group]Run actions/setup-python@v5",
    "with:",
    "  python-version: 3.12",
    "  cache: pip",
    "##[endgroup]",
    "Successfully set up CPython (3.12.3)",
    "pip cache is not found",
    "##[group]Run pip install -r requirements.txt",
    "pip install -r requirements.txt",
    "shell: /usr/bin/bash -e {0}",
    "##[endgroup]",
    "Collecting pytest-error-for-skips==2.0.2",
    "Successfully installed pytest-8.2.0 pytest-error-for-skips-2.0.2",
]
POST = [
    "Post job cleanup.",
    "[command]/usr/bin/git version",
    "git version 2.45.1",
    "Cleaning up orphan processes",
]


def failing_step(command, body, code=1):
    return [
        f"##[group]Run {command}",
        command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *body,
        f"##[error]Process completed with exit code {code}.",
    ]


def excerpt_of(lines, **kwargs):
    return logs.failure_excerpt(logs.clean_log(stamp(lines)), **kwargs)


# --------------------------------------------------------------------- clean_log


def test_clean_log_strips_timestamps_ansi_and_crlf():
    raw = "2024-03-01T12:34:56.1234567Z \x1b[31mFAILED\x1b[0m test_a\r\n2024-03-01T12:34:57.0000000Z done\r\n"
    assert logs.clean_log(raw) == ["FAILED test_a", "done"]


def test_clean_log_keeps_last_carriage_return_overwrite():
    raw = "Downloading  10%\rDownloading  50%\rDownloading 100%\nnext"
    assert logs.clean_log(raw) == ["Downloading 100%", "next"]


def test_clean_log_normalises_workflow_commands():
    raw = "\n".join(
        [
            "::group::Install",
            "::error file=app.py,line=3,title=Lint::undefined name 'x'",
            "::warning::deprecated input",
            "::endgroup::",
            "  ##[error]indented marker",
        ]
    )
    assert logs.clean_log(raw) == [
        "##[group]Install",
        "##[error]undefined name 'x'",
        "##[warning]deprecated input",
        "##[endgroup]",
        "##[error]indented marker",
    ]


def test_clean_log_accepts_bytes_with_invalid_utf8_and_controls():
    lines = logs.clean_log(b"ok \xff\xfe bytes\x00\x07 here\n")
    assert lines == ["ok \ufffd\ufffd bytes here"]


def test_clean_log_rejects_non_text():
    try:
        logs.clean_log(42)
    except TypeError as exc:
        assert "text or bytes" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a number is not a log")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_clean_log_never_fails_and_leaves_no_escapes(raw):
    lines = logs.clean_log(raw)
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    assert len(lines) <= text.count("\n") + text.count("\r") + 1
    assert not any("\x1b" in line or "\r" in line or "\n" in line for line in lines)


# --------------------------------------------------------------------- excerpt


def test_excerpt_picks_pytest_error_not_setup_noise():
    body = [
        "============================= test session starts ==============================",
        "collected 3 items / 1 error",
        "____________________ ERROR collecting tests/test_api.py ____________________",
        "tests/test_api.py:3: in <module>",
        "    import httpx",
        "E   ModuleNotFoundError: No module named 'httpx'",
        "=========================== short test summary info ============================",
        "ERROR tests/test_api.py",
        "1 error in 0.31s",
    ]
    excerpt = excerpt_of(SETUP + failing_step("pytest -q", body, 2) + POST)
    assert "E   ModuleNotFoundError: No module named 'httpx'" in excerpt.lines
    assert "ERROR tests/test_api.py" in excerpt.lines
    assert excerpt.step == "Run pytest -q"
    assert not any("pip cache" in line or "checkout" in line for line in excerpt.lines)
    assert not any(line.startswith(("Post job", "Cleaning up", "git version")) for line in excerpt.lines)
    assert "E   ModuleNotFoundError: No module named 'httpx'" in excerpt.key_lines()


def test_excerpt_prefers_the_failing_step_over_earlier_warnings():
    noisy_step = failing_step("npm run lint", ["src/a.ts: warning: unused variable", "error count 0"], 0)[:-1]
    body = ["npm ERR! code E404", "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fkit"]
    excerpt = excerpt_of(SETUP + noisy_step + failing_step("npm ci", body) + POST)
    assert excerpt.step == "Run npm ci"
    assert "npm ERR! code E404" in excerpt.lines


def test_excerpt_of_a_failing_setup_step():
    lines = [
        *SETUP[:6],
        "##[group]Run actions/setup-python@v5",
        "with:",
        "  python-version: 3.7",
        "##[endgroup]",
        "Version 3.7 was not found in the local cache",
        "##[error]The version '3.7' with architecture 'x64' was not found for Ubuntu 24.04.",
        *POST,
    ]
    excerpt = excerpt_of(lines)
    assert "##[error]The version '3.7' with architecture 'x64' was not found for Ubuntu 24.04." in excerpt.lines
    assert excerpt.step == "Run actions/setup-python@v5"


def test_excerpt_completes_a_traceback_with_its_exception():
    frames = []
    for i in range(30):
        frames += [f'  File "/opt/odoo/odoo/module_{i}.py", line {i + 10}, in call_{i}', f"    call_{i + 1}()"]
    body = [
        "2024-05-02 10:11:12,345 231 ERROR odoo odoo.modules.registry: Failed to load registry",
        "Traceback (most recent call last):",
        *frames,
        "ValueError: Invalid field 'mobile' on model 'res.partner'",
    ]
    excerpt = excerpt_of(SETUP + failing_step("oca_run_tests", body) + POST, max_lines=20)
    assert len(excerpt.lines) <= 20
    assert "ValueError: Invalid field 'mobile' on model 'res.partner'" in excerpt.lines
    assert excerpt.lines[-1] == "##[error]Process completed with exit code 1."


def test_excerpt_finds_the_failure_at_the_end_of_a_huge_log():
    noise = [f"tests/unit/test_mod{i % 50}.py::test_error_case_{i} PASSED" for i in range(6000)]
    body = [*noise, "FAILED tests/unit/test_cart.py::test_total - assert 90 == 95", "1 failed, 5999 passed"]
    excerpt = excerpt_of(SETUP + failing_step("pytest", body) + POST)
    assert "FAILED tests/unit/test_cart.py::test_total - assert 90 == 95" in excerpt.lines
    assert len(excerpt.lines) <= 40


def test_excerpt_without_evidence_falls_back_to_the_last_lines_of_the_step():
    body = ["Building target linux-amd64", "Building target linux-arm64", "Done."]
    excerpt = excerpt_of(SETUP + failing_step("./build.sh", body) + POST)
    assert excerpt.lines[:3] == body
    assert max(excerpt.scores) < 3


def test_excerpt_without_markers_works_on_pasted_output():
    pasted = [
        "Run npm ci",
        "  npm ERR! code ERESOLVE",
        "  npm ERR! ERESOLVE unable to resolve dependency tree",
        "Error: Process completed with exit code 1.",
    ]
    excerpt = logs.failure_excerpt(logs.clean_log("\n".join(pasted)))
    assert "  npm ERR! ERESOLVE unable to resolve dependency tree" in excerpt.lines


def test_excerpt_of_an_empty_log():
    assert logs.failure_excerpt([]).lines == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=80), st.integers(min_value=1, max_value=50))
def test_excerpt_is_bounded_and_in_log_order(texts, limit):
    lines = [f"{i}: {text}" for i, text in enumerate(texts)]
    position = {line: i for i, line in enumerate(lines)}
    excerpt = logs.failure_excerpt(lines, max_lines=limit)
    assert len(excerpt.lines) <= limit
    assert len(excerpt.scores) == len(excerpt.lines)
    indices = [position[line] for line in excerpt.lines]
    assert indices == sorted(indices)


def test_score_line_ignores_benign_mentions():
    assert logs.score_line("Found 0 errors in 12 files") == 0
    assert logs.score_line("Successfully installed pytest-error-for-skips-2.0.2") == 0
    assert logs.score_line("##[error]Process completed with exit code 1.") < logs.score_line("##[error]Boom")
    assert logs.score_line("E   AssertionError: assert 1 == 2") > logs.score_line("tests failed somewhere")


# --------------------------------------------------------------------- cache


def cache_step(title, key, messages, restore_keys=None):
    header = [f"##[group]Run {title}", "with:", "  path: ~/.npm", f"  key: {key}"]
    if restore_keys:
        header.append(f"  restore-keys: {restore_keys}")
    return [*header, "##[endgroup]", *messages]


def test_cache_events_counts_hits_partials_and_misses():
    lines = logs.clean_log(
        stamp(
            cache_step(
                "actions/cache@v4",
                "npm-Linux-abc",
                [
                    "Cache Size: ~40 MB (41943040 B)",
                    "Cache restored successfully",
                    "Cache restored from key: npm-Linux-abc",
                ],
            )
            + cache_step(
                "actions/cache@v4",
                "pip-Linux-def",
                ["Cache restored successfully", "Cache restored from key: pip-Linux-"],
                restore_keys="pip-Linux-",
            )
            + cache_step(
                "actions/cache@v4", "go-Linux-123", ["Cache not found for input keys: go-Linux-123, go-Linux-"]
            )
            + ["##[group]Run actions/setup-node@v4", "with:", "  cache: npm", "##[endgroup]", "npm cache is not found"]
        )
    )
    stats = logs.cache_events(lines)
    kinds = [event.kind for event in stats.details]
    assert kinds == ["hit", "partial", "miss", "miss"]
    assert (stats.hits, stats.misses) == (2, 2)
    assert stats.hit_rate == 0.5
    assert stats.details[2].key == "go-Linux-123"
    assert stats.details[3].source == "setup-node"


def test_cache_events_without_a_cache_step_has_no_data():
    stats = logs.cache_events(logs.clean_log(stamp(failing_step("make", ["cc -o app main.c"]))))
    assert (stats.hits, stats.misses, stats.details) == (0, 0, [])
    assert stats.hit_rate is None


def test_cache_events_ignores_the_step_header_and_counts_one_event_per_step():
    lines = cache_step(
        "actions/cache@v4",
        "Cache restored from key: not-a-message",
        ["Cache restored from key: k1", "Cache restored successfully", "Cache restored from key: k1"],
    )
    stats = logs.cache_events(logs.clean_log(stamp(lines)))
    assert stats.total == 1
