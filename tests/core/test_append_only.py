"""Audit events and record history are append-only in the database itself:
raw SQL, outside the ORM and its hooks, cannot change or delete them either
(the triggers of migration 0012, on SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.factories import patient_body

STATEMENTS = {
    "audit_events": (
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
    ),
    "record_versions": (
        "UPDATE record_versions SET action = 'forged'",
        "DELETE FROM record_versions",
    ),
}


@pytest.fixture
def amended_patient(nurse):
    """A patient created and amended: audit rows and two history versions."""
    r = nurse.post("/api/v1/patients", json=patient_body())
    pid = r.json["id"]
    r = nurse.patch(f"/api/v1/patients/{pid}", json={"sex": "male"}, etag=r.headers["ETag"])
    assert r.status_code == 200, r.json
    return pid


def _rows(app, table: str) -> list[dict]:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608


@pytest.mark.parametrize(
    ("table", "statement"),
    [(table, sql) for table, pair in STATEMENTS.items() for sql in pair],
)
def test_raw_sql_cannot_change_or_delete_rows(app, amended_patient, table, statement):
    from app.extensions import db

    before = _rows(app, table)
    assert len(before) >= 2
    with (
        app.app_context(),
        pytest.raises(sa.exc.IntegrityError, match="append-only"),
        db.engine.begin() as conn,
    ):
        conn.execute(sa.text(statement))
    assert _rows(app, table) == before


def test_rows_are_still_added(app, amended_patient, nurse):
    from app.extensions import db

    before = len(_rows(app, "audit_events"))
    assert nurse.get(f"/api/v1/patients/{amended_patient}").status_code == 200
    assert len(_rows(app, "audit_events")) == before + 1
    with app.app_context():
        # Other tables are not affected: a plain UPDATE still works on them.
        patients = db.metadata.tables["patients"]
        with db.engine.begin() as conn:
            changed = conn.execute(
                sa.update(patients)
                .where(patients.c.id == uuid.UUID(amended_patient))
                .values(sex="female")
            ).rowcount
    assert changed == 1
