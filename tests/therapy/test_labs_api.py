"""Lab results through the HTTP API: conversion, plausibility, CTCAE v5.0 edges."""

from __future__ import annotations

import uuid

import pytest

from config import load_config


def _lab(nurse, patient, test, value, unit, **kw):
    body = {"test": test, "value": value, "unit": unit, "taken_at": "2022-07-01T08:00:00+08:00"}
    body.update(kw)
    return nurse.post(f"/api/v1/patients/{patient}/lab-results", json=body)


# Every CTCAE v5.0 threshold edge with the default LLNs ("<" is strict: the
# threshold value itself belongs to the milder grade).
EDGES = [
    # Platelet count decreased, 10^9/L: 1 <LLN(150)-75; 2 <75-50; 3 <50-25; 4 <25.
    ("platelets", 150, 0),
    ("platelets", 149.9, 1),
    ("platelets", 75, 1),
    ("platelets", 74.9, 2),
    ("platelets", 50, 2),
    ("platelets", 49.9, 3),
    ("platelets", 25, 3),
    ("platelets", 24.9, 4),
    ("platelets", 0, 4),
    # Neutrophil count decreased, 10^9/L: 1 <LLN(2.0)-1.5; 2 <1.5-1.0; 3 <1.0-0.5; 4 <0.5.
    ("neutrophils", 2.0, 0),
    ("neutrophils", 1.99, 1),
    ("neutrophils", 1.5, 1),
    ("neutrophils", 1.49, 2),
    ("neutrophils", 1.0, 2),
    ("neutrophils", 0.99, 3),
    ("neutrophils", 0.5, 3),
    ("neutrophils", 0.49, 4),
    # Anemia, g/dL: 1 <LLN(12.0)-10.0; 2 <10.0-8.0; 3 <8.0 (4 is clinical).
    ("hemoglobin", 12.0, 0),
    ("hemoglobin", 11.9, 1),
    ("hemoglobin", 10.0, 1),
    ("hemoglobin", 9.9, 2),
    ("hemoglobin", 8.0, 2),
    ("hemoglobin", 7.9, 3),
    ("hemoglobin", 3.0, 3),
    # Hypoalbuminemia, g/dL: 1 <LLN(3.5)-3; 2 <3-2; 3 <2 (4 is clinical).
    ("albumin", 3.5, 0),
    ("albumin", 3.49, 1),
    ("albumin", 3.0, 1),
    ("albumin", 2.99, 2),
    ("albumin", 2.0, 2),
    ("albumin", 1.99, 3),
]
UNITS = {"platelets": "10^9/L", "neutrophils": "10^9/L", "hemoglobin": "g/dL", "albumin": "g/dL"}
TERMS = {
    "platelets": "Platelet count decreased",
    "neutrophils": "Neutrophil count decreased",
    "hemoglobin": "Anemia",
    "albumin": "Hypoalbuminemia",
}


@pytest.mark.parametrize(("test", "value", "grade"), EDGES)
def test_every_ctcae_hematologic_threshold_edge(nurse, patient, test, value, grade):
    r = _lab(nurse, patient, test, value, UNITS[test])
    assert r.status_code == 201, r.json
    assert r.json["ctcae_grade"]["value"] == grade
    assert r.json["ctcae_grade"]["term"] == TERMS[test]
    assert r.json["ctcae_grade"]["reasons"]
    assert r.json["canonical_value"] == value and r.json["canonical_unit"] == UNITS[test]


@pytest.mark.parametrize(
    ("test", "value", "unit", "canonical", "canonical_unit", "grade"),
    [
        ("hemoglobin", 95, "g/L", 9.5, "g/dL", 2),
        ("hemoglobin", 100, "g/L", 10.0, "g/dL", 1),
        ("albumin", 30, "g/L", 3.0, "g/dL", 1),
        ("platelets", 75000, "/mm3", 75.0, "10^9/L", 1),
        ("platelets", 74900, "/mm3", 74.9, "10^9/L", 2),
        ("platelets", 48, "10^3/uL", 48.0, "10^9/L", 3),
        ("neutrophils", 1400, "/uL", 1.4, "10^9/L", 2),
        ("neutrophils", 0.8, "x10^9/L", 0.8, "10^9/L", 3),
    ],
)
def test_unit_conversions(nurse, patient, test, value, unit, canonical, canonical_unit, grade):
    r = _lab(nurse, patient, test, value, unit)
    assert r.status_code == 201, r.json
    assert r.json["value"] == value and r.json["unit"] == unit
    assert r.json["canonical_value"] == pytest.approx(canonical)
    assert r.json["canonical_unit"] == canonical_unit
    assert r.json["ctcae_grade"]["value"] == grade


def test_unknown_unit_and_impossible_values_are_422(nurse, patient):
    r = _lab(nurse, patient, "platelets", 120, "mg/dL")
    assert r.status_code == 422 and "unit" in r.json["errors"]
    message = r.json["errors"]["unit"][0]
    assert "10^9/L" in message and "/mm3" in message and "rule: accepted_unit" in message
    for test, value, unit in (
        ("hemoglobin", 120, "g/dL"),  # g/L typed as g/dL
        ("hemoglobin", 0, "g/dL"),
        ("platelets", -5, "10^9/L"),
        ("albumin", 35, "g/dL"),
        ("neutrophils", 1e9, "10^9/L"),
    ):
        r = _lab(nurse, patient, test, value, unit)
        assert r.status_code == 422, (test, value)
        assert "rule: plausible_range" in r.json["errors"]["value"][0], r.json
    assert _lab(nurse, patient, "creatinine", 1.0, "mg/dL").status_code == 422
    assert (
        "taken_at"
        in _lab(nurse, patient, "albumin", 3.0, "g/dL", taken_at="2999-01-01T00:00:00Z").json[
            "errors"
        ]
    )
    assert (
        "taken_at"
        in _lab(nurse, patient, "albumin", 3.0, "g/dL", taken_at="2022-01-01T00:00:00").json[
            "errors"
        ]
    )
    assert nurse.get(f"/api/v1/patients/{patient}/lab-results").json["items"] == []


def test_reference_limits_are_configurable(nurse, patient, app, monkeypatch):
    monkeypatch.setitem(app.config, "LAB_LLN_HEMOGLOBIN", 13.0)
    r = _lab(nurse, patient, "hemoglobin", 12.5, "g/dL")
    assert r.json["ctcae_grade"]["value"] == 1 and "LLN 13" in r.json["ctcae_grade"]["reasons"][0]


def test_config_defaults_match_reference_limits():
    from app.clinical.labs import ReferenceLimits
    from app.therapy.labs import LLN_CONFIG_KEYS

    config, limits = load_config(), ReferenceLimits()
    assert set(LLN_CONFIG_KEYS.values()) == set(limits.to_dict())
    for key, attr in LLN_CONFIG_KEYS.items():
        assert config[key] == getattr(limits, attr), key


def test_a_man_with_hemoglobin_12_5_is_below_normal(nurse):
    """The default hemoglobin LLN is the patient's sex's (WHO 2011: 13.0 g/dL for
    men, 12.0 for women), read from the patient record."""
    from tests.factories import patient_body

    man = nurse.post("/api/v1/patients", json=patient_body(sex="male")).json["id"]
    woman = nurse.post("/api/v1/patients", json=patient_body(sex="female")).json["id"]
    his = _lab(nurse, man, "hemoglobin", 12.5, "g/dL").json["ctcae_grade"]
    assert his["value"] == 1 and "default for men, WHO 2011" in his["reasons"][0]
    hers = _lab(nurse, woman, "hemoglobin", 12.5, "g/dL").json["ctcae_grade"]
    assert hers["value"] == 0 and "default for women, WHO 2011" in hers["reasons"][0]
    # Amending the result grades it again with the same patient's limit.
    lab = _lab(nurse, man, "hemoglobin", 13.5, "g/dL").json
    r = nurse.patch(f"/api/v1/lab-results/{lab['id']}", json={"value": 12.9}, etag='"v1"')
    assert r.status_code == 200 and r.json["ctcae_grade"]["value"] == 1


def test_the_laboratorys_reference_range_is_stored_and_graded_against(nurse, patient):
    # 125 g/L with the laboratory's range 130-170 g/L: below its LLN, grade 1.
    r = _lab(
        nurse,
        patient,
        "hemoglobin",
        125,
        "g/L",
        lower_limit_normal=130,
        upper_limit_normal=170,
    )
    assert r.status_code == 201, r.json
    lab = r.json
    assert (lab["lower_limit_normal"], lab["upper_limit_normal"]) == (130, 170)
    assert lab["ctcae_grade"]["value"] == 1
    assert lab["ctcae_grade"]["reasons"] == [
        "hemoglobin 12.5 g/dL < LLN 13 g/dL (the laboratory's): CTCAE v5.0 Anemia grade 1"
    ]
    # The range withdrawn: the patient's default (a woman: 12.0) applies again.
    url = f"/api/v1/lab-results/{lab['id']}"
    r = nurse.patch(url, json={"lower_limit_normal": None}, etag='"v1"')
    assert r.status_code == 200 and r.json["ctcae_grade"]["value"] == 0
    assert r.json["lower_limit_normal"] is None and r.json["upper_limit_normal"] == 170


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"lower_limit_normal": 0}, "lower_limit_normal"),
        ({"lower_limit_normal": 400}, "lower_limit_normal"),  # 40 g/dL: implausible
        ({"upper_limit_normal": -1}, "upper_limit_normal"),
        ({"lower_limit_normal": 150, "upper_limit_normal": 120}, "upper_limit_normal"),
        ({"lower_limit_normal": "low"}, "lower_limit_normal"),
    ],
)
def test_a_reference_range_that_is_not_one_is_422(nurse, patient, limits, field):
    r = _lab(nurse, patient, "hemoglobin", 125, "g/L", **limits)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"], r.json
    assert nurse.get(f"/api/v1/patients/{patient}/lab-results").json["items"] == []


@pytest.mark.parametrize(
    ("test", "value", "unit", "term", "grade"),
    [
        ("wbc", 3.5, "10^9/L", "White blood cell decreased", 1),
        ("wbc", 900, "/uL", "White blood cell decreased", 4),
        ("lymphocytes", 0.6, "10^3/uL", "Lymphocyte count decreased", 2),
        ("lymphocytes", 150, "/mm3", "Lymphocyte count decreased", 4),
    ],
)
def test_white_cells_and_lymphocytes_are_graded(nurse, patient, test, value, unit, term, grade):
    r = _lab(nurse, patient, test, value, unit)
    assert r.status_code == 201, r.json
    assert r.json["ctcae_grade"]["term"] == term and r.json["ctcae_grade"]["value"] == grade


def test_amend_regrades_history_delete_restore(nurse, admin, patient):
    lab = _lab(nurse, patient, "platelets", 80, "10^9/L").json
    url = f"/api/v1/lab-results/{lab['id']}"
    assert lab["ctcae_grade"]["value"] == 1 and lab["taken_at"] == "2022-07-01T00:00:00+00:00"
    assert nurse.patch(url, json={"value": 45}).status_code == 428
    r = nurse.patch(url, json={"value": 45}, etag='"v1"')
    assert r.status_code == 200 and r.json["ctcae_grade"]["value"] == 3
    assert r.json["canonical_value"] == 45
    assert nurse.patch(url, json={"value": 30}, etag='"v1"').status_code == 412
    r = nurse.patch(url, json={"unit": "g/L"}, etag='"v2"')
    assert r.status_code == 422 and "unit" in r.json["errors"]
    history = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in history] == [1, 2]
    assert "value" in history[1]["changed_fields"] and "ctcae_grade" in history[1]["changed_fields"]
    assert history[0]["data"]["ctcae_grade"] == 1

    r = nurse.delete(url, etag='"v2"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    assert nurse.get(f"/api/v1/patients/{patient}/lab-results").json["items"] == []
    assert nurse.post(f"{url}/restore").status_code == 403
    assert admin.post(f"{url}/restore").status_code == 200
    assert nurse.get(url).json["ctcae_grade"]["value"] == 3


def test_offline_replay_and_list(nurse, patient):
    body = {
        "id": str(uuid.uuid4()),
        "test": "neutrophils",
        "value": 1.2,
        "unit": "10^9/L",
        "taken_at": "2022-07-01T08:00:00Z",
    }
    url = f"/api/v1/patients/{patient}/lab-results"
    assert [nurse.post(url, json=body).status_code for _ in range(2)] == [201, 200]
    r = nurse.post(url, json={**body, "value": 1.3})
    assert r.status_code == 409 and r.json["stored"]["value"] == 1.2
    _lab(nurse, patient, "platelets", 200, "10^9/L", taken_at="2022-06-01T08:00:00Z")
    items = nurse.get(url).json["items"]
    assert [i["test"] for i in items] == ["platelets", "neutrophils"]  # by taken_at
    only = nurse.get(url, query_string={"test": "platelets"}).json["items"]
    assert [i["test"] for i in only] == ["platelets"]


def test_other_clinic_404_and_researcher_403(nurse, outsider, researcher, patient):
    lab = _lab(nurse, patient, "albumin", 3.1, "g/dL").json
    url = f"/api/v1/lab-results/{lab['id']}"
    body = {"test": "albumin", "value": 3.0, "unit": "g/dL", "taken_at": "2022-07-01T08:00:00Z"}
    for method, target, kw in (
        ("get", f"/api/v1/patients/{patient}/lab-results", {}),
        ("post", f"/api/v1/patients/{patient}/lab-results", {"json": body}),
        ("get", url, {}),
        ("patch", url, {"json": {"value": 2.0}, "etag": '"v1"'}),
        ("delete", url, {"etag": '"v1"'}),
        ("get", f"{url}/history", {}),
    ):
        assert getattr(outsider, method)(target, **kw).status_code == 404, (method, target)
        assert getattr(researcher, method)(target, **kw).status_code == 403, (method, target)
    assert nurse.get(url).json["version"] == 1
    assert len(nurse.get(f"/api/v1/patients/{patient}/lab-results").json["items"]) == 1
