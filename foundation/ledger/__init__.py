"""The Foundation's double-entry ledger: every capability that moves money posts here.

Accounts, transactions and entries (models.py); posting and balances (service.py). The ledger knows accounts by
code and kind, never the capability behind them: a round's budget is the account "round:3", a campaign's money
"campaign:5". Transactions carry tags (the codes of what they concern) so a capability can list its own.
"""

from flask import Blueprint

bp = Blueprint("ledger", __name__)

MODULES = ("models", "privacy")
