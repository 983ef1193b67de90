"""The helpers other features import (therapy_context & co.)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from tests.therapy.conftest import anlotinib


@pytest.fixture
def seeded(nurse, patient, wound):
    """Anlotinib with a mid-cycle reduction and a hold, an overlapping
    non-anti-angiogenic drug, labs, topicals."""
    base = f"/api/v1/patients/{patient}"
    course = nurse.post(f"{base}/systemic-therapies", json=anlotinib()).json
    for body in (
        {
            "effective_on": "2022-06-08",
            "kind": "dose_reduced",
            "dose": 10,
            "reason": "grade 3 platelet count decreased",
        },
        {"effective_on": "2022-06-24", "kind": "held", "reason": "grade 2 anemia"},
        {"effective_on": "2022-06-27", "kind": "resumed", "reason": "recovered"},
    ):
        assert (
            nurse.post(f"/api/v1/systemic-therapies/{course['id']}/changes", json=body).status_code
            == 201
        )
    other = {
        "agent": "Metformin",
        "dose": 500,
        "dose_unit": "mg",
        "days_on": 1,
        "days_off": 0,
        "start_date": "2022-05-01",
    }
    assert nurse.post(f"{base}/systemic-therapies", json=other).status_code == 201
    # A second anti-angiogenic drug on overlapping days does not double-count exposure.
    bev = {
        "agent": "Bevacizumab",
        "dose": 7.5,
        "dose_unit": "mg/kg",
        "days_on": 1,
        "days_off": 20,
        "start_date": "2022-06-01",
        "stop_date": "2022-06-30",
    }
    assert nurse.post(f"{base}/systemic-therapies", json=bev).status_code == 201
    for test, value, unit, at in (
        ("platelets", 180, "10^9/L", "2022-06-01T08:00:00Z"),
        ("platelets", 45, "10^9/L", "2022-06-07T08:00:00Z"),
        ("platelets", 90000, "/mm3", "2022-06-20T08:00:00Z"),
        ("hemoglobin", 95, "g/L", "2022-06-20T09:00:00Z"),
    ):
        body = {"test": test, "value": value, "unit": unit, "taken_at": at}
        assert nurse.post(f"{base}/lab-results", json=body).status_code == 201
    for category, product, start in (
        ("silver", "silver alginate", "2022-06-25"),
        ("rhegf", "rhEGF gel", "2022-06-21"),
    ):
        body = {
            "category": category,
            "product": product,
            "start_date": start,
            "notes": "private note",
        }
        assert (
            nurse.post(f"/api/v1/wounds/{wound}/topical-treatments", json=body).status_code == 201
        )
    return {"patient": uuid.UUID(patient), "wound": uuid.UUID(wound), "course": course["id"]}


def test_therapy_context_window(ctx, seeded):
    from app.extensions import db
    from app.therapy.context import therapy_context

    out = therapy_context(db.session, seeded["patient"], date(2022, 6, 1), date(2022, 6, 30))
    assert out["window"] == {"start": "2022-06-01", "end": "2022-06-30"}
    assert [t["agent"] for t in out["therapies"]] == [
        "Metformin",
        "Anlotinib hydrochloride",
        "Bevacizumab",
    ]
    anl = [b for b in out["anti_angiogenic_bands"] if b["agent"] == "Anlotinib hydrochloride"]
    assert [(b["start"], b["end"], b["dose"]) for b in anl] == [
        ("2022-06-01", "2022-06-07", 12.0),
        ("2022-06-08", "2022-06-14", 10.0),
        ("2022-06-22", "2022-06-23", 10.0),  # held 24-26 June
        ("2022-06-27", "2022-06-30", 10.0),
    ]
    assert all(b["dose_unit"] == "mg" and b["therapy_id"] == seeded["course"] for b in anl)
    assert not any(b["agent"] == "Metformin" for b in out["anti_angiogenic_bands"])
    assert [(c["effective_on"], c["kind"], c["dose"]) for c in out["dose_changes"]] == [
        ("2022-06-08", "dose_reduced", 10.0),
        ("2022-06-24", "held", None),
        ("2022-06-27", "resumed", None),
    ]
    assert out["dose_changes"][0]["reason"] == "grade 3 platelet count decreased"
    # Anlotinib: 14 + 2 + 4 = 20 days; bevacizumab on 1 and 22 June falls on anlotinib days.
    assert out["anti_angiogenic_exposure_days"] == 20
    by_agent = {t["agent"]: t for t in out["therapies"]}
    assert by_agent["Anlotinib hydrochloride"]["exposure_days"] == 20
    assert by_agent["Bevacizumab"]["exposure_days"] == 2
    # A narrow window: only changes dated in it.
    narrow = therapy_context(db.session, seeded["patient"], date(2022, 6, 15), date(2022, 6, 21))
    assert narrow["dose_changes"] == [] and narrow["anti_angiogenic_exposure_days"] == 0
    with pytest.raises(ValueError):
        therapy_context(db.session, seeded["patient"], date(2022, 6, 2), date(2022, 6, 1))


def test_exposure_days_union_of_agents(ctx, seeded):
    from app.extensions import db
    from app.therapy.context import anti_angiogenic_exposure_days

    pid = seeded["patient"]
    assert anti_angiogenic_exposure_days(db.session, pid, date(2022, 6, 14), date(2022, 6, 15)) == 1
    assert anti_angiogenic_exposure_days(db.session, pid, date(2022, 5, 1), date(2022, 5, 31)) == 0
    # 15-21 June: anlotinib off, bevacizumab not dosed either (its day 1 is 22 June).
    assert anti_angiogenic_exposure_days(db.session, pid, date(2022, 6, 15), date(2022, 6, 21)) == 0
    assert (
        anti_angiogenic_exposure_days(db.session, uuid.uuid4(), date(2022, 6, 1), date(2022, 6, 30))
        == 0
    )


def test_lab_grades_before_and_worst(ctx, seeded):
    from app.extensions import db
    from app.therapy.context import lab_grades_before, worst_lab_grades

    pid = seeded["patient"]
    before_prp = lab_grades_before(db.session, pid, datetime(2022, 6, 20, 8, 0, tzinfo=UTC))
    assert set(before_prp) == {"platelets"}  # the hemoglobin was taken an hour later
    assert before_prp["platelets"]["value"] == 90.0 and before_prp["platelets"]["grade"] == 1
    assert before_prp["platelets"]["unit"] == "10^9/L"
    assert before_prp["platelets"]["taken_at"] == "2022-06-20T08:00:00+00:00"
    earlier = lab_grades_before(db.session, pid, datetime(2022, 6, 19, tzinfo=UTC))
    assert earlier["platelets"]["grade"] == 3 and earlier["platelets"]["value"] == 45
    later = lab_grades_before(db.session, pid, datetime(2022, 7, 1, tzinfo=UTC))
    assert later["hemoglobin"]["grade"] == 2 and later["hemoglobin"]["value"] == 9.5
    assert lab_grades_before(db.session, pid, datetime(2022, 5, 1, tzinfo=UTC)) == {}
    worst = worst_lab_grades(
        db.session, pid, datetime(2022, 6, 1, tzinfo=UTC), datetime(2022, 6, 30, tzinfo=UTC)
    )
    assert worst == {"platelets": 3, "hemoglobin": 2}


def test_topicals_for_wound_without_notes(ctx, seeded):
    from app.extensions import db
    from app.therapy.context import topicals_for_wound

    out = topicals_for_wound(db.session, seeded["wound"])
    assert [(t["category"], t["start_date"], t["stop_date"]) for t in out] == [
        ("rhegf", "2022-06-21", None),
        ("silver", "2022-06-25", None),
    ]
    assert "private note" not in str(out)
