"""`flask --app wsgi alerts sweep|digest|deliver`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db

alerts_cli = AppGroup("alerts", help="Alerts: time-based rules, webhook delivery, e-mail digest.")


@alerts_cli.command("sweep")
def sweep_command() -> None:
    """Open and resolve overdue alerts, then deliver due webhook messages.
    Safe from cron on every instance at once."""
    from app.alerts import delivery
    from app.alerts.sweep import sweep_overdue

    counts = sweep_overdue(db.session)
    delivered = delivery.deliver_due(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(
        f"overdue alerts: {counts['opened']} opened, {counts['resolved']} resolved;"
        f" webhook messages: {sum(delivered.values())} attempted"
    )


@alerts_cli.command("deliver")
def deliver_command() -> None:
    """Deliver the webhook messages that are due."""
    from app.alerts import delivery

    counts = delivery.deliver_due(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing due")


@alerts_cli.command("digest")
def digest_command() -> None:
    """E-mail each subscribed user the counts of their clinic's open alerts (SMTP_URL)."""
    from app.alerts.digest import send_digest

    try:
        sent = send_digest(current_app._get_current_object(), db.session)  # type: ignore[attr-defined]
    except (RuntimeError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{sent} digest e-mail(s) sent")
