from typing import Any

from marshmallow import fields, validate

from app.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.core.schemas import StrictSchema


def new_password_field(**kw: Any) -> fields.String:
    """The password rule of every new password: a user created, a password
    changed or reset (at least 12 characters; argon2id takes any text)."""
    return fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
        **kw,
    )


class TokenRequestSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class RefreshRequestSchema(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class TokenPairSchema(StrictSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(
        required=True,
        metadata={"description": "Seconds of inactivity before the access token lapses"},
    )


class MeSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    clinic_ids = fields.List(fields.UUID(), dump_only=True)


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )
    new_password = new_password_field()


class PasswordResetSchema(StrictSchema):
    token = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=512),
        metadata={
            "description": "The one-time token from POST /api/v1/users/{user_id}/password-reset"
        },
    )
    new_password = new_password_field()


class PasswordResetIssuedSchema(StrictSchema):
    user_id = fields.UUID(dump_only=True)
    token = fields.String(
        dump_only=True,
        metadata={"description": "Give it to the user only; it is shown once and works once"},
    )
    expires_at = fields.AwareDateTime(dump_only=True)
