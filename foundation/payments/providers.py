"""The two payment providers behind one interface.

A provider does two things: start a checkout for a payment, and turn what it later tells us (a webhook event)
into one of three outcomes: succeeded, failed, refunded. Everything else (state, ledger, receipts) is the same
whichever provider took the money.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from flask import current_app

# Outcome (what a provider reports) lives with the events that keep it; providers.Outcome names it here too.
from foundation.payments.models import Outcome as Outcome
from foundation.payments.models import Payment


@dataclass(frozen=True)
class Checkout:
    reference: str  # the provider's id for the checkout
    url: str | None  # where to send the payer; None when there is nothing to pay online (offline)


@dataclass(frozen=True)
class ProviderEvent:
    """What a provider told us, reduced to what we act on. `outcome` None: nothing to do (a checkout completed
    whose bank transfer is still on its way)."""

    event_id: str
    type: str
    outcome: Outcome | None
    payment_id: int | None  # ours, from the metadata we gave the provider
    checkout_reference: str | None
    payment_reference: str | None
    amount_pence: int | None = None
    detail: str = ""


class BadEvent(ValueError):
    """A webhook we refuse: bad signature, stale, malformed, or of a type we do not handle (400)."""


class ProviderUnavailable(Exception):
    """The provider could not answer just now (network, its own error, too many requests): ask again later, and
    ask it nothing more meanwhile."""


class Provider(Protocol):
    name: str
    charges_fees: bool  # its fee is read after the payment succeeds (payments.tasks.record_fee)

    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, email: str | None
    ) -> Checkout: ...

    def parse_event(self, body: bytes, signature: str | None) -> ProviderEvent: ...

    def fee_for(self, payment_reference: str) -> int | None:
        """The provider's fee on a payment, or None while the provider has not settled it yet."""
        ...

    def refund(self, payment: Payment) -> None:
        """Ask the provider to pay a payment back in full; its refund event says when it is done."""
        ...


class OfflineProvider:
    """No money moves online: the payment is a pledge until staff record it received (bank transfer, cheque,
    cash). It has no events to parse."""

    name = "offline"
    charges_fees = False

    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, email: str | None
    ) -> Checkout:
        return Checkout(reference=f"offline-{payment.id}", url=None)

    def parse_event(self, body: bytes, signature: str | None) -> ProviderEvent:
        raise BadEvent("The offline provider takes no webhooks.")

    def fee_for(self, payment_reference: str) -> int | None:
        return 0

    def refund(self, payment: Payment) -> None:
        raise BadEvent("Money received offline is paid back by staff, who record it.")


OFFLINE = OfflineProvider()

# The Checkout Session events we act on, and the refund. Any other type is refused: the endpoint is set up in
# Stripe to send only these.
SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
REFUND_EVENT = "charge.refunded"


class StripeProvider:
    """Stripe Checkout: one Checkout Session per payment, in pence, with our idempotency key and metadata that
    names our payment. It succeeds only from a verified webhook, never from the page the payer returns to."""

    name = "stripe"
    charges_fees = True

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(secret_key, base_addresses={"api": api_base}, max_network_retries=2)

    def create_checkout(
        self, payment: Payment, success_url: str, cancel_url: str, email: str | None
    ) -> Checkout:
        metadata = {"payment_id": str(payment.id), "purpose": f"{payment.purpose_type}:{payment.purpose_id}"}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency,
                        "unit_amount": payment.amount_pence,
                        "product_data": {"name": payment.description[:200]},
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(payment.id),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "description": payment.description[:200]},
        }
        if email:
            params["customer_email"] = email
        session = self.client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]  # stripe's TypedDict for params; built above as a plain dict
            options={"idempotency_key": f"wypf-payment-{payment.id}"},
        )
        return Checkout(reference=session.id, url=session.url)

    def parse_event(self, body: bytes, signature: str | None) -> ProviderEvent:
        if not signature:
            raise BadEvent("The Stripe-Signature header is missing.")
        try:
            payload = body.decode("utf-8")
            # stripe-python's own check of the signature and its timestamp on the raw body: what
            # stripe.Webhook.construct_event runs before it builds a StripeObject, which is not needed here and
            # costs more than the rest of the delivery's Python.
            stripe.WebhookSignature.verify_header(payload, signature, self.webhook_secret, tolerance=300)
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise BadEvent("The signature does not match, or the event is more than 5 minutes old.") from exc
        except ValueError as exc:
            raise BadEvent("The body is not a Stripe event.") from exc
        if not isinstance(event, dict):
            raise BadEvent("The body is not a Stripe event.")
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise BadEvent("The event carries no object.")
        kind = str(event.get("type", ""))
        event_id = str(event.get("id", ""))
        if not event_id:
            raise BadEvent("The event has no id.")
        if kind in SESSION_EVENTS:
            outcome: Outcome | None = {
                "checkout.session.async_payment_succeeded": Outcome.SUCCEEDED,
                "checkout.session.async_payment_failed": Outcome.FAILED,
                "checkout.session.expired": Outcome.FAILED,
            }.get(kind)
            if kind == "checkout.session.completed":
                outcome = (
                    Outcome.SUCCEEDED
                    if obj.get("payment_status") in ("paid", "no_payment_required")
                    else None
                )
            return ProviderEvent(
                event_id=event_id,
                type=kind,
                outcome=outcome,
                payment_id=_our_id(obj.get("metadata")),
                checkout_reference=_text(obj.get("id")),
                payment_reference=_text(obj.get("payment_intent")),
                amount_pence=_int(obj.get("amount_total")),
                detail="checkout expired" if kind.endswith("expired") else "",
            )
        if kind == REFUND_EVENT:
            refunded_in_full = bool(obj.get("refunded")) or (
                _int(obj.get("amount_refunded")) is not None
                and _int(obj.get("amount_refunded")) == _int(obj.get("amount"))
            )
            return ProviderEvent(
                event_id=event_id,
                type=kind,
                outcome=Outcome.REFUNDED if refunded_in_full else None,
                payment_id=_our_id(obj.get("metadata")),
                checkout_reference=None,
                payment_reference=_text(obj.get("payment_intent")),
                amount_pence=_int(obj.get("amount_refunded")),
                detail="" if refunded_in_full else "partial refund: not applied, settle it by hand",
            )
        raise BadEvent(f"Events of type {kind or '(none)'!r} are not handled here.")

    def fee_for(self, payment_reference: str) -> int | None:
        """Stripe's fee for a payment, from its charge's balance transaction (None until Stripe has made it)."""
        try:
            found = self.client.v1.payment_intents.retrieve(
                payment_reference, params={"expand": ["latest_charge.balance_transaction"]}
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise ProviderUnavailable(str(exc)) from exc
        intent = _plain(found)
        charge = intent.get("latest_charge")
        balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
        fee = balance.get("fee") if isinstance(balance, dict) else None
        return fee if isinstance(fee, int) and not isinstance(fee, bool) and fee >= 0 else None

    def refund(self, payment: Payment) -> None:
        """A refund in full of the payment's PaymentIntent, once (our idempotency key). A charge Stripe says is
        already refunded needs nothing more: its charge.refunded event moves the payment."""
        if not payment.payment_reference:
            raise ProviderUnavailable("Stripe has not told us the payment's reference yet.")
        try:
            self.client.v1.refunds.create(
                params={
                    "payment_intent": payment.payment_reference,
                    "metadata": {"payment_id": str(payment.id)},
                },
                options={"idempotency_key": f"wypf-refund-{payment.id}"},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise ProviderUnavailable(str(exc)) from exc
        except stripe.InvalidRequestError as exc:
            if "already been refunded" not in str(exc):
                raise


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject (or a dict) as plain dicts and lists."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    if not isinstance(obj, dict):
        return {}
    plain: dict[str, Any] = json.loads(json.dumps(obj, default=str))
    return plain


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _our_id(metadata: Any) -> int | None:
    raw = metadata.get("payment_id") if isinstance(metadata, dict) else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 12 else None


def checkout_origin() -> str | None:
    """Where the configured provider's checkout pages live (None offline): the donation form leads there."""
    config = current_app.config
    if config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET"):
        return str(config["STRIPE_CHECKOUT_ORIGIN"])
    return None


def current() -> Provider:
    """Stripe when its keys are set, otherwise offline. Made once per app and settings, not on every request:
    the Stripe client keeps its connections between calls."""
    config = current_app.config
    if not (config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_WEBHOOK_SECRET")):
        return OFFLINE
    key = (config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"], config["STRIPE_API_BASE"])
    made: dict[tuple[str, str, str], Provider] = current_app.extensions.setdefault("payment_providers", {})
    if key not in made:
        made[key] = StripeProvider(*key)
    return made[key]


def by_name(name: str) -> Provider:
    provider = current()
    if provider.name != name:
        raise BadEvent(f"The {name} provider is not configured here.")
    return provider
