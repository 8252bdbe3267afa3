import importlib
import os

import pytest

from autopilot.selfheal import diagnosis
from autopilot.testing import fixtures
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
