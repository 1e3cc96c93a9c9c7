"""`flask payments apply-events`: apply stored provider events now, without a Celery worker."""

from __future__ import annotations

import click

from foundation.payments import bp


@bp.cli.command("apply-events")
def apply_events_command() -> None:
    """Apply every stored provider event not yet applied (what the worker does after each delivery)."""
    from foundation.payments.tasks import apply_all

    applied = apply_all()
    click.echo(f"{applied} payment event(s) applied.")
