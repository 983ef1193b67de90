"""Every error is application/problem+json {type, title, status, detail} and
says what to fix; an unexpected exception is a bare 500 with the request id."""

from __future__ import annotations

import json

import sqlalchemy as sa

PROBLEM = "application/problem+json"


def assert_problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data()[:300])
    assert r.mimetype == PROBLEM
    body = r.json
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status and body["detail"]
    assert body["request_id"] == r.headers["X-Request-ID"]
    return body


def clinic_count(app) -> int:
    from app.clinics.models import Clinic
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Clinic))


def test_unknown_field_is_422_naming_it(app, admin):
    r = admin.post("/api/v1/clinics", json={"name": "Somewhere", "colour": "blue"})
    body = assert_problem(r, 422)
    assert list(body["errors"]) == ["colour"]
    assert clinic_count(app) == 0


def test_wrong_type_is_422_naming_the_field(app, admin, nurse):
    before = clinic_count(app)
    body = assert_problem(admin.post("/api/v1/clinics", json={"name": 12}), 422)
    assert "name" in body["errors"]
    body = assert_problem(
        admin.post("/api/v1/clinics", json={"name": "X", "overdue_assessment_days": "soon"}), 422
    )
    assert "overdue_assessment_days" in body["errors"]
    body = assert_problem(nurse.get("/api/v1/patients?limit=lots"), 422)
    assert "limit" in body["errors"]
    # A JSON array where an object belongs is a 422 too, not a 500.
    assert_problem(admin.post("/api/v1/clinics", json=["name"]), 422)
    assert clinic_count(app) == before


def test_missing_required_field_is_422(admin):
    body = assert_problem(admin.post("/api/v1/clinics", json={}), 422)
    assert "name" in body["errors"]


def test_malformed_json_is_400(app, admin):
    for raw in ('{"name": ', "not json", '{"name": "x",}'):
        r = admin.post("/api/v1/clinics", data=raw, content_type="application/json")
        assert_problem(r, 400)
    assert clinic_count(app) == 0


def test_401_403_404(client, nurse):
    assert_problem(client.get("/api/v1/me"), 401)
    assert_problem(nurse.post("/api/v1/clinics", json={"name": "Mine"}), 403)
    assert_problem(nurse.get("/api/v1/patients/00000000-0000-4000-8000-000000000000"), 404)
    assert_problem(nurse.get("/api/v1/no-such-thing"), 404)
    assert_problem(nurse.get("/api/v1/patients/not-a-uuid"), 404)


def test_405_names_the_allowed_methods(nurse):
    body = assert_problem(nurse.delete("/api/v1/clinics"), 405)
    r = nurse.delete("/api/v1/clinics")
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    assert "DELETE" in body["detail"] and "GET" in body["detail"]


def test_oversized_json_is_413(app, admin):
    limit = app.config["MAX_JSON_BYTES"]
    raw = json.dumps({"name": "x" * (limit + 1)})
    r = admin.post("/api/v1/clinics", data=raw, content_type="application/json")
    assert_problem(r, 413)
    assert clinic_count(app) == 0


def test_unexpected_exception_is_a_bare_500(app, admin, monkeypatch, caplog):
    from app.clinics import services

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2 at /srv/app/clinics.py")

    monkeypatch.setattr(services, "clinics_for", explode)
    r = admin.get("/api/v1/clinics", headers={"X-Request-ID": "boom-1"})
    body = assert_problem(r, 500)
    assert body["request_id"] == "boom-1"
    text = r.get_data(as_text=True)
    for leak in ("secret internals", "hunter2", "RuntimeError", "Traceback", "clinics.py"):
        assert leak not in text
    # The details go to the log, under the same request id.
    assert any("boom-1" in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_unexpected_exception_writes_nothing(app, admin, monkeypatch):
    from app.clinics import services

    real = services.create_clinic

    def half_done(session, data):
        real(session, data)  # flushed, not committed
        raise RuntimeError("after the flush")

    monkeypatch.setattr(services, "create_clinic", half_done)
    assert admin.post("/api/v1/clinics", json={"name": "Half"}).status_code == 500
    assert clinic_count(app) == 0


def test_duplicate_is_a_422_or_409_not_a_500(admin):
    assert admin.post("/api/v1/clinics", json={"name": "Twice"}).status_code == 201
    r = admin.post("/api/v1/clinics", json={"name": "Twice"})
    assert r.status_code in (409, 422) and r.mimetype == PROBLEM


def test_nul_characters_are_422_not_500(app, admin, nurse, client):
    """PostgreSQL cannot store NUL in text; found by the fuzzer (POST /clinics)."""
    before = clinic_count(app)
    body = assert_problem(admin.post("/api/v1/clinics", json={"name": "A\x00B"}), 422)
    assert "name" in body["errors"]
    body = assert_problem(nurse.post("/api/v1/patients", json={"mrn": "\x00"}), 422)
    assert "mrn" in body["errors"]
    r = client.post("/api/v1/auth/token", json={"email": "a\x00@example.org", "password": "x"})
    assert r.status_code in (401, 422)
    assert_problem(nurse.get("/api/v1/patients", query_string={"mrn": "A\x00"}), 422)
    assert clinic_count(app) == before


def test_nul_deep_in_a_body_is_named_and_its_escape_spelt_out_is_text(nurse):
    """NUL found in a nested field, with its path; the six characters of its
    JSON escape written as text are ordinary text and pass that check."""
    from tests.factories import patient_body

    nested = {"mrn": "M-1", "given_name": "A", "extra": {"list": ["ok", "b\x00d"]}}
    body = assert_problem(nurse.post("/api/v1/patients", json=nested), 422)
    assert "extra.list.1" in body["errors"]
    spelt = nurse.post("/api/v1/patients", json=patient_body(given_name="back\\u0000slash"))
    assert spelt.status_code == 201, spelt.json
    assert spelt.json["given_name"] == "back\\u0000slash"
