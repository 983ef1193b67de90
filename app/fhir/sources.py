"""Where each FHIR resource type is read from: one ``Source`` per table (and
kind of row), with the columns search and paging need.

A resource type may have several sources (Observation: wound size, grades,
PUSH, labs; Procedure: debridement, PRP, dressings). Resource ids carry the
source's ``kind`` as a prefix ("size-<assessment id>", "prp-<procedure id>"),
so a read finds its source from the id alone; sources with an empty kind
(Patient, Condition, ...) use the record id as it is.

Observation sources are listed in app/fhir/observations.py, the one place a
new kind of observation is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.fhir import resources as r
from app.patients.models import Patient
from app.photos.models import Photo
from app.procedures.models import Procedure
from app.radiotherapy.models import RadiotherapyCourse
from app.therapy.models import SystemicTherapy
from app.wounds.models import Wound


@dataclass(frozen=True)
class Source:
    """One table (or kind of row in it) a FHIR resource type is built from.

    The query selects ``model`` and then ``extra`` columns (joined by
    ``joins``: (target, on clause, outer)); ``build`` makes the resource of
    one such row. ``time`` orders and pages the results (and is what a
    ``date`` search compares); ``patient`` is the column of the patient's id.
    ``codes`` maps (system, code) to the clause selecting those rows (None:
    every row of the source), for the ``code`` search parameter.
    """

    resource_type: str
    kind: str
    model: Any
    time: Any
    patient: Any
    build: Callable[[Any], dict[str, Any]]
    extra: tuple[Any, ...] = ()
    joins: tuple[tuple[Any, Any, bool], ...] = ()
    where: Callable[[], Any] | None = None
    codes: dict[tuple[str, str], Any] = field(default_factory=dict)
    category: str | None = None

    def resource_id(self, record_id: Any) -> str:
        return f"{self.kind}-{record_id}" if self.kind else str(record_id)


def _wound_join(model: Any) -> tuple[tuple[Any, Any, bool], ...]:
    return ((Wound, sa.and_(model.wound_id == Wound.id, Wound.deleted_at.is_(None)), False),)


def _is_prp() -> Any:
    return sa.or_(
        Procedure.kind == "prp",
        Procedure.prp_form.is_not(None),
        Procedure.prp_volume_ml.is_not(None),
        Procedure.prp_activator.is_not(None),
    )


PATIENT = Source(
    "Patient", "", Patient, Patient.created_at, Patient.id, lambda row: r.patient(row[0])
)

CONDITION = Source(
    "Condition",
    "",
    Wound,
    Wound.created_at,
    Wound.patient_id,
    lambda row: r.condition(row[0], row[1]),
    extra=(RadiotherapyCourse,),
    joins=((RadiotherapyCourse, Wound.radiotherapy_course_id == RadiotherapyCourse.id, True),),
)

PROCEDURES = (
    Source(
        "Procedure",
        "debridement",
        Procedure,
        Procedure.performed_at,
        Wound.patient_id,
        lambda row: r.debridement(row[0], row[1]),
        extra=(Wound.patient_id,),
        joins=_wound_join(Procedure),
        where=lambda: Procedure.kind == "debridement",
    ),
    Source(
        "Procedure",
        "prp",
        Procedure,
        Procedure.performed_at,
        Wound.patient_id,
        lambda row: r.prp(row[0], row[1]),
        extra=(Wound.patient_id,),
        joins=_wound_join(Procedure),
        where=_is_prp,
    ),
    *(
        Source(
            "Procedure",
            kind,
            Procedure,
            Procedure.performed_at,
            Wound.patient_id,
            lambda row: r.other_procedure(row[0], row[1]),
            extra=(Wound.patient_id,),
            joins=_wound_join(Procedure),
            where=lambda kind=kind: Procedure.kind == kind,
        )
        for kind in ("dressing", "other")
    ),
)

MEDICATION_STATEMENT = Source(
    "MedicationStatement",
    "",
    SystemicTherapy,
    SystemicTherapy.created_at,
    SystemicTherapy.patient_id,
    lambda row: r.medication_statement(row[0], date.today()),
)

MEDIA = Source(
    "Media",
    "",
    Photo,
    Photo.created_at,
    Wound.patient_id,
    lambda row: r.media(row[0], row[1]),
    extra=(Wound,),
    joins=_wound_join(Photo),
)
