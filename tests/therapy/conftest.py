"""Fixtures for the therapy context tests: a patient through the API and a
wound stored directly (the wounds API is another package's)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.factories import patient_body


@pytest.fixture
def patient(nurse) -> str:
    r = nurse.post("/api/v1/patients", json=patient_body())
    assert r.status_code == 201, r.json
    return r.json["id"]


@pytest.fixture
def wound(app, patient, clinic) -> str:
    from app.extensions import db
    from app.wounds.models import Wound

    with app.app_context():
        w = Wound(
            clinic_id=clinic,
            patient_id=uuid.UUID(patient),
            body_site="popliteal fossa",
            laterality="left",
            in_skin_fold=True,
            etiology="radiation_ulcer",
            onset_date=date(2022, 6, 20),
            status="open",
        )
        db.session.add(w)
        db.session.commit()
        return str(w.id)


def anlotinib(**overrides):
    """The seed case's course: anlotinib 12 mg daily, 14 days on / 7 off."""
    body = {
        "agent": "Anlotinib hydrochloride",
        "dose": 12,
        "dose_unit": "mg",
        "days_on": 14,
        "days_off": 7,
        "start_date": "2022-06-01",
    }
    body.update(overrides)
    return body
