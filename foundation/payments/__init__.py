"""Taking money: payment providers behind one interface.

A capability asks for a `Payment` (an amount, a description, what it is for) and gets a checkout: a page at the
provider to send the payer to, or none for the offline provider, where the payment waits as a pledge until staff
record that the money arrived. Either way the payment's state then changes in one place (service.py: `settle` for
one payment, `apply_next_batch` for a batch of provider events, both by the same moves) and the capability that
asked hears of it through the handler it registered for its purpose. Nothing after the checkout can tell the
providers apart.

Providers: Stripe Checkout when STRIPE_SECRET_KEY is set; otherwise offline (the embedded default). A provider's
events go through an inbox: the endpoint stores each once and answers, and a Celery worker applies them in
batches (service.apply_next_batch); beat's sweep applies any whose wake-up was lost.
"""

from flask import Blueprint

bp = Blueprint("payments", __name__)

# commands: `flask payments apply-events`.
MODULES = ("models", "views", "tasks", "commands", "privacy")

BEAT_SCHEDULE = {
    "apply-waiting-payment-events": {
        "task": "foundation.payments.tasks.sweep_events",
        "schedule": 60.0,
    },
    "read-unread-payment-fees": {
        "task": "foundation.payments.tasks.sweep_fees",
        "schedule": 15 * 60.0,
    },
    "ask-again-for-refunds": {
        "task": "foundation.payments.tasks.sweep_refunds",
        "schedule": 15 * 60.0,
    },
}
