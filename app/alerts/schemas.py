"""Wire shapes of alerts, webhooks and their deliveries."""

from marshmallow import fields, validate

from app.alerts.models import ALERT_STATUSES, EVENT_TYPES
from app.clinical.alerts import KINDS
from app.core.schemas import ListArgsSchema, StrictSchema


class AlertSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    clinic_id = fields.UUID(dump_only=True)
    wound_id = fields.UUID(dump_only=True)
    patient_id = fields.UUID(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(KINDS)})
    status = fields.String(dump_only=True, metadata={"enum": list(ALERT_STATUSES)})
    rule = fields.String(dump_only=True, metadata={"description": "Why the alert opened"})
    figures = fields.Dict(dump_only=True, metadata={"description": "The figures that triggered it"})
    opened_at = fields.AwareDateTime(dump_only=True)
    acknowledged_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    acknowledged_by = fields.UUID(dump_only=True, allow_none=True)
    acknowledge_note = fields.String(dump_only=True, allow_none=True)
    resolved_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True, allow_none=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class AlertListArgsSchema(ListArgsSchema):
    clinic_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    wound_id = fields.UUID()


class AcknowledgeSchema(StrictSchema):
    note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "What was done or decided (required)"},
    )


class WebhookInSchema(StrictSchema):
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1),
    )


class WebhookSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    clinic_id = fields.UUID(dump_only=True)
    url = fields.String(dump_only=True)
    events = fields.List(fields.String(), dump_only=True)
    active = fields.Boolean(dump_only=True)
    disabled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    disabled_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        dump_only=True,
        metadata={"description": "Signing secret (whsec_...), shown only in this response"},
    )


class DeliverySchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    message_id = fields.String(dump_only=True, metadata={"description": "The webhook-id header"})
    at = fields.AwareDateTime(dump_only=True)
    attempt = fields.Integer(dump_only=True)
    status_code = fields.Integer(dump_only=True, allow_none=True)
    error = fields.String(dump_only=True, allow_none=True)
    duration_ms = fields.Integer(dump_only=True)
    manual = fields.Boolean(dump_only=True)


class DeliveryListArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Length(max=2000))


class MessageSchema(StrictSchema):
    id = fields.String(dump_only=True)
    event_type = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    attempts = fields.Integer(dump_only=True)
    next_attempt_at = fields.AwareDateTime(dump_only=True)
    delivered_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class DigestSubscriptionSchema(StrictSchema):
    clinic_id = fields.UUID(dump_only=True)
    user_id = fields.UUID(dump_only=True)
    subscribed = fields.Boolean(dump_only=True)
