import pytest

from autopilot.testing import fixtures
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
