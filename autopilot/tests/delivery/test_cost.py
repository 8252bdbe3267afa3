"""CI minutes, runner types, rates, minutes lost, incident cost and budgets, with hand-computed figures."""

import pytest

from autopilot.delivery import cost
from autopilot.delivery.cost import Rate


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (None, 0), (-5, 0), (0.4, 1), (1, 1), (59, 1), (60, 1), (60.0000001, 1), (61, 2), (3600, 60), (3601, 61)],
)
def test_each_job_is_rounded_up_to_the_whole_minute(seconds, minutes):
    assert cost.billable_minutes(seconds) == minutes


@pytest.mark.parametrize(
    ("labels", "runner_type", "per_minute"),
    [
        (["ubuntu-latest"], "linux", 0.006),
        (["ubuntu-24.04"], "linux", 0.006),
        (["ubuntu-22.04"], "linux", 0.006),
        ("ubuntu-latest", "linux", 0.006),  # stored as comma-separated text
        (["ubuntu-24.04-arm"], "linux_arm", 0.005),
        (["ubuntu-slim"], "linux_slim", 0.002),
        (["windows-latest"], "windows", 0.010),
        (["windows-2022"], "windows", 0.010),
        (["windows-11-arm"], "windows_arm", 0.010),
        (["macos-14"], "macos", 0.062),
        (["macos-latest"], "macos", 0.062),
        (["macos-15-large"], "macos_l", 0.077),
        (["macos-14-xlarge"], "macos_xl", 0.102),
        (["ubuntu-latest-4-cores"], "linux_4_core", 0.012),
        (["ubuntu-22.04-16core"], "linux_16_core", 0.042),
        (["ubuntu-24.04-32-cores"], "linux_32_core", 0.082),  # not "-2...core"
        (["ubuntu-24.04-64-cores"], "linux_64_core", 0.162),  # not "-4...core"
        (["ubuntu-24.04-arm-8-cores"], "linux_8_core_arm", 0.014),
        (["windows-latest-8-cores"], "windows_8_core", 0.042),
        (["windows-11-arm-16-cores"], "windows_16_core_arm", 0.050),
        (["self-hosted", "linux", "x64"], "self_hosted", 0.0),
        (["Self-Hosted", "ubuntu-latest"], "self_hosted", 0.0),  # case-insensitive, self-hosted wins
        (["gpu-box"], "unknown", None),
        ([], "unknown", None),
        ("", "unknown", None),
    ],
)
def test_runner_type_and_rate_from_labels(labels, runner_type, per_minute):
    assert cost.runner_type(labels) == runner_type
    rate = cost.match_rate(labels)
    assert (rate.per_minute if rate else None) == per_minute


def test_job_cost_hand_computed():
    # 61 s on ubuntu-latest: 2 min x $0.006 = $0.012
    assert cost.job_cost(61, ["ubuntu-latest"]) == cost.JobCost("linux", 2, 0.006, 0.012)
    # 10 min 1 s on macos-14: 11 min x $0.062 = $0.682
    assert cost.job_cost(601, ["macos-14"]) == cost.JobCost("macos", 11, 0.062, 0.682)
    # 45 min on a 4-core larger runner: 45 x $0.012 = $0.54
    assert cost.job_cost(2700, "ubuntu-latest-4-cores").cost == pytest.approx(0.54)
    # self-hosted: GitHub bills nothing
    assert cost.job_cost(3600, ["self-hosted", "linux"]) == cost.JobCost("self_hosted", 0, 0.0, 0.0)
    # an unknown custom label: minutes counted, priced 0 until a manager prices it
    assert cost.job_cost(90, ["my-gpu-runner"]) == cost.JobCost("unknown", 2, 0.0, 0.0)


def test_a_custom_table_first_match_wins():
    rates = (Rate("gpu-*", "gpu", 0.07), Rate("*", "anything", 0.001))
    assert cost.job_cost(120, ["gpu-box"], rates).cost == pytest.approx(0.14)
    assert cost.job_cost(120, ["other"], rates) == cost.JobCost("anything", 2, 0.001, 0.002)
    # the first rate in table order wins even when a later rate matches an earlier label
    assert cost.runner_type(["other", "gpu-a100"], rates) == "gpu"


def test_sum_of_jobs_rounds_each_job_not_the_total():
    # two 10 s jobs bill 1 min each: 2 min, not ceil(20 s) = 1 min
    assert sum(cost.job_cost(10, ["ubuntu-latest"]).billable_minutes for _ in range(2)) == 2


@pytest.mark.parametrize(
    ("attempt", "latest", "outcome", "reason"),
    [
        (1, 2, "success", cost.LOST_RERUN),  # paid for again by attempt 2
        (1, 2, "failure", cost.LOST_RERUN),  # counted once, under the re-run
        (2, 2, "failure", cost.LOST_FAILURE),
        (1, 1, "failure", cost.LOST_FAILURE),
        (2, 2, "success", None),
        (1, 1, "cancelled", None),
        (3, 2, "failure", cost.LOST_FAILURE),  # a job newer than its run's record: latest
    ],
)
def test_lost_reason(attempt, latest, outcome, reason):
    assert cost.lost_reason(attempt, latest, outcome) == reason


def test_rerun_lost_minutes_hand_computed():
    """Attempt 1: build 3 min 10 s (4 min) + test 5 min (failed); attempt 2: build 4 min, test 5 min.

    Lost to the re-run: attempt 1's 4 + 5 = 9 min; lost to failures: 0 (attempt 2 passed).
    """
    jobs = [(190, 1, "success"), (300, 1, "failure"), (240, 2, "success"), (300, 2, "success")]
    lost = {}
    for seconds, attempt, outcome in jobs:
        reason = cost.lost_reason(attempt, 2, outcome)
        if reason:
            lost[reason] = lost.get(reason, 0) + cost.billable_minutes(seconds)
    assert lost == {cost.LOST_RERUN: 9}


def test_incident_cost():
    # 90 min at 120 an hour: 180
    assert cost.incident_cost(90, 120) == 180.0
    assert cost.incident_cost(0, 120) == 0.0
    assert cost.incident_cost(90, 0) == 0.0
    assert cost.incident_cost(None, 120) == 0.0


@pytest.mark.parametrize(
    ("spent", "budget", "state", "percent"),
    [
        (0, 0, cost.BUDGET_NONE, None),
        (50, None, cost.BUDGET_NONE, None),
        (79.99, 100, cost.BUDGET_OK, 80.0),
        (80, 100, cost.BUDGET_WARNING, 80.0),
        (0.1 * 8, 1, cost.BUDGET_WARNING, 80.0),
        (99.99, 100, cost.BUDGET_WARNING, 100.0),
        (100, 100, cost.BUDGET_EXCEEDED, 100.0),
        (250, 100, cost.BUDGET_EXCEEDED, 250.0),
    ],
)
def test_budget_state(spent, budget, state, percent):
    assert cost.budget_state(spent, budget) == state
    assert cost.budget_percent(spent, budget) == percent


def test_float_sums_reach_the_threshold():
    spent = sum([0.1] * 8)  # 0.7999999999999999
    assert spent < 0.8
    assert cost.budget_state(spent, 1) == cost.BUDGET_WARNING
    assert cost.thresholds_to_notify(spent, 1, 0) == [80]


@pytest.mark.parametrize(
    ("spent", "notified", "expected"),
    [
        (50, 0, []),
        (80, 0, [80]),
        (85, 80, []),
        (100, 80, [100]),
        (120, 0, [80, 100]),
        (120, 100, []),
    ],
)
def test_thresholds_notified_once(spent, notified, expected):
    assert cost.thresholds_to_notify(spent, 100, notified) == expected


def test_no_budget_notifies_nothing():
    assert cost.thresholds_to_notify(1000, 0, 0) == []
