"""Capacity building: training and networking events at Venue Bank spaces, online or elsewhere, with
registration, fair waiting lists, attendance, certificates and feedback. Events book their rooms through the Venue
Bank's booking service (the one call between capabilities, named in the README's layout)."""

from flask import Blueprint

bp = Blueprint("events", __name__)

MODULES = (
    "models",
    # events and listing
    "views_events",
    "seed",
    # registration and waiting lists
    "views_registrations",
    "fees",
    "views_fees",
    "tasks",
    "todo",
    "privacy",
    "seed_registrations",
    # on the day and after
    "views_attendance",
    "todo_attendance",
    "seed_attendance",
)  # each module that registers routes, tasks, privacy sections or seed data is added here

BEAT_SCHEDULE = {
    # registration and waiting lists: a lapsed offer passes its places on within five minutes.
    "lapse-event-offers": {"task": "foundation.events.tasks.lapse_offers", "schedule": 5 * 60.0},
    # Places held for a fee not paid in time pass on within five minutes too.
    "lapse-unpaid-event-places": {"task": "foundation.events.tasks.lapse_unpaid", "schedule": 5 * 60.0},
    # Hourly: each reminder and each feedback request goes once (recorded), and a late run still sends it.
    "event-reminders": {"task": "foundation.events.tasks.send_event_reminders", "schedule": 3600.0},
    "event-feedback-requests": {"task": "foundation.events.tasks.send_feedback_requests", "schedule": 3600.0},
}
