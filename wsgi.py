"""WSGI entry point: `gunicorn wsgi:app`."""

from foundation import create_app

app = create_app()
