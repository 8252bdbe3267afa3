import itertools
from collections import namedtuple
from datetime import datetime, timedelta

import pytest

from autopilot.common.workflows import workflow_matches
from autopilot.delivery import deployments as d

T0 = datetime(2026, 11, 2, 9, 0)


def replay(statuses):
    """Apply ``(state, minute, id)`` statuses in the given order; return the progress."""
    progress = d.Progress()
    for state, minute, status_id in statuses:
        progress, _applied = d.apply_status(progress, state, T0 + timedelta(minutes=minute), status_id)
    return progress


STATUSES = [("queued", 0, 1), ("in_progress", 1, 2), ("success", 5, 3)]


@pytest.mark.parametrize("order", list(itertools.permutations(STATUSES)))
def test_any_delivery_order_ends_in_the_same_state(order):
    progress = replay(order)
    assert progress.state == "success"
    assert progress.succeeded_at == T0 + timedelta(minutes=5)
    assert progress.finished_at == T0 + timedelta(minutes=5)


def test_late_in_progress_is_not_applied_and_redelivery_changes_nothing():
    progress = replay([("success", 5, 3)])
    late, applied = d.apply_status(progress, "in_progress", T0 + timedelta(minutes=1), 2)
    assert not applied and late == progress
    again, applied = d.apply_status(progress, "success", T0 + timedelta(minutes=5), 3)
    assert not applied and again == progress


def test_failure_after_success_moves_state_but_keeps_first_success():
    progress = replay([("in_progress", 1, 2), ("success", 5, 3), ("failure", 9, 4)])
    assert progress.state == "failure"
    assert progress.succeeded_at == T0 + timedelta(minutes=5)
    assert progress.finished_at == T0 + timedelta(minutes=5)


def test_inactive_comes_after_success_and_a_late_success_does_not_undo_it():
    progress = replay([("inactive", 60, 9), ("success", 5, 3)])
    assert progress.state == "inactive"
    assert progress.succeeded_at == T0 + timedelta(minutes=5)


def test_unknown_state_is_never_applied():
    progress = replay([("in_progress", 1, 2)])
    after, applied = d.apply_status(progress, "exploded", T0 + timedelta(minutes=3), 5)
    assert not applied and after == progress
    assert d.known_state("exploded") == d.UNKNOWN


def test_same_second_statuses_are_ordered_by_id():
    progress = replay([("failure", 5, 4), ("success", 5, 3)])
    assert progress.state == "failure"


@pytest.mark.parametrize(
    "status, conclusion, state",
    [
        ("completed", "success", "success"),
        ("completed", "failure", "failure"),
        ("completed", "timed_out", "failure"),
        ("completed", "cancelled", None),
        ("completed", "skipped", None),
        ("in_progress", "", None),
    ],
)
def test_state_of_a_deploying_run(status, conclusion, state):
    assert d.state_of_run(status, conclusion) == state


@pytest.mark.parametrize(
    "name, production, sequence",
    [
        ("production", True, 20),
        ("Production (EU)", True, 20),
        ("prod-eu", True, 20),
        ("live", True, 20),
        ("staging", False, 10),
        ("pre-production", False, 10),
        ("qa", False, 8),
        ("development", False, 5),
        ("github-pages", False, 15),
    ],
)
def test_environment_defaults_from_its_name(name, production, sequence):
    assert d.is_production_name(name) is production
    assert d.default_sequence(name) == sequence


def test_promotion_order_pairs_each_environment_with_the_one_before():
    Env = namedtuple("Env", "name sequence")
    prod, staging, qa = Env("production", 20), Env("staging", 10), Env("qa", 8)
    assert d.promotion_order([prod, staging, qa]) == [(qa, None), (staging, qa), (prod, staging)]


def deployed(ref, sha, state, minute):
    return d.Deployed(ref, sha, state, T0 + timedelta(minutes=minute), succeeded=state in ("success", "inactive"))


def test_redeploying_an_older_commit_after_a_failure_is_a_rollback():
    history = [deployed(1, "a", "success", 0), deployed(2, "b", "success", 10), deployed(3, "c", "failure", 20)]
    verdict = d.detect_rollback("b", history)
    assert verdict.is_rollback and verdict.rollback_of == 3


def test_older_commit_without_a_failure_before_is_not_a_rollback():
    history = [deployed(1, "a", "success", 0), deployed(2, "b", "success", 10)]
    assert not d.detect_rollback("a", history).is_rollback


def test_retrying_the_failed_commit_is_not_a_rollback():
    history = [deployed(1, "a", "success", 0), deployed(2, "b", "failure", 10)]
    assert not d.detect_rollback("b", history).is_rollback


def test_new_commit_after_a_failure_is_a_fix_forward_not_a_rollback():
    history = [deployed(1, "a", "success", 0), deployed(2, "b", "failure", 10)]
    assert not d.detect_rollback("c", history).is_rollback


def test_rollback_workflow_makes_a_rollback_of_the_last_failure():
    history = [deployed(1, "a", "success", 0), deployed(2, "b", "error", 10), deployed(3, "c", "success", 20)]
    verdict = d.detect_rollback("a", history, by_rollback_workflow=True)
    assert verdict.is_rollback and verdict.rollback_of == 2
    assert d.detect_rollback("a", [], by_rollback_workflow=True) == d.RollbackVerdict(
        True, None, "made by the rollback workflow"
    )


def test_waiting_commits_are_those_staging_deployed_after_production_s_commit():
    staging = [
        d.Brought("a", "done", ("a1", "a")),
        d.Brought("b", "done", ("b1", "b")),
        d.Brought("c", "done", ("c",)),
    ]
    assert d.waiting_to_promote(staging, "a") == d.Waiting(True, ("b1", "b", "c"))
    assert d.waiting_to_promote(staging, "c") == d.Waiting(True)
    assert d.waiting_to_promote([], "c").known


def test_waiting_is_unknown_rather_than_guessed():
    staging = [d.Brought("a", "done", ("a",)), d.Brought("b", "pending")]
    assert not d.waiting_to_promote(staging, "a").known
    assert d.waiting_to_promote(staging, "a").reason == "not compared yet"
    assert not d.waiting_to_promote([d.Brought("b", "done", ("b",))], "z").known
    assert not d.waiting_to_promote([d.Brought("b", "done", ("b",))], "").known
    failed = [d.Brought("a", "done"), d.Brought("b", "failed")]
    assert d.waiting_to_promote(failed, "a").reason == "compare failed"


def test_waiting_after_a_capped_compare_is_at_least_these():
    staging = [d.Brought("a", "done"), d.Brought("b", "too_many", ("x", "b"))]
    waiting = d.waiting_to_promote(staging, "a")
    assert waiting.known and not waiting.complete and waiting.commits == ("x", "b")


def test_waiting_counts_from_the_last_time_staging_ran_production_s_commit():
    staging = [d.Brought("a", "done", ("a",)), d.Brought("b", "done", ("b",)), d.Brought("a", "done", ())]
    staging.append(d.Brought("c", "done", ("b", "c")))
    assert d.waiting_to_promote(staging, "a").commits == ("b", "c")


def run(ref, sha, start, end, deploys=False):
    return d.RunCandidate(
        ref, sha, T0 + timedelta(minutes=start), None if end is None else T0 + timedelta(minutes=end), deploys
    )


def test_pick_run_finds_the_run_of_that_commit_running_at_creation():
    candidates = [run(1, "a", 0, 10), run(2, "b", 0, 10), run(3, "a", 30, 40)]
    assert d.pick_run("a", T0 + timedelta(minutes=5), candidates) == 1
    assert d.pick_run("a", T0 + timedelta(minutes=20), candidates) is None
    assert d.pick_run("a", T0 + timedelta(minutes=5), [run(4, "a", 3, None)]) == 4


def test_pick_run_prefers_deploying_workflows_and_refuses_to_guess():
    created = T0 + timedelta(minutes=5)
    assert d.pick_run("a", created, [run(1, "a", 0, 10), run(2, "a", 1, 9, deploys=True)]) == 2
    assert d.pick_run("a", created, [run(1, "a", 0, 10), run(2, "a", 1, 9)]) is None


def test_workflow_patterns_moved_to_common_still_match():
    assert workflow_matches("deploy-*.yml", "", ".github/workflows/deploy-staging.yml")
    assert workflow_matches("Deploy Production", "deploy production", "")
    assert not workflow_matches("deploy.yml", "CI", ".github/workflows/ci.yml")
