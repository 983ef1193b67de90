"""Refused access to records is audited (app/audit/denials.py): who, which
route template and record, never the query; at most N events per user a
minute, so probing cannot flood the table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from app.core.audit import AuditEvent
from tests.factories import patient_body
from tests.web.conftest import sign_in as web_sign_in

ADDR = "198.51.100.44"
PATIENT_ROUTE = "/api/v1/patients/<uuid:patient_id>"


def denials(app, **where) -> list[AuditEvent]:
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuditEvent).where(AuditEvent.action == "access_denied")
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        rows = list(db.session.scalars(stmt.order_by(AuditEvent.at)))
        db.session.expunge_all()
        return rows


@pytest.fixture
def patient(nurse) -> str:
    r = nurse.post("/api/v1/patients", json=patient_body(mrn="MRN-DENIAL-01"))
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_forbidden_role_is_audited(app, researcher, patient):
    r = researcher.get(
        f"/api/v1/patients/{patient}",
        headers={"X-Request-ID": "probe-1"},
        environ_base={"REMOTE_ADDR": ADDR},
    )
    assert r.status_code == 403
    [event] = denials(app)
    assert (event.user_id, event.role, event.outcome) == (
        researcher.user_id,
        "researcher",
        "forbidden",
    )
    assert (event.record_type, event.record_id) == ("patient", patient)
    assert event.details == {"route": PATIENT_ROUTE, "method": "GET", "status": 403}
    assert (event.client_addr, event.request_id, event.clinic_id) == (ADDR, "probe-1", None)


def test_another_clinics_record_is_audited_as_not_found(app, outsider, patient):
    assert outsider.get(f"/api/v1/patients/{patient}/wounds").status_code == 404
    etag = '"v1"'
    r = outsider.patch(f"/api/v1/patients/{patient}", json={"sex": "male"}, etag=etag)
    assert r.status_code == 404
    events = denials(app, user_id=outsider.user_id)
    assert [(e.outcome, e.record_type, e.record_id) for e in events] == [
        ("not_found", "patient", patient),
        ("not_found", "patient", patient),
    ]
    assert [(e.details["route"], e.details["method"]) for e in events] == [
        ("/api/v1/patients/<uuid:patient_id>/wounds", "GET"),
        (PATIENT_ROUTE, "PATCH"),
    ]


def test_a_forbidden_list_is_audited_without_its_query(app, researcher):
    r = researcher.get("/api/v1/patients", query_string={"mrn": "MRN-SECRET-77"})
    assert r.status_code == 403
    [event] = denials(app)
    assert (event.record_type, event.record_id) == (None, None)
    assert event.details == {"route": "/api/v1/patients", "method": "GET", "status": 403}
    assert "MRN-SECRET-77" not in str(event.details)


def test_clinic_pages_are_audited_too(app, outsider, patient):
    page = web_sign_in(app, outsider.email)
    assert page.get(f"/web/patients/{patient}").status_code == 404
    assert page.get("/web/no-such-page").status_code == 404  # not a record: not audited
    [event] = denials(app)
    assert event.user_id == outsider.user_id
    assert event.details["route"] == "/web/patients/<uuid:patient_id>"
    assert event.record_id == patient


def test_what_is_not_a_denial(app, client, nurse, patient):
    assert client.get(f"/api/v1/patients/{patient}").status_code == 401  # no token
    assert nurse.get("/api/v1/no-such-route").status_code == 404  # no route
    body = {"email": "x@example.org", "password": "wrong"}
    assert client.post("/api/v1/auth/token", json=body).status_code == 401
    assert nurse.get(f"/api/v1/patients/{patient}").status_code == 200
    assert denials(app) == []


@pytest.fixture
def three_a_minute(app) -> Iterator[None]:
    from app.extensions import limiter

    saved = app.config["AUDIT_DENIALS_PER_MINUTE"]
    app.config["AUDIT_DENIALS_PER_MINUTE"] = 3
    limiter.reset()
    yield
    app.config["AUDIT_DENIALS_PER_MINUTE"] = saved
    limiter.reset()


def _suppressed() -> float:
    return REGISTRY.get_sample_value("woundtrack_audit_denials_suppressed_total") or 0.0


def test_probing_is_capped_per_user(app, outsider, researcher, patient, three_a_minute):
    counted = _suppressed()
    for _ in range(7):
        assert outsider.get(f"/api/v1/patients/{patient}").status_code == 404
    events = denials(app, user_id=outsider.user_id)
    assert [e.outcome for e in events] == ["not_found"] * 3 + ["suppressed"]
    assert events[-1].details["limit_per_minute"] == 3
    assert events[-1].details["route"] == PATIENT_ROUTE
    assert _suppressed() == counted + 3
    # Another user's refusals have their own budget.
    assert researcher.get(f"/api/v1/patients/{patient}").status_code == 403
    assert [e.outcome for e in denials(app, user_id=researcher.user_id)] == ["forbidden"]


def test_the_cap_holds_without_the_limiter_storage(
    app, monkeypatch, outsider, patient, three_a_minute
):
    from app.audit import denials as module

    class Down:
        def hit(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(module, "_strategy", Down)
    for _ in range(5):
        assert outsider.get(f"/api/v1/patients/{patient}").status_code == 404
    assert [e.outcome for e in denials(app)] == ["not_found"] * 3 + ["suppressed"]
