"""Bugs the API fuzzer (test_schemathesis.py) found, each pinned by a direct test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.core.routes import openapi
from tests.factories import patient_body


def test_error_responses_are_documented_as_problem_json(client):
    """Errors are sent as application/problem+json; the document said application/json."""
    spec = openapi(client)
    for name in ("DEFAULT_ERROR", "UNPROCESSABLE_ENTITY"):
        assert list(spec["components"]["responses"][name]["content"]) == [
            "application/problem+json"
        ]


def test_problem_schema_allows_extension_members(client):
    """RFC 9457 extension members (stored, current, etag) are part of the contract."""
    problem = openapi(client)["components"]["schemas"]["Problem"]
    assert problem.get("additionalProperties", True) is not False


def test_unmeasured_assessment_fields_are_documented_nullable(client):
    """An assessment without measurements returns nulls for its derived areas."""
    props = openapi(client)["components"]["schemas"]["Assessment"]["properties"]
    for name in ("measured_area_cm2", "area_method", "traced_area_cm2", "traced_perimeter_cm"):
        assert props[name].get("nullable") is True, name


def test_lab_value_that_rounds_to_zero_is_a_422_not_a_500(nurse):
    patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    taken_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"test": "albumin", "value": 3e-266, "unit": "g/dL", "taken_at": taken_at}
    r = nurse.post(f"/api/v1/patients/{patient}/lab-results", json=body)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "value" in r.json["errors"]

    created = nurse.post(f"/api/v1/patients/{patient}/lab-results", json={**body, "value": 3.1})
    assert created.status_code == 201
    r = nurse.patch(
        f"/api/v1/lab-results/{created.json['id']}",
        json={"value": 3e-266},
        etag=created.headers["ETag"],
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "value" in r.json["errors"]
