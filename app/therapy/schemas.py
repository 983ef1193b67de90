"""Therapy context schemas: systemic courses and their changes, topical
treatments of a wound, laboratory results."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import fields, validate

from app.clinical import labs
from app.core.schemas import (
    ListArgsSchema,
    MethodNested,
    OffsetDateTime,
    RecordSchema,
    StrictSchema,
)
from app.therapy.models import CHANGE_KINDS, LAB_TESTS, TOPICAL_CATEGORIES
from app.therapy.schedules import active_changes, derived_today

_POSITIVE = validate.Range(
    min=0, min_inclusive=False, error="must be greater than 0 (rule: dose_positive)"
)
_DAYS_ON = validate.Range(
    min=1, max=366, error="must be between 1 and 366 (rule: days_on_positive)"
)
# Dates outside this range are typing errors, and date arithmetic near year 1 or
# 9999 would overflow.
_DATE_RANGE = validate.Range(
    min=date(1900, 1, 1), max=date(2199, 12, 31), error="must be between {min} and {max}"
)
_DAYS_OFF = validate.Range(
    min=0, max=366, error="must be between 0 and 366 (rule: days_off_nonneg)"
)

# The words for topical categories, and the code stored for each.
TOPICAL_CATEGORY_HELP = (
    "dressing (dressing type), topical_corticosteroid, rhegf (recombinant human "
    "epidermal growth factor), plant_extract (aloe vera or other plant extract), "
    "vitamin (vitamin preparation), silver, antimicrobial, barrier_film, other"
)


# --- systemic therapy -------------------------------------------------------


class TherapyChangeSchema(RecordSchema):
    therapy_id = fields.UUID(dump_only=True)
    effective_on = fields.Date(
        required=True,
        validate=_DATE_RANGE,
        metadata={"description": "First day the change applies"},
    )
    kind = fields.String(required=True, validate=validate.OneOf(CHANGE_KINDS))
    dose = fields.Float(
        allow_none=True,
        validate=_POSITIVE,
        metadata={"description": "New daily dose (required for dose_reduced, lower than before)"},
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": 'e.g. "grade 3 platelet count decreased"'},
    )


class TherapyChangeUpdateSchema(StrictSchema):
    """PATCH: correct a recorded change; the course must stay consistent."""

    effective_on = fields.Date(validate=_DATE_RANGE)
    kind = fields.String(validate=validate.OneOf(CHANGE_KINDS))
    dose = fields.Float(allow_none=True, validate=_POSITIVE)
    reason = fields.String(validate=validate.Length(min=1, max=2000))


class TherapyDerivedSchema(StrictSchema):
    on_drug_today = fields.Boolean()
    dose_today = fields.Float(allow_none=True)
    cycle_today = fields.Integer(allow_none=True)


class SystemicTherapySchema(RecordSchema):
    patient_id = fields.UUID(dump_only=True)
    agent = fields.String(required=True, validate=validate.Length(min=1, max=100))
    agent_code = fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    anti_angiogenic = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "Preset from the agent (anlotinib, bevacizumab, pazopanib, "
            "sunitinib, ... and ANTI_ANGIOGENIC_EXTRA) when not given"
        },
    )
    dose = fields.Float(required=True, validate=_POSITIVE, metadata={"description": "Daily dose"})
    dose_unit = fields.String(required=True, validate=validate.Length(min=1, max=20))
    days_on = fields.Integer(required=True, validate=_DAYS_ON)
    days_off = fields.Integer(required=True, validate=_DAYS_OFF)
    start_date = fields.Date(
        required=True, validate=_DATE_RANGE, metadata={"description": "Day 1 of cycle 1"}
    )
    stop_date = fields.Date(
        allow_none=True,
        validate=_DATE_RANGE,
        metadata={"description": "Last day of the course (inclusive)"},
    )
    changes = fields.Method("_changes", dump_only=True)
    derived = MethodNested(TherapyDerivedSchema, "_derived")

    def _changes(self, obj: Any) -> list[dict[str, Any]]:
        return TherapyChangeSchema(many=True).dump(active_changes(obj))

    def _derived(self, obj: Any) -> dict[str, Any]:
        return derived_today(obj)


class SystemicTherapyUpdateSchema(StrictSchema):
    agent = fields.String(validate=validate.Length(min=1, max=100))
    agent_code = fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    anti_angiogenic = fields.Boolean()
    dose = fields.Float(validate=_POSITIVE)
    dose_unit = fields.String(validate=validate.Length(min=1, max=20))
    days_on = fields.Integer(validate=_DAYS_ON)
    days_off = fields.Integer(validate=_DAYS_OFF)
    start_date = fields.Date(validate=_DATE_RANGE)
    stop_date = fields.Date(allow_none=True, validate=_DATE_RANGE)


class ExposureArgsSchema(StrictSchema):
    from_ = fields.Date(
        data_key="from",
        validate=_DATE_RANGE,
        metadata={"description": "First day (default: course start)"},
    )
    to = fields.Date(
        validate=_DATE_RANGE,
        metadata={"description": "Last day (default: course end, or today)"},
    )


class BandSchema(StrictSchema):
    start = fields.Date()
    end = fields.Date()
    on_drug = fields.Boolean()
    dose = fields.Float(allow_none=True)


class CycleSchema(StrictSchema):
    number = fields.Integer()
    start = fields.Date()
    end = fields.Date()


class ExposureSchema(StrictSchema):
    therapy_id = fields.UUID()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    days_on_drug = fields.Integer()
    bands = fields.List(fields.Nested(BandSchema))
    cycles = fields.List(
        fields.Nested(CycleSchema),
        metadata={"description": "Cycles touching the window, clipped to it"},
    )


# --- topical treatments -----------------------------------------------------


class TopicalTreatmentSchema(RecordSchema):
    wound_id = fields.UUID(dump_only=True)
    category = fields.String(
        required=True,
        validate=validate.OneOf(TOPICAL_CATEGORIES),
        metadata={"description": TOPICAL_CATEGORY_HELP},
    )
    product = fields.String(required=True, validate=validate.Length(min=1, max=200))
    start_date = fields.Date(required=True, validate=_DATE_RANGE)
    stop_date = fields.Date(allow_none=True, validate=_DATE_RANGE)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))


class TopicalTreatmentUpdateSchema(StrictSchema):
    category = fields.String(validate=validate.OneOf(TOPICAL_CATEGORIES))
    product = fields.String(validate=validate.Length(min=1, max=200))
    start_date = fields.Date(validate=_DATE_RANGE)
    stop_date = fields.Date(allow_none=True, validate=_DATE_RANGE)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))


# --- laboratory results -----------------------------------------------------


class LabGradeSchema(StrictSchema):
    term = fields.String()
    value = fields.Integer()
    reasons = fields.List(fields.String())


_UNIT_HELP = "; ".join(f"{t}: {', '.join(u)}" for t, u in labs.ACCEPTED_UNITS.items())


class LabResultSchema(RecordSchema):
    patient_id = fields.UUID(dump_only=True)
    test = fields.String(required=True, validate=validate.OneOf(LAB_TESTS))
    value = fields.Float(required=True)
    unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": f"Accepted units — {_UNIT_HELP}"},
    )
    taken_at = OffsetDateTime(required=True)
    lower_limit_normal = fields.Float(
        allow_none=True,
        allow_nan=False,
        metadata={
            "description": "The laboratory's lower limit of normal, in `unit`, when it sends "
            "one: CTCAE grade 1 is below it. Without it, a default is used (for hemoglobin "
            "the patient's sex's: 13.0 g/dL men, 12.0 women; WHO 2011)"
        },
    )
    upper_limit_normal = fields.Float(
        allow_none=True,
        allow_nan=False,
        metadata={"description": "The laboratory's upper limit of normal, in `unit` (optional)"},
    )
    canonical_value = fields.Float(dump_only=True)
    canonical_unit = fields.String(dump_only=True)
    ctcae_grade = MethodNested(
        LabGradeSchema,
        "_grade",
        allow_none=True,
        metadata={"description": "CTCAE v5.0 {term, value, reasons}"},
    )

    def _grade(self, obj: Any) -> dict[str, Any] | None:
        if obj.ctcae_grade is None:
            return None
        return {
            "term": obj.ctcae_term,
            "value": obj.ctcae_grade,
            "reasons": list(obj.ctcae_reasons or []),
        }


class LabResultUpdateSchema(StrictSchema):
    test = fields.String(validate=validate.OneOf(LAB_TESTS))
    value = fields.Float()
    unit = fields.String(validate=validate.Length(min=1, max=20))
    taken_at = OffsetDateTime()
    lower_limit_normal = fields.Float(allow_none=True, allow_nan=False)
    upper_limit_normal = fields.Float(allow_none=True, allow_nan=False)


class LabListArgsSchema(ListArgsSchema):
    test = fields.String(validate=validate.OneOf(LAB_TESTS))
