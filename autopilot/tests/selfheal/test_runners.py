# ruff: noqa: RUF001 - the runners really print these arrows: their output is copied as it is
"""Test failures of every common runner, and the causes that hide inside a test failure.

Each log is a GitHub Actions job log written for these tests in the runner's
own output format (as its documentation and real runs print it); none of
them is in the training corpus. A test failure must be answered
``test_failure`` with the failing test named in the excerpt; a timeout, a
changed API shape or a missing variable inside a test must be told apart
from a plain assertion, and so must the release seed's three examples.
"""

import pytest

from autopilot.selfheal import diagnosis

SETUP = [
    "Current runner version: '2.317.0'",
    "##[group]Run actions/checkout@v4",
    "with:",
    "  repository: acme/shop",
    "  token: ***",
    "##[endgroup]",
    "Syncing repository: acme/shop",
]


def job_log(command, body, exit_code=1):
    lines = [
        *SETUP,
        f"##[group]Run {command}",
        command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *body,
        f"##[error]Process completed with exit code {exit_code}.",
        "Post job cleanup.",
        "[command]/usr/bin/git version",
        "git version 2.45.2",
        "Cleaning up orphan processes",
    ]
    return "".join(f"2024-06-03T09:{i // 60 % 60:02d}:{i % 60:02d}.{i:07d}Z {line}\n" for i, line in enumerate(lines))


# runner: (command, output, failing test as the excerpt must show it)
RUNNERS = {
    "pytest": (
        "pytest -q",
        [
            "..F....                                                                  [100%]",
            "=================================== FAILURES ===================================",
            "_____________________________ test_total_with_coupon _____________________________",
            "",
            "    def test_total_with_coupon():",
            "        cart = Cart([Item(100)])",
            ">       assert cart.total(coupon='TEN') == 95",
            "E       assert 90.0 == 95",
            "E        +  where 90.0 = <bound method Cart.total of <shop.cart.Cart object at 0x7f1d>>(coupon='TEN')",
            "",
            "tests/test_cart.py:12: AssertionError",
            "=========================== short test summary info ============================",
            "FAILED tests/test_cart.py::test_total_with_coupon - assert 90.0 == 95",
            "1 failed, 6 passed in 0.21s",
        ],
        "test_total_with_coupon",
    ),
    "unittest": (
        "python -m unittest discover -s tests",
        [
            "..F.",
            "======================================================================",
            "FAIL: test_total_with_coupon (test_cart.CartTest.test_total_with_coupon)",
            "----------------------------------------------------------------------",
            "Traceback (most recent call last):",
            '  File "/home/runner/work/shop/shop/tests/test_cart.py", line 12, in test_total_with_coupon',
            "    self.assertEqual(cart.total(coupon='TEN'), 95)",
            "AssertionError: 90.0 != 95",
            "",
            "----------------------------------------------------------------------",
            "Ran 4 tests in 0.003s",
            "",
            "FAILED (failures=1)",
        ],
        "test_total_with_coupon",
    ),
    "maven-surefire": (
        "mvn -B -ntp verify",
        [
            "[INFO] -------------------------------------------------------",
            "[INFO]  T E S T S",
            "[INFO] -------------------------------------------------------",
            "[INFO] Running com.acme.shop.CartTest",
            "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.052 s <<< FAILURE! -- in "
            "com.acme.shop.CartTest",
            "[ERROR] com.acme.shop.CartTest.totalWithCoupon -- Time elapsed: 0.011 s <<< FAILURE!",
            "org.opentest4j.AssertionFailedError: expected: <95> but was: <90>",
            "\tat org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
            "\tat org.junit.jupiter.api.AssertEquals.assertEquals(AssertEquals.java:150)",
            "\tat com.acme.shop.CartTest.totalWithCoupon(CartTest.java:21)",
            "",
            "[INFO] ",
            "[INFO] Results:",
            "[INFO] ",
            "[ERROR] Failures: ",
            "[ERROR]   CartTest.totalWithCoupon:21 expected: <95> but was: <90>",
            "[INFO] ",
            "[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0",
            "[INFO] ",
            "[INFO] ------------------------------------------------------------------------",
            "[INFO] BUILD FAILURE",
            "[INFO] ------------------------------------------------------------------------",
            "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test (default-test) "
            "on project shop: There are test failures.",
            "[ERROR] ",
            "[ERROR] Please refer to /home/runner/work/shop/shop/target/surefire-reports for the individual test "
            "results.",
        ],
        "totalWithCoupon",
    ),
    "gradle": (
        "./gradlew test",
        [
            "> Task :compileJava",
            "> Task :compileTestJava",
            "> Task :test FAILED",
            "",
            "CartTest > totalWithCoupon() FAILED",
            "    org.opentest4j.AssertionFailedError at CartTest.java:21",
            "",
            "12 tests completed, 1 failed",
            "",
            "FAILURE: Build failed with an exception.",
            "",
            "* What went wrong:",
            "Execution failed for task ':test'.",
            "> There were failing tests. See the report at: file:///home/runner/work/shop/shop/build/reports/tests/"
            "test/index.html",
            "",
            "* Try:",
            "> Run with --scan to get full insights.",
            "",
            "BUILD FAILED in 41s",
        ],
        "totalWithCoupon",
    ),
    "phpunit": (
        "vendor/bin/phpunit",
        [
            "PHPUnit 10.5.20 by Sebastian Bergmann and contributors.",
            "",
            "Runtime:       PHP 8.3.7",
            "Configuration: /home/runner/work/shop/shop/phpunit.xml",
            "",
            "..F.                                                                4 / 4 (100%)",
            "",
            "Time: 00:00.012, Memory: 8.00 MB",
            "",
            "There was 1 failure:",
            "",
            "1) Tests\\Unit\\CartTest::testTotalWithCoupon",
            "Failed asserting that 90 is identical to 95.",
            "",
            "/home/runner/work/shop/shop/tests/Unit/CartTest.php:21",
            "",
            "FAILURES!",
            "Tests: 4, Assertions: 6, Failures: 1.",
        ],
        "testTotalWithCoupon",
    ),
    "jest": (
        "npx jest --ci",
        [
            "FAIL src/cart.test.js",
            "  Cart",
            "    ✓ sums items (3 ms)",
            "    ✕ applies the coupon (4 ms)",
            "",
            "  ● Cart › applies the coupon",
            "",
            "    expect(received).toBe(expected) // Object.is equality",
            "",
            "    Expected: 95",
            "    Received: 90",
            "",
            "      10 |   it('applies the coupon', () => {",
            "    > 11 |     expect(total(cart, 'TEN')).toBe(95);",
            "         |                                ^",
            "",
            "      at Object.toBe (src/cart.test.js:11:32)",
            "",
            "Test Suites: 1 failed, 3 passed, 4 total",
            "Tests:       1 failed, 40 passed, 41 total",
            "Snapshots:   0 total",
            "Time:        1.92 s",
            "Ran all test suites.",
        ],
        "applies the coupon",
    ),
    "mocha": (
        "npx mocha",
        [
            "",
            "  Cart",
            "    ✔ sums items",
            "    1) applies the coupon",
            "",
            "",
            "  1 passing (9ms)",
            "  1 failing",
            "",
            "  1) Cart",
            "       applies the coupon:",
            "",
            "      AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:",
            "",
            "90 !== 95",
            "",
            "      + expected - actual",
            "",
            "      -90",
            "      +95",
            "      ",
            "      at Context.<anonymous> (test/cart.spec.js:11:12)",
            "      at process.processImmediate (node:internal/timers:478:21)",
        ],
        "applies the coupon",
    ),
    "jasmine": (
        "npx jasmine",
        [
            "Randomized with seed 41327",
            "Started",
            ".F.",
            "",
            "Failures:",
            "1) Cart applies the coupon",
            "  Message:",
            "    Expected 90 to equal 95.",
            "  Stack:",
            "        at <Jasmine>",
            "        at UserContext.<anonymous> (/home/runner/work/shop/shop/spec/cart.spec.js:11:33)",
            "        at <Jasmine>",
            "",
            "3 specs, 1 failure",
            "Finished in 0.011 seconds",
            "Randomized with seed 41327 (jasmine --random=true --seed=41327)",
        ],
        "applies the coupon",
    ),
    "vitest": (
        "npx vitest run",
        [
            " RUN  v1.6.0 /home/runner/work/shop/shop",
            "",
            " ❯ src/cart.test.ts  (3 tests | 1 failed) 12ms",
            "   ❯ Cart > applies the coupon",
            "     → expected 90 to be 95 // Object.is equality",
            "",
            "⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯",
            "",
            " FAIL  src/cart.test.ts > Cart > applies the coupon",
            "AssertionError: expected 90 to be 95 // Object.is equality",
            "",
            "- Expected",
            "+ Received",
            "",
            "- 95",
            "+ 90",
            "",
            " ❯ src/cart.test.ts:11:32",
            "",
            "⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯",
            "",
            " Test Files  1 failed | 4 passed (5)",
            "      Tests  1 failed | 40 passed (41)",
            "   Start at  09:12:10",
            "   Duration  1.21s",
        ],
        "applies the coupon",
    ),
    "node-test-tap": (
        "node --test --test-reporter=tap",
        [
            "TAP version 13",
            "# Subtest: applies the coupon",
            "not ok 2 - applies the coupon",
            "  ---",
            "  duration_ms: 1.21",
            "  location: '/home/runner/work/shop/shop/test/cart.test.mjs:8:1'",
            "  failureType: 'testCodeFailure'",
            "  error: |-",
            "    Expected values to be strictly equal:",
            "    ",
            "    90 !== 95",
            "    ",
            "  code: 'ERR_ASSERTION'",
            "  name: 'AssertionError'",
            "  ...",
            "1..3",
            "# tests 3",
            "# suites 0",
            "# pass 2",
            "# fail 1",
            "# cancelled 0",
            "# duration_ms 61.4",
        ],
        "applies the coupon",
    ),
    "rspec": (
        "bundle exec rspec",
        [
            "..F.",
            "",
            "Failures:",
            "",
            "  1) Cart#total applies the coupon",
            "     Failure/Error: expect(cart.total(coupon: 'TEN')).to eq(95)",
            "",
            "       expected: 95",
            "            got: 90",
            "",
            "       (compared using ==)",
            "     # ./spec/cart_spec.rb:12:in `block (3 levels) in <top (required)>'",
            "",
            "Finished in 0.01234 seconds (files took 0.21 seconds to load)",
            "4 examples, 1 failure",
            "",
            "Failed examples:",
            "",
            "rspec ./spec/cart_spec.rb:10 # Cart#total applies the coupon",
        ],
        "applies the coupon",
    ),
    "minitest": (
        "bundle exec rake test",
        [
            "Run options: --seed 51234",
            "",
            "# Running:",
            "",
            "..F.",
            "",
            "Finished in 0.004211s, 949.8931 runs/s, 1424.8397 assertions/s.",
            "",
            "  1) Failure:",
            "CartTest#test_total_with_coupon [test/cart_test.rb:12]:",
            "Expected: 95",
            "  Actual: 90",
            "",
            "4 runs, 6 assertions, 1 failures, 0 errors, 0 skips",
            "rake aborted!",
            "Command failed with status (1)",
        ],
        "test_total_with_coupon",
    ),
    "go-test": (
        "go test ./...",
        [
            "ok  \tgithub.com/acme/shop/catalog\t0.012s",
            "--- FAIL: TestTotalWithCoupon (0.00s)",
            "    cart_test.go:21: Total() = 90, want 95",
            "FAIL",
            "FAIL\tgithub.com/acme/shop/cart\t0.009s",
            "FAIL",
        ],
        "TestTotalWithCoupon",
    ),
    "cargo-test": (
        "cargo test --all",
        [
            "   Compiling shop v0.3.1 (/home/runner/work/shop/shop)",
            "    Finished `test` profile [unoptimized + debuginfo] target(s) in 4.12s",
            "     Running unittests src/lib.rs (target/debug/deps/shop-4e1f7c2a9b3d5e6f)",
            "",
            "running 3 tests",
            "test cart::tests::sums_items ... ok",
            "test cart::tests::total_with_coupon ... FAILED",
            "test catalog::tests::lists ... ok",
            "",
            "failures:",
            "",
            "---- cart::tests::total_with_coupon stdout ----",
            "thread 'cart::tests::total_with_coupon' panicked at src/cart.rs:41:9:",
            "assertion `left == right` failed",
            "  left: 90",
            " right: 95",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "",
            "",
            "failures:",
            "    cart::tests::total_with_coupon",
            "",
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "",
            "error: test failed, to rerun pass `--lib`",
        ],
        "total_with_coupon",
    ),
    "dotnet-xunit": (
        "dotnet test --no-build",
        [
            "Test run for /home/runner/work/shop/shop/tests/Shop.Tests/bin/Debug/net8.0/Shop.Tests.dll (.NETCoreApp,"
            "Version=v8.0)",
            "VSTest version 17.10.0 (x64)",
            "",
            "Starting test execution, please wait...",
            "A total of 1 test files matched the specified pattern.",
            "[xUnit.net 00:00:00.41]     Shop.Tests.CartTests.TotalWithCoupon [FAIL]",
            "  Failed Shop.Tests.CartTests.TotalWithCoupon [12 ms]",
            "  Error Message:",
            "   Assert.Equal() Failure: Values differ",
            "Expected: 95",
            "Actual:   90",
            "  Stack Trace:",
            "     at Shop.Tests.CartTests.TotalWithCoupon() in /home/runner/work/shop/shop/tests/Shop.Tests/"
            "CartTests.cs:line 21",
            "",
            "Failed!  - Failed:     1, Passed:    40, Skipped:     0, Total:    41, Duration: 120 ms - Shop.Tests.dll "
            "(net8.0)",
        ],
        "TotalWithCoupon",
    ),
    "dotnet-nunit": (
        "dotnet test",
        [
            "Starting test execution, please wait...",
            "A total of 1 test files matched the specified pattern.",
            "  Failed TotalWithCoupon [18 ms]",
            "  Error Message:",
            "     Expected: 95",
            "  But was:  90",
            "",
            "  Stack Trace:",
            "     at Shop.Tests.CartTests.TotalWithCoupon() in /home/runner/work/shop/shop/tests/CartTests.cs:line 21",
            "",
            "",
            "Failed!  - Failed:     1, Passed:    12, Skipped:     0, Total:    13, Duration: 88 ms - Shop.Tests.dll "
            "(net8.0)",
        ],
        "TotalWithCoupon",
    ),
    "dotnet-mstest": (
        "dotnet test",
        [
            "Starting test execution, please wait...",
            "  Failed TotalWithCoupon [7 ms]",
            "  Error Message:",
            "   Assert.AreEqual failed. Expected:<95>. Actual:<90>. ",
            "  Stack Trace:",
            "     at Shop.Tests.CartTests.TotalWithCoupon() in D:\\a\\shop\\shop\\tests\\CartTests.cs:line 21",
            "",
            "Failed!  - Failed:     1, Passed:     9, Skipped:     0, Total:    10, Duration: 54 ms - Shop.Tests.dll "
            "(net8.0)",
        ],
        "TotalWithCoupon",
    ),
    "exunit": (
        "mix test",
        [
            "Running ExUnit with seed: 512345, max_cases: 4",
            "",
            "..",
            "",
            "  1) test total applies the coupon (Shop.CartTest)",
            "     test/shop/cart_test.exs:12",
            "     Assertion with == failed",
            '     code:  assert Cart.total(cart, "TEN") == 95',
            "     left:  90",
            "     right: 95",
            "     stacktrace:",
            "       test/shop/cart_test.exs:13: (test)",
            "",
            ".",
            "Finished in 0.04 seconds (0.02s async, 0.02s sync)",
            "4 tests, 1 failure",
            "",
            "Randomized with seed 512345",
        ],
        "total applies the coupon",
    ),
    "erlang-common-test": (
        "rebar3 ct",
        [
            "===> Running Common Test suites...",
            "%%% cart_SUITE: ..",
            "%%% cart_SUITE ==> total_with_coupon: FAILED",
            "%%% cart_SUITE ==> {{badmatch,90},",
            ' [{cart_SUITE,total_with_coupon,1,[{file,"test/cart_SUITE.erl"},{line,42}]},',
            '  {test_server,ts_tc,3,[{file,"test_server.erl"},{line,1794}]}]}',
            "",
            "EXPERIMENTAL: Writing retry specification at /home/runner/work/shop/shop/_build/test/logs/retry.spec",
            "              call rebar3 ct with '--retry' to re-run failing cases.",
            "Failed 1 tests. Passed 11 tests.",
            'Results written to "/home/runner/work/shop/shop/_build/test/logs/index.html".',
            "===> Failures occurred running tests: 1",
        ],
        "total_with_coupon",
    ),
    "pester": (
        "Invoke-Pester -CI",
        [
            "Pester v5.5.0",
            "",
            "Starting discovery in 1 files.",
            "Discovery found 4 tests in 41ms.",
            "Running tests.",
            "[-] Get-CartTotal.applies the coupon 45ms (41ms|4ms)",
            " Expected 95, but got 90.",
            " at $total | Should -Be 95, /home/runner/work/shop/shop/tests/Cart.Tests.ps1:12",
            " at <ScriptBlock>, /home/runner/work/shop/shop/tests/Cart.Tests.ps1:12",
            "Tests completed in 312ms",
            "Tests Passed: 3, Failed: 1, Skipped: 0 NotRun: 0",
        ],
        "applies the coupon",
    ),
    "xctest": (
        "swift test",
        [
            "Test Suite 'All tests' started at 2024-06-03 09:12:10.311",
            "Test Suite 'ShopTests.xctest' started at 2024-06-03 09:12:10.312",
            "Test Suite 'CartTests' started at 2024-06-03 09:12:10.312",
            "Test Case '-[ShopTests.CartTests testTotalWithCoupon]' started.",
            "/Users/runner/work/shop/shop/Tests/ShopTests/CartTests.swift:21: error: -[ShopTests.CartTests "
            'testTotalWithCoupon] : XCTAssertEqual failed: ("90") is not equal to ("95")',
            "Test Case '-[ShopTests.CartTests testTotalWithCoupon]' failed (0.003 seconds).",
            "Test Suite 'CartTests' failed at 2024-06-03 09:12:10.316.",
            "\t Executed 4 tests, with 1 failure (0 unexpected) in 0.010 (0.012) seconds",
            "Test Suite 'All tests' failed at 2024-06-03 09:12:10.317.",
            "\t Executed 4 tests, with 1 failure (0 unexpected) in 0.010 (0.013) seconds",
            "error: fatalError",
        ],
        "testTotalWithCoupon",
    ),
    "quick-nimble": (
        "xcodebuild test -scheme Shop -destination 'platform=iOS Simulator,name=iPhone 15'",
        [
            "Test Suite 'CartSpec' started at 2024-06-03 09:12:10.312.",
            "Test Case '-[ShopTests.CartSpec Cart__total__applies_the_coupon]' started.",
            "/Users/runner/work/shop/shop/ShopTests/CartSpec.swift:18: error: -[ShopTests.CartSpec "
            "Cart__total__applies_the_coupon] : expected to equal <95>, got <90>",
            "Test Case '-[ShopTests.CartSpec Cart__total__applies_the_coupon]' failed (0.011 seconds).",
            "Test Suite 'CartSpec' failed at 2024-06-03 09:12:10.324.",
            "\t Executed 3 tests, with 1 failure (0 unexpected) in 0.011 (0.012) seconds",
            "",
            "Failing tests:",
            "\tShopTests:",
            "\t\tCartSpec.Cart__total__applies_the_coupon()",
            "",
            "** TEST FAILED **",
        ],
        "Cart__total__applies_the_coupon",
    ),
    "odoo": (
        "oca_run_tests",
        [
            "2024-06-03 09:12:10,101 412 INFO odoo odoo.modules.module: odoo.addons.sale_coupon_total.tests."
            "test_total running",
            "2024-06-03 09:12:10,455 412 INFO odoo odoo.addons.sale_coupon_total.tests.test_total: Starting "
            "TestTotal.test_total_with_coupon ...",
            "2024-06-03 09:12:10,512 412 ERROR odoo odoo.addons.sale_coupon_total.tests.test_total: FAIL: "
            "TestTotal.test_total_with_coupon",
            "Traceback (most recent call last):",
            '  File "/__w/sale/sale/sale_coupon_total/tests/test_total.py", line 42, in test_total_with_coupon',
            "    self.assertEqual(order.amount_total, 95)",
            "AssertionError: 90.0 != 95",
            "2024-06-03 09:12:11,002 412 INFO odoo odoo.tests.stats: sale_coupon_total: 12 tests 0.52s 310 queries",
            "2024-06-03 09:12:11,310 412 ERROR odoo odoo.tests.result: 1 failed, 0 error(s) of 12 tests when "
            "loading database 'odoo'",
            "2024-06-03 09:12:11,311 412 INFO odoo odoo.service.server: Initiating shutdown",
        ],
        "test_total_with_coupon",
    ),
    "googletest": (
        "ctest --output-on-failure",
        [
            "1: [ RUN      ] CartTest.TotalWithCoupon",
            "1: /home/runner/work/shop/shop/tests/cart_test.cc:21: Failure",
            "1: Expected equality of these values:",
            '1:   cart.Total("TEN")',
            "1:     Which is: 90",
            "1:   95",
            "1: [  FAILED  ] CartTest.TotalWithCoupon (0 ms)",
            "1: [==========] 4 tests from 1 test suite ran. (0 ms total)",
            "1: [  PASSED  ] 3 tests.",
            "1: [  FAILED  ] 1 test, listed below:",
            "1: [  FAILED  ] CartTest.TotalWithCoupon",
            "1/1 Test #1: shop_tests .......................***Failed    0.01 sec",
            "",
            "0% tests passed, 1 tests failed out of 1",
            "",
            "The following tests FAILED:",
            "\t  1 - shop_tests (Failed)",
            "Errors while running CTest",
        ],
        "TotalWithCoupon",
    ),
}


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_every_runner_is_a_test_failure_naming_the_test(runner):
    command, output, failing = RUNNERS[runner]
    found = diagnosis.diagnose(job_log(command, output))
    assert found.category == "test_failure", (found.category, found.rule_name, found.candidates)
    assert found.confidence >= 0.85, found.candidates
    assert not found.retryable
    assert any(failing in line for line in found.excerpt), found.excerpt


# ------------------------------------------------------- causes inside tests

HIDDEN = {
    "jest-timeout": (
        "network_timeout",
        "npx jest --ci",
        [
            "FAIL src/api/client.test.js (6.21 s)",
            "  ● client › fetches the catalogue",
            "",
            '    thrown: "Exceeded timeout of 5000 ms for a test.',
            "    Add a timeout value to this test to increase the timeout, if this is a long-running test. See "
            'https://jestjs.io/docs/api#testname-fn-timeout."',
            "",
            "      12 |   it('fetches the catalogue', async () => {",
            "",
            "Tests:       1 failed, 12 passed, 13 total",
        ],
    ),
    "mocha-timeout": (
        "network_timeout",
        "npx mocha",
        [
            "  1 passing (2s)",
            "  1 failing",
            "",
            "  1) catalogue",
            "       downloads the feed:",
            '     Error: Timeout of 2000ms exceeded. For async tests and hooks, ensure "done()" is called; if '
            "returning a Promise, ensure it resolves. (/home/runner/work/shop/shop/test/feed.spec.js)",
            "      at listOnTimeout (node:internal/timers:573:17)",
        ],
    ),
    "pytest-timeout": (
        "network_timeout",
        "pytest -q --timeout=60",
        [
            "=================================== FAILURES ===================================",
            "_______________________________ test_sync_partners _______________________________",
            "E   Failed: Timeout >60.0s",
            "",
            "tests/test_sync.py:33: Failed",
            "=========================== short test summary info ============================",
            "FAILED tests/test_sync.py::test_sync_partners - Failed: Timeout >60.0s",
            "1 failed, 40 passed in 63.12s (0:01:03)",
        ],
    ),
    "go-test-timeout": (
        "network_timeout",
        "go test ./...",
        [
            "panic: test timed out after 10m0s",
            "\trunning tests:",
            "\t\tTestSyncCatalogue (10m0s)",
            "",
            "goroutine 33 [running]:",
            "testing.(*M).startAlarm.func1()",
            "FAIL\tgithub.com/acme/shop/sync\t600.012s",
        ],
    ),
    "missing-env-in-test": (
        "environment_variable",
        "pytest -q",
        [
            "_______________________________ test_payment_intent _______________________________",
            "    def test_payment_intent():",
            ">       client = Stripe(os.environ['STRIPE_API_KEY'])",
            "E       KeyError: 'STRIPE_API_KEY'",
            "",
            "tests/test_payments.py:8: KeyError",
            "=========================== short test summary info ============================",
            "FAILED tests/test_payments.py::test_payment_intent - KeyError: 'STRIPE_API_KEY'",
            "1 failed, 22 passed in 1.02s",
        ],
    ),
    "missing-env-in-jest": (
        "environment_variable",
        "npx jest",
        [
            "FAIL src/mail.test.ts",
            "  ● mailer › sends the receipt",
            "",
            "    TypeError: Invalid URL",
            "",
            "      at new URL (node:internal/url:775:36)",
            "      at createClient (src/mail.ts:4:15)",
            "",
            "    code: 'ERR_INVALID_URL',",
            "    input: 'undefined/v3/send'",
            "",
            "Tests:       1 failed, 9 passed, 10 total",
        ],
    ),
    "api-shape-in-jest": (
        "api_contract_mismatch",
        "npx jest",
        [
            "FAIL src/status.test.ts",
            "  ● status › reports ok",
            "",
            "    expect(received).toHaveProperty(path)",
            "",
            '    Expected path: "ok"',
            "    Received path: []",
            "",
            '    Received value: {"models": {"sale.order": 42}, "status": "ok", "ts": 1717405931}',
            "",
            "Tests:       1 failed, 9 passed, 10 total",
        ],
    ),
    "plain-assertion": (
        "test_failure",
        "pytest -q",
        [
            "    def test_total():",
            ">       assert total([100], coupon='TEN') == 95",
            "E       assert 90.0 == 95",
            "E        +  where 90.0 = total([100], coupon='TEN')",
            "tests/test_total.py:4: AssertionError",
            "FAILED tests/test_total.py::test_total - assert 90.0 == 95",
            "1 failed in 0.02s",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_causes_inside_a_test_are_told_apart_from_assertions(case):
    category, command, output = HIDDEN[case]
    found = diagnosis.diagnose(job_log(command, output))
    assert found.category == category, (found.category, found.rule_name, found.candidates)
    assert found.retryable == (category == "network_timeout")


# ------------------------------------------------------- the seed's examples

SEED = {
    # pytest-cov is not installed while pytest.ini's addopts use it
    "dependency_missing": (
        "pytest",
        [
            "ERROR: usage: pytest [options] [file_or_dir] [file_or_dir] [...]",
            "pytest: error: unrecognized arguments: --cov=addons --cov-report=term-missing",
            "  inifile: /home/runner/work/erp/erp/pytest.ini",
            "  rootdir: /home/runner/work/erp/erp",
            "",
        ],
        4,
    ),
    # the URL is built from a variable the job never sets
    "environment_variable": (
        "pytest tests/integration -q",
        [
            "..F",
            "=================================== FAILURES ===================================",
            "______________________________ test_health_check _______________________________",
            "",
            "    def test_health_check():",
            ">       r = requests.get(f\"{os.environ.get('ODOO_URL')}/health\", timeout=10)",
            "",
            "tests/integration/test_health.py:9: ",
            "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ ",
            "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages/requests/models.py:439: in "
            "prepare_url",
            '    raise InvalidURL(f"Invalid URL {url!r}: No host supplied")',
            "E   requests.exceptions.InvalidURL: Invalid URL 'None/health': No host supplied",
            "=========================== short test summary info ============================",
            "FAILED tests/integration/test_health.py::test_health_check - requests.exceptions.InvalidURL: Invalid "
            "URL 'None/health': No host supplied",
            "1 failed, 2 passed in 0.41s",
        ],
        1,
    ),
    # the API answers {'status': 'ok', ...}: the test still reads the old 'ok' key
    "api_contract_mismatch": (
        "pytest tests/ -q",
        [
            ".....F.",
            "=================================== FAILURES ===================================",
            "_______________________________ test_status_ok _________________________________",
            "",
            "    def test_status_ok(client):",
            '        r = client.get("/api/status")',
            "        assert r.status_code == 200",
            "        j = r.json()",
            ">       assert j.get('ok') is True",
            "E       AssertionError: assert None is True",
            "E        +  where None = <built-in method get of dict object at 0x7f3a2c1b9e40>('ok')",
            "E        +    where <built-in method get of dict object at 0x7f3a2c1b9e40> = {'status': 'ok', 'models': "
            "{'sale.order': 42, 'res.partner': 7}, 'ts': 1717405931.2}.get",
            "",
            "tests/test_status.py:14: AssertionError",
            "=========================== short test summary info ============================",
            "FAILED tests/test_status.py::test_status_ok - AssertionError: assert None is True",
            "1 failed, 6 passed in 0.52s",
        ],
        1,
    ),
}


@pytest.mark.parametrize("category", sorted(SEED))
def test_the_seeds_examples_get_the_seeds_categories(category):
    command, output, exit_code = SEED[category]
    found = diagnosis.diagnose(job_log(command, output, exit_code))
    assert found.category == category, (found.category, found.rule_name, found.candidates)
    assert found.source == "both" and found.rule_name
    assert found.confidence >= 0.6, "confident enough to act on (calibrated)"
    assert not found.retryable


def test_an_unrecognised_argument_of_another_tool_stays_a_configuration_error():
    found = diagnosis.diagnose(
        job_log(
            "python manage.py migrate --fake-intial",
            ["manage.py migrate: error: unrecognized arguments: --fake-intial"],
            2,
        )
    )
    assert found.category == "configuration_error"
