from celery.schedules import crontab
from flask import Blueprint

bp = Blueprint("venues", __name__)

MODULES = (
    "models",
    "todo",
    "navigation",
    "views_ical",
    "views_booking",
    "views_venues",
    "views_search",
    "api",
    "tasks",
    "privacy",
    "standing",
    "seed",
)

BEAT_SCHEDULE = {
    # Hourly, so a booking made today for tomorrow still gets its reminder; each is sent once.
    "booking-reminders": {
        "task": "foundation.venues.tasks.send_booking_reminders",
        "schedule": 3600.0,
    },
    "booking-request-digests": {
        "task": "foundation.venues.tasks.send_request_digests",
        "schedule": crontab(hour=7, minute=30),
    },
}
