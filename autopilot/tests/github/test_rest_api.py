from datetime import datetime, timedelta

import pytest

from autopilot.github import events, rest_api
from autopilot.ingest import delivery_log

SINCE = datetime(2020, 1, 1)


def client(server, token="test-token", retries=0):
    return rest_api.connect(server.url, token, timeout=5, retries=retries)


def test_runs_and_jobs_are_fetched_across_pages(github):
    for number in range(1, 131):
        github.add_run(
            "acme/erp", run_number=number, jobs=[{"name": "lint"}, {"name": "test", "conclusion": "failure"}]
        )
    fetched = rest_api.fetch_runs(client(github), "acme/erp", SINCE)
    assert len(fetched) == 130
    assert all(len(item.jobs) == 2 for item in fetched)
    assert {job.conclusion for item in fetched for job in item.jobs} == {"success", "failure"}
    assert len(github.calls("GET", r"/actions/runs$")) == 2  # 100 + 30


def test_created_filter_and_unfinished_runs(github):
    old = github.add_run("acme/erp", status="in_progress", started=datetime(2019, 1, 1))
    github.add_run("acme/erp", started=datetime(2026, 1, 1))
    fetched = rest_api.fetch_runs(client(github), "acme/erp", datetime(2025, 1, 1), run_ids=[old["id"]])
    assert sorted(item.run.status for item in fetched) == ["completed", "in_progress"]


def test_a_run_deleted_on_github_does_not_fail_the_fetch(github):
    """A run Odoo still believes is running but GitHub deleted (404) must not block every later sync."""
    kept = github.add_run("acme/erp", status="in_progress", started=datetime(2019, 1, 1))
    github.add_run("acme/erp", started=datetime(2026, 1, 1))
    fetched = rest_api.fetch_runs(client(github), "acme/erp", datetime(2025, 1, 1), run_ids=[424242, kept["id"]])
    assert sorted(item.run.status for item in fetched) == ["completed", "in_progress"]
    github.fail_next(1, status=502, path_re=rf"/runs/{kept['id']}$")
    with pytest.raises(rest_api.TRANSIENT_ERRORS):  # other failures still fail the fetch
        rest_api.fetch_runs(client(github), "acme/erp", datetime(2025, 1, 1), run_ids=[kept["id"]])


def test_limit_is_respected(github):
    for _ in range(15):
        github.add_run("acme/erp")
    assert len(rest_api.fetch_runs(client(github), "acme/erp", SINCE, limit=10)) == 10


def test_bad_credentials_are_described_without_the_token(github):
    github.add_repo("acme/erp")
    with pytest.raises(rest_api.TRANSIENT_ERRORS) as info:
        rest_api.fetch_runs(client(github, token="ghp_leaky"), "acme/erp", SINCE)
    message = rest_api.describe_error(info.value)
    assert "401" in message and "Bad credentials" in message and "ghp_leaky" not in message


def test_server_errors_are_retried_then_succeed(github):
    github.add_run("acme/erp")
    github.fail_next(2, status=502, path_re=r"/actions/runs$")
    fetched = rest_api.fetch_runs(rest_api.connect(github.url, "test-token", timeout=5, retries=3), "acme/erp", SINCE)
    assert len(fetched) == 1


def delivery_attempts(github, hook_id=11):
    now = datetime.utcnow()
    github.add_repo("acme/erp")
    github.add_delivery("acme/erp", hook_id, "ok-guid", "push", b"{}", {}, 202, now - timedelta(minutes=9))
    github.add_delivery("acme/erp", hook_id, "lost-guid", "workflow_run", b"{}", {}, 502, now - timedelta(minutes=8))
    github.add_delivery("acme/erp", hook_id, "healed-guid", "push", b"{}", {}, 0, now - timedelta(minutes=7))
    github.add_delivery("acme/erp", hook_id, "healed-guid", "push", b"{}", {}, 200, now - timedelta(minutes=6))
    github.add_delivery("acme/erp", hook_id, "known-guid", "push", b"{}", {}, 504, now - timedelta(minutes=5))
    github.add_delivery("acme/erp", hook_id, "ancient-guid", "push", b"{}", {}, 500, now - timedelta(days=30))
    attempts, complete = rest_api.list_hook_deliveries(client(github), "acme/erp", hook_id, now - timedelta(hours=1))
    assert complete
    return attempts


def test_the_deliveries_odoo_lacks_are_resent_oldest_first(github):
    attempts = delivery_attempts(github)
    assert "ancient-guid" in {a.guid for a in attempts}  # listed once past the window, then listing stops
    chosen = delivery_log.deliveries_to_resend(attempts, datetime.utcnow() - timedelta(hours=1), {"known-guid"})
    # refused (502), acknowledged and lost since (202), healed on a retry and lost since (0 then 200)
    assert [a.guid for a in chosen] == ["ok-guid", "lost-guid", "healed-guid"]
    assert chosen[-1].status_code == 200, "the newest attempt of a GUID is the one resent"


def test_a_listing_longer_than_the_limit_says_it_is_incomplete(github):
    now = datetime.utcnow()
    github.add_repo("acme/erp")
    for index in range(250):
        github.add_delivery("acme/erp", 11, f"g{index}", "push", b"{}", {}, 202, now - timedelta(seconds=index))
    since = now - timedelta(hours=1)
    attempts, complete = rest_api.list_hook_deliveries(client(github), "acme/erp", 11, since, limit=120)
    assert (len(attempts), complete) == (120, False), "the older 130 in the window were not read"
    assert [a.guid for a in attempts[:2]] == ["g0", "g1"], "newest first"
    attempts, complete = rest_api.list_hook_deliveries(client(github), "acme/erp", 11, since, limit=250)
    assert (len(attempts), complete) == (250, True), "the listing ended within the limit"
    attempts, complete = rest_api.list_hook_deliveries(client(github), "acme/erp", 11, now - timedelta(seconds=300))
    assert complete and len(attempts) == 250


def test_redeliver_posts_to_the_attempts_endpoint(github):
    attempt = next(a for a in delivery_attempts(github) if a.guid == "lost-guid")
    rest_api.redeliver(client(github), "acme/erp", 11, attempt.delivery_id)
    (call,) = github.calls("POST")
    assert call.path == f"/repos/acme/erp/hooks/11/deliveries/{attempt.delivery_id}/attempts"
    assert call.headers["authorization"] == "token test-token"


def test_malformed_api_answers_raise_payload_errors(github):
    github.add_repo("acme/erp")
    garbage = [{"id": "not-a-number", "guid": "g", "delivered_at": "2026-01-01T00:00:00Z"}]
    github.fail_next(1, status=200, body=garbage, path_re="/deliveries$", off_contract=True)
    with pytest.raises(events.PayloadError):
        rest_api.list_hook_deliveries(client(github), "acme/erp", 5, SINCE)


def test_html_base():
    assert rest_api.html_base("https://api.github.com") == "https://github.com"
    assert rest_api.html_base("https://ghe.example.com/api/v3/") == "https://ghe.example.com"
    assert rest_api.html_base("http://127.0.0.1:9999") == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    "status, headers, body",
    [
        (429, {"Retry-After": "120"}, {"message": "API rate limit exceeded"}),
        (403, {"Retry-After": "90"}, {"message": "You have exceeded a secondary rate limit"}),
    ],
)
def test_rate_limits_raise_at_once_with_the_wait(github, status, headers, body):
    github.add_run("acme/erp")
    github.fail_next(1, status=status, headers=headers, body=body, path_re=r"/actions/runs$")
    started = datetime.utcnow()
    with pytest.raises(rest_api.TRANSIENT_ERRORS) as info:
        rest_api.fetch_runs(client(github, retries=3), "acme/erp", SINCE)
    assert (datetime.utcnow() - started).total_seconds() < 5, "a cron must not sleep through a rate limit"
    assert rest_api.retry_after(info.value) == int(headers["Retry-After"])
    assert str(status) in rest_api.describe_error(info.value)


# -- faults: what reaches the caller, and how fast ----------------------------------
def test_server_errors_that_persist_raise_after_the_bounded_retries(github):
    github.add_run("acme/erp")
    github.fail_next(10, status=500, path_re=r"/actions/runs$")
    with pytest.raises(rest_api.TRANSIENT_ERRORS) as info:
        rest_api.fetch_runs(client(github, retries=2), "acme/erp", SINCE)
    assert len(github.calls("GET", r"/actions/runs$")) == 3  # the call and its two retries, then give up
    assert rest_api.retry_after(info.value) is None  # nothing to wait for: the caller's own backoff decides
    assert "500" in rest_api.describe_error(info.value)


def test_a_failing_jobs_page_fails_the_whole_fetch(github):
    """Half a run list is never returned as if it were complete: the caller stores nothing."""
    for _ in range(3):
        github.add_run("acme/erp", jobs=[{"name": "t"}])
    github.fail_next(10, status=502, path_re=r"/jobs$")
    with pytest.raises(rest_api.TRANSIENT_ERRORS):
        rest_api.fetch_runs(client(github, retries=1), "acme/erp", SINCE)


def test_a_hanging_api_times_out_and_is_retried_within_bounds(github):
    github.add_run("acme/erp")
    # the first answer comes too late (whatever it says: the client has given up on it)
    github.fail_next(1, status=200, path_re=r"/actions/runs$", delay=4, off_contract=True)
    started = datetime.utcnow()
    fetched = rest_api.fetch_runs(rest_api.connect(github.url, "test-token", timeout=1, retries=2), "acme/erp", SINCE)
    assert len(fetched) == 1, "the retry after the timeout got the real answer"
    assert (datetime.utcnow() - started).total_seconds() < 4

    github.fail_next(5, status=200, path_re=r"/actions/runs$", delay=4, off_contract=True)
    started = datetime.utcnow()
    with pytest.raises(rest_api.TRANSIENT_ERRORS) as info:
        rest_api.fetch_runs(rest_api.connect(github.url, "test-token", timeout=1, retries=1), "acme/erp", SINCE)
    assert (datetime.utcnow() - started).total_seconds() < 4, "a hanging GitHub never holds a cron"
    assert "test-token" not in rest_api.describe_error(info.value)


def test_primary_rate_limit_exhausted_raises_at_once_with_the_reset_time(github):
    github.add_run("acme/erp")
    reset = int(datetime.now().timestamp()) + 600
    github.fail_next(
        1,
        status=403,
        headers={"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        body={"message": "API rate limit exceeded for user ID 1."},
        path_re=r"/actions/runs$",
    )
    started = datetime.utcnow()
    with pytest.raises(rest_api.TRANSIENT_ERRORS) as info:
        rest_api.fetch_runs(client(github, retries=3), "acme/erp", SINCE)
    assert (datetime.utcnow() - started).total_seconds() < 5
    assert len(github.calls("GET", r"/actions/runs$")) == 1, "no call is spent while the limit is exhausted"
    assert 590 <= rest_api.retry_after(info.value) <= 600
    # once the window resets the same call goes through
    assert len(rest_api.fetch_runs(client(github, retries=3), "acme/erp", SINCE)) == 1


def test_a_failed_redelivery_request_is_not_repeated_blindly(github):
    """POST is not idempotent: a 502 on ``.../attempts`` raises for the caller instead of re-posting."""
    attempt = next(a for a in delivery_attempts(github) if a.guid == "lost-guid")
    github.fail_next(5, status=502, path_re=r"/attempts$")
    with pytest.raises(rest_api.TRANSIENT_ERRORS):
        rest_api.redeliver(client(github, retries=3), "acme/erp", 11, attempt.delivery_id)
    assert len(github.calls("POST", r"/attempts$")) == 1


def test_every_request_pins_the_api_version_and_media_type(github):
    """GitHub's REST docs: send ``X-GitHub-Api-Version`` and ``Accept: application/vnd.github+json``."""
    github.add_run("acme/erp", jobs=[{"name": "test"}])
    rest_api.fetch_runs(client(github), "acme/erp", SINCE)
    rest_api.connect(github.url, "test-token", timeout=5).get_repo("acme/erp")  # PyGithub's own calls too
    github.token = None  # a public repository: no token needed
    rest_api.connect(github.url, None, timeout=5).get_repo("acme/erp")  # and without one
    calls = github.calls()
    assert len(calls) >= 4
    for call in calls:
        assert call.headers.get("x-github-api-version") == "2022-11-28", call.path
        assert call.headers.get("accept") == "application/vnd.github+json", call.path
    assert "authorization" not in calls[-1].headers


def test_an_organization_hooks_log_is_read_under_the_organization(github):
    """An organization hook's deliveries are at /orgs/{org}/hooks/{id}/deliveries, each naming its repository."""
    now = datetime.utcnow()
    github.add_repo("acme/erp")
    github.add_delivery("acme/erp", 77, "erp-guid", "push", b"{}", {}, 502, now, organization_hook=True)
    github.add_delivery("acme/web", 77, "web-guid", "push", b"{}", {}, 502, now, organization_hook=True)
    with pytest.raises(rest_api.GithubException) as info:
        rest_api.list_hook_deliveries(client(github), "acme/erp", 77, now - timedelta(hours=1))
    assert info.value.status == 404, "an organization's hook is not one of its repositories' hooks"
    attempts, complete = rest_api.list_hook_deliveries(
        client(github), "acme/erp", 77, now - timedelta(hours=1), organization="acme"
    )
    assert complete and {a.guid for a in attempts} == {"erp-guid", "web-guid"}
    erp_id = rest_api.repository_github_id(client(github), "acme/erp")
    assert [a.guid for a in attempts if a.repository_id == erp_id] == ["erp-guid"]
    rest_api.redeliver(client(github), "acme/erp", 77, attempts[0].delivery_id, organization="acme")
    assert github.calls("POST", r"^/orgs/acme/hooks/77/deliveries/\d+/attempts$")
