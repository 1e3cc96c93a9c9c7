"""Entry point for Celery: `celery -A make_celery worker` and `celery -A make_celery beat`.

Both read the same environment as the web app (DATABASE_URL, CELERY_BROKER_URL, CELERY_TASK_QUEUE,
MAIL_SERVER, ...). Every task runs inside a Flask app context, with its own database session.
"""

from celery.signals import worker_process_init

from foundation import create_app
from foundation.extensions import db

# Workers wait longer than web requests on row locks and statements (DB_WORKER_* settings, foundation/db_setup.py).
flask_app = create_app({"DB_TIMEOUT_PROFILE": "worker"})
celery_app = flask_app.extensions["celery"]

# create_app imported every package's task modules (their MODULES), so the worker knows every task.


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    # A forked pool process must not share the parent's database connections.
    with flask_app.app_context():
        db.engine.dispose(close=False)
