"""The payment providers' webhook endpoint."""

from __future__ import annotations

from flask import Response, request

from foundation.extensions import csrf
from foundation.payments import bp
from foundation.payments import service as svc


@bp.post("/payments/webhooks/<provider>")
@csrf.exempt
def webhook(provider: str) -> Response:
    """Signed events from a provider (Stripe: checkout and refund events). Read as raw bytes, never as a form."""
    if (request.content_length or 0) > svc.MAX_WEBHOOK_BYTES:
        return Response("The body is too large for an event.", 400, mimetype="text/plain")
    body = request.get_data(cache=False, as_text=False)
    result = svc.handle_webhook(provider, body, request.headers.get("Stripe-Signature"))
    return Response(result.message, result.status, mimetype="text/plain")
