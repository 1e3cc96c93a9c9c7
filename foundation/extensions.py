"""Extension objects, created once and bound to the app in create_app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from celery import Celery, Task
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so Alembic migrations are deterministic on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The models' base class. At run time it is Flask-SQLAlchemy's db.Model (the declarative base above, bound to the
# extension's session and naming tables); to the type checker it is that typed base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app the Flask way: every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL")
    sweep = float(app.config["NOTIFICATION_SWEEP_SECONDS"])
    celery_app: Celery = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": broker or "memory://",
            "result_backend": None,
            "task_ignore_result": True,
            # Without a broker the platform runs every task in-process (embedded default).
            "task_always_eager": not broker,
            "task_eager_propagates": False,
            "task_default_queue": app.config["CELERY_TASK_QUEUE"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {"socket_timeout": 2, "socket_connect_timeout": 2},
            # A commit must not hang on a dead broker: give up quickly, the outbox sweep re-enqueues.
            "task_publish_retry_policy": {
                "max_retries": 2,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
            "beat_schedule_filename": str(Path(app.instance_path) / "celerybeat-schedule"),
            "timezone": "Europe/London",
            "beat_schedule": {
                "sweep-unsent-notifications": {
                    "task": "foundation.notifications.tasks.sweep_unsent",
                    "schedule": sweep,
                },
            },
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
