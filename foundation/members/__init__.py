from flask import Blueprint

bp = Blueprint("members", __name__)

MODULES = (
    "models",
    "todo",
    "views_account",
    "views_org",
    "views_staff",
    "views_documents",
    "views_people",
    "views_privacy",
    "privacy",
    "tasks",
    "seed",
)

BEAT_SCHEDULE = {
    "document-expiry-reminders": {
        "task": "foundation.members.tasks.send_document_reminders",
        "schedule": 6 * 3600.0,
    },
}
