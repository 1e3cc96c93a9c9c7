"""`flask notifications sweep`: deliver what is due without a Celery beat (the embedded default)."""

from __future__ import annotations

import click

from foundation.notifications import bp


@bp.cli.command("sweep")
def sweep_command() -> None:
    """Send every due email still waiting in the outbox (in-process when no broker is configured)."""
    from foundation.notifications import services

    queued = services.sweep()
    click.echo(f"{queued} notification(s) handed over for delivery.")
