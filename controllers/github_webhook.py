import logging

from odoo import http
from odoo.http import request

from ..autopilot.ingest import gate

_logger = logging.getLogger(__name__)


class GitHubWebhookController(http.Controller):
    """Receives GitHub webhook deliveries: verify, store, answer. Processing happens in a cron."""

    @http.route(
        "/ops/github/webhook",
        type="http",
        auth="none",
        readonly=False,  # auth="none" routes default to a read-only cursor; this one stores the delivery
        methods=["POST"],
        csrf=False,
        save_session=False,
        raw_body=True,
    )
    def github_webhook(self, **_params):
        # The signature is the authentication. auth="none" then the public user from the cached xmlid
        # table: auth="public" would query to check that user exists on every delivery.
        public_uid = request.env["ir.model.data"]._xmlid_to_res_id("base.public_user", raise_if_not_found=True)
        env = request.env(user=public_uid, su=True)
        httprequest = request.httprequest
        body = httprequest.get_data(cache=True)  # read by ir.http, which refuses (and records) a body too large
        verdict = gate.evaluate(
            httprequest.headers, body, httprequest.content_type, env["ops.repository"]._webhook_candidates
        )
        if isinstance(verdict, gate.Rejected):
            # shown on the repository the payload names: metadata only, the body is not kept
            env["ops.webhook.refusal"]._record(verdict, httprequest.headers, httprequest.remote_addr, len(body))
            _logger.info(
                "GitHub delivery %r refused (%s): %s",  # %r: the header is the sender's, keep it on one line
                httprequest.headers.get("X-GitHub-Delivery", "-")[:64],
                verdict.status,
                verdict.reason,
            )
            return request.make_json_response({"status": "rejected", "reason": verdict.reason}, status=verdict.status)
        status, body = env["ops.webhook.delivery"]._receive_from_webhook(verdict)
        return request.make_json_response(body, status=status)
