"""Command line: `flask --app wsgi <command>`. `db upgrade` comes from Flask-Migrate."""

from __future__ import annotations

import os

import click
import sqlalchemy as sa
from flask import Flask

from app.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True)
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
