import github as _pygithub  # noqa: F401 - PyGithub before collection: the test folder github/ must not shadow it
import pytest

from autopilot.testing import contracts, fixtures
from autopilot.testing.github_server import FakeGitHub


@pytest.fixture
def needs_fixtures():
    if not fixtures.available():
        pytest.skip(fixtures.MISSING)
    return fixtures.FIXTURES


@pytest.fixture
def github():
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def published_contracts():
    """Fail the test during which a fake received or answered something its service's contract does not allow."""
    mark = contracts.LOG.mark()
    yield
    contracts.LOG.check_since(mark)


def pytest_terminal_summary(terminalreporter):
    summary = contracts.LOG.summary()
    if summary["operations"] or summary["webhooks"]:
        terminalreporter.write_line(
            f"GitHub contract ({summary['description']}): {len(summary['operations'])} operations exercised and "
            f"validated over {summary['responses']} answers; {sum(summary['webhooks'].values())} webhook payloads "
            f"of {len(summary['webhooks'])} kinds validated; {summary['violations']} violations"
        )
