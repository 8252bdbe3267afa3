from autopilot.selfheal import excerpt_view, logs

LOG = """2026-01-05T10:00:00.0000000Z ##[group]Run pytest -q
2026-01-05T10:00:00.0000000Z pytest -q
2026-01-05T10:00:00.0000000Z ##[endgroup]
2026-01-05T10:00:05.0000000Z ....F...
2026-01-05T10:00:05.0000000Z =================================== FAILURES ===================================
2026-01-05T10:00:05.0000000Z     def test_invoice_total():
2026-01-05T10:00:05.0000000Z >       assert invoice.total() == 118
2026-01-05T10:00:05.0000000Z E       assert 117 == 118
2026-01-05T10:00:05.0000000Z tests/test_invoice.py:42: AssertionError
2026-01-05T10:00:05.0000000Z FAILED tests/test_invoice.py::test_invoice_total - assert 117 == 118
2026-01-05T10:00:05.0000000Z 1 failed, 7 passed in 0.52s
2026-01-05T10:00:05.0000000Z ##[error]Process completed with exit code 1.
"""


def test_failing_lines_are_marked_and_context_is_not():
    excerpt = logs.failure_excerpt(logs.clean_log(LOG))
    marked = dict(excerpt_view.marked_lines(excerpt.text))
    assert marked["FAILED tests/test_invoice.py::test_invoice_total - assert 117 == 118"] is True
    assert marked["    def test_invoice_total():"] is False
    assert excerpt_view.marked_lines("") == []
    assert excerpt_view.marked_lines("a\n\nb\n") == [("a", False), ("", False), ("b", False)]


def test_the_step_link_points_at_the_failing_line():
    lines = logs.clean_log(LOG)
    excerpt = logs.failure_excerpt(lines)
    number, line = excerpt_view.excerpt_step_position(lines, excerpt)
    assert number == 2, "the first step after GitHub's 'Set up job'"
    assert line == excerpt.start + 1 > 1, "the step's header is its line 1"
    assert "FAILURES" in lines[line - 1], "the failure region starts at pytest's FAILURES banner"
    preamble = logs.clean_log("2026-01-05T09:59:00.0000000Z Current runner version: '2.320.0'\n" * 3 + LOG)
    assert excerpt_view.excerpt_step_position(preamble, logs.failure_excerpt(preamble)) == (2, line), "in its step"
    assert excerpt_view.excerpt_step_position([], excerpt) == (0, 0)
    url = "https://github.com/acme/erp/actions/runs/1/job/2"
    assert excerpt_view.step_log_url(url, 3, line) == f"{url}#step:3:{line}"
    assert excerpt_view.step_log_url(url, 3) == f"{url}#step:3:1"
    assert excerpt_view.step_log_url(url) == url
    assert excerpt_view.step_log_url(url + "#old", 2, 5) == f"{url}#step:2:5"


def test_only_web_urls_become_links():
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "//evil", "", None):
        assert excerpt_view.step_log_url(bad, 3, 4) == "", bad


def test_the_failed_step_number_comes_from_the_job_steps():
    steps = [
        {"number": 1, "name": "Set up job", "conclusion": "success"},
        {"number": 3, "name": "Run tests", "conclusion": "failure"},
        {"number": 4, "name": "Post", "conclusion": "failure"},
    ]
    assert excerpt_view.failed_step_number(steps) == 3
    assert excerpt_view.failed_step_number([]) == 0
    assert excerpt_view.failed_step_number(None) == 0
