import pytest

from autopilot.testing import fixtures


@pytest.fixture
def needs_fixtures():
    if not fixtures.available():
        pytest.skip(fixtures.MISSING)
    return fixtures.FIXTURES


@pytest.fixture
def github():
    from autopilot.testing.github_server import FakeGitHub

    server = FakeGitHub().start()
    yield server
    server.stop()
