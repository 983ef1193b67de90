"""The kinds of Observation the FHIR API serves: the one place to add one.

Each kind is a ``Source`` (app/fhir/sources.py): the table its rows come
from, the clause that picks the rows that have a value, its code(s) for the
``code`` search parameter, its category, and the function that builds the
resource. To serve a new kind, append its Source to OBSERVATIONS (an
assessment's value: ``_assessment_kind``; another table: a builder and a
Source); search, paging, read, access and audit then apply to it unchanged.
Keep the ``kind`` short and unique: it prefixes the resource ids.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.assessments.models import Assessment
from app.clinical import interchange as ix
from app.fhir import resources as r
from app.fhir.sources import Source
from app.photos.models import Photo, PhotoColourMeasure
from app.therapy.models import LabResult
from app.wounds.models import Wound

EXAM = "exam"
SURVEY = "survey"
LABORATORY = "laboratory"

_WOUND = ((Wound, sa.and_(Assessment.wound_id == Wound.id, Wound.deleted_at.is_(None)), False),)


def _grade_in_effect(a: Any, scale: str, derived: int | None) -> int | None:
    """The clinician's override in force on ``scale``, else the derived grade."""
    override = a.current_override(scale)
    return override.value if override is not None else derived


def _size(a: Any) -> dict[str, Any]:
    dims = ("length_cm", "width_cm", "depth_cm", "area_cm2")
    return {"component": ix.size_components({d: getattr(a, d) for d in dims})}


def _symptom(field: str) -> Any:
    """The value[x] of one patient-reported symptom (the shared coding of
    app/clinical/interchange.py)."""

    def value(a: Any) -> dict[str, Any]:
        ((_, parts),) = ix.symptom_observation_parts({field: getattr(a, field)})
        return {k: v for k, v in parts.items() if k.startswith("value")}

    return value


# Resource-id prefix of each patient-reported symptom's Observation.
_SYMPTOM_KINDS = {
    "pain_score": "pain",
    "itch_nrs": "itch",
    "burning_nrs": "burning",
    "pro_skin_reaction": "skinpro",
}


def _erythema(row: Any) -> dict[str, Any]:
    m, patient_id = row
    values = {field: getattr(m, field) for field, *_ in ix.COLOUR_COMPONENTS}
    out = r.observation(
        "erythema",
        m,
        patient_id,
        category=EXAM,
        code=ix.coding(ix.LOCAL_OBSERVATION, *ix.ERYTHEMA_COLOUR),
        when=m.measured_at,
        value={"component": ix.colour_components(values)},
        focus=m.wound_id,
    )
    out["method"] = {"text": m.calibration_method.replace("_", " ")}
    photos = [m.photo_id] + ([m.reference_photo_id] if m.reference_photo_id else [])
    out["derivedFrom"] = [{"reference": f"Media/{photo_id}"} for photo_id in photos]
    return out


def _lab(row: Any) -> dict[str, Any]:
    lab = row[0]
    return r.observation(
        "lab",
        lab,
        lab.patient_id,
        category=LABORATORY,
        code=ix.lab_code(lab.test),
        when=lab.taken_at,
        value={"valueQuantity": ix.lab_value(lab.test, lab.canonical_value)},
    )


def _assessment_kind(
    kind: str,
    concept: dict[str, Any],
    category: str,
    where: Any,
    value: Any,
) -> Source:
    """An Observation of each assessment that has a value for it (``where``):
    its ``concept`` (whose first coding is what the ``code`` search matches)
    and ``value(assessment)``, the value[x] or components, at the assessment's
    time, focused on the wound."""

    def build(row: Any) -> dict[str, Any]:
        a, patient_id = row
        return r.observation(
            kind,
            a,
            patient_id,
            category=category,
            code=concept,
            when=a.assessed_at,
            value=value(a),
            focus=a.wound_id,
        )

    first = concept["coding"][0]
    return Source(
        "Observation",
        kind,
        Assessment,
        Assessment.assessed_at,
        Wound.patient_id,
        build,
        extra=(Wound.patient_id,),
        joins=_WOUND,
        where=where,
        codes={(first["system"], first["code"]): None},
        category=category,
    )


OBSERVATIONS: tuple[Source, ...] = (
    _assessment_kind(
        "size",
        ix.size_panel_code(),
        EXAM,
        lambda: sa.or_(
            Assessment.length_cm.is_not(None),
            Assessment.width_cm.is_not(None),
            Assessment.depth_cm.is_not(None),
            Assessment.area_cm2.is_not(None),
        ),
        _size,
    ),
    _assessment_kind(
        "ctcae",
        ix.coding(ix.LOCAL_OBSERVATION, *ix.CTCAE_DERMATITIS),
        EXAM,
        lambda: Assessment.ctcae_grade.is_not(None),
        lambda a: {
            "valueCodeableConcept": ix.ctcae_grade_value(
                _grade_in_effect(a, "ctcae", a.ctcae_grade)
            )
        },
    ),
    _assessment_kind(
        "rtog",
        ix.coding(ix.LOCAL_OBSERVATION, *ix.RTOG_ACUTE_SKIN),
        EXAM,
        lambda: Assessment.rtog_grade.is_not(None),
        lambda a: {"valueInteger": _grade_in_effect(a, "rtog", a.rtog_grade)},
    ),
    _assessment_kind(
        "push",
        ix.coding(ix.LOCAL_OBSERVATION, *ix.PUSH_TOTAL),
        SURVEY,
        lambda: Assessment.push_total.is_not(None),
        lambda a: {"valueInteger": a.push_total},
    ),
    *(
        _assessment_kind(
            _SYMPTOM_KINDS[field],
            {"coding": [{"system": system, "code": code, "display": display}]},
            SURVEY,
            lambda field=field: getattr(Assessment, field).is_not(None),
            _symptom(field),
        )
        for field, system, code, display in ix.SYMPTOM_CODES
    ),
    Source(
        "Observation",
        "erythema",
        PhotoColourMeasure,
        PhotoColourMeasure.measured_at,
        Wound.patient_id,
        _erythema,
        extra=(Wound.patient_id,),
        joins=(
            (
                Wound,
                sa.and_(PhotoColourMeasure.wound_id == Wound.id, Wound.deleted_at.is_(None)),
                False,
            ),
            # a measure of a deleted photo is not served (nor on the trajectory)
            (
                Photo,
                sa.and_(PhotoColourMeasure.photo_id == Photo.id, Photo.deleted_at.is_(None)),
                False,
            ),
        ),
        codes={(ix.LOCAL_OBSERVATION, ix.ERYTHEMA_COLOUR[0]): None},
        category=EXAM,
    ),
    Source(
        "Observation",
        "lab",
        LabResult,
        LabResult.taken_at,
        LabResult.patient_id,
        _lab,
        codes={
            (ix.LOINC, code): LabResult.test == test for test, (code, _, _) in ix.LAB_CODES.items()
        },
        category=LABORATORY,
    ),
)
