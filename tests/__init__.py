from . import test_webhook_fixtures
