"""Consortium bids to funders: the register of funders, funding opportunities (suggested by members, published
by staff), members' interests with a weekly digest, and funder prospecting from 360Giving open data."""

from flask import Blueprint

bp = Blueprint("bids", __name__)

MODULES = (
    "models",
    "views_members",
    "views_staff",
    "views_bids",
    "views_monitoring",
    "views_pipeline",
    "views_awards",
    "tasks",
    "todo",
    "navigation",
    "privacy",
    "seed",
)

BEAT_SCHEDULE = {
    # Hourly: an opportunity stops being listed as open at its deadline anyway; this records it as closed.
    "close-past-deadline-opportunities": {
        "task": "foundation.bids.tasks.close_due_opportunities",
        "schedule": 3600.0,
    },
    # Every six hours: the digest goes on Monday's first run (recorded per week, so later runs send nothing twice,
    # and a run missed on Monday is made up later in the week).
    "weekly-funding-digest": {
        "task": "foundation.bids.tasks.send_weekly_digest",
        "schedule": 6 * 3600.0,
    },
    # Every six hours: each reminder goes once (recorded), and a run that comes late still sends it.
    "bid-task-and-deadline-reminders": {
        "task": "foundation.bids.tasks.send_bid_reminders",
        "schedule": 6 * 3600.0,
    },
    # Every six hours: partners are reminded of monitoring returns 14 and 3 days before they are due and the day
    # after if overdue (each reminder once, recorded).
    "monitoring-return-reminders": {
        "task": "foundation.bids.tasks.send_return_reminders",
        "schedule": 6 * 3600.0,
    },
}
