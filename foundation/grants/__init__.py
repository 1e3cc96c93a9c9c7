from flask import Blueprint

bp = Blueprint("grants", __name__)

MODULES = (
    "models",
    "todo",
    "views_rounds",
    "views_applications",
    "views_reviews",
    "views_awards",
    "views_public",
    "scorecard",
    "tasks",
    "report_tasks",
    "privacy",
    "seed",
)

BEAT_SCHEDULE = {
    "grant-report-reminders": {
        "task": "foundation.grants.report_tasks.send_report_reminders",
        "schedule": 6 * 3600.0,
    },
    "grant-review-deadline-reminders": {
        "task": "foundation.grants.report_tasks.send_review_deadline_reminders",
        "schedule": 6 * 3600.0,
    },
    # Every five minutes, so a round stops taking applications soon after its closing time.
    "close-due-grant-rounds": {
        "task": "foundation.grants.tasks.close_due_rounds",
        "schedule": 300.0,
    },
}
