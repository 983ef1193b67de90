"""The grades beside the dermatitis grades, through the API: the RTOG acute
criteria added to the findings, CTCAE Skin ulceration, and the acute/late
phase with the RTOG/EORTC late grade, which follow the wound's course."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.assessments.helpers import seed_ulcer_body
from tests.factories import patient_body

URL = "/api/v1/wounds/{}/assessments"
TODAY = datetime.now(UTC).date()
COURSE_START = TODAY - timedelta(days=200)
COURSE_END = TODAY - timedelta(days=150)


def _at(day: date) -> str:
    return f"{day.isoformat()}T10:00:00+00:00"


def create(actor, wound, **overrides):
    r = actor.post(URL.format(wound), json=seed_ulcer_body(**overrides))
    assert r.status_code == 201, r.json
    return r.json


# --- RTOG acute criteria ------------------------------------------------------


def test_follicular_erythema_and_epilation_are_rtog_1(nurse, wound):
    findings = {"erythema": "follicular", "epilation": "partial", "decreased_sweating": True}
    a = create(nurse, wound, findings=findings, tissue=None)
    assert a["rtog_grade"]["value"] == 1
    assert [r["criterion"] for r in a["rtog_grade"]["reasons"]] == [
        "Follicular, faint or dull erythema",
        "epilation",
        "decreased sweating",
    ]
    assert a["ctcae_grade"]["value"] == 1  # "Faint erythema"; epilation is no CTCAE criterion
    assert a["findings"]["epilation"] == "partial" and a["findings"]["atrophy"] == "none"


def test_tender_erythema_is_rtog_2(nurse, wound):
    a = create(nurse, wound, findings={"erythema": "dull", "erythema_tender": True})
    assert (a["rtog_grade"]["value"], a["ctcae_grade"]["value"]) == (2, 1)
    assert a["rtog_grade"]["reasons"][0]["finding"] == "erythema_tender"


@pytest.mark.parametrize(
    ("findings", "field"),
    [
        ({"erythema": "red"}, "findings.erythema"),
        ({"epilation": "some"}, "findings.epilation"),
        ({"atrophy": "gross"}, "findings.atrophy"),
        ({"erythema_tender": "yes"}, "findings.erythema_tender"),
    ],
)
def test_bad_new_findings_are_422_naming_the_field(nurse, wound, findings, field):
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(findings=findings))
    assert r.status_code == 422
    assert field in r.json["errors"], r.json


# --- CTCAE Skin ulceration ------------------------------------------------------


def test_seed_ulcer_is_skin_ulceration_grade_3_beside_dermatitis_4(nurse, wound):
    a = create(nurse, wound)
    assert a["ctcae_grade"]["value"] == 4  # Dermatitis radiation: full-thickness dermis
    ulcer = a["ctcae_skin_ulceration"]
    assert ulcer["term"] == "Skin ulceration" and ulcer["value"] == 3
    # Full-thickness skin loss, and pi cm2 > 2 cm2: both meet grade 3.
    assert {r["finding"] for r in ulcer["reasons"]} == {"ulceration", "area_cm2"}


def test_skin_ulceration_follows_area_and_depth(nurse, wound):
    small = create(
        nurse,
        wound,
        length_cm=1.0,
        width_cm=1.0,
        findings={"ulceration": "partial_thickness"},
    )
    assert small["ctcae_skin_ulceration"]["value"] == 2
    deep = create(
        nurse,
        wound,
        length_cm=0.5,
        width_cm=0.5,
        findings={"ulceration": "full_thickness", "deep_tissue_damage": True},
    )
    assert deep["ctcae_skin_ulceration"]["value"] == 4
    assert deep["ctcae_skin_ulceration"]["reasons"][0]["finding"] == "deep_tissue_damage"
    none = create(nurse, wound, findings={"erythema": "brisk"})
    assert none["ctcae_skin_ulceration"] is None


# --- acute or late ------------------------------------------------------------


@pytest.fixture
def patient(nurse):
    return nurse.post("/api/v1/patients", json=patient_body()).json["id"]


@pytest.fixture
def course(nurse, patient):
    body = {
        "target_site": "left axilla",
        "start_date": COURSE_START.isoformat(),
        "end_date": COURSE_END.isoformat(),
        "phases": [{"technique": "imrt", "dose_per_fraction_cgy": 200, "fractions": 25}],
    }
    r = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=body)
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def linked_wound(nurse, patient, course):
    body = {
        "body_site": "axilla",
        "laterality": "left",
        "in_skin_fold": True,
        "etiology": "radiation_dermatitis",
        "radiotherapy_course_id": course["id"],
        "onset_date": (COURSE_END - timedelta(days=10)).isoformat(),
    }
    r = nurse.post(f"/api/v1/patients/{patient}/wounds", json=body)
    assert r.status_code == 201, r.json
    return r.json["id"]


LATE_FINDINGS = {"atrophy": "marked", "telangiectasia": "moderate", "fibrosis": "slight"}


def test_phase_is_acute_up_to_90_days_after_the_course_then_late(nurse, linked_wound):
    acute = create(
        nurse,
        linked_wound,
        assessed_at=_at(COURSE_END + timedelta(days=90)),
        findings=LATE_FINDINGS,
    )
    assert acute["radiation_phase"]["phase"] == "acute"
    assert acute["radiation_phase"]["days_after_course"] == 90
    assert acute["rtog_late_grade"] is None
    late = create(
        nurse,
        linked_wound,
        assessed_at=_at(COURSE_END + timedelta(days=91)),
        findings=LATE_FINDINGS,
    )
    assert late["radiation_phase"] == {
        "phase": "late",
        "days_after_course": 91,
        "note": "91 days after the course ended: more than 90, late",
    }
    assert late["rtog_late_grade"]["value"] == 3
    assert [r["criterion"] for r in late["rtog_late_grade"]["reasons"]] == ["Skin: Marked atrophy"]


def test_no_phase_without_a_course(nurse, wound):
    a = create(nurse, wound)
    assert a["radiation_phase"]["phase"] is None
    assert "no radiotherapy course" in a["radiation_phase"]["note"]
    assert a["rtog_late_grade"] is None


def test_moving_the_course_end_regrades_the_phase(nurse, linked_wound, course):
    day = COURSE_END + timedelta(days=100)
    a = create(nurse, linked_wound, assessed_at=_at(day), findings=LATE_FINDINGS)
    assert a["radiation_phase"]["phase"] == "late" and a["version"] == 1
    # The course really ended 20 days later: day 100 is now day 80, acute.
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{course['id']}",
        json={"end_date": (COURSE_END + timedelta(days=20)).isoformat()},
        etag=f'"v{course["version"]}"',
    )
    assert r.status_code == 200, r.json
    got = nurse.get(f"/api/v1/assessments/{a['id']}").json
    assert got["radiation_phase"]["phase"] == "acute"
    assert got["radiation_phase"]["days_after_course"] == 80
    assert got["rtog_late_grade"] is None
    assert got["version"] == 2  # amended, with history
    history = nurse.get(f"/api/v1/assessments/{a['id']}/history").json["items"]
    assert "rt_phase" in history[-1]["changed_fields"]
    assert history[-1]["data"]["rt_phase"] == "acute"


def test_unlinking_the_course_regrades_the_phase(nurse, linked_wound):
    a = create(nurse, linked_wound, assessed_at=_at(COURSE_END + timedelta(days=100)))
    assert a["radiation_phase"]["phase"] == "late"
    wound = nurse.get(f"/api/v1/wounds/{linked_wound}").json
    r = nurse.patch(
        f"/api/v1/wounds/{linked_wound}",
        json={"radiotherapy_course_id": None},
        etag=f'"v{wound["version"]}"',
    )
    assert r.status_code == 200, r.json
    got = nurse.get(f"/api/v1/assessments/{a['id']}").json
    assert got["radiation_phase"]["phase"] is None


def test_a_complete_fraction_log_ends_a_course_without_an_end_date(nurse, patient):
    start = TODAY - timedelta(days=130)
    body = {
        "target_site": "scalp",
        "start_date": start.isoformat(),
        "phases": [{"technique": "electron", "dose_per_fraction_cgy": 400, "fractions": 2}],
    }
    course = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=body).json
    wound_body = {
        "body_site": "scalp",
        "laterality": "midline",
        "in_skin_fold": False,
        "etiology": "radiation_dermatitis",
        "radiotherapy_course_id": course["id"],
        "onset_date": start.isoformat(),
    }
    wound = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body).json["id"]
    a = create(nurse, wound, assessed_at=_at(start + timedelta(days=120)), findings={})
    # End unknown and more than 90 days after the start: no phase is guessed.
    assert a["radiation_phase"]["phase"] is None
    fractions = f"/api/v1/radiotherapy-courses/{course['id']}/fractions"
    for day in (start, start + timedelta(days=1)):
        r = nurse.post(fractions, json={"delivered_on": day.isoformat(), "dose_cgy": 400})
        assert r.status_code == 201, r.json
    got = nurse.get(f"/api/v1/assessments/{a['id']}").json
    # Both planned fractions logged: the course ended on the second, 119 days before.
    assert got["radiation_phase"]["phase"] == "late"
    assert got["radiation_phase"]["days_after_course"] == 119
