"""flask commands: create-staff, seed-demo, send-due-notifications."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from foundation.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(create_staff)
    app.cli.add_command(seed_demo)
    app.cli.add_command(send_due_notifications)


@click.command("create-staff")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
@with_appcontext
def create_staff(email: str, name: str, password: str) -> None:
    """Create a foundation staff user (or make an existing user staff)."""
    from foundation.members import accounts
    from foundation.types import utcnow

    user = accounts.find_user_by_email(email)
    if user is None:
        user = accounts.User(
            name=name, email=email.strip().lower(), password_hash=accounts.hash_password(password)
        )
        db.session.add(user)
    user.is_staff = True
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    db.session.commit()
    click.echo(f"{user.email} is foundation staff.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load demo data. Safe to run again: nothing is added twice."""
    from foundation.seed import seed

    for line in seed():
        click.echo(line)


@click.command("send-due-notifications")
@with_appcontext
def send_due_notifications() -> None:
    """Deliver every outbox row that is due, in this process (useful without a worker)."""
    from foundation.notifications import services

    ids = services.due_ids()
    with click.progressbar(ids, label="Delivering") as bar:
        for nid in bar:
            services.deliver(nid)
    click.echo(f"{len(ids)} due notifications processed.")
