"""Version 1 of a record is the record itself until its first amendment, which
stores it beside version 2 (app/core/history.py). What the history answers
must not depend on when version 1 reached the history table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.assessments.helpers import make_wound
from tests.bench.bench_records import _assessment_body
from tests.factories import patient_body


def _stored_versions(app, record_id: str) -> list[int]:
    from app.core.history import RecordVersion
    from app.extensions import db

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(RecordVersion.version)
                .where(RecordVersion.record_id == uuid.UUID(record_id))
                .order_by(RecordVersion.version)
            )
        )


def _patient(nurse, clinic):
    r = nurse.post("/api/v1/patients", json=patient_body(mrn="H-1"))
    return f"/api/v1/patients/{r.json['id']}", r, {"mrn": "H-2"}


def _assessment(nurse, clinic):
    from flask import current_app

    wound = make_wound(current_app, clinic)
    body = _assessment_body(0, datetime.now(UTC) - timedelta(hours=2))
    r = nurse.post(f"/api/v1/wounds/{wound}/assessments", json=body)
    return f"/api/v1/assessments/{r.json['id']}", r, {"pain_score": 7, "length_cm": 1.5}


@pytest.mark.parametrize("make", [_patient, _assessment], ids=["patient", "assessment"])
def test_version_1_is_the_same_before_and_after_the_first_amendment(app, nurse, clinic, make):
    with app.test_request_context():
        url, created, change = make(nurse, clinic)
    assert created.status_code == 201, created.json
    record_id = created.json["id"]
    assert _stored_versions(app, record_id) == []  # the create wrote no copy of itself

    before = nurse.get(f"{url}/history").json["items"]
    assert len(before) == 1
    v1 = before[0]
    assert (v1["version"], v1["action"], v1["changed_by"]) == (1, "create", str(nurse.user_id))
    assert v1["changed_at"] == created.json["created_at"]
    assert v1["data"]["id"] == record_id and v1["data"]["version"] == 1
    # The fields a create names are those it recorded, never bookkeeping ones.
    assert "id" in v1["changed_fields"] and "version" not in v1["changed_fields"]
    assert all(v1["data"][field] is not None for field in v1["changed_fields"])

    r = nurse.patch(url, json=change, etag=created.headers["ETag"])
    assert r.status_code == 200, r.json
    assert _stored_versions(app, record_id) == [1, 2]
    after = nurse.get(f"{url}/history").json["items"]
    assert after[0] == v1  # read from the record before, stored at the amendment now
    assert after[1]["version"] == 2 and after[1]["action"] == "update"
    assert set(change) <= set(after[1]["changed_fields"])
    for field, value in change.items():
        assert after[1]["data"][field] == value and v1["data"][field] != value


def test_a_version_1_stored_at_create_is_kept_and_not_written_again(app, nurse):
    """Records created while version 1 was written with the create keep that row;
    their first amendment must neither fail on the unique version nor replace it."""
    from app.core.history import _INSERT
    from app.extensions import db

    created = nurse.post("/api/v1/patients", json=patient_body(mrn="OLD-1"))
    pid = created.json["id"]
    v1 = nurse.get(f"/api/v1/patients/{pid}/history").json["items"][0]
    with app.app_context():
        db.session.connection().execute(
            _INSERT,
            {
                "id": uuid.uuid4(),
                "record_type": "patient",
                "record_id": uuid.UUID(pid),
                "version": 1,
                "action": "create",
                "changed_fields": ["mrn"],
                "data": {**v1["data"], "note": "written at create"},
                "changed_by": None,
                "changed_at": datetime.now(UTC),
                "clinic_id": None,
            },
        )
        db.session.commit()
    r = nurse.patch(f"/api/v1/patients/{pid}", json={"mrn": "OLD-2"}, etag=created.headers["ETag"])
    assert r.status_code == 200, r.json
    versions = nurse.get(f"/api/v1/patients/{pid}/history").json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["data"]["note"] == "written at create"
    assert versions[1]["data"]["mrn"] == "OLD-2"


def test_created_and_amended_in_one_transaction(app, nurse, clinic):
    """Version 1 is read from the row the same transaction inserted."""
    from datetime import date

    from flask import g

    from app.core.access import Principal
    from app.core.history import history_of
    from app.extensions import db
    from app.patients.models import Patient

    with app.test_request_context():
        g.user = Principal(nurse.user_id, nurse.email, "N", "nurse", (clinic,))
        patient = Patient(
            clinic_id=clinic,
            mrn="T-1",
            given_name="Una",
            family_name="Fictitious",
            birth_date=date(1950, 1, 1),
            sex="female",
            created_by=nurse.user_id,
        )
        db.session.add(patient)
        db.session.flush()
        patient.mrn = "T-2"
        db.session.commit()
        rows = history_of(db.session, "patient", patient.id)
        assert [(v.version, v.data["mrn"]) for v in rows] == [(1, "T-1"), (2, "T-2")]
        assert rows[0].changed_by == nurse.user_id and rows[1].changed_fields == ["mrn"]


def test_a_type_with_a_snapshot_extension_stores_version_1_at_create(app, nurse):
    """A course's phases live in another table and can change without the
    course row, so its version 1 cannot wait for the first amendment."""
    from tests.radiotherapy.test_radiotherapy_api import course_body

    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    r = nurse.post(f"/api/v1/patients/{pid}/radiotherapy-courses", json=course_body())
    assert r.status_code == 201, r.json
    assert _stored_versions(app, r.json["id"]) == [1]
