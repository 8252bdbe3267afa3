import logging

from odoo import http
from odoo.http import request

from ..autopilot import webhook

_logger = logging.getLogger(__name__)


class GitHubWebhookController(http.Controller):
    """Receives GitHub webhook deliveries: verify, store, answer. Processing happens in a cron."""

    @http.route(
        "/ops/github/webhook",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        raw_body=True,
    )
    def github_webhook(self, **_params):
        httprequest = request.httprequest
        verdict = webhook.evaluate(
            httprequest.headers,
            httprequest.get_data(cache=True),
            httprequest.content_type,
            request.env["ops.repository"].sudo()._webhook_candidates,
        )
        if isinstance(verdict, webhook.Rejected):
            _logger.info(
                "GitHub delivery %r refused (%s): %s",  # %r: the header is the sender's, keep it on one line
                httprequest.headers.get("X-GitHub-Delivery", "-")[:64],
                verdict.status,
                verdict.reason,
            )
            return request.make_json_response({"status": "rejected", "reason": verdict.reason}, status=verdict.status)
        status, body = request.env["ops.webhook.delivery"].sudo()._receive(verdict)
        return request.make_json_response(body, status=status)
