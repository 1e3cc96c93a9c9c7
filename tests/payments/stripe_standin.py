"""A local stand-in for the parts of Stripe's API the app uses, and Stripe's signed webhook events.

The server runs on 127.0.0.1 (a free port) in a background thread, one thread per request, and answers:

    POST /v1/checkout/sessions           form-encoded as stripe-python sends it (line_items[0][price_data][...]);
                                         a Checkout Session whose url is this server's /pay/<id> page. The same
                                         Idempotency-Key gives the same session (other parameters: 400, as Stripe)
    GET  /v1/payment_intents/<id>        the intent made when a session was paid; expand[]=latest_charge and
                                         latest_charge.balance_transaction are honoured (the fee is 20p + 1.5%)
    POST /v1/refunds                     a refund in full of a PaymentIntent (payment_intent=...), once per
                                         Idempotency-Key; a charge already refunded is refused (400)
    GET  /pay/<session id>               a small checkout page with a "Pay" button
    POST /pay/<session id>               pays: sends the signed checkout.session.completed event to `webhook_url`
                                         and redirects to the session's success_url

Every request to it is kept in `requests` (method, path, parsed parameters, headers) for tests to look at, and
`fail_next()` makes the API answer with an error, as Stripe does when it is having a bad day.

The event builders return Stripe's JSON for checkout.session.* and charge.refunded about a session made here,
and `sign()` signs a body with stripe-python's own code, so the app's real signature check runs on it.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from stripe._http_client import HTTPClient
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION = stripe.api_version  # the version stripe-python pins, as the webhook endpoint is set up with
SECRET_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_test"

# What the payer typed at the checkout: it reaches us inside events and must never be kept.
CUSTOMER_EMAIL = "payer@example.org"
CUSTOMER_NAME = "Pat Payer"
CARD_LAST4 = "4242"
CARD_FINGERPRINT = "Xt5EWLLDS7FJjR1c"


def fee_for(amount_pence: int) -> int:
    """Stripe's UK card fee, 20p + 1.5% (rounded half up)."""
    return 20 + (amount_pence * 15 + 500) // 1000


def sign(body: bytes | str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `body` ("t=<timestamp>,v1=<hmac>"), made by stripe-python itself."""
    payload = body.decode() if isinstance(body, bytes) else body
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp))


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into objects: a[b][0][c]=1 -> {"a": {"b": [{"c": "1"}]}}; a[]=x appends."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for i, part in enumerate(parts):
            name = part if part else str(len(node))
            if i == len(parts) - 1:
                node[name] = value
            else:
                node = node.setdefault(name, {})
    found: dict[str, Any] = _lists(root)
    return found


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _lists(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


@dataclass
class Received:
    """One request the stand-in received."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 0  # what it answered

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


@dataclass
class Delivery:
    """A webhook the pay page sent: the event, and what the app answered."""

    event: dict[str, Any]
    status: int
    body: str


@dataclass
class _Intent:
    id: str
    charge_id: str
    balance_transaction_id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    fee: int
    amount_refunded: int = 0


@dataclass
class _Failure:
    status: int
    count: int | None  # None: every request from now on
    should_retry: bool | None = None


@dataclass
class _State:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    intents: dict[str, _Intent] = field(default_factory=dict)
    failure: _Failure | None = None
    refunds_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    fees_held: bool = False  # charges have no balance transaction yet (Stripe has not settled the fee)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class StripeStandIn:
    """Stripe's API for the calls the app makes, on 127.0.0.1:<free port> until `stop()`."""

    def __init__(self, secret_key: str = SECRET_KEY, webhook_secret: str = WEBHOOK_SECRET) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url: str | None = None  # where the pay page sends checkout.session.completed
        self.requests: list[Received] = []
        self.deliveries: list[Delivery] = []
        self._state = _State()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # Ids differ from one stand-in to the next, as Stripe's never repeat: a database that outlives one
        # stand-in (the benchmark's) never sees the same session twice.
        self._run = secrets.token_hex(3)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-standin",
            daemon=True,
        )

    # --- running -----------------------------------------------------------------------------------------------

    def start(self) -> StripeStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering: from now on a connection to it is refused."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    # --- switches and what it saw ------------------------------------------------------------------------------

    def fail_next(self, status: int = 500, count: int | None = 1, should_retry: bool | None = None) -> None:
        """Answer the next `count` API requests (None: all of them) with a Stripe error of `status`;
        `should_retry` sets the Stripe-Should-Retry header Stripe adds to some errors."""
        with self._lock:
            self._state.failure = _Failure(status, count, should_retry)

    def hold_fees(self, held: bool) -> None:
        """While held, a charge has no balance transaction yet, as when Stripe has not settled its fee."""
        with self._lock:
            self._state.fees_held = held

    def recover(self) -> None:
        """Answer normally again."""
        with self._lock:
            self._state.failure = None

    def api_requests(self, method: str | None = None, path: str | None = None) -> list[Received]:
        """The requests to /v1/..., optionally only those with this method and path (a prefix)."""
        return [
            r
            for r in list(self.requests)
            if r.path.startswith("/v1/")
            and (method is None or r.method == method)
            and (path is None or r.path.startswith(path))
        ]

    def session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            copy: dict[str, Any] = json.loads(json.dumps(self._state.sessions[session_id]))
        return copy

    # --- events ------------------------------------------------------------------------------------------------

    def pay(self, session_id: str, payment_status: str = "paid") -> dict[str, Any]:
        """The payer finished the checkout: the session is complete, with a PaymentIntent (and a charge and its
        fee once paid). `payment_status` "unpaid" is a bank debit still on its way. The session, as it is now."""
        with self._lock:
            session = self._state.sessions[session_id]
            if session["payment_intent"] is None:
                n = next(self._ids)
                intent = _Intent(
                    id=f"pi_test_{self._run}{n}",
                    charge_id=f"ch_test_{self._run}{n}",
                    balance_transaction_id=f"txn_test_{self._run}{n}",
                    amount=session["amount_total"],
                    currency=session["currency"],
                    metadata=dict(session["payment_intent_data"].get("metadata", {})),
                    fee=fee_for(session["amount_total"]),
                )
                self._state.intents[intent.id] = intent
                session["payment_intent"] = intent.id
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["customer_details"] = {"email": CUSTOMER_EMAIL, "name": CUSTOMER_NAME, "phone": None}
        return self.session(session_id)

    def event(self, kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """A Stripe event of type `kind` about `obj`."""
        return {
            "id": event_id or f"evt_test_{self._run}{next(self._ids)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def completed_event(self, session_id: str, payment_status: str = "paid") -> dict[str, Any]:
        """checkout.session.completed: paid by card, or "unpaid" while a bank debit clears."""
        return self.event("checkout.session.completed", self.pay(session_id, payment_status))

    def async_succeeded_event(self, session_id: str) -> dict[str, Any]:
        return self.event("checkout.session.async_payment_succeeded", self.pay(session_id, "paid"))

    def async_failed_event(self, session_id: str) -> dict[str, Any]:
        return self.event("checkout.session.async_payment_failed", self.pay(session_id, "unpaid"))

    def expired_event(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._state.sessions[session_id]
            if session["status"] == "open":
                session["status"] = "expired"
        return self.event("checkout.session.expired", self.session(session_id))

    def refunded_event(self, session_id: str, amount_refunded: int | None = None) -> dict[str, Any]:
        """charge.refunded for the session's charge: in full unless `amount_refunded` says less."""
        if self.session(session_id)["payment_intent"] is None:
            self.pay(session_id)  # what is refunded was paid, whether or not we have heard so yet
        with self._lock:
            intent = self._state.intents[self._state.sessions[session_id]["payment_intent"]]
            intent.amount_refunded = intent.amount if amount_refunded is None else amount_refunded
            charge = self._charge(intent)
        return self.event("charge.refunded", charge)

    def signed(self, event: dict[str, Any], timestamp: int | None = None) -> tuple[bytes, str]:
        """The body Stripe would send for `event` and its Stripe-Signature header."""
        body = encode(event)
        return body, sign(body, self.webhook_secret, timestamp)

    def _charge(self, intent: _Intent, balance: bool = False) -> dict[str, Any]:
        return {
            "id": intent.charge_id,
            "object": "charge",
            "amount": intent.amount,
            "amount_captured": intent.amount,
            "amount_refunded": intent.amount_refunded,
            "refunded": intent.amount_refunded == intent.amount,
            "captured": True,
            "paid": True,
            "status": "succeeded",
            "currency": intent.currency,
            "payment_intent": intent.id,
            "metadata": dict(intent.metadata),
            "balance_transaction": None
            if self._state.fees_held
            else (self._balance(intent) if balance else intent.balance_transaction_id),
            "billing_details": {"email": CUSTOMER_EMAIL, "name": CUSTOMER_NAME, "phone": None},
            "receipt_email": CUSTOMER_EMAIL,
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": "visa",
                    "country": "GB",
                    "exp_month": 12,
                    "exp_year": 2034,
                    "fingerprint": CARD_FINGERPRINT,
                    "funding": "credit",
                    "last4": CARD_LAST4,
                },
            },
        }

    @staticmethod
    def _balance(intent: _Intent) -> dict[str, Any]:
        return {
            "id": intent.balance_transaction_id,
            "object": "balance_transaction",
            "amount": intent.amount,
            "currency": intent.currency,
            "fee": intent.fee,
            "fee_details": [{"amount": intent.fee, "currency": intent.currency, "type": "stripe_fee"}],
            "net": intent.amount - intent.fee,
            "status": "pending",
            "type": "charge",
        }

    # --- the server --------------------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        params = nested(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))
        received = Received(request.method, request.path, params, dict(request.headers.items()))
        self.requests.append(received)
        response = self._answer(request, received)
        received.status = response.status_code
        return response(environ, start_response)

    def _answer(self, request: Request, received: Received) -> Response:
        path, method = request.path, request.method
        if path.startswith("/pay/"):
            session_id = path.removeprefix("/pay/")
            if session_id not in self._state.sessions:
                return Response("No such checkout.", 404, mimetype="text/plain")
            if method == "POST":
                return self._pay_now(session_id)
            return self._pay_page(session_id)
        if not path.startswith("/v1/"):
            return Response("Not found.", 404, mimetype="text/plain")
        if received.authorization != f"Bearer {self.secret_key}":
            return _error(401, "invalid_request_error", "Invalid API Key provided.")
        failure = self._take_failure()
        if failure is not None:
            response = _error(failure.status, "api_error", "Something went wrong on Stripe's end.")
            if failure.should_retry is not None:
                response.headers["Stripe-Should-Retry"] = str(failure.should_retry).lower()
            return response
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(received)
        if method == "POST" and path == "/v1/refunds":
            return self._refund(received)
        match = re.fullmatch(r"/v1/payment_intents/([A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            return self._intent(match.group(1), received.params.get("expand", []))
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            failure = self._state.failure
            if failure is None:
                return None
            if failure.count is not None:
                failure.count -= 1
                if failure.count <= 0:
                    self._state.failure = None
            return failure

    def _create_session(self, received: Received) -> Response:
        params = received.params
        key = received.idempotency_key
        with self._lock:
            if key and key in self._state.by_key:
                first_params, session_id = self._state.by_key[key]
                if first_params != params:
                    return _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        "first used with.",
                    )
                response = _json(200, self._public(self._state.sessions[session_id]))
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                items = params["line_items"]
                amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
                currency = items[0]["price_data"]["currency"]
            except (KeyError, IndexError, TypeError, ValueError):
                return _error(400, "invalid_request_error", "line_items with price_data are required.")
            session_id = f"cs_test_{self._run}{next(self._ids)}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": amount,
                "amount_total": amount,
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "created": int(time.time()),
                "currency": currency,
                "customer_details": None,
                "customer_email": params.get("customer_email"),
                "expires_at": int(time.time()) + 24 * 3600,
                "livemode": False,
                "metadata": params.get("metadata", {}),
                "mode": params.get("mode", "payment"),
                "payment_intent": None,
                "payment_intent_data": params.get("payment_intent_data", {}),
                "payment_status": "unpaid",
                "status": "open",
                "success_url": params.get("success_url"),
                "url": f"{self.url}/pay/{session_id}",
                "line_items_description": items[0]["price_data"].get("product_data", {}).get("name", ""),
            }
            self._state.sessions[session_id] = session
            if key:
                self._state.by_key[key] = (params, session_id)
            return _json(200, self._public(session))

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        """The session as Stripe shows it (without what we keep only to build events)."""
        hidden = {"payment_intent_data", "line_items_description"}
        return {k: v for k, v in session.items() if k not in hidden}

    def _refund(self, received: Received) -> Response:
        """A refund of a PaymentIntent in full (the same Idempotency-Key gives the same refund); a charge already
        refunded in full is refused, as Stripe does."""
        key = received.idempotency_key
        with self._lock:
            if key and key in self._state.refunds_by_key:
                response = _json(200, self._state.refunds_by_key[key])
                response.headers["Idempotent-Replayed"] = "true"
                return response
            intent = self._state.intents.get(str(received.params.get("payment_intent", "")))
            if intent is None:
                return _error(400, "invalid_request_error", "No such payment_intent.")
            if intent.amount_refunded >= intent.amount:
                return _error(400, "invalid_request_error", "Charge has already been refunded.")
            intent.amount_refunded = intent.amount
            refund = {
                "id": f"re_test_{self._run}{next(self._ids)}",
                "object": "refund",
                "amount": intent.amount,
                "charge": intent.charge_id,
                "payment_intent": intent.id,
                "currency": intent.currency,
                "metadata": received.params.get("metadata", {}),
                "status": "succeeded",
            }
            if key:
                self._state.refunds_by_key[key] = refund
            return _json(200, refund)

    def refund_event_for(self, intent_id: str) -> dict[str, Any]:
        """charge.refunded for a PaymentIntent refunded through the API (as Stripe sends it after a refund)."""
        with self._lock:
            charge = self._charge(self._state.intents[intent_id])
        return self.event("charge.refunded", charge)

    def _intent(self, intent_id: str, expand: Any) -> Response:
        expand = expand if isinstance(expand, list) else [expand]
        with self._lock:
            intent = self._state.intents.get(intent_id)
            if intent is None:
                return _error(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'")
            charge: Any = intent.charge_id
            if "latest_charge" in expand or "latest_charge.balance_transaction" in expand:
                charge = self._charge(intent, balance="latest_charge.balance_transaction" in expand)
            return _json(
                200,
                {
                    "id": intent.id,
                    "object": "payment_intent",
                    "amount": intent.amount,
                    "amount_received": intent.amount,
                    "currency": intent.currency,
                    "latest_charge": charge,
                    "livemode": False,
                    "metadata": dict(intent.metadata),
                    "status": "succeeded",
                },
            )

    # --- the payer's page --------------------------------------------------------------------------------------

    def _pay_page(self, session_id: str) -> Response:
        session = self.session(session_id)
        amount = f"£{session['amount_total'] / 100:,.2f}"
        what = html.escape(session["line_items_description"])
        cancel = html.escape(session["cancel_url"] or "", quote=True)
        page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay {amount} - test checkout</title>
</head>
<body>
<main>
<h1>Pay {amount}</h1>
<p>{what}</p>
<p>This is a test checkout: no card is charged.</p>
<form method="post" action="/pay/{session_id}">
<button type="submit" id="pay">Pay {amount}</button>
</form>
<p><a href="{cancel}">Cancel and go back</a></p>
</main>
</body>
</html>
"""
        return Response(page, 200, mimetype="text/html")

    def _pay_now(self, session_id: str) -> Response:
        event = self.completed_event(session_id)
        session = event["data"]["object"]
        if self.webhook_url:
            body, signature = self.signed(event)
            request = urllib.request.Request(
                self.webhook_url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    self.deliveries.append(Delivery(event, resp.status, resp.read().decode()))
            except urllib.error.HTTPError as err:
                self.deliveries.append(Delivery(event, err.code, err.read().decode()))
        target = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
        return Response("", 303, headers={"Location": target})


def _json(status: int, body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status, mimetype="application/json")
    response.headers["Request-Id"] = f"req_test_{time.monotonic_ns()}"
    return response


def _error(status: int, kind: str, message: str) -> Response:
    return _json(status, {"error": {"type": kind, "message": message}})


@pytest.fixture
def stripe_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStandIn]:
    """The stand-in, running for one test. Import it into a test module or conftest to use it."""
    # stripe-python waits 0.5 s and more between retries; the stand-in answers at once, so the tests need not.
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.05)
    standin = StripeStandIn().start()
    try:
        yield standin
    finally:
        standin.stop()


def stripe_settings(config: dict[str, Any], standin: StripeStandIn) -> dict[str, Any]:
    """App settings that take payments through Stripe, that is through the stand-in."""
    return {
        **config,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_CHECKOUT_ORIGIN": standin.url,
    }
