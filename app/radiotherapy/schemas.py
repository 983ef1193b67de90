"""Radiotherapy courses, their phases and the fraction log (request and response shapes)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.core.schemas import ListArgsSchema, RecordSchema, StrictSchema
from app.radiotherapy.models import TECHNIQUES

# Sane upper bounds. A single external-beam fraction above 25 Gy is not given
# (single-fraction SRS tops out around 24 Gy), and conventional courses run
# up to ~40 fractions; 60 leaves room for hyperfractionated schedules.
MAX_DOSE_PER_FRACTION_CGY = 2500
MAX_FRACTIONS = 60
MAX_PHASES = 10


class PhaseSchema(StrictSchema):
    technique = fields.String(required=True, validate=validate.OneOf(TECHNIQUES))
    dose_per_fraction_cgy = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(
            min=0,
            min_inclusive=False,
            max=MAX_DOSE_PER_FRACTION_CGY,
            error=f"must be > 0 and <= {MAX_DOSE_PER_FRACTION_CGY} cGy",
        ),
    )
    fractions = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(
            min=1, max=MAX_FRACTIONS, error=f"must be between 1 and {MAX_FRACTIONS}"
        ),
    )
    start_date = fields.Date(allow_none=True)


class CourseSchema(RecordSchema):
    patient_id = fields.UUID(dump_only=True)
    target_site = fields.String(required=True, validate=validate.Length(min=1, max=200))
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)
    phases = fields.List(
        fields.Nested(PhaseSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_PHASES, error="needs 1 to {max} phases"),
    )
    total_dose_cgy = fields.Float(
        dump_only=True, metadata={"description": "Planned total: sum of dose x fractions"}
    )
    fraction_count_delivered = fields.Method(
        "_delivered",
        dump_only=True,
        metadata={"description": "Fractions in the fraction log (not deleted)"},
    )

    def _delivered(self, obj: Any) -> int:
        return int(getattr(obj, "fraction_count_delivered", 0) or 0)


class CourseUpdateSchema(StrictSchema):
    target_site = fields.String(validate=validate.Length(min=1, max=200))
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    phases = fields.List(
        fields.Nested(PhaseSchema),
        validate=validate.Length(min=1, max=MAX_PHASES, error="needs 1 to {max} phases"),
        metadata={"description": "Replaces all phases of the course"},
    )


class CourseListArgsSchema(ListArgsSchema):
    pass


_FRACTION_DOSE = validate.Range(
    min=0,
    min_inclusive=False,
    max=MAX_DOSE_PER_FRACTION_CGY,
    error=f"must be > 0 and <= {MAX_DOSE_PER_FRACTION_CGY} cGy",
)


class FractionSchema(RecordSchema):
    course_id = fields.UUID(dump_only=True)
    delivered_on = fields.Date(required=True)
    dose_cgy = fields.Float(required=True, allow_nan=False, validate=_FRACTION_DOSE)


class FractionUpdateSchema(StrictSchema):
    """PATCH: correct a logged fraction's date or dose."""

    delivered_on = fields.Date()
    dose_cgy = fields.Float(allow_nan=False, validate=_FRACTION_DOSE)


class FractionListArgsSchema(ListArgsSchema):
    pass


class DoseArgsSchema(StrictSchema):
    on = fields.Date(
        metadata={"description": "The date (YYYY-MM-DD); default today (UTC)"},
    )


class DoseSchema(StrictSchema):
    course_id = fields.UUID()
    on = fields.Date()
    cumulative_dose_cgy = fields.Float()
    fraction_number = fields.Integer(
        metadata={"description": "Fractions delivered (or planned) by the end of that day"}
    )
    planned_total_cgy = fields.Float()
    source = fields.String(metadata={"description": "fraction_log | planned_schedule"})
    during_course = fields.Boolean(allow_none=True)
    after_course = fields.Boolean(allow_none=True)
    note = fields.String(allow_none=True)
