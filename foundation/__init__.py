"""The Wiltshire Young People's Foundation platform."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import Config, config_from_env

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_relative_config=False)
    app.config.from_object(config_from_env())
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'foundation.db'}"
    app.config.setdefault("UPLOAD_FOLDER", None)
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from foundation import extensions
    from foundation.db_setup import configure_engine_events

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(TEMPLATES.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.celery_init_app(app)
    with app.app_context():
        configure_engine_events(extensions.db.engine)

    from foundation import auth, cli, packages, web

    auth.init_app(app)
    web.init_app(app)
    cli.init_app(app)

    packages.init_app(app)
    return app
