"""Loading the platform's packages: the base knows them only by the names in `PACKAGES` (config.py).

Each package's `__init__.py` defines `bp` (its blueprint), `MODULES` (the modules to import so that its
models, routes, tasks, personal-data export sections and demo data register themselves) and, if it has
periodic work, `BEAT_SCHEDULE` (Celery beat entries, merged into the app's schedule).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from flask import Flask


def load_package(name: str) -> ModuleType:
    package = importlib.import_module(name)
    for module in getattr(package, "MODULES", ()):
        importlib.import_module(f"{name}.{module}")
    return package


def init_app(app: Flask) -> None:
    celery_app = app.extensions["celery"]
    for name in app.config["PACKAGES"]:
        package = load_package(name)
        app.register_blueprint(package.bp)
        celery_app.conf.beat_schedule.update(getattr(package, "BEAT_SCHEDULE", {}))
