"""Shared builders for assessment and procedure tests.

Wounds are inserted directly (the wound API is another package's); everything
under test goes through HTTP.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa


def make_wound(
    app: Any,
    clinic_id: uuid.UUID,
    *,
    in_skin_fold: bool = True,
    onset_date: date = date(2025, 3, 1),
) -> uuid.UUID:
    """A patient and one open wound (left popliteal fossa, as in the seed case)."""
    from app.extensions import db
    from app.patients.models import Patient
    from app.wounds.models import Wound

    with app.app_context():
        patient = Patient(
            clinic_id=clinic_id,
            mrn=f"MRN-{uuid.uuid4().hex[:8]}",
            given_name="Testa",
            family_name="Fictitious",
            birth_date=date(1941, 5, 2),
            sex="female",
        )
        db.session.add(patient)
        db.session.flush()
        wound = Wound(
            clinic_id=clinic_id,
            patient_id=patient.id,
            body_site="popliteal fossa",
            laterality="left",
            in_skin_fold=in_skin_fold,
            etiology="radiation_ulcer",
            onset_date=onset_date,
        )
        db.session.add(wound)
        db.session.commit()
        return wound.id


def count_rows(app: Any, model: Any) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        db.session.remove()
        return n


def seed_ulcer_body(**overrides: Any) -> dict[str, Any]:
    """The seed case's ulcer: 2 x 2 cm, moderate exudate, slough, full thickness."""
    body: dict[str, Any] = {
        "assessed_at": "2025-03-10T09:30:00+01:00",
        "length_cm": 2.0,
        "width_cm": 2.0,
        "depth_cm": 0.3,
        "exudate_amount": "moderate",
        "exudate_type": "serosanguineous",
        "tissue": {"granulation_pct": 40, "slough_pct": 60},
        "closed": False,
        "pain_score": 4,
        "odor": False,
        "infection_signs": False,
        "notes": "Ulcer after the 13th fraction.",
        "findings": {
            "erythema": "brisk",
            "desquamation": "moist",
            "moist_beyond_skin_folds": False,
            "ulceration": "full_thickness",
        },
    }
    body.update(overrides)
    return body
