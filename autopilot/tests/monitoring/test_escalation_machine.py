"""The escalation ladder driven the way the escalation cron drives it, as a state machine.

Hypothesis plays an incident's life: time passes by irregular cron passes,
the heal fails, severity rises, someone acknowledges. Each cron pass takes
every step that is due, as ``ops.incident`` does; the invariants are what an
on-call team relies on whatever the order of those events.
"""

from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from autopilot.monitoring import escalation
from autopilot.monitoring.escalation import LADDER, MAX_STEP, next_step
from autopilot.testing.webhook_fuzz import examples

OPENED = datetime(2026, 3, 2, 3, 0)


def rank(severity):
    return escalation.SEVERITIES.index(severity)


class EscalationLadder(RuleBasedStateMachine):
    @precondition(lambda self: not hasattr(self, "taken"))
    @rule(
        severity=st.sampled_from(escalation.SEVERITIES),
        can_heal=st.booleans(),
        github=st.integers(0, 60),
        on_call=st.integers(0, 60),
        page=st.integers(0, 60),
    )
    def open_incident(self, severity, can_heal, github, on_call, page):
        self.severity = severity
        self.can_heal = can_heal
        self.delays = {"auto_heal": 0, "github_issue": github * 60, "on_call": on_call * 60, "page": page * 60}
        self.now = OPENED
        self.current = None
        self.failed = False
        self.acknowledged = False
        self.acknowledged_at = None
        self.failed_at = None
        self.taken = []  # (step, at, severity at that moment)
        self.last_pass = None  # (at, severity, acknowledged) of the latest cron pass

    def opened(self):
        return hasattr(self, "taken")

    @precondition(opened)
    @rule(minutes=st.integers(0, 45))
    def time_passes_and_the_cron_runs(self, minutes):
        self.now += timedelta(minutes=minutes)
        for _ in range(len(LADDER) + 1):  # one pass climbs every step that is due
            step, due = next_step(
                self.current,
                self.severity,
                OPENED,
                self.now,
                self.failed,
                self.acknowledged,
                self.delays,
                can_heal=self.can_heal,
            )
            if step is None or due > self.now:
                break
            self.taken.append((step, self.now, self.severity))
            self.current = step
        self.last_pass = (self.now, self.severity, self.acknowledged)

    @precondition(lambda self: self.opened() and not self.failed and self.current == "auto_heal")
    @rule()
    def the_heal_fails(self):
        self.failed, self.failed_at = True, self.now

    @precondition(lambda self: self.opened() and self.severity != "critical")
    @rule(data=st.data())
    def severity_rises(self, data):
        self.severity = data.draw(st.sampled_from(escalation.SEVERITIES[rank(self.severity) + 1 :]))

    @precondition(lambda self: self.opened() and not self.acknowledged)
    @rule()
    def someone_acknowledges(self):
        self.acknowledged, self.acknowledged_at = True, self.now

    @invariant()
    def steps_climb_in_order_each_once(self):
        if self.opened():
            names = [step for step, _at, _severity in self.taken]
            assert names == sorted(set(names), key=LADDER.index)
            expected_first = "auto_heal" if self.can_heal else "github_issue"
            assert not names or names[0] == expected_first
            assert all(LADDER.index(b) == LADDER.index(a) + 1 for a, b in pairwise(names))

    @invariant()
    def severity_caps_each_step(self):
        if self.opened():
            for step, _at, severity in self.taken:
                assert LADDER.index(step) <= LADDER.index(MAX_STEP[severity])
                assert step != "page" or severity == "critical", "only critical incidents page"

    @invariant()
    def nothing_after_acknowledgement(self):
        if self.opened() and self.acknowledged:
            assert all(at <= self.acknowledged_at for _step, at, _severity in self.taken)

    @invariant()
    def no_step_before_its_time(self):
        if not self.opened():
            return
        for step, at, severity in self.taken:
            planned = OPENED + timedelta(seconds=sum(self.delays[name] for name in LADDER[: LADDER.index(step) + 1]))
            if severity == "critical":
                planned = min(planned, OPENED + timedelta(seconds=escalation.CRITICAL_MAX_WAIT))
            heal_failed = (self.failed_at is not None and self.failed_at <= at) or not self.can_heal
            shortcut = heal_failed and (severity == "critical" or step == "github_issue")
            assert shortcut or at >= planned, f"{step} taken at {at}, planned for {planned}"

    @invariant()
    def a_critical_incident_is_not_left_waiting(self):
        """A pass 5 minutes or more after opening, on a critical and unacknowledged incident, pages."""
        if not self.opened() or self.last_pass is None:
            return
        at, severity, acknowledged = self.last_pass
        late = at >= OPENED + timedelta(seconds=escalation.CRITICAL_MAX_WAIT)
        if severity == "critical" and not acknowledged and late:
            assert self.current == "page"


EscalationLadder.TestCase.settings = settings(max_examples=examples(400), stateful_step_count=25, deadline=None)
TestEscalationLadder = EscalationLadder.TestCase
