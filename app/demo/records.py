"""One maker per record type the demo writes, shared by the seed case and the
cohort: each names the route's schema and service once, so the stories only
say what goes into a record.

Every maker is idempotent (see ``Loader.create``); the ``kind`` each passes is
the key ``SeedReport.created`` counts it under.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from app.assessments import services as assessment_services
from app.assessments.models import Assessment
from app.assessments.schemas import AssessmentSchema
from app.demo.loader import Loader, visit_time
from app.patients import services as patient_services
from app.patients.models import Patient
from app.patients.schemas import PatientSchema
from app.procedures import services as procedure_services
from app.procedures.models import Procedure
from app.procedures.schemas import ProcedureSchema
from app.radiotherapy import services as rt_services
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse
from app.radiotherapy.schemas import CourseSchema, FractionSchema
from app.therapy import courses as therapy_courses
from app.therapy.models import SystemicTherapy
from app.therapy.schemas import SystemicTherapySchema
from app.wounds import services as wound_services
from app.wounds.models import Wound
from app.wounds.schemas import WoundSchema, WoundUpdateSchema


def patient(load: Loader, body: dict[str, Any]) -> Patient:
    """POST /patients."""
    session = load.session
    return load.create(
        "patient", Patient, PatientSchema, body, partial(patient_services.create_patient, session)
    )


def course(load: Loader, patient: Patient, body: dict[str, Any]) -> RadiotherapyCourse:
    """POST /patients/{id}/radiotherapy-courses."""
    service = partial(rt_services.create_course, load.session, patient)
    return load.create("radiotherapy_course", RadiotherapyCourse, CourseSchema, body, service)


def fraction(load: Loader, course: RadiotherapyCourse, body: dict[str, Any]) -> None:
    """POST /radiotherapy-courses/{id}/fractions."""
    service = partial(rt_services.log_fraction, load.session, course)
    load.create("fraction", FractionDelivery, FractionSchema, body, service)


def wound(load: Loader, patient: Patient, body: dict[str, Any]) -> Wound:
    """POST /patients/{id}/wounds."""
    service = partial(wound_services.create_wound, load.session, patient)
    return load.create("wound", Wound, WoundSchema, body, service)


def systemic_therapy(load: Loader, patient: Patient, body: dict[str, Any]) -> None:
    """POST /patients/{id}/systemic-therapies."""
    service = partial(therapy_courses.create_therapy, load.session, patient)
    load.create("systemic_therapy", SystemicTherapy, SystemicTherapySchema, body, service)


def assessment(
    load: Loader,
    wound: Wound,
    record_id: uuid.UUID,
    day: date,
    length: float,
    width: float,
    *,
    exudate: str,
    tissue: tuple[int, int, int, int],
    ulceration: str,
    pain: int,
    closed: bool = False,
    erythema: str = "moderate",
    desquamation: str = "moist",
    moist_beyond_folds: bool = False,
    notes: str | None = None,
    infection: bool = False,
    symptoms: dict[str, Any] | None = None,
) -> None:
    """POST /wounds/{id}/assessments: a visit's measurements, tissue mix
    (epithelial, granulation, slough, necrotic %) and structured skin findings,
    from which the service derives the area, the grades and the scores;
    ``symptoms``: itch, burning and PRO-CTCAE skin reaction when the patient
    was asked (pain is always recorded)."""
    epi, gran, slough, necrotic = tissue
    body: dict[str, Any] = {
        "id": str(record_id),
        "assessed_at": visit_time(day),
        "length_cm": round(length, 1),
        "width_cm": round(width, 1),
        "depth_cm": 0.0 if closed else 0.2,
        "exudate_amount": exudate,
        "exudate_type": "none" if exudate == "none" else "serous",
        "tissue": {
            "epithelial_pct": epi,
            "granulation_pct": gran,
            "slough_pct": slough,
            "necrotic_pct": necrotic,
        },
        "closed": closed,
        "pain_score": pain,
        "odor": False,
        "infection_signs": infection,
        "notes": notes,
        "findings": {
            "erythema": erythema,
            "desquamation": desquamation,
            "moist_beyond_skin_folds": moist_beyond_folds,
            "edema": "none",
            "bleeding": "none",
            "ulceration": ulceration,
            "necrosis": necrotic > 0,
            "skin_graft_indicated": False,
            "life_threatening": False,
        },
    }
    body.update(symptoms or {})
    # The service reads its wound as the API's create does: a row of facts
    # with the course's dates (acute or late).
    facts = assessment_services.wound_facts(load.session, wound.id)
    service = partial(assessment_services.create_assessment, load.session, facts)
    load.create("assessment", Assessment, AssessmentSchema, body, service)


def procedure(load: Loader, wound: Wound, body: dict[str, Any]) -> None:
    """POST /wounds/{id}/procedures."""
    service = partial(procedure_services.create_procedure, load.session, wound)
    load.create("procedure", Procedure, ProcedureSchema, body, service)


def mark_healed(session: Session, wound: Wound, healed_on: date) -> None:
    """PATCH-equivalent: the wound service with If-Match: * (set on the request)."""
    changes = WoundUpdateSchema().load({"status": "healed", "healed_on": healed_on.isoformat()})
    wound_services.update_wound(session, wound, changes)
