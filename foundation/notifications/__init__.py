from flask import Blueprint

bp = Blueprint("notifications", __name__)

# commands: `flask notifications ...`. The outbox sweep's schedule is the base's (foundation/extensions.py).
MODULES = ("models", "views", "views_staff", "commands", "tasks", "privacy", "todo")
