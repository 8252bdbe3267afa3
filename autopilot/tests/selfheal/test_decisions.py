import json
import random
import re
from datetime import datetime, timedelta

import pytest

from autopilot.common import errors
from autopilot.github import ci, rest_api
from autopilot.selfheal import decisions as sh
from autopilot.selfheal import diagnosis, reports
from autopilot.selfheal.decisions import JobFailure, JobOutcome
from autopilot.testing.github_ci_server import CIGitHub

# ---------------------------------------------------------------------------
# retries


def test_policy_is_base_two_capped_at_300_seconds():
    policy = sh.retry_policy(max_retries=10, jitter=0)
    assert [policy.delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert sh.retry_policy().max_attempts == 3


def test_jitter_spreads_delays_below_the_nominal_value():
    policy = sh.retry_policy(jitter=0.2)
    rng = random.Random(7)
    delays = {policy.delay(2, rng) for _ in range(50)}
    assert len(delays) > 10
    assert all(48 <= d <= 60 for d in delays)


@pytest.mark.parametrize("category", ["network_timeout", "resource_exhaustion"])
def test_transient_categories_are_retried_with_backoff(category):
    decision = sh.decide_retry([JobFailure("test", category)], retries_done=1, policy=sh.retry_policy(jitter=0))
    assert decision.retry and decision.attempt == 2 and decision.delay == 60
    assert not decision.escalate


@pytest.mark.parametrize("category", ["test_failure", "syntax_error", "dependency_missing", "unknown"])
def test_other_categories_are_not_retried_and_escalate(category):
    decision = sh.decide_retry([JobFailure("test", category)], retries_done=0)
    assert not decision.retry and not decision.exhausted
    assert [f.job_name for f in decision.escalate] == ["test"]
    assert category in decision.reason


def test_a_rule_or_known_flakiness_makes_any_category_retryable():
    assert sh.decide_retry([JobFailure("a", "api_contract_mismatch", retryable=True)], 0).retry
    assert sh.decide_retry([JobFailure("a", "test_failure", flaky=True)], 0).retry
    assert sh.decide_retry([JobFailure("a", "test_failure", quarantined=True)], 0).retry


def test_a_transient_cause_is_re_run_only_when_its_diagnosis_is_confident():
    sure = JobFailure("a", "network_timeout", confidence=0.9)
    guess = JobFailure("b", "network_timeout", confidence=0.4)
    assert sh.decide_retry([sure], 0).retry
    decision = sh.decide_retry([sure, guess], 0)
    assert not decision.retry
    assert decision.escalate == (guess,)
    assert "b (network_timeout, confidence 0.40 < 0.60)" in decision.reason
    # the threshold is the caller's (a repository setting), and a retryable rule needs it too
    assert sh.decide_retry([guess], 0, min_confidence=0.3).retry
    assert not sh.decide_retry([JobFailure("c", "test_failure", retryable=True, confidence=0.5)], 0).retry
    # the failure's own history needs no confidence; an unknown confidence is trusted as before
    assert sh.decide_retry([JobFailure("d", "test_failure", flaky=True, confidence=0.1)], 0).retry
    assert sh.decide_retry([JobFailure("e", "resource_exhaustion")], 0).retry


def test_a_rule_that_says_not_retryable_wins_over_a_transient_category():
    assert not sh.decide_retry([JobFailure("a", "resource_exhaustion", retryable=False)], 0).retry
    assert sh.decide_retry([JobFailure("a", "resource_exhaustion", retryable=True)], 0).retry
    # flakiness seen on this very failure still allows a re-run
    assert sh.decide_retry([JobFailure("a", "resource_exhaustion", retryable=False, flaky=True)], 0).retry


def test_an_exhausted_account_quota_is_diagnosed_but_never_re_run():
    log = (
        "##[group]Run actions/upload-artifact@v4\n##[endgroup]\n"
        "##[error]Failed to CreateArtifact: Artifact storage quota has been hit. Unable to upload any new artifacts.\n"
    )
    found = diagnosis.diagnose(log)
    assert (found.category, found.rule_name, found.retryable) == ("resource_exhaustion", "quota-exhausted", False)
    failure = JobFailure("upload", found.category, retryable=found.retryable)
    decision = sh.decide_retry([failure], 0)
    assert not decision.retry and decision.escalate == (failure,)


def test_one_real_failure_blocks_the_retry_of_the_whole_run():
    decision = sh.decide_retry([JobFailure("a", "network_timeout"), JobFailure("b", "test_failure")], 0)
    assert not decision.retry
    assert [f.job_name for f in decision.escalate] == ["b"], "only the real failure is escalated"


def test_retries_stop_at_the_maximum_and_escalate_everything():
    failures = [JobFailure("a", "network_timeout")]
    assert sh.decide_retry(failures, 2, max_retries=3).retry
    done = sh.decide_retry(failures, 3, max_retries=3)
    assert not done.retry and done.exhausted and done.escalate == tuple(failures)
    assert not sh.decide_retry(failures, 0, max_retries=0).retry


def test_auto_retry_off_escalates():
    decision = sh.decide_retry([JobFailure("a", "network_timeout")], 0, auto_retry=False)
    assert not decision.retry and decision.escalate and "off" in decision.reason


def test_old_failures_are_not_acted_on():
    now = datetime(2026, 1, 1, 12)
    assert sh.too_old_to_act(now - timedelta(hours=7), now)
    assert not sh.too_old_to_act(now - timedelta(hours=5), now)
    assert not sh.too_old_to_act(None, now)


def test_nothing_diagnosed_means_no_retry():
    assert not sh.decide_retry([], 0).retry


@pytest.mark.parametrize(
    ("attempt", "status", "conclusion", "expected"),
    [
        (1, "completed", "failure", "pending"),
        (2, "in_progress", None, "pending"),
        (2, "completed", "success", "healed"),
        (2, "completed", "failure", "failed"),
        (3, "completed", "timed_out", "failed"),
        (2, "completed", "cancelled", "stopped"),
    ],
)
def test_retry_outcome(attempt, status, conclusion, expected):
    assert sh.retry_outcome(1, attempt, status, conclusion) == expected


# ---------------------------------------------------------------------------
# flakiness


def test_fail_then_pass_on_the_same_sha_is_flaky():
    outcomes = [
        JobOutcome("test", "sha1", "failure", 1, run_id=10, run_attempt=1, signature="s1"),
        JobOutcome("test", "sha1", "success", 2, run_id=10, run_attempt=2),
        JobOutcome("lint", "sha1", "success", 1, run_id=10),
    ]
    (finding,) = sh.find_flaky(outcomes)
    assert (finding.job_name, finding.head_sha, finding.signatures, finding.failures) == ("test", "sha1", ("s1",), 1)


def test_pass_then_fail_or_different_commits_are_not_flaky():
    assert not sh.find_flaky([JobOutcome("test", "sha1", "success", 1), JobOutcome("test", "sha1", "failure", 2)]), (
        "a pass then a failure is a regression or a new flake, not proof"
    )
    assert not sh.find_flaky([JobOutcome("test", "sha1", "failure", 1), JobOutcome("test", "sha2", "success", 2)])


def test_order_may_be_datetimes():
    now = datetime(2026, 1, 1)
    outcomes = [
        JobOutcome("t", "s", "success", now + timedelta(minutes=5)),
        JobOutcome("t", "s", "failure", now),
    ]
    assert sh.find_flaky(outcomes)


def test_flaky_score_over_a_window():
    outcomes = []
    for index in range(10):
        sha = f"sha{index}"
        outcomes.append(JobOutcome("test", sha, "failure", index * 10))
        if index % 2 == 0:
            outcomes.append(JobOutcome("test", sha, "success", index * 10 + 1))
    outcomes.append(JobOutcome("lint", "sha0", "success", 1))
    scores = sh.flaky_score(outcomes)
    assert scores == {"test": 0.5}, "a job that never failed has no score"
    assert sh.flaky_score(outcomes, window=1) == {"test": 0.0}, "the last failing commit did not pass"
    assert sh.signature_flaky_score([True, False, True, True], window=2) == 1.0
    assert sh.signature_flaky_score([]) == 0.0


def test_quarantine_expiry():
    now = datetime(2026, 1, 1)
    assert sh.quarantine_active(None, now)
    assert sh.quarantine_active(now + timedelta(days=1), now)
    assert not sh.quarantine_active(now - timedelta(seconds=1), now)


# ---------------------------------------------------------------------------
# rollback


def _rollback(**kwargs):
    args = {
        "workflow_name": "Deploy production",
        "workflow_path": ".github/workflows/deploy.yml",
        "head_sha": "b" * 40,
        "conclusion": "failure",
        "deployment_workflows": "deploy.yml, release-*.yml",
        "rollback_workflow": "rollback.yml",
        "last_success_sha": "a" * 40,
        "last_rollback_key": "",
    }
    args.update(kwargs)
    return sh.decide_rollback(**args)


def test_failed_deployment_rolls_back_to_the_last_success():
    decision = _rollback()
    assert decision.rollback and decision.sha == "a" * 40 and decision.workflow == "rollback.yml"
    assert decision.key == ".github/workflows/deploy.yml@" + "b" * 40


def test_never_twice_in_a_row_for_the_same_deployment():
    first = _rollback()
    assert not _rollback(last_rollback_key=first.key).rollback
    assert _rollback(last_rollback_key=first.key, head_sha="c" * 40).rollback, "a new deployment may roll back"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"workflow_path": ".github/workflows/ci.yml", "workflow_name": "CI"}, "not a deployment"),
        ({"conclusion": "success"}, "did not fail"),
        ({"conclusion": "cancelled"}, "did not fail"),
        ({"rollback_workflow": ""}, "no rollback workflow"),
        ({"last_success_sha": ""}, "no earlier successful"),
        ({"last_success_sha": "b" * 40}, "last successful one"),
        ({"auto_rollback": False}, "off"),
        (
            {"deployment_workflows": "deploy.yml, rollback.yml", "workflow_path": ".github/workflows/rollback.yml"},
            "rollback",
        ),
    ],
)
def test_no_rollback_when(kwargs, reason):
    decision = _rollback(**kwargs)
    assert not decision.rollback and reason in decision.reason


def test_deployment_workflows_match_names_paths_and_globs():
    assert sh.workflow_matches("release-*.yml", "", ".github/workflows/release-prod.yml")
    assert sh.workflow_matches("Deploy Production", "deploy production", "")
    assert not sh.workflow_matches("deploy.yml", "CI", ".github/workflows/ci.yml")
    assert not sh.workflow_matches("", "Deploy", "deploy.yml")


# ---------------------------------------------------------------------------
# caches


CACHE_LOG = """2026-01-01T10:00:00.0000000Z ##[group]Run actions/cache@v4
2026-01-01T10:00:00.0000000Z with:
2026-01-01T10:00:00.0000000Z   key: pip-abc
2026-01-01T10:00:00.0000000Z ##[endgroup]
2026-01-01T10:00:01.0000000Z Cache restored from key: pip-abc
2026-01-01T10:00:02.0000000Z ##[group]Run actions/setup-node@v4
2026-01-01T10:00:02.0000000Z ##[endgroup]
2026-01-01T10:00:03.0000000Z Cache not found for input keys: node-cache-Linux-npm-123
2026-01-01T10:00:04.0000000Z ##[group]Run pytest
2026-01-01T10:00:04.0000000Z ##[endgroup]
2026-01-01T10:00:05.0000000Z 3 passed
"""


def test_cache_summary_counts_hits_and_misses():
    summary = sh.cache_summary(CACHE_LOG)
    assert (summary["hits"], summary["misses"], summary["hit_rate"]) == (1, 1, 0.5)
    assert [d["source"] for d in summary["details"]] == ["actions/cache", "setup-node"]
    assert sh.cache_summary("no caches here\n")["hit_rate"] is None
    assert sh.cache_hit_rate([(1, 1), (3, 0)]) == 0.8
    assert sh.cache_hit_rate([(0, 0)]) is None


# ---------------------------------------------------------------------------
# reports and issue text


def _entry(**overrides):
    diagnosis = {
        "category": "test_failure",
        "confidence": 0.934,
        "suggested_fix": "Fix the test @octocat #12",
        "signature": "0123456789abcdef",
        "retryable": False,
        "rule": "pytest-failed",
        "source": "both",
        "step": "Run tests",
        "excerpt": ["FAILED tests/test_x.py::test_y - AssertionError", "token ghp_" + "a" * 36],
    }
    diagnosis.update(overrides)
    return reports.diagnosis_entry("test", diagnosis, job_url="https://github.com/a/b/actions/runs/1/job/2", job_id=2)


def test_report_is_json_with_masked_excerpt():
    entry = _entry()
    report = reports.build_report(
        {
            "repository": "a/b",
            "id": 1,
            "name": "CI",
            "attempt": 1,
            "head_sha": "a" * 40,
            "url": "u",
            "conclusion": "failure",
        },
        [entry],
        {"retry": False, "reason": "not retryable"},
        generated_at="2026-01-01T00:00:00Z",
    )
    text = json.dumps(report)
    assert report["schema"] == reports.SCHEMA and report["categories"] == ["test_failure"]
    assert "ghp_" + "a" * 36 not in text and "[MASKED:github-token]" in text
    assert report["jobs"][0]["confidence"] == 0.934


def test_issue_body_fences_hostile_excerpts():
    hostile = ["````", "```", "</details>", "@everyone ping", "[x](javascript:alert(1))"]
    entry = _entry(excerpt=hostile)
    body = reports.issue_body(entry, [{"label": "CI #3", "url": "https://github.com/a/b/actions/runs/1"}])
    fence = re.search(r"^(`{5,})text$", body, re.M)
    assert fence, "the fence is longer than any backtick run of the log"
    block = body.split(fence.group(1) + "text\n", 1)[1].split("\n" + fence.group(1), 1)[0]
    assert block.splitlines() == hostile, "the excerpt is kept verbatim inside the block"
    assert reports.find_signature(body) == "0123456789abcdef"
    assert "@\u200boctocat" in body and "#\u200b12" in body, "the suggested fix cannot ping anyone"
    assert "- [CI #\u200b3](https://github.com/a/b/actions/runs/1)" in body


def test_issue_body_stays_under_githubs_limit_and_links_are_bounded():
    entry = _entry(excerpt=["E" * 1000] * 200)
    runs = [{"label": f"run {i}", "url": f"https://x/{i}"} for i in range(100)]
    body = reports.issue_body(entry, runs, template="x" * 100_000)
    assert len(body) <= 65536
    assert body.count("- [run ") == reports.MAX_RUN_LINKS
    assert "javascript:" not in reports.issue_body(entry, [{"label": "x", "url": "javascript:alert(1)"}])


def test_title_and_recurrence_comment():
    title = reports.issue_title("network_timeout", "0123456789abcdef", "test", "CI")
    assert title == "CI failure: network timeout in CI / test [01234567]"
    comment = reports.recurrence_comment(_entry(), {"label": "CI #4", "url": "https://x/4"}, 5)
    assert "occurrence 5" in comment and reports.find_signature(comment) == "0123456789abcdef"


# ---------------------------------------------------------------------------
# GitHub calls, against the local GitHub API server


@pytest.fixture
def ci_github_server():
    server = CIGitHub(token="t0k").start()
    yield server
    server.stop()


@pytest.fixture
def client(ci_github_server):
    return rest_api.connect(ci_github_server.url, "t0k", timeout=5, retries=0)


def _failed_run(server, log="E   AssertionError\n"):
    run = server.add_run(
        "acme/erp", conclusion="failure", jobs=[{"name": "lint"}, {"name": "test", "conclusion": "failure"}]
    )
    failed = server.latest_jobs("acme/erp", run["id"])[1]
    server.set_log(failed["id"], log)
    return run, failed


def test_job_log_follows_the_redirect_without_the_token(ci_github_server, client):
    _run, failed = _failed_run(ci_github_server, "first\n" + "x" * 100 + "\nlast line\n")
    log = ci.fetch_job_log(client, "acme/erp", failed["id"])
    assert log.data.endswith(b"last line\n") and not log.truncated
    tail = ci.fetch_job_log(client, "acme/erp", failed["id"], max_bytes=20)
    assert tail.truncated and tail.data == b"last line\n", "the tail is kept, from a whole line"
    blob = ci_github_server.storage.calls("GET", r"^/job-logs/")[-1]
    assert "authorization" not in blob.headers


def test_job_log_errors_are_typed(ci_github_server, client):
    _run, failed = _failed_run(ci_github_server)
    ci_github_server.expired_logs.add(failed["id"])
    with pytest.raises(errors.ServiceError) as gone:
        ci.fetch_job_log(client, "acme/erp", failed["id"])
    assert gone.value.status == 410
    with pytest.raises(errors.NotFound):
        ci.fetch_job_log(client, "acme/erp", 1)
    ci_github_server.fail_next(1, status=429, headers={"Retry-After": "17"}, path_re="/logs$")
    with pytest.raises(errors.RateLimited) as limited:
        ci.fetch_job_log(client, "acme/erp", failed["id"])
    assert limited.value.retry_after == 17


def test_rerun_failed_jobs_starts_the_next_attempt(ci_github_server, client):
    run, _failed = _failed_run(ci_github_server)
    assert ci.rerun_failed_jobs(client, "acme/erp", run["id"])
    jobs = ci.fetch_run_jobs(client, "acme/erp", run["id"])
    assert sorted((j.name, j.status, j.run_attempt) for j in jobs) == [("lint", "completed", 2), ("test", "queued", 2)]
    with pytest.raises(errors.Rejected):
        ci.rerun_failed_jobs(client, "acme/erp", run["id"])  # the attempt is still running
    events = ci_github_server.complete_attempt("acme/erp", run["id"], "success")
    assert [e for e, _p in events] == ["workflow_job", "workflow_job", "workflow_run"]
    assert events[-1][1]["workflow_run"]["run_attempt"] == 2
    ci_github_server.fail_next(1, status=503, path_re="rerun-failed-jobs")
    with pytest.raises(errors.ServiceUnavailable):
        ci.rerun_failed_jobs(client, "acme/erp", run["id"])


def test_issue_lifecycle(ci_github_server, client):
    ci_github_server.add_repo("acme/erp")
    marker = reports.signature_marker("abcdef0123")
    assert ci.find_issue(client, "acme/erp", lambda b: marker in b, "workflow-automation") is None
    number, url = ci.create_issue(client, "acme/erp", "T", marker + "\nbody", ["workflow-automation"])
    assert url.endswith(f"/issues/{number}")
    found = ci.find_issue(
        client, "acme/erp", lambda b: reports.find_signature(b) == "abcdef0123", "workflow-automation"
    )
    assert found[0] == number
    ci.comment_issue(client, "acme/erp", number, "again")
    assert ci_github_server.issue_comments[("acme/erp", number)][0]["body"] == "again"
    created = ci_github_server.calls("POST", r"/issues$")[0].json()
    assert created["labels"] == ["workflow-automation"]


def test_pull_request_files_carry_line_counts(ci_github_server, client):
    base = ci_github_server.seed_repo("acme/erp", {"a.py": "x = 1\n"})
    ci_github_server.commit(
        "acme/erp", {"a.py": "x = 1\ny = 2\n", "Dockerfile": "FROM odoo\n"}, parent=base, branch="feature"
    )
    ci_github_server.add_pull("acme/erp", 5, "feature")
    files = {f["filename"]: f for f in ci.pull_request_files(client, "acme/erp", 5)}
    assert set(files) == {"a.py", "Dockerfile"}
    assert files["Dockerfile"]["additions"] == 1 and files["Dockerfile"]["deletions"] == 0
    assert files["a.py"]["status"] == "modified" and files["a.py"]["additions"] == 1


def test_github_trouble_is_rescheduled_after_retry_after_or_backoff():
    limited = errors.RateLimited("GitHub", "rate limited", status=429, retry_after=42)
    down = errors.ServiceUnavailable("GitHub", "answered 502", status=502)
    assert sh.is_transient(limited) and sh.is_transient(down)
    assert not sh.is_transient(errors.NotFound("GitHub", "nope"))
    assert sh.call_retry_delay(limited, 1) == 42
    policy = sh.BackoffPolicy(initial=60, base=2, max_delay=3600)
    assert [sh.call_retry_delay(down, n, policy) for n in (1, 2, 10)] == [60, 120, 3600]
