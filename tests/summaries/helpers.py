"""Building summary test data.

Assessments and grade overrides go through the HTTP API (derived columns are
computed by app/assessments). Records whose API is not part of this package's
dependencies yet (wounds, procedures, radiotherapy course and fraction log)
are inserted through the models. ``bulk_open_wounds`` inserts thousands of
rows with executemany for the query-count tests and the benchmark.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any


def ellipse(length: float, width: float) -> float:
    """pi/4 x L x W (clinical-reference.md, Healing trajectory)."""
    return math.pi / 4 * length * width


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def add(app: Any, *objs: Any) -> list[uuid.UUID]:
    from app.extensions import db

    with app.app_context():
        for o in objs:
            db.session.add(o)
        db.session.commit()
        return [o.id for o in objs]


def patient(app: Any, clinic_id: uuid.UUID, **kw: Any) -> uuid.UUID:
    from app.patients.models import Patient

    fields = {
        "mrn": f"MRN-{uuid.uuid4().hex[:8]}",
        "given_name": "Testa",
        "family_name": "Fictitious",
        "birth_date": date(1938, 3, 14),
        "sex": "female",
    }
    fields.update(kw)
    return add(app, Patient(clinic_id=clinic_id, **fields))[0]


def wound(app: Any, clinic_id: uuid.UUID, patient_id: uuid.UUID, **kw: Any) -> uuid.UUID:
    from app.wounds.models import Wound

    fields = {
        "body_site": "popliteal fossa",
        "laterality": "left",
        "in_skin_fold": True,
        "etiology": "radiation_ulcer",
        "onset_date": date(2022, 6, 1),
        "status": "open",
    }
    fields.update(kw)
    return add(app, Wound(clinic_id=clinic_id, patient_id=patient_id, **fields))[0]


def course(
    app: Any,
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID,
    *,
    start: date,
    end: date | None,
    phases: list[tuple[str, float, int]],
    fractions: list[tuple[date, float]] = (),
) -> uuid.UUID:
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase

    c = RadiotherapyCourse(
        clinic_id=clinic_id,
        patient_id=patient_id,
        target_site="left popliteal fossa",
        start_date=start,
        end_date=end,
        phases=[
            RadiotherapyPhase(position=i, technique=t, dose_per_fraction_cgy=d, fractions=n)
            for i, (t, d, n) in enumerate(phases)
        ],
    )
    cid = add(app, c)[0]
    add(
        app,
        *[
            FractionDelivery(clinic_id=clinic_id, course_id=cid, delivered_on=d, dose_cgy=g)
            for d, g in fractions
        ],
    )
    return cid


def procedure(app: Any, clinic_id: uuid.UUID, wound_id: uuid.UUID, when: datetime, **kw: Any):
    from app.procedures.models import Procedure

    fields = {"kind": "debridement"}
    fields.update(kw)
    return add(app, Procedure(clinic_id=clinic_id, wound_id=wound_id, performed_at=when, **fields))[
        0
    ]


def assess(actor: Any, wound_id: uuid.UUID, when: datetime, **body: Any) -> dict[str, Any]:
    """POST an assessment through the API; returns the response JSON (+ etag)."""
    r = actor.post(
        f"/api/v1/wounds/{wound_id}/assessments",
        json={"assessed_at": when.isoformat(), **body},
    )
    assert r.status_code == 201, r.json
    return {**r.json, "_etag": r.headers["ETag"]}


def series(
    actor: Any, wound_id: uuid.UUID, start: date, areas: list[tuple[int, float]]
) -> list[dict[str, Any]]:
    """Assessments with measured areas on the given days from ``start``."""
    return [assess(actor, wound_id, at(start + timedelta(days=d)), area_cm2=a) for d, a in areas]


def bulk_open_wounds(
    app: Any,
    clinic_id: uuid.UUID,
    n_wounds: int,
    n_assessments: int,
    *,
    start: datetime | None = None,
    batch: int = 5000,
    patients: int | None = None,
) -> list[uuid.UUID]:
    """Insert ``n_wounds`` open wounds with ``n_assessments`` weekly assessments
    each, with executemany through the models' tables (no per-row ORM work).
    Areas vary per wound so every status occurs."""
    import sqlalchemy as sa

    from app.assessments.models import Assessment
    from app.extensions import db
    from app.patients.models import Patient
    from app.wounds.models import Wound

    start = start or datetime.now(UTC) - timedelta(days=7 * n_assessments)
    now = datetime.now(UTC)
    n_patients = patients or max(1, n_wounds // 2)
    patient_rows = [
        {
            "id": uuid.uuid4(),
            "clinic_id": clinic_id,
            "mrn": f"B{i:06d}",
            "given_name": "Bulk",
            "family_name": f"Patient{i}",
            "birth_date": date(1950, 1, 1),
            "sex": "female",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n_patients)
    ]
    wound_rows = []
    assessment_rows = []
    for i in range(n_wounds):
        wid = uuid.uuid4()
        wound_rows.append(
            {
                "id": wid,
                "clinic_id": clinic_id,
                "patient_id": patient_rows[i % n_patients]["id"],
                "body_site": ("popliteal fossa", "axilla", "inframammary fold", "neck")[i % 4],
                "laterality": "left",
                "in_skin_fold": True,
                "etiology": ("radiation_ulcer", "radiation_dermatitis")[i % 2],
                "onset_date": start.date(),
                "status": "open",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        # Weekly factor: shrinking, flat or growing depending on the wound.
        factor = (0.85, 0.99, 1.04, 0.7)[i % 4]
        area = 10.0
        for j in range(n_assessments):
            assessment_rows.append(
                {
                    "id": uuid.uuid4(),
                    "clinic_id": clinic_id,
                    "wound_id": wid,
                    "assessed_at": start + timedelta(days=7 * j, minutes=i % 60),
                    "area_cm2": round(area, 4),
                    "area_method": "measured",
                    "closed": False,
                    "ctcae_grade": (i + j) % 5,
                    "rtog_grade": (i + j) % 5,
                    "erythema": "none",
                    "desquamation": "none",
                    "moist_beyond_skin_folds": False,
                    "edema": "none",
                    "bleeding": "none",
                    "ulceration": "none",
                    "necrosis": False,
                    "skin_graft_indicated": False,
                    "life_threatening": False,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            area *= factor
    with app.app_context():
        for table, rows in (
            (Patient, patient_rows),
            (Wound, wound_rows),
            (Assessment, assessment_rows),
        ):
            for k in range(0, len(rows), batch):
                db.session.execute(sa.insert(table), rows[k : k + batch])
        db.session.commit()
    return [r["id"] for r in wound_rows]


def anlotinib(clinic_id: uuid.UUID, patient_id: uuid.UUID, start: date) -> Any:
    """The seed case's anti-angiogenic course: 12 mg, 2 weeks on, 1 week off."""
    from app.therapy.models import SystemicTherapy

    return SystemicTherapy(
        clinic_id=clinic_id,
        patient_id=patient_id,
        agent="anlotinib",
        anti_angiogenic=True,
        dose=12,
        dose_unit="mg",
        days_on=14,
        days_off=7,
        start_date=start,
    )


def silver_dressing(clinic_id: uuid.UUID, wound_id: uuid.UUID, start: date) -> Any:
    from app.therapy.models import TopicalTreatment

    return TopicalTreatment(
        clinic_id=clinic_id,
        wound_id=wound_id,
        category="silver",
        product="silver dressing",
        start_date=start,
    )


def low_platelets(clinic_id: uuid.UUID, patient_id: uuid.UUID, taken_at: datetime) -> Any:
    """Platelets 60 x 10^9/L: CTCAE grade 2."""
    from app.therapy.models import LabResult

    return LabResult(
        clinic_id=clinic_id,
        patient_id=patient_id,
        test="platelets",
        value=60,
        unit="10^9/L",
        canonical_value=60,
        canonical_unit="10^9/L",
        taken_at=taken_at,
        ctcae_term="Platelet count decreased",
        ctcae_grade=2,
    )
