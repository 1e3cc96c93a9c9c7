"""Periodic grant tasks (Celery beat), with a command to run them by hand."""

from __future__ import annotations

import click
from celery import shared_task

from foundation.extensions import db
from foundation.grants import bp


@shared_task(name="foundation.grants.tasks.close_due_rounds", ignore_result=True)
def close_due_rounds() -> int:
    """Close open rounds whose closing time has passed. Running it again changes nothing."""
    from foundation.grants.rounds import close_due_rounds as close

    closed = close()
    db.session.commit()
    return len(closed)


@bp.cli.command("close-due-rounds")
def close_due_rounds_command() -> None:
    """Close open funding rounds whose closing time has passed."""
    closed = close_due_rounds.run()
    click.echo(f"{closed} round(s) closed.")


@bp.cli.command("refresh-scorecard")
def refresh_scorecard_command() -> None:
    """Work out the scorecard's stored totals again from the grants (after loading data without the app)."""
    from foundation.grants.scorecard import refresh_all_totals

    rounds = refresh_all_totals()
    db.session.commit()
    click.echo(f"Scorecard totals worked out for {rounds} round(s).")
