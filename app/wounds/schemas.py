"""Wounds: request and response shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.core.schemas import ListArgsSchema, RecordSchema, StrictSchema
from app.wounds.models import ETIOLOGIES, LATERALITIES, WOUND_STATUSES


class ClosureSchema(Schema):
    """An earlier healing of the wound, and how the wound was reopened after it."""

    healed_on = fields.String(metadata={"description": "The healed date as it was recorded"})
    reopened_at = fields.String(metadata={"description": "When the wound was reopened (UTC)"})
    reopened_by = fields.String(
        validate=validate.OneOf(("assessment", "amendment")),
        metadata={
            "description": "assessment: an open measurement after the healed date reopened it;"
            " amendment: a PATCH to status open"
        },
    )
    assessment_id = fields.String(
        allow_none=True, metadata={"description": "The assessment that reopened it"}
    )


class WoundSchema(RecordSchema):
    patient_id = fields.UUID(dump_only=True)
    body_site = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": 'Free text, e.g. "popliteal fossa"'},
    )
    laterality = fields.String(required=True, validate=validate.OneOf(LATERALITIES))
    in_skin_fold = fields.Boolean(load_default=False)
    etiology = fields.String(required=True, validate=validate.OneOf(ETIOLOGIES))
    radiotherapy_course_id = fields.UUID(
        allow_none=True,
        metadata={"description": "A radiotherapy course of the same patient"},
    )
    onset_date = fields.Date(required=True)
    status = fields.String(load_default="open", validate=validate.OneOf(WOUND_STATUSES))
    healed_on = fields.Date(
        allow_none=True, metadata={"description": "Required when status is healed"}
    )
    closures = fields.List(
        fields.Nested(ClosureSchema),
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "Earlier healings the wound was reopened after, oldest first; each"
            " ends a healing episode of the trajectory"
        },
    )


class WoundUpdateSchema(StrictSchema):
    body_site = fields.String(validate=validate.Length(min=1, max=200))
    laterality = fields.String(validate=validate.OneOf(LATERALITIES))
    in_skin_fold = fields.Boolean()
    etiology = fields.String(validate=validate.OneOf(ETIOLOGIES))
    radiotherapy_course_id = fields.UUID(allow_none=True)
    onset_date = fields.Date()
    status = fields.String(
        validate=validate.OneOf(WOUND_STATUSES),
        metadata={
            "description": "Setting open clears healed_on; a healed date cleared so is kept"
            " in closures"
        },
    )
    healed_on = fields.Date(allow_none=True)


class WoundListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(WOUND_STATUSES))
    etiology = fields.String(validate=validate.OneOf(ETIOLOGIES))


class ClinicWoundListArgsSchema(WoundListArgsSchema):
    clinic_id = fields.UUID()
    patient_id = fields.UUID()
