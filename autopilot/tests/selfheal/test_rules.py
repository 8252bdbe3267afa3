import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.selfheal import rules
from autopilot.selfheal.rules import CATEGORIES, RETRYABLE_CATEGORIES, SEED_RULES, Rule, match_rules, validate_pattern

ECOSYSTEM_HINTS = {
    "python": ("pip", "python", "pytest", "poetry", "uv"),
    "node": ("npm", "yarn", "pnpm", "node", "ts"),
    "docker": ("docker", "image", "registry"),
    "actions": ("action", "workflow", "runner", "token"),
    "jvm": ("maven", "gradle", "java", "jvm"),
    "go": ("go",),
    "odoo": ("odoo",),
}


def test_categories_are_the_contract():
    assert CATEGORIES == (
        "dependency_missing",
        "environment_variable",
        "api_contract_mismatch",
        "network_timeout",
        "permission_denied",
        "configuration_error",
        "test_failure",
        "syntax_error",
        "resource_exhaustion",
        "unknown",
    )
    assert set(RETRYABLE_CATEGORIES) == {"network_timeout", "resource_exhaustion"}


def test_seed_rules_are_well_formed():
    names = [rule.name for rule in SEED_RULES]
    assert len(names) == len(set(names))
    for rule in SEED_RULES:
        assert rule.category in CATEGORIES
        assert rule.severity in rules.SEVERITIES
        assert len(rule.suggested_fix) > 30, rule.name
        assert rule.example, rule.name
        assert validate_pattern(rule.pattern) is None, rule.name


@pytest.mark.parametrize("rule", SEED_RULES, ids=[rule.name for rule in SEED_RULES])
def test_every_seed_rule_matches_its_sample_and_wins_with_its_category(rule):
    report = match_rules(rule.example)
    assert rule.name in [m.rule.name for m in report], "the rule does not match its own sample"
    assert report.best.rule.category == rule.category, f"{report.best.rule.name} wins the sample"


def test_seed_rules_cover_the_ecosystems_and_every_category():
    text = " ".join(f"{rule.name} {rule.pattern} {rule.example}".lower() for rule in SEED_RULES)
    for ecosystem, hints in ECOSYSTEM_HINTS.items():
        assert any(hint in text for hint in hints), ecosystem
    covered = {rule.category for rule in SEED_RULES}
    assert covered == set(CATEGORIES)


def test_odoo_knowledge_is_there():
    samples = {
        "2024-01-01 10:00:00,000 1 ERROR odoo odoo.modules.graph: module x_y: Unmet dependencies: base_z": (
            "dependency_missing"
        ),
        "ModuleNotFoundError: No module named 'odoo.addons.queue_job'": "dependency_missing",
        "Some modules are not loaded, some dependencies or manifest may be missing: ['a']": "dependency_missing",
        "ValueError: Element '<xpath expr=\"//field[@name='x']\">' cannot be located in parent view": (
            "api_contract_mismatch"
        ),
        "psycopg2.errors.UndefinedColumn: column sale_order.x_rank does not exist": "api_contract_mismatch",
        "odoo.exceptions.ValidationError: The amount must be positive.": "test_failure",
        'psycopg2.OperationalError: connection to server at "db" (10.0.0.2), port 5432 failed: Connection refused': (
            "network_timeout"
        ),
        "pylint with mandatory checks....Failed\n- hook id: pylint_odoo": "syntax_error",
    }
    for sample, category in samples.items():
        assert match_rules(sample).best.rule.category == category, sample


def test_specific_rule_beats_generic_one():
    text = "FAILED tests/test_a.py::test_b - ModuleNotFoundError: No module named 'yaml'"
    report = match_rules(text)
    assert {m.rule.category for m in report} >= {"test_failure", "dependency_missing"}
    assert report.best.rule.name == "python-module-not-found"


def test_environment_rules_are_case_sensitive_where_it_matters():
    assert match_rules("KeyError: 'API_TOKEN'").best.rule.category == "environment_variable"
    lower = match_rules("KeyError: 'api_token'")
    assert not lower or lower.best.rule.category != "environment_variable"


def test_catastrophic_pattern_is_skipped_and_reported():
    evil = Rule("evil", r"(a+)+$", "unknown", "never", severity="low")
    good = Rule("good", r"needle", "test_failure", "found it")
    text = "a" * 5000 + "b needle"
    report = match_rules(text, [evil, good], timeout_ms=20)
    assert [m.rule.name for m in report] == ["good"]
    assert [(s.rule.name, s.reason) for s in report.skipped] == [("evil", "timeout")]


def test_total_budget_skips_the_remaining_rules():
    evil = [Rule(f"evil{i}", r"(a+)+$", "unknown", "never") for i in range(4)]
    report = match_rules("a" * 5000 + "b", evil, timeout_ms=30, total_timeout_ms=50)
    reasons = [s.detail for s in report.skipped]
    assert len(report.skipped) == 4
    assert any("total matching budget" in reason for reason in reasons)


def test_a_cold_process_matches_the_whole_table():
    """Compiling the table (a CI step's fresh process, a new worker) does not eat the matching budget."""
    rules.compile_pattern.cache_clear()
    report = match_rules("##[error]Failed to CreateArtifact: Artifact storage quota has been hit.")
    assert not report.skipped
    assert [m.rule.name for m in report] == ["quota-exhausted"], "a rule near the end of the table still runs"
    assert SEED_RULES.index(rules.rule_by_name("quota-exhausted")) > len(SEED_RULES) * 3 // 4


def test_invalid_pattern_is_skipped_not_raised():
    broken = Rule("broken", r"(unclosed", "unknown", "never")
    report = match_rules("anything (unclosed", [broken, *SEED_RULES[:3]])
    assert report.skipped[0].rule.name == "broken"
    assert report.skipped[0].reason == "invalid"


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("", "empty"),
        ("(unclosed", "does not compile"),
        ("x*", "empty text"),
        (r"(a+)+$", "too slow"),
        ("a" * 3000, "longer than"),
    ],
)
def test_validate_pattern_explains_what_is_wrong(pattern, fragment):
    assert fragment in validate_pattern(pattern)


def test_validate_pattern_accepts_a_good_pattern():
    assert validate_pattern(r"No module named '?[\w.]+") is None


def test_rule_refuses_unknown_category_or_severity():
    with pytest.raises(ValueError, match="category"):
        Rule("x", "y", "flaky", "z")
    with pytest.raises(ValueError, match="severity"):
        Rule("x", "y", "unknown", "z", severity="urgent")


def test_rule_by_name():
    assert rules.rule_by_name("npm-eresolve").category == "dependency_missing"
    assert rules.rule_by_name("nope") is None


def test_matches_report_line_and_text():
    report = match_rules("first line\nsecond\nnpm ERR! code E404\nnpm ERR! 404 Not Found - GET x")
    best = report.best
    assert best.rule.name == "npm-package-not-found"
    assert best.line == 2
    assert "E404" in best.text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=600))
def test_match_rules_never_raises(text):
    report = match_rules(text)
    assert all(m.rule.category in CATEGORIES for m in report)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a dependency resolution that failed on a connection reset is a network failure (retryable)
        (
            "[ERROR] Failed to execute goal on project core: Could not resolve dependencies for project a:core:jar:1: "
            "Could not transfer artifact a:b:pom:1 from/to central (https://repo.maven.apache.org/maven2): "
            "transfer failed for https://repo.maven.apache.org/maven2/a/b/1/b-1.pom: Connection reset",
            "network_timeout",
        ),
        (
            "warning: spurious network error (1 tries remaining): failed to resolve address for github.com: "
            "Name does not resolve; class=Net (12)\nerror: failed to get `serde` as a dependency of package `x`",
            "network_timeout",
        ),
        ("ssl.SSLError: [SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol", "network_timeout"),
        # a test that fails on an unset variable or a changed API is that cause, not a test failure
        (
            "FAILED tests/test_cfg.py::test_load - KeyError: 'SERVICE_API_KEY'\n1 failed, 3 passed",
            "environment_variable",
        ),
        (
            "E   TypeError: Unexpected keyword arguments passed to pytest.raises: message\n1 failed",
            "api_contract_mismatch",
        ),
        ("c++: internal compiler error: Killed (program cc1plus)\nninja: build stopped", "resource_exhaustion"),
        ("make[2]: *** [Makefile:88: all] Error 137", "resource_exhaustion"),
        (
            "thread 'codec::tests::roundtrip' panicked at src/lib.rs:9:5:\nassertion `left == right` failed",
            "test_failure",
        ),
        ("panic: Log in goroutine after TestSync has completed\ntesting.(*common).logDepth(...)", "test_failure"),
        (
            "2024-01-01 10:00:00,000 1 WARNING db odoo.modules.loading: invalid module names, ignored: sale_x",
            "dependency_missing",
        ),
        ("Dockerfile:7 DL3008 warning: Pin versions in apt get install", "syntax_error"),
        ("./run.sh: line 4:  311 Segmentation fault      (core dumped) ./unit_tests", "unknown"),
        ("Error: The 'app-key' input must be set to a non-empty string.", "environment_variable"),
    ],
)
def test_new_ecosystem_rules_and_cause_over_symptom(text, category):
    assert match_rules(text).best.rule.category == category


def test_every_pattern_is_bounded_and_validates():
    # the knowledge base only ships patterns that the manager form would accept
    slow = [rule.name for rule in SEED_RULES if validate_pattern(rule.pattern, timeout_ms=50.0) is not None]
    assert slow == []
