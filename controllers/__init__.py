from . import github_webhook
