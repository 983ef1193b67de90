"""Command line: `flask --app wsgi <command>`. `db upgrade` comes from Flask-Migrate."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from app.extensions import db


def init_app(app: Flask) -> None:
    """Register the commands (the worker's comes from app.worker, by create_app)."""
    from app.alerts.cli import alerts_cli
    from app.core import backup
    from app.fhir.clients import smart_client_cli
    from app.photos.cli import storage_check

    for command in (create_admin, seed_demo_command, storage_check, alerts_cli, smart_client_cli):
        app.cli.add_command(command)
    backup.init_app(app)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True)
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Create the first admin. Password from ADMIN_PASSWORD or a prompt."""
    from app.auth.models import User
    from app.auth.services import MIN_PASSWORD_LENGTH, hash_password

    password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    email = email.strip().lower()
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"A user with email {email} exists already.")
    db.session.add(
        User(email=email, name=name, role="admin", password_hash=hash_password(password))
    )
    db.session.commit()
    click.echo(f"Admin {email} created.")


@click.command("seed-demo")
@click.option(
    "--if-absent",
    is_flag=True,
    help="Do nothing when the database already holds the demo clinic (what `make run` uses).",
)
@with_appcontext
def seed_demo_command(if_absent: bool) -> None:
    """Load the demo clinic, its users, the seed case and a synthetic cohort (idempotent)."""
    from flask import current_app

    from app.demo import DEMO_CLINIC, DEMO_PASSWORD, DEMO_USERS, demo_present, seed_demo

    if if_absent and demo_present(db.session):
        click.echo(f"{DEMO_CLINIC} is in this database already; demo data left as it is.")
        return
    report = seed_demo(current_app._get_current_object())  # type: ignore[attr-defined]
    created = ", ".join(f"{n} {kind}" for kind, n in sorted(report.created.items()))
    click.echo(f"{DEMO_CLINIC}: {created or 'nothing new (already loaded)'}.")
    click.echo(f"Demo users (password {DEMO_PASSWORD}):")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {email:28} {role}")
