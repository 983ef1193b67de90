"""Therapy demo data: the seed patient's anlotinib course and, for part of the
synthetic cohort, anlotinib courses with a dose reduction and the blood counts
behind it.

Call ``seed_therapy_demo`` from app/demo.py inside its loader's request
context (``g.user`` set to the demo nurse): every record goes through the same
schemas and services as the API, so the rules, audit trail and history apply.
Idempotent: fixed ids (uuid5), and a record whose id exists is left as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.therapy import courses, labs
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange
from app.therapy.schemas import LabResultSchema, SystemicTherapySchema, TherapyChangeSchema

_NAMESPACE = uuid.UUID("0b5e7d3c-9f21-5a46-8c1d-7e2f4a6b9c10")

# The seed case: anlotinib hydrochloride 12 mg once daily before breakfast,
# 2 weeks on / 1 week off (21-day cycles), started after radiotherapy.
ANLOTINIB = {"agent": "Anlotinib hydrochloride", "dose": 12, "dose_unit": "mg"}
ANLOTINIB_SCHEDULE = {"days_on": 14, "days_off": 7}


def therapy_demo_id(*parts: object) -> uuid.UUID:
    """Stable id of a therapy demo record."""
    return uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts))


SEED_THERAPY_ID = therapy_demo_id("therapy", "seed")


def _at(day: date, hour: int = 8) -> str:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC).isoformat()


def _create(
    session: Session, model: Any, body: dict[str, Any], make: Any, counts: dict[str, int]
) -> Any:
    """Validate with the route's schema and create with the service unless the id exists."""
    existing = session.get(model, uuid.UUID(body["id"]))
    if existing is not None:
        return existing
    schema = {
        SystemicTherapy: SystemicTherapySchema,
        TherapyChange: TherapyChangeSchema,
        LabResult: LabResultSchema,
    }[model]
    obj, created = make(schema().load(body))
    if created:
        counts[model.__audit_type__] = counts.get(model.__audit_type__, 0) + 1
    return obj


def _lab(
    session: Session, patient: Any, key: str, test: str, value: float, unit: str, day: date,
    counts: dict[str, int],
) -> None:  # fmt: skip
    body = {
        "id": str(therapy_demo_id("lab", patient.id, key)),
        "test": test,
        "value": value,
        "unit": unit,
        "taken_at": _at(day),
    }
    _create(session, LabResult, body, lambda d: labs.create_lab(session, patient, d), counts)


def seed_therapy_demo(
    session: Session,
    *,
    seed_patient: Any,
    seed_last_fraction_on: date,
    cohort: Sequence[tuple[Any, date]] = (),
    today: date | None = None,
) -> dict[str, int]:
    """Add the therapy demo records; returns how many of each kind were created.

    - ``seed_patient`` (a Patient): anlotinib 12 mg daily, 14 days on / 7 off,
      from the day after ``seed_last_fraction_on`` (the last radiotherapy
      fraction), open-ended — as in the seed case report.
    - ``cohort``: (patient, day after that patient's last fraction) pairs. Every
      third patient (0, 3, 6, ...) gets the same anlotinib course with a baseline
      blood count, a grade 3 platelet count decreased at the end of cycle 1
      (42 x10^9/L), a dose reduction 12 -> 10 mg from day 1 of cycle 2 with that
      reason, and a recovered count (98 x10^9/L, grade 1) at the end of cycle 2;
      every third patient from 1 gets a baseline blood count only.
    Results and changes dated after ``today`` (default: today, UTC) are left out.
    Must run inside a request context whose ``g.user`` may write clinical records.
    """
    today = today or datetime.now(UTC).date()
    counts: dict[str, int] = {}
    start = seed_last_fraction_on + timedelta(days=1)
    if start <= today:
        body = {"id": str(SEED_THERAPY_ID), **ANLOTINIB, **ANLOTINIB_SCHEDULE}
        body["start_date"] = start.isoformat()
        _create(
            session,
            SystemicTherapy,
            body,
            lambda d: courses.create_therapy(session, seed_patient, d),
            counts,
        )

    for index, (patient, start) in enumerate(cohort):
        if start > today or index % 3 == 2:
            continue
        _lab(session, patient, "baseline-plt", "platelets", 182, "10^9/L", start, counts)
        _lab(session, patient, "baseline-anc", "neutrophils", 3.4, "10^9/L", start, counts)
        _lab(session, patient, "baseline-hb", "hemoglobin", 118, "g/L", start, counts)
        _lab(session, patient, "baseline-alb", "albumin", 36, "g/L", start, counts)
        if index % 3 == 1:
            continue
        body = {"id": str(therapy_demo_id("therapy", patient.id)), **ANLOTINIB}
        body |= {**ANLOTINIB_SCHEDULE, "start_date": start.isoformat()}
        therapy = _create(
            session,
            SystemicTherapy,
            body,
            lambda d, p=patient: courses.create_therapy(session, p, d),
            counts,
        )
        low_day = start + timedelta(days=19)  # day 20 of cycle 1
        if low_day <= today:
            _lab(session, patient, "c1-plt", "platelets", 42, "10^9/L", low_day, counts)
        reduce_on = start + timedelta(days=21)  # day 1 of cycle 2
        if reduce_on <= today:
            change = {
                "id": str(therapy_demo_id("change", patient.id, "reduce")),
                "effective_on": reduce_on.isoformat(),
                "kind": "dose_reduced",
                "dose": 10,
                "reason": "grade 3 platelet count decreased",
            }
            _create(
                session,
                TherapyChange,
                change,
                lambda d, t=therapy: courses.add_change(session, t, d),
                counts,
            )
        recovered = start + timedelta(days=40)  # day 20 of cycle 2
        if recovered <= today:
            _lab(session, patient, "c2-plt", "platelets", 98, "10^9/L", recovered, counts)
    return counts
