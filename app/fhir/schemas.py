"""Registering SMART apps (the REST API's /smart-clients)."""

from __future__ import annotations

from typing import Any

from authlib.common.security import is_secure_transport
from marshmallow import ValidationError, fields, validate, validates

from app.core.schemas import ListArgsSchema, StrictSchema
from app.fhir.models import SCOPES

_SCOPES = " ".join(SCOPES)


class SmartClientCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    redirect_uris = fields.List(
        fields.String(validate=validate.Length(min=1, max=2000)),
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "Exact redirect URIs: https, or http on a loopback address"},
    )
    scope = fields.String(
        load_default="patient/*.read launch/patient",
        validate=validate.Length(min=1, max=500),
        metadata={"description": f"Space-separated, out of: {_SCOPES}"},
    )
    confidential = fields.Boolean(
        load_default=False,
        metadata={"description": "Issue a client secret (shown once); public apps use PKCE only"},
    )
    clinic_id = fields.UUID(
        allow_none=True,
        metadata={"description": "The clinic it is registered for (a clinic_admin's: required)"},
    )

    @validates("redirect_uris")
    def _secure(self, value: list[str], **_: Any) -> None:
        bad = [uri for uri in value if not is_secure_transport(uri)]
        if bad:
            raise ValidationError(f"must be https or loopback http: {', '.join(bad)}")

    @validates("scope")
    def _known(self, value: str, **_: Any) -> None:
        unknown = [s for s in value.split() if s not in SCOPES]
        if unknown:
            raise ValidationError(f"unsupported scopes: {', '.join(unknown)}")


class SmartClientSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    client_id = fields.String(dump_only=True)
    client_secret = fields.String(
        dump_only=True,
        metadata={"description": "Only in the answer to the create, for confidential apps"},
    )
    name = fields.String(dump_only=True)
    redirect_uris = fields.List(fields.String(), dump_only=True)
    scope = fields.String(dump_only=True)
    confidential = fields.Boolean(dump_only=True)
    clinic_id = fields.UUID(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class SmartClientListArgsSchema(ListArgsSchema):
    """Pages of registered apps (no delta feed: an app has no updated_at)."""

    class Meta(ListArgsSchema.Meta):
        exclude = ("updated_since",)
