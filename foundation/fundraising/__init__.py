"""Consortium fundraising: campaigns run by several member organisations, donations through the payment
providers with Gift Aid, match funding, Gift Aid claims, and the public trail of where the money goes."""

from flask import Blueprint

bp = Blueprint("fundraising", __name__)

MODULES = (
    "models",
    "donations",
    "views_public",
    "views_campaigns",
    "views_staff",
    "views_claims",
    "todo",
    "privacy",
    "seed",
)
