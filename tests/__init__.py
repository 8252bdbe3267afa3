from . import (
    test_access,
    test_delivery_processing,
    test_github_sync,
    test_setup,
    test_ui_tours,
    test_webhook_endpoint,
    test_webhook_fixtures,
)
