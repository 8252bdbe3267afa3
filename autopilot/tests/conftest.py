import importlib
import os

import pytest

from autopilot.selfheal import diagnosis
from autopilot.testing import contracts, fixtures
from autopilot.testing.github_server import FakeGitHub

# PyGithub first: pytest's importlib mode names autopilot/tests/github/test_*.py "github.test_*" and would
# otherwise register that folder as a namespace package "github" that hides PyGithub from later imports
importlib.import_module("github")


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


@pytest.fixture(autouse=True, scope="session")
def diagnosis_model_cache(tmp_path_factory):
    """The default diagnosis model is cached in a folder of this test session, not in the user's cache."""
    previous = os.environ.get(diagnosis.CACHE_ENV)
    os.environ[diagnosis.CACHE_ENV] = str(tmp_path_factory.mktemp("model-cache"))
    yield
    if previous is None:
        os.environ.pop(diagnosis.CACHE_ENV, None)
    else:
        os.environ[diagnosis.CACHE_ENV] = previous


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
