"""Taking money: payment providers behind one interface.

A capability asks for a `Payment` (an amount, a description, what it is for) and gets a checkout: a page at the
provider to send the payer to, or none for the offline provider, where the payment waits as a pledge until staff
record that the money arrived. Either way the payment's state then changes in one place (`service.settle`) and
the capability that asked hears of it through the handler it registered for its purpose. Nothing after the
checkout can tell the providers apart.

Providers: Stripe Checkout when STRIPE_SECRET_KEY is set; otherwise offline (the embedded default).
"""

from flask import Blueprint

bp = Blueprint("payments", __name__)

MODULES = ("models", "views", "tasks", "privacy")

BEAT_SCHEDULE = {
    "read-unread-payment-fees": {
        "task": "foundation.payments.tasks.sweep_fees",
        "schedule": 15 * 60.0,
    },
}
