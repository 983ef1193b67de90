from marshmallow import fields, validate

from app.core.schemas import StrictSchema


class TokenRequestSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=1024)
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
