"""The four DORA keys on a history whose figures are computed by hand, the bands' thresholds, edge cases."""

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.delivery import dora
from autopilot.delivery.dora import Commit, Deployment, Incident

START = datetime(2026, 11, 23)
END = datetime(2026, 11, 30)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute)


def deploy(id_, created, state="success", ok=None, failed=None, env="production", **kwargs):
    return Deployment(
        id=id_, environment=env, created_at=created, state=state, succeeded_at=ok, failed_at=failed, **kwargs
    )


def history():
    """The week of 23-30 November 2026 on acme/shop, and one deploy the week before.

    Production:
    - D1 created 23rd 10:00, success 10:05; PR 1 (commits 22nd 10:05 and 12:05), commit c3 (no PR, 23rd 08:05)
    - D2 created 24th 09:00, success 09:10; PR 2 (24th 07:10); incident I1 linked, opened 12:00, resolved 13:30
    - D3 created 25th 14:00, failure status 14:20; PR 3 (25th 10:00)
    - D4 rollback of D3, created 25th 14:30, success 14:40
    - D5 created 26th 09:00, success 09:15; PR 3 again (25th 10:00, 26th 08:00)
    - D6 created 27th 16:00, success 16:05; commit c7 authored 27th 16:30 (after the deploy: clock skew)
    - D7 created 28th 10:00, still in progress
    - I2 on a production target, opened 28th 20:00, never resolved; I3 a false positive (27th 01:00-01:05)
      linked to D5 (it blames nothing and restores nothing)
    Staging: S1 created 24th 08:00, success 08:05 (PR 2). The week before: P1 created 20th 10:00, success
    10:10, commit c0 authored 18th 10:10.
    """
    deployments = [
        deploy(
            "D1",
            at(23, 10),
            ok=at(23, 10, 5),
            commits=(
                Commit("c1", at(22, 10, 5), (1,)),
                Commit("c2", at(22, 12, 5), (1,)),
                Commit("c3", at(23, 8, 5)),
            ),
        ),
        deploy("D2", at(24, 9), ok=at(24, 9, 10), commits=(Commit("c4", at(24, 7, 10), (2,)),)),
        deploy("D3", at(25, 14), state="failure", failed=at(25, 14, 20), commits=(Commit("c5", at(25, 10), (3,)),)),
        deploy("D4", at(25, 14, 30), ok=at(25, 14, 40), is_rollback=True, rollback_of="D3"),
        deploy(
            "D5",
            at(26, 9),
            ok=at(26, 9, 15),
            commits=(Commit("c5", at(25, 10), (3,)), Commit("c6", at(26, 8), (3,))),
        ),
        deploy("D6", at(27, 16), ok=at(27, 16, 5), commits=(Commit("c7", at(27, 16, 30)),)),
        deploy("D7", at(28, 10), state="in_progress"),
        deploy("S1", at(24, 8), ok=at(24, 8, 5), env="staging", commits=(Commit("c4", at(24, 7, 10), (2,)),)),
        deploy("P1", at(20, 10), ok=at(20, 10, 10), commits=(Commit("c0", at(18, 10, 10)),)),
    ]
    incidents = [
        Incident("I1", at(24, 12), at(24, 13, 30), deployment="D2"),
        Incident("I2", at(28, 20), None, environment="production"),
        Incident("I3", at(27, 1), at(27, 1, 5), deployment="D5", false_positive=True),
    ]
    return deployments, incidents


def keys(results):
    return {result.key: result for result in results}


def test_the_constructed_week_gives_the_figures_computed_by_hand():
    """By hand (production only; D4 is a rollback, D7 unfinished, S1 staging):

    - frequency: D1, D2, D5, D6 succeeded in the 7 days: 4 / 7 = 0.571 a day = 4.0 a week -> high
      (at least weekly, not daily); Four Keys: one week with deploys on 4 days (>= 3) -> "daily".
    - lead time: PR 1 10:05 22nd -> 10:05 23rd = 86,400 s; c3 08:05 -> 10:05 = 7,200 s; PR 2 07:10 -> 09:10
      = 7,200 s; PR 3 10:00 25th -> 09:15 26th = 83,700 s (D3 failed, so D5 brought it); c7 is after D6:
      ignored. Sorted 7,200 7,200 83,700 86,400: median (7,200 + 83,700) / 2 = 45,450 s (12 h 38 min) ->
      elite (< 1 day); p90 at rank 2.7: 83,700 + 0.7 x 2,700 = 85,590 s.
    - change failure rate: D1 D2 D3 D5 D6 = 5 deploys; D2 (incident I1 3 h after), D3 (failure status 20 min
      after, and rolled back) failed: 2 / 5 = 40 % -> low (> 15 %).
    - time to restore: I1 12:00 -> 13:30 = 5,400 s; D3 failed 14:20 -> D4 succeeded 14:40 = 1,200 s; I2 not
      restored; I3 false positive. Median (1,200 + 5,400) / 2 = 3,300 s (55 min) -> elite (< 1 hour).
    - the week before: P1 only: 1 deploy = exactly once a week -> high; lead time 48 h; 0 / 1 failed; no
      restore.
    """
    deployments, incidents = history()
    result = keys(dora.report(deployments, incidents, START, END))

    frequency = result["deployment_frequency"]
    assert frequency.value == pytest.approx(4 / 7)
    assert (frequency.display, frequency.band, frequency.sample_size) == ("4.0 / week", "high", 4)
    assert frequency.details["four_keys"] == "daily"
    assert (frequency.previous_display, frequency.previous_band) == ("1.0 / week", "high")
    assert (frequency.trend, frequency.improved) == ("up", True)

    lead = result["lead_time"]
    assert lead.value == pytest.approx(45450)
    assert lead.details["p90"] == pytest.approx(85590)
    assert (lead.band, lead.sample_size, lead.details["ignored"]) == ("elite", 4, 1)
    assert lead.display == "12 h 38 min"
    assert lead.previous == pytest.approx(48 * 3600)
    assert (lead.trend, lead.improved) == ("down", True)

    cfr = result["change_failure_rate"]
    assert (cfr.value, cfr.band, cfr.sample_size, cfr.details["failed"]) == (40.0, "low", 5, 2)
    assert (cfr.previous, cfr.trend, cfr.improved) == (0.0, "up", False)

    restore = result["time_to_restore"]
    assert (restore.value, restore.band, restore.sample_size) == (3300, "elite", 2)
    assert restore.details["unrestored"] == 1
    assert (restore.previous, restore.trend) == (None, None)


def test_staging_is_measured_on_its_own():
    deployments, incidents = history()
    result = keys(dora.report(deployments, incidents, START, END, environment="staging"))
    assert result["deployment_frequency"].sample_size == 1
    assert result["lead_time"].value == pytest.approx(3300)  # PR 2: 07:10 -> 08:05
    assert result["change_failure_rate"].value == 0.0
    assert result["time_to_restore"].value is None


def test_input_order_does_not_matter():
    deployments, incidents = history()
    expected = [r.as_dict() for r in dora.report(deployments, incidents, START, END)]
    shuffled = deployments[:]
    random.Random(7).shuffle(shuffled)
    assert [r.as_dict() for r in dora.report(shuffled, incidents[::-1], START, END)] == expected


def test_failure_window_decides_what_is_blamed():
    deployments = [deploy("A", at(23, 10), ok=at(23, 10, 5))]
    late = [Incident("I", at(24, 10, 1), at(24, 11), deployment="A")]  # 24 h 01 min after
    assert dora.failed_deploys(deployments, late, START, END)[0] == []
    blamed, _ = dora.failed_deploys(deployments, late, START, END, window=timedelta(hours=25))
    assert [d.id for d in blamed] == ["A"]


def test_a_rollback_without_a_known_target_blames_the_deploy_before_it():
    deployments = [
        deploy("A", at(23, 10), ok=at(23, 10, 5)),
        deploy("B", at(23, 12), ok=at(23, 12, 5)),
        deploy("R", at(23, 13), ok=at(23, 13, 5), is_rollback=True),
        deploy("C", at(23, 10), ok=at(23, 10, 5), repository="other/repo"),
    ]
    failed, attempts = dora.failed_deploys(deployments, [], START, END)
    assert [d.id for d in failed] == ["B"]
    assert len(attempts) == 3


# --- bands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("deployment_frequency", 1.0, "elite"),
        ("deployment_frequency", 0.99, "high"),
        ("deployment_frequency", 1 / 7, "high"),
        ("deployment_frequency", 0.14, "medium"),
        ("deployment_frequency", 24 / 730, "medium"),
        ("deployment_frequency", 0.03, "low"),
        ("lead_time", 24 * 3600 - 1, "elite"),
        ("lead_time", 24 * 3600, "high"),
        ("lead_time", 7 * 24 * 3600, "medium"),
        ("lead_time", 730 * 3600, "low"),
        ("change_failure_rate", 5.0, "elite"),
        ("change_failure_rate", 5.1, "high"),
        ("change_failure_rate", 15.0, "medium"),
        ("change_failure_rate", 15.01, "low"),
        ("time_to_restore", 3599, "elite"),
        ("time_to_restore", 3600, "high"),
        ("time_to_restore", 6 * 24 * 3600, "medium"),
        ("time_to_restore", 7 * 24 * 3600, "low"),
        ("time_to_restore", None, None),
    ],
)
def test_bands_at_their_thresholds(key, value, expected):
    assert dora.band(key, value) == expected


def test_one_band_table_names_its_source():
    assert set(dora.BAND_TABLE) == set(dora.KEYS) == set(dora.KEY_ORDER)
    assert "2023" in dora.BAND_SOURCE and "State of DevOps" in dora.BAND_SOURCE
    for _comparison, thresholds in dora.BAND_TABLE.values():
        assert [name for name, _value in thresholds] == ["elite", "high", "medium"]


# --- edges ------------------------------------------------------------------------------------


def test_no_deploys_is_no_data_and_no_band():
    result = keys(dora.report([], [], START, END))
    assert all(r.band is None and r.previous_band is None for r in result.values())
    assert result["deployment_frequency"].value == 0.0  # zero deploys is a figure, not a band
    assert result["deployment_frequency"].trend == "flat"  # 0 then 0
    assert result["deployment_frequency"].display == "0.0 / week"
    for key in ("lead_time", "change_failure_rate", "time_to_restore"):
        assert result[key].value is None and result[key].display == "no data"
        assert result[key].trend is None


def test_a_single_deploy_without_commits():
    result = keys(dora.report([deploy("A", at(23, 10), ok=at(23, 10, 5))], [], START, END))
    assert result["deployment_frequency"].sample_size == 1
    assert result["deployment_frequency"].details["four_keys"] == "weekly"
    assert result["lead_time"].value is None and result["lead_time"].sample_size == 0
    assert result["change_failure_rate"].value == 0.0 and result["change_failure_rate"].band == "elite"
    assert result["time_to_restore"].value is None


def test_incidents_never_resolved_are_counted_apart():
    incidents = [Incident(f"I{n}", at(24, n), None, environment="prod") for n in range(3)]
    restore = keys(dora.report([], incidents, START, END))["time_to_restore"]
    assert (restore.value, restore.band, restore.details["unrestored"]) == (None, None, 3)


def test_a_failed_deploy_never_followed_by_a_success_is_not_restored():
    failing = [deploy("A", at(23, 10), state="failure", failed=at(23, 10, 5))]
    restore = keys(dora.report(failing, [], START, END))["time_to_restore"]
    assert (restore.value, restore.details["unrestored"]) == (None, 1)


def test_a_deploy_retried_to_success_restores_itself():
    retried = [deploy("A", at(23, 10), failed=at(23, 10, 5), ok=at(23, 10, 25))]
    assert dora.restore_times(retried, [], START, END) == ([1200.0], 0)


def test_incidents_of_no_environment_are_not_delivery_incidents():
    assert dora.restore_times([], [Incident("I", at(24, 1), at(24, 2))], START, END) == ([], 0)


def test_a_change_counts_once_at_its_first_successful_deploy():
    commit = Commit("c", at(23, 1))
    deployments = [
        deploy("A", at(23, 2), ok=at(23, 3), commits=(commit,)),
        deploy("B", at(24, 2), ok=at(24, 3), commits=(commit,)),  # after a rollback, compared again
    ]
    assert dora.lead_times(deployments, START, END) == ([7200.0], 0)


# --- statistics -------------------------------------------------------------------------------


def test_percentile_interpolates_like_percentile_cont():
    assert dora.percentile([], 0.5) is None
    assert dora.percentile([5], 0.9) == 5
    assert dora.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert dora.percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46)


@pytest.mark.parametrize(
    ("deploy_days", "days", "expected"),
    [
        ([0, 1, 2, 7, 8, 9], 14, "daily"),
        ([0, 1, 7], 14, "weekly"),
        ([0, 7, 8, 9, 10], 28, "monthly"),  # 2 of 4 weeks deployed: median week 0.5
        ([0, 28], 56, "monthly"),  # each 4-week month has one deployed week
        ([0], 56, "yearly"),  # the second month has none: the median week's month is empty
        ([], 7, "yearly"),
        ([0], 0, None),
    ],
)
def test_four_keys_frequency(deploy_days, days, expected):
    assert dora.four_keys_frequency(deploy_days, days) == expected


moments = st.integers(min_value=0, max_value=14 * 24 * 60).map(lambda minutes: START - timedelta(days=7) + minutes * M)


@st.composite
def histories(draw):
    deployments = []
    for index in range(draw(st.integers(0, 12))):
        created = draw(moments)
        outcome = draw(st.sampled_from(["success", "failure", "in_progress", "success_then_failure"]))
        ok = created + 5 * M if outcome.startswith("success") else None
        failed = created + draw(st.integers(1, 3000)) * M if "failure" in outcome else None
        commits = tuple(
            Commit(f"c{index}-{n}", created - draw(st.integers(-60, 5000)) * M, draw(st.sampled_from([(), (n,)])))
            for n in range(draw(st.integers(0, 3)))
        )
        state = "in_progress" if outcome == "in_progress" else ("failure" if failed else "success")
        deployments.append(
            Deployment(f"D{index}", "production", created, state, succeeded_at=ok, failed_at=failed, commits=commits)
        )
    incidents = [
        Incident(
            f"I{n}",
            draw(moments),
            None if draw(st.booleans()) else draw(moments) + 10 * M,
            deployment=draw(st.sampled_from([None, *[d.id for d in deployments]])),
            environment="production",
        )
        for n in range(draw(st.integers(0, 4)))
    ]
    return deployments, incidents


@settings(max_examples=150, deadline=None)
@given(histories())
def test_properties_of_any_history(data):
    deployments, incidents = data
    current = dora.aggregate(deployments, incidents, START, END)
    cfr = current["change_failure_rate"]
    assert 0 <= cfr["failed"] <= cfr["deploys"]
    lead = current["lead_time"]
    if lead["changes"]:
        assert 0 < lead["median"] <= lead["p90"]
    restore = current["time_to_restore"]
    if restore["restored"]:
        assert restore["median"] >= 0
    for result in dora.evaluate(current):
        assert (result.value is None) == (result.display == "no data")
        assert result.band in (None, *dora.BANDS)
    # a longer failure window never makes fewer failures
    wider = dora.aggregate(deployments, incidents, START, END, window=timedelta(days=3))
    assert wider["change_failure_rate"]["failed"] >= cfr["failed"]
