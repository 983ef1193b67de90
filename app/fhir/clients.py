"""Registering SMART apps: the REST API's /smart-clients (admin for any
clinic or none, clinic_admin for their own clinics), and the same through
``flask smart-client create``."""

from __future__ import annotations

import uuid
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from app.core.access import clinic_clause, in_clinic, not_found, require
from app.core.db import utcnow
from app.core.errors import field_error
from app.core.pagination import paginate_args
from app.core.schemas import page_schema
from app.extensions import db
from app.fhir import oauth
from app.fhir.models import SmartClient, SmartToken
from app.fhir.schemas import (
    SmartClientCreateSchema,
    SmartClientListArgsSchema,
    SmartClientSchema,
)

blp = Blueprint(
    "smart-clients",
    __name__,
    url_prefix="/api/v1",
    description="SMART apps allowed to read the FHIR API",
)


def _view(client: SmartClient, secret: str | None = None) -> dict[str, Any]:
    out = {c: getattr(client, c) for c in SmartClientSchema().fields if hasattr(client, c)}
    out["confidential"] = client.secret_hash is not None
    if secret:
        out["client_secret"] = secret
    return out


def register(session: Session, user: Any, data: dict[str, Any]) -> tuple[SmartClient, str | None]:
    """Register an app for ``data["clinic_id"]`` (required of a clinic_admin)."""
    clinic_id = data.get("clinic_id")
    if user.role != "admin":
        if clinic_id is None:
            raise field_error("clinic_id", "required: the clinic the app is registered for")
        if not in_clinic(user, clinic_id):
            raise not_found("clinic")
    return oauth.new_client(
        data["name"],
        data["redirect_uris"],
        data["scope"],
        confidential=data["confidential"],
        clinic_id=clinic_id,
        created_by=user.id,
    )


def revoke(session: Session, client: SmartClient) -> None:
    """End an app and every token it holds (kept, marked revoked)."""
    now = utcnow()
    client.revoked_at = client.revoked_at or now
    session.execute(
        sa.update(SmartToken)
        .where(SmartToken.client_id == client.client_id, SmartToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()


@blp.route("/smart-clients")
class SmartClientsResource(MethodView):
    @blp.arguments(SmartClientListArgsSchema, location="query")
    @blp.response(200, page_schema(SmartClientSchema))
    def get(self, args):
        """Registered apps of your clinics (all of them for an admin)."""
        user = require("smart_clients:manage")
        stmt = sa.select(SmartClient).where(clinic_clause(SmartClient, user))
        page = paginate_args(
            db.session, stmt, SmartClient, args, order_by=(SmartClient.created_at,)
        )
        return {"items": [_view(c) for c in page["items"]], "next_cursor": page["next_cursor"]}

    @blp.arguments(SmartClientCreateSchema)
    @blp.response(201, SmartClientSchema)
    def post(self, data):
        """Register an app (admin, clinic_admin). The answer carries the
        client_id and, for a confidential app, its secret: shown this once."""
        user = require("smart_clients:manage")
        client, secret = register(db.session, user, data)
        return _view(client, secret)


@blp.route("/smart-clients/<uuid:client_uuid>/revoke")
class SmartClientRevokeResource(MethodView):
    @blp.response(200, SmartClientSchema)
    def post(self, client_uuid):
        """Revoke an app: no new sign-ins, and its tokens stop working at once."""
        user = require("smart_clients:manage")
        client = db.session.get(SmartClient, client_uuid)
        if client is None or not (user.role == "admin" or in_clinic(user, client.clinic_id)):
            raise not_found("SMART client")
        revoke(db.session, client)
        return _view(client)


@click.group("smart-client")
def smart_client_cli() -> None:
    """SMART apps allowed to read the FHIR API."""


@smart_client_cli.command("create")
@with_appcontext
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@click.option("--scope", default="patient/*.read launch/patient", show_default=True)
@click.option("--confidential", is_flag=True, help="Issue a client secret")
@click.option("--clinic-id", type=click.UUID, default=None)
def create_command(
    name: str,
    redirect_uris: tuple[str, ...],
    scope: str,
    confidential: bool,
    clinic_id: uuid.UUID | None,
) -> None:
    """Register an app (as the administrator at the console)."""
    errors = SmartClientCreateSchema().validate(
        {"name": name, "redirect_uris": list(redirect_uris), "scope": scope}
    )
    if errors:
        raise click.UsageError(str(errors))
    client, secret = oauth.new_client(
        name,
        list(redirect_uris),
        scope,
        confidential=confidential,
        clinic_id=clinic_id,
        created_by=None,
    )
    db.session.commit()
    click.echo(f"client_id: {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}  (shown once)")
