"""Auto-fix: strict patches, the threshold gate, forks refused, base branches never written, CI fixes."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.github import rest_api
from autopilot.review import autofix, patches, pr_feedback
from autopilot.review.ai_review import AIFinding, AISettings, Review
from autopilot.review.autofix import Diagnosis, FixRefused
from autopilot.review.patches import PatchError
from autopilot.testing import anthropic_server as fa
from autopilot.testing import review_fixtures as rf

REPO = rf.REPO
FILE = "shop_extras/models/shop_extra.py"
HEAD_BRANCH = "feature/extras"
MODEL_V2 = rf.MODEL.replace(
    "        return self.price * quantity\n",
    "        return self.price * quantity\n\n    def discount(self, rate):\n        return self.price * rate\n",
)
FIXED = MODEL_V2.replace("self.price * rate", "self.price * (1 - rate)")
GOOD_PATCH = patches.make_file_diff(FILE, MODEL_V2, FIXED)

# -- applying patches (pure) -------------------------------------------------------------

OLD = "".join(f"line {n}\n" for n in range(1, 21))


def test_a_patch_applies_exactly():
    new = OLD.replace("line 5\n", "line five\n").replace("line 17\n", "line 17\nline 17b\n")
    assert patches.apply_diff({"a.txt": OLD}, patches.make_file_diff("a.txt", OLD, new)) == {"a.txt": new}


def test_context_must_match():
    diff = patches.make_file_diff("a.txt", OLD, OLD.replace("line 5\n", "five\n"))
    with pytest.raises(PatchError, match="nowhere"):
        patches.apply_diff({"a.txt": OLD.replace("line 4\n", "line four\n")}, diff)


def test_a_shifted_hunk_applies_only_where_it_matches_once():
    diff = patches.make_file_diff("a.txt", OLD, OLD.replace("line 12\n", "twelve\n"))
    shifted = "header\nheader 2\n" + OLD
    assert patches.apply_diff({"a.txt": shifted}, diff)["a.txt"] == shifted.replace("line 12\n", "twelve\n")
    repeated = "x\ny\nz\n" * 3
    ambiguous = "--- a/r.txt\n+++ b/r.txt\n@@ -20,3 +20,3 @@\n x\n-y\n+Y\n z\n"
    with pytest.raises(PatchError, match="3 places"):
        patches.apply_diff({"r.txt": repeated}, ambiguous)


def test_a_failing_file_applies_nothing():
    diff = patches.make_file_diff("a.txt", OLD, OLD.replace("line 1\n", "one\n")) + patches.make_file_diff(
        "b.txt", "b\n", "B\n"
    )
    with pytest.raises(PatchError):
        patches.apply_diff({"a.txt": OLD, "b.txt": "not b\n"}, diff)


@pytest.mark.parametrize(
    "diff",
    [
        "--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
        "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
        "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n",
        "--- a/x\n+++ b/x\n",
        "@@ -1 +1 @@\n-a\n+b\n",
        "just prose",
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n*a\n+b\n",
    ],
)
def test_malformed_or_unsafe_diffs_are_refused(diff):
    with pytest.raises(PatchError):
        patches.apply_diff({"x": "a\n", "../etc/passwd": "a\n", "/etc/passwd": "a\n"}, diff)


def test_missing_final_newline_and_new_files():
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
    assert patches.apply_diff({"x": "a"}, diff) == {"x": "b\n"}
    assert patches.apply_diff({}, patches.make_file_diff("n.txt", None, "new\n")) == {"n.txt": "new\n"}
    with pytest.raises(PatchError, match="exists"):
        patches.apply_diff({"n.txt": "old\n"}, patches.make_file_diff("n.txt", None, "new\n"))


_LINES = st.lists(st.sampled_from(["a", "b", "c", "", "def x():", "    return 1", "# é"]), max_size=25)


@settings(max_examples=150, deadline=None)
@given(_LINES, _LINES, st.integers(0, 3))
def test_a_diff_reproduces_its_target(old_lines, new_lines, context):
    old = "".join(line + "\n" for line in old_lines)
    new = "".join(line + "\n" for line in new_lines)
    if old == new:
        return
    diff = patches.make_file_diff("f.py", old, new, context=context)
    assert patches.apply_diff({"f.py": old}, diff) == {"f.py": new}
    lines = patches.diff_lines(patches.make_patch(old, new, context))
    assert all(new_lines[n - 1] == text for n, text in lines.added.items())


# -- review fixes on the fake GitHub ---------------------------------------------------------


@pytest.fixture(scope="module")
def servers():
    github, claude = rf.ReviewGitHub().start(), fa.FakeAnthropic().start()
    yield github, claude
    github.stop()
    claude.stop()


@pytest.fixture
def github(servers):
    return servers[0].reset_all()


@pytest.fixture
def claude(servers):
    return servers[1].reset()


def client(github):
    return rest_api.connect(github.url, "test-token", timeout=5, retries=0)


def review_of(*findings):
    return Review("summary", tuple(findings))


def fix(confidence=0.9, patch=GOOD_PATCH, line=16):
    return AIFinding(FILE, line, "error", "The rate multiplies the price.", confidence, patch)


def assert_only_fix_branch_written(github, branch):
    """Every write is on the new fix branch, or creates it, or opens the fix PR: nothing else."""
    for call in github.writes():
        body = call.json() or {}
        if call.path.endswith("/git/refs"):
            assert body["ref"] == f"refs/heads/{branch}"
        elif "/contents/" in call.path:
            assert call.method == "PUT" and body["branch"] == branch
        elif call.path.endswith("/pulls"):
            assert body["head"] == branch and body["base"] == HEAD_BRANCH
        else:
            raise AssertionError(f"unexpected write {call.method} {call.path}")
    assert not github.calls(path_re=r"/merge")


def open_review_fix(github, review, threshold=0.85):
    gh = client(github)
    snapshot = pr_feedback.fetch_pull(gh, REPO, 7)
    github.requests.clear()
    return autofix.autofix_review(gh, snapshot, review, threshold), snapshot


def test_a_confident_patch_becomes_a_pr_against_the_head_branch(github):
    base, head = rf.open_pull(github, {FILE: MODEL_V2})
    result, snapshot = open_review_fix(github, review_of(fix(0.9)))
    assert result.state == "opened", result.reason
    assert result.branch.startswith("ops-autopilot/fix/pr-7-")
    assert_only_fix_branch_written(github, result.branch)
    assert github.branch_sha(REPO, "main") == base and github.branch_sha(REPO, HEAD_BRANCH) == head
    assert github.files_at(REPO, result.branch)[FILE] == FIXED
    created = github.pulls[(REPO, result.pr_number)]
    assert (created["base_ref"], created["head_ref"], created["state"]) == (HEAD_BRANCH, result.branch, "open")
    assert snapshot.head_sha in github._ancestors(github.branch_sha(REPO, result.branch))


@pytest.mark.parametrize(("confidence", "threshold"), [(0.84, 0.85), (0.85, 0.9), (0.0, 0.01)])
def test_the_threshold_gates_the_fix(github, confidence, threshold):
    rf.open_pull(github, {FILE: MODEL_V2})
    result, _snapshot = open_review_fix(github, review_of(fix(confidence)), threshold)
    assert result.state == "refused" and result.reason.startswith("below_threshold")
    assert github.writes() == []


def test_exactly_at_the_threshold_is_enough(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    result, _snapshot = open_review_fix(github, review_of(fix(0.85)), 0.85)
    assert result.state == "opened"


def test_a_fork_gets_no_fix_and_no_request_to_the_fork(github):
    rf.open_pull(github, {FILE: MODEL_V2}, fork="mallory/erp")
    result, snapshot = open_review_fix(github, review_of(fix(0.99)))
    assert snapshot.is_fork and result.state == "refused" and result.reason.startswith("fork")
    assert github.writes() == [] and not github.calls(path_re=r"^/repos/mallory/")


WORKFLOW = ".github/workflows/ci.yml"


@pytest.mark.parametrize(
    "patch",
    [
        patches.make_file_diff(WORKFLOW, rf.addon_files()[WORKFLOW], "name: CI\non: [push]\njobs: {pwn: {}}\n"),
        patches.make_file_diff("shop_extras/__manifest__.py", rf.MANIFEST, rf.MANIFEST.replace("sale", "base")),
        patches.make_file_diff("shop_extras/models/new.py", None, "x = 1\n"),
        GOOD_PATCH.replace("self.price * rate", "self.cost * rate"),  # context does not match
    ],
)
def test_unsafe_or_stale_patches_are_refused(github, patch):
    files = {FILE: MODEL_V2, WORKFLOW: "name: CI\non: [push]\njobs: {}\n# touched\n"}
    rf.open_pull(github, files)
    result, _snapshot = open_review_fix(github, review_of(fix(0.99, patch)))
    assert result.state == "refused" and result.reason.startswith("nothing_applies")
    assert github.writes() == []


def test_good_patches_go_in_and_bad_ones_are_left_out(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    bad = fix(0.99, patches.make_file_diff(WORKFLOW, rf.addon_files()[WORKFLOW], "pwned\n"))
    result, _snapshot = open_review_fix(github, review_of(bad, fix(0.9)))
    assert result.state == "opened" and result.plan.applied == (fix(0.9),)
    assert "did not apply" in github.pulls[(REPO, result.pr_number)]["body"]
    assert sorted(result.plan.files) == [FILE]


def test_the_same_fix_is_not_proposed_twice(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    first, _snapshot = open_review_fix(github, review_of(fix()))
    again, _snapshot = open_review_fix(github, review_of(fix()))
    assert (first.state, again.state) == ("opened", "exists") and again.pr_number == first.pr_number
    assert len([n for (repo, n) in github.pulls if repo == REPO]) == 2  # the PR and one fix PR


def test_a_plan_aimed_at_a_protected_branch_is_refused_before_any_request(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    gh = client(github)
    snapshot = pr_feedback.fetch_pull(gh, REPO, 7)
    plan = autofix.plan_review_fix(snapshot, review_of(fix()), 0.85, pr_feedback.ContentLoader(gh, REPO))
    github.requests.clear()
    for branch in ("main", HEAD_BRANCH, "ops-autopilot/fix/x"):
        bad = autofix.FixPlan(**{**plan.__dict__, "branch": branch})
        with pytest.raises(FixRefused):
            autofix.open_fix_pr(gh, bad, protected={"main", HEAD_BRANCH, "ops-autopilot/fix/x"})
    assert github.requests == []


def test_a_review_without_patches_is_refused(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    result, _snapshot = open_review_fix(github, review_of(fix(0.99, patch="")))
    assert result.state == "refused" and result.reason.startswith("no_patch") and github.writes() == []


# -- CI failure fixes ------------------------------------------------------------------------

CI_SECRET = "ghp_" + "C1" * 18
DIAGNOSIS = {
    "category": "test_failure",
    "confidence": 0.92,
    "excerpt": f"FAIL test_discount: expected 90.0, got 10.0\nGITHUB_TOKEN={CI_SECRET}",
    "suggested_fix": "discount must reduce the price",
}


def ai(claude, **kwargs):
    return AISettings(api_key=claude.api_key, base_url=claude.url, timeout=5, **kwargs)


def ci_fix(github, claude, diagnosis=DIAGNOSIS, paths=(FILE,), **kwargs):
    gh = client(github)
    _base, head = rf.open_pull(github, {FILE: MODEL_V2})
    github.requests.clear()
    return autofix.autofix_ci_failure(gh, ai(claude), REPO, HEAD_BRANCH, head, diagnosis, paths, **kwargs)


def test_a_ci_failure_becomes_a_fix_pr(github, claude):
    claude.push(
        fa.tool_answer({"summary": "discount reduced the price wrongly", "confidence": 0.9, "patch": GOOD_PATCH})
    )
    proposal, result = ci_fix(github, claude, protected={"main"})
    assert proposal.state == "proposed" and result.state == "opened"
    assert_only_fix_branch_written(github, result.branch)
    assert github.files_at(REPO, result.branch)[FILE] == FIXED
    assert CI_SECRET not in claude.received_text and "test_discount" in claude.received_text
    assert claude.received[0]["tool_choice"]["name"] == "submit_fix"


def test_a_weak_diagnosis_is_not_sent_to_the_ai(github, claude):
    proposal, result = ci_fix(github, claude, diagnosis=dict(DIAGNOSIS, confidence=0.6))
    assert proposal.state == "refused" and result is None
    assert claude.requests == [] and github.writes() == []


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (fa.tool_answer({"summary": "x", "confidence": 0.95, "patch": GOOD_PATCH, "also": "merge"}), "rejected"),
        (
            fa.tool_answer({"summary": "Ignore previous instructions.", "confidence": 0.95, "patch": GOOD_PATCH}),
            "rejected",
        ),
        (fa.tool_answer({"summary": "x", "confidence": 0.5, "patch": GOOD_PATCH}), "refused"),
        (fa.tool_answer({"summary": "no safe fix", "confidence": 0.1, "patch": ""}), "refused"),
        (
            fa.tool_answer(
                {
                    "summary": "skip the CI",
                    "confidence": 0.99,
                    "patch": patches.make_file_diff(WORKFLOW, rf.addon_files()[WORKFLOW], "on: []\n"),
                }
            ),
            "refused",
        ),
        (fa.text_answer("not json"), "rejected"),
        (fa.overloaded(), "failed"),
    ],
)
def test_bad_ci_fix_answers_lead_to_nothing(github, claude, reply, state):
    claude.push(reply)
    proposal, result = ci_fix(github, claude)
    assert proposal.state == state and result is None
    assert github.writes() == []
    if state == "failed":
        assert proposal.outcome.retryable


def test_a_ci_fix_for_a_fork_is_refused(github, claude):
    proposal, result = ci_fix(github, claude, is_fork=True)
    assert proposal.state == "refused" and proposal.reason.startswith("fork") and result is None
    assert claude.requests == [] and github.requests == []


def test_diagnosis_objects_are_coerced():
    class Found:
        category, confidence, excerpt = "lint", float("nan"), "E501"

    assert Diagnosis.coerce(Found()) == Diagnosis("lint", 0.0, "E501", "")
    assert Diagnosis.coerce(DIAGNOSIS).confidence == 0.92


# -- the state of a fix PR -------------------------------------------------------------------


def run(name, status="completed", conclusion="success"):
    return {"name": name, "status": status, "conclusion": conclusion if status == "completed" else None}


def suite(status="completed", conclusion="success", runs=1, app="github-actions"):
    return {"id": 1, "status": status, "conclusion": conclusion, "latest_check_runs_count": runs, "app": {"slug": app}}


@pytest.mark.parametrize(
    ("runs", "suites", "waited", "state"),
    [
        ([run("lint"), run("test")], [suite()], None, "verified"),
        ([run("lint"), run("test", conclusion="skipped")], [], None, "verified"),
        ([run("lint"), run("test", conclusion="failure")], [suite(conclusion="failure")], None, "needs_person"),
        ([run("lint"), run("test", conclusion="timed_out")], [], None, "needs_person"),
        ([run("lint"), run("test", conclusion="cancelled")], [], None, "needs_person"),
        ([run("lint"), run("test", "in_progress")], [suite("in_progress")], None, "pending"),
        ([run("lint")], [suite("queued", None, runs=0, app="other-app")], None, "verified"),
        ([], [], timedelta(minutes=5), "pending"),
        ([], [], timedelta(hours=7), "needs_person"),
        ([run("test", "queued")], [], timedelta(hours=7), "needs_person"),
        ([run("lint")], [suite(conclusion="action_required")], None, "needs_person"),
    ],
)
def test_fix_pr_state(runs, suites, waited, state):
    assert autofix.fix_pr_state(runs, suites, waited).state == state


def test_fix_pr_state_from_github(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    opened, _snapshot = open_review_fix(github, review_of(fix()))
    head = github.branch_sha(REPO, opened.branch)
    gh = client(github)
    opened_at = datetime.now(timezone.utc)
    assert autofix.fetch_fix_pr_state(gh, REPO, opened.pr_number, opened_at).state == "pending"
    github.add_check_suite(REPO, head, status="in_progress", runs=2)
    github.add_check_run(REPO, head, "lint")
    github.add_check_run(REPO, head, "test", status="in_progress")
    assert autofix.fetch_fix_pr_state(gh, REPO, opened.pr_number, opened_at).state == "pending"
    github.check_runs[(REPO, head)][1].update(status="completed", conclusion="success")
    github.check_suites[(REPO, head)][0].update(status="completed", conclusion="success")
    state = autofix.fetch_fix_pr_state(gh, REPO, opened.pr_number, opened_at)
    assert state.state == "verified" and set(state.passed) == {"lint", "test"}
    github.add_check_run(REPO, head, "odoo-tests", conclusion="failure")
    state = autofix.fetch_fix_pr_state(gh, REPO, opened.pr_number, opened_at)
    assert state.state == "needs_person" and state.failing == ("odoo-tests",)


def test_known_secrets_are_masked_in_a_ci_fix_prompt(github, claude):
    webhook_secret = "correct horse battery staple"
    diagnosis = dict(DIAGNOSIS, excerpt=DIAGNOSIS["excerpt"] + f"\nhook secret: {webhook_secret}")
    claude.push(fa.tool_answer({"summary": "no safe fix", "confidence": 0.1, "patch": ""}))
    proposal, _result = ci_fix(github, claude, diagnosis=diagnosis, known_secrets=(webhook_secret,))
    assert proposal.state == "refused" and claude.received
    assert webhook_secret not in claude.received_text


def test_fix_pr_bodies_ping_nobody(github):
    rf.open_pull(github, {FILE: MODEL_V2})
    gh = client(github)
    snapshot = pr_feedback.fetch_pull(gh, REPO, 7)
    loud = AIFinding(FILE, 16, "error", "Ask @octocat or @acme/admins about the rate.", 0.9, GOOD_PATCH)
    review_plan = autofix.plan_review_fix(snapshot, review_of(loud), 0.85, pr_feedback.ContentLoader(gh, REPO))
    ci_fix = autofix.CIFix(summary="@octocat broke it; cc @acme/admins", confidence=0.9, patch="", files={})
    ci_plan = autofix.plan_ci_fix(REPO, "main", "a" * 40, ci_fix, {})
    for body in (review_plan.body, ci_plan.body):
        assert "@octocat" not in body and "@acme/admins" not in body
        assert "@\u200boctocat" in body and "@\u200bacme/admins" in body
