import werkzeug.exceptions
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import models
from odoo.http import request

from ..autopilot.ingest.gate import MAX_BODY, TOO_LARGE, Rejected


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        """Keep the raw body of routes marked ``raw_body=True`` before Odoo parses forms.

        GitHub may send ``application/x-www-form-urlencoded`` deliveries and
        signs the raw bytes; Odoo's http dispatcher would otherwise consume
        them into form fields. Werkzeug caches what is read here, so the
        controller and the form parser both see the same bytes.
        """
        super()._pre_dispatch(rule, args)
        if not rule.endpoint.routing.get("raw_body"):
            return
        httprequest = request.httprequest
        httprequest.max_content_length = MAX_BODY
        try:
            # werkzeug's get_data does not check max_content_length: the form parsing after this hook did,
            # answering its own HTML 413 before the controller (never recorded); check the declared length here
            if (httprequest.content_length or 0) > MAX_BODY:
                raise RequestEntityTooLarge
            httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            # recorded in a transaction of its own (see ops.webhook.refusal._record): this one is rolled back
            refused = Rejected(413, f"body larger than {MAX_BODY} bytes", TOO_LARGE)
            request.env["ops.webhook.refusal"].sudo()._record(
                refused, httprequest.headers, httprequest.remote_addr, httprequest.content_length or 0
            )
            werkzeug.exceptions.abort(
                request.make_json_response({"status": "rejected", "reason": refused.reason}, status=refused.status)
            )

    @classmethod
    def _dispatch(cls, endpoint):
        """Call raw-body routes without query or form parameters: the body is theirs to read.

        Odoo passes those parameters as keyword arguments, so a field named
        ``self`` (``POST /ops/github/webhook?self=1``) would break the call
        itself and answer 500.
        """
        if endpoint.routing.get("raw_body"):
            request.params = {}
        return super()._dispatch(endpoint)
