"""Datetimes at the ends of the calendar with an offset (year 1 east of UTC,
year 9999 west of it) cannot be converted to UTC: every route answers a 4xx
problem naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import patient_body

EDGES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


@pytest.fixture
def wound(nurse):
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    body = {
        "body_site": "popliteal fossa",
        "laterality": "left",
        "etiology": "radiation_ulcer",
        "onset_date": "2026-01-05",
    }
    return nurse.post(f"/api/v1/patients/{pid}/wounds", json=body).json["id"]


def _named(r, field: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.data[:300])
    assert r.mimetype == "application/problem+json"
    assert field in r.json.get("errors", {}), r.json


@pytest.mark.parametrize("when", EDGES)
def test_assessment_time_at_the_calendar_edge(nurse, wound, when):
    r = nurse.post(f"/api/v1/wounds/{wound}/assessments", json={"assessed_at": when})
    _named(r, "assessed_at")


@pytest.mark.parametrize("when", EDGES)
def test_list_filters_at_the_calendar_edge(nurse, wound, when):
    _named(nurse.get(f"/api/v1/patients?updated_since={when.replace('+', '%2B')}"), "updated_since")
    r = nurse.get(f"/api/v1/wounds/{wound}/assessments?from={when.replace('+', '%2B')}")
    _named(r, "from")


@pytest.mark.parametrize("when", EDGES)
def test_procedure_time_at_the_calendar_edge(nurse, wound, when):
    r = nurse.post(
        f"/api/v1/wounds/{wound}/procedures", json={"performed_at": when, "kind": "dressing"}
    )
    _named(r, "performed_at")


@pytest.mark.parametrize("when", EDGES)
def test_photo_upload_time_at_the_calendar_edge(nurse, wound, when):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 80)).save(buf, "JPEG")
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"file": (io.BytesIO(buf.getvalue()), "w.jpg"), "taken_at": when},
        content_type="multipart/form-data",
    )
    _named(r, "taken_at")


@pytest.mark.parametrize("when", EDGES)
def test_audit_page_before_at_the_calendar_edge(app, clinic_admin, when):
    from tests.web.conftest import sign_in

    r = sign_in(app, clinic_admin.email).get(f"/web/audit?before={when.replace('+', '%2B')}")
    assert r.status_code == 200  # the bad bound is dropped, as any unreadable one
