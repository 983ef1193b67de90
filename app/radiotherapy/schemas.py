"""Radiotherapy courses, their phases and the fraction log (request and response shapes)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.clinical import dose
from app.core.schemas import ListArgsSchema, RecordSchema, StrictSchema
from app.radiotherapy.models import TECHNIQUES

# Sane upper bounds. A single external-beam fraction above 25 Gy is not given
# (single-fraction SRS tops out around 24 Gy), and conventional courses run
# up to ~40 fractions; 60 leaves room for hyperfractionated schedules.
MAX_DOSE_PER_FRACTION_CGY = 2500
MAX_FRACTIONS = 60
MAX_PHASES = 10
# A bolus is a few millimetres to about 2 cm of tissue-equivalent material;
# a skin dose above 150 Gy is a typo.
MAX_BOLUS_CM = 5.0
MAX_SKIN_DOSE_CGY = 15000


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


class _SkinDose(StrictSchema):
    """The optional skin-dose context of a course (create and PATCH)."""

    bolus = fields.Boolean(
        allow_none=True,
        truthy={True},
        falsy={False},
        metadata={"description": "A bolus was used over the field (raises the skin dose)"},
    )
    bolus_thickness_cm = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(
            min=0,
            min_inclusive=False,
            max=MAX_BOLUS_CM,
            error=f"must be > 0 and <= {MAX_BOLUS_CM} cm",
        ),
        metadata={"description": "Bolus thickness, cm; only with bolus: true"},
    )
    measured_skin_dose_cgy = fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(
            min=0,
            min_inclusive=False,
            max=MAX_SKIN_DOSE_CGY,
            error=f"must be > 0 and <= {MAX_SKIN_DOSE_CGY} cGy",
        ),
        metadata={
            "description": "Skin dose at the wound site measured in vivo (TLD, OSLD, diode or "
            "film) over the whole course, cGy; the prescription is not skin dose"
        },
    )


class BiologicalEffectSchema(StrictSchema):
    alpha_beta_gy = fields.Float()
    bed_gy = fields.Float()
    eqd2_gy = fields.Float()


class BiologicalDoseSchema(StrictSchema):
    basis = fields.String(metadata={"description": "prescription | fraction_log"})
    fractions = fields.Integer()
    physical_gy = fields.Float()
    acute = fields.Nested(
        BiologicalEffectSchema, metadata={"description": "alpha/beta 10 Gy: acute skin reactions"}
    )
    late = fields.Nested(
        BiologicalEffectSchema, metadata={"description": "alpha/beta 3 Gy: late effects"}
    )
    note = fields.String()


class CourseSchema(RecordSchema, _SkinDose):
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
    biological_dose = fields.Method(
        "_biological",
        dump_only=True,
        metadata={
            "description": "BED and EQD2 beside the physical dose, for acute (alpha/beta 10 "
            "Gy) and late (alpha/beta 3 Gy) effects: {prescription, delivered}. prescription "
            "from the phases; delivered from the fraction log, each fraction at its own dose "
            "(null while nothing is logged). Prescription dose, not measured skin dose "
            "(docs/clinical-reference.md, Radiotherapy dose)"
        },
    )

    def _delivered(self, obj: Any) -> int:
        return int(getattr(obj, "fraction_count_delivered", 0) or 0)

    def _biological(self, obj: Any) -> dict[str, Any]:
        planned = dose.biological_dose(dose.prescription_fractions(obj.phases), "prescription")
        logged = getattr(obj, "fraction_doses_delivered", None) or []
        delivered = dose.biological_dose(logged, "fraction_log") if logged else None
        return {
            "prescription": planned.to_dict(),
            "delivered": delivered.to_dict() if delivered else None,
        }


class CourseUpdateSchema(_SkinDose):
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
