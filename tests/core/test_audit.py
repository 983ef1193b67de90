"""The audit trail: one event per read and write of patient data, sign-ins,
no PHI in it, immutable through the application, readable by clinic_admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent, ImmutableAuditError
from app.core.db import utcnow
from tests.factories import PASSWORD, patient_body

ADDR = "198.51.100.23"


def events(app, **where) -> list[AuditEvent]:
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuditEvent).order_by(AuditEvent.at)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def all_audit_text(app) -> str:
    """Every column of every audit row, as text (details included)."""
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent.__table__)).mappings().all()
    return " ".join(str(v) for row in rows for v in row.values())


def call(actor, method: str, url: str, request_id: str, **kw):
    return actor.request(
        method,
        url,
        headers={"X-Request-ID": request_id, **kw.pop("headers", {})},
        environ_base={"REMOTE_ADDR": ADDR},
        **kw,
    )


def assert_event(ev: AuditEvent, actor, action: str, record_id: str, request_id: str, clinic):
    assert ev.action == action
    assert ev.user_id == actor.user_id and ev.role == actor.role
    assert ev.record_type == "patient" and ev.record_id == record_id
    assert ev.clinic_id == clinic
    assert ev.client_addr == ADDR and ev.request_id == request_id
    assert ev.outcome == "success"
    assert utcnow() - timedelta(minutes=1) < ev.at <= utcnow()


def test_each_patient_read_and_write_leaves_one_event(app, nurse, clinic):
    body = patient_body(given_name="Philippa", family_name="Quenby", mrn="MRN-778899")
    r = call(nurse, "POST", "/api/v1/patients", "req-create", json=body)
    assert r.status_code == 201
    pid = r.json["id"]
    steps = [
        ("GET", f"/api/v1/patients/{pid}", {}, "read"),
        ("PATCH", f"/api/v1/patients/{pid}", {"json": {"given_name": "Pippa"}}, "update"),
        ("GET", f"/api/v1/patients/{pid}/history", {}, "read"),
        ("DELETE", f"/api/v1/patients/{pid}", {}, "delete"),
    ]
    etag = '"v1"'
    for n, (method, url, kw, _action) in enumerate(steps):
        headers = {"If-Match": etag} if method in ("PATCH", "DELETE") else {}
        r = call(nurse, method, url, f"req-{n}", headers=headers, **kw)
        assert r.status_code == 200, r.json
        etag = r.headers.get("ETag", etag)

    mine = events(app, record_id=pid)
    assert [e.action for e in mine] == ["create", "read", "update", "read", "delete"]
    assert [e.request_id for e in mine] == ["req-create", "req-0", "req-1", "req-2", "req-3"]
    for ev in mine:
        assert_event(ev, nurse, ev.action, pid, ev.request_id, clinic)

    # A list read is one event for the list (with the count), not one per row.
    r = call(nurse, "GET", "/api/v1/patients", "req-list")
    assert r.status_code == 200
    [listed] = events(app, request_id="req-list")
    assert listed.action == "list" and listed.record_type == "patient"
    assert listed.user_id == nurse.user_id and listed.details == {"count": 0}

    text = all_audit_text(app)
    for phi in ("Philippa", "Pippa", "Quenby", "MRN-778899", "1938-03-14"):
        assert phi not in text, phi


def test_refused_requests_leave_no_write_event(app, nurse, researcher, outsider):
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    before = len(events(app))
    assert researcher.get(f"/api/v1/patients/{pid}").status_code == 403
    assert outsider.get(f"/api/v1/patients/{pid}").status_code == 404
    r = nurse.patch(f"/api/v1/patients/{pid}", json={"given_name": "X"})  # no If-Match
    assert r.status_code == 428
    # No read or write event: only the two refusals (tests/audit/test_denials.py).
    after = events(app)[before:]
    assert [(e.action, e.outcome) for e in after] == [
        ("access_denied", "forbidden"),
        ("access_denied", "not_found"),
    ]


def test_sign_in_success_and_failure_are_audited(app, client, nurse):
    r = client.post(
        "/api/v1/auth/token",
        json={"email": nurse.email, "password": PASSWORD},
        headers={"X-Request-ID": "login-ok"},
        environ_base={"REMOTE_ADDR": ADDR},
    )
    assert r.status_code == 200
    [ok] = events(app, request_id="login-ok")
    assert (ok.action, ok.outcome, ok.user_id, ok.role) == (
        "login",
        "success",
        nurse.user_id,
        "nurse",
    )
    assert ok.client_addr == ADDR

    r = client.post(
        "/api/v1/auth/token",
        json={"email": nurse.email, "password": "a guessed password"},
        headers={"X-Request-ID": "login-bad"},
        environ_base={"REMOTE_ADDR": ADDR},
    )
    assert r.status_code == 401
    [bad] = events(app, request_id="login-bad")
    assert (bad.action, bad.outcome) == ("login", "failure")
    assert bad.client_addr == ADDR
    text = all_audit_text(app)
    assert "a guessed password" not in text and PASSWORD not in text


def test_refresh_reuse_is_audited(app, client, nurse):
    pair = client.post("/api/v1/auth/token", json={"email": nurse.email, "password": PASSWORD})
    refresh = pair.json["refresh_token"]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 200
    r = client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": refresh},
        headers={"X-Request-ID": "reuse"},
    )
    assert r.status_code == 401
    [ev] = events(app, request_id="reuse")
    assert (ev.action, ev.outcome) == ("refresh", "failure")
    assert refresh not in all_audit_text(app)


def _one_event(app) -> AuditEvent:
    from app.core import audit
    from app.extensions import db

    with app.app_context():
        audit.record(db.session, "read", "patient", "x")
        db.session.commit()
    [ev] = events(app)
    return ev


def test_audit_rows_cannot_be_updated_through_the_orm(app):
    from app.extensions import db

    ev = _one_event(app)
    with app.app_context():
        row = db.session.get(AuditEvent, ev.id)
        row.action = "forged"
        with pytest.raises(ImmutableAuditError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(ImmutableAuditError):
            db.session.execute(sa.update(AuditEvent).values(action="forged"))
        db.session.rollback()
    assert [e.action for e in events(app)] == ["read"]


def test_audit_rows_cannot_be_deleted_through_the_orm(app):
    from app.extensions import db

    ev = _one_event(app)
    with app.app_context():
        db.session.delete(db.session.get(AuditEvent, ev.id))
        with pytest.raises(ImmutableAuditError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(ImmutableAuditError):
            db.session.execute(sa.delete(AuditEvent))
        db.session.rollback()
    assert len(events(app)) == 1


def test_clinic_admin_reads_its_own_clinics_trail(
    nurse, outsider, clinic_admin, clinic, other_clinic, admin
):
    mine = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    theirs = outsider.post("/api/v1/patients", json=patient_body()).json["id"]

    r = clinic_admin.get("/api/v1/audit-events")
    assert r.status_code == 200
    items = r.json["items"]
    assert {e["record_id"] for e in items if e["record_type"] == "patient"} == {mine}
    assert {e["clinic_id"] for e in items} == {str(clinic)}
    assert {"at", "user_id", "role", "action", "client_addr", "request_id"} <= set(items[0])

    assert clinic_admin.get(f"/api/v1/audit-events?clinic_id={other_clinic}").status_code == 404
    r = clinic_admin.get(f"/api/v1/audit-events?record_id={theirs}")
    assert r.status_code == 200 and r.json["items"] == []

    everything = admin.get("/api/v1/audit-events").json["items"]
    assert {mine, theirs} <= {e["record_id"] for e in everything}

    for actor in (nurse, outsider):
        r = actor.get("/api/v1/audit-events")
        assert r.status_code == 403 and r.mimetype == "application/problem+json"
