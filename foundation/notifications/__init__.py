from flask import Blueprint

bp = Blueprint("notifications", __name__)

# Registers `flask notifications ...` with the blueprint.
from foundation.notifications import commands  # noqa: E402,F401
