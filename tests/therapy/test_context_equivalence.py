"""The read helpers' fast paths give the answers of the straightforward ones.

therapy_context & co. load plain columns in one SELECT each and ask
app.clinical.therapy.dose_on only on the days where the schedule can change
(schedule_bands). These tests hold them to the day-by-day clinical functions on
random schedules, and to the original ORM algorithm on stored data with deleted
rows, same-day changes, holds, stops and several courses.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.clinical import therapy as sched

D0 = date(2022, 6, 1)


@st.composite
def schedules(draw: Any) -> sched.Schedule:
    """Valid schedules (validate_schedule passes) with up to five changes."""
    days_on = draw(st.integers(1, 30))
    days_off = draw(st.integers(0, 30))
    start = D0 + timedelta(days=draw(st.integers(-60, 60)))
    stop = draw(st.none() | st.integers(0, 200).map(lambda d: start + timedelta(days=d)))
    dose = float(draw(st.integers(5, 20)))
    changes: list[sched.Change] = []
    day, held, in_force = start, False, dose
    for _ in range(draw(st.integers(0, 5))):
        day += timedelta(days=draw(st.integers(0, 40)))
        kind = draw(st.sampled_from(["resumed" if held else "held", "dose_reduced", "stopped"]))
        if kind == "dose_reduced":
            if in_force <= 1:
                continue
            in_force = float(draw(st.integers(1, int(in_force) - 1)))
            changes.append(sched.Change(day, kind, in_force))
        elif kind == "stopped":
            changes.append(sched.Change(day, kind))
            break
        else:
            held = kind == "held"
            changes.append(sched.Change(day, kind))
    s = sched.Schedule(start, stop, days_on, days_off, dose, tuple(changes))
    sched.validate_schedule(s)
    return s


@settings(max_examples=300, deadline=None)
@given(
    s=schedules(),
    offset=st.integers(-90, 150),
    length=st.integers(0, 200),
)
def test_schedule_bands_equal_the_day_by_day_bands(s, offset, length):
    from app.clinical.therapy import schedule_bands

    start = D0 + timedelta(days=offset)
    end = start + timedelta(days=length)
    assert schedule_bands(s, start, end) == sched.on_off_bands(s, start, end)


def test_schedule_bands_refuses_what_the_clinical_function_refuses():
    from app.clinical.therapy import schedule_bands

    bad = sched.Schedule(D0, None, 14, 7, 12.0, (sched.Change(D0, "resumed"),))
    for fn in (schedule_bands, sched.on_off_bands):
        with pytest.raises(ValueError, match="resumed change without an earlier hold"):
            fn(bad, D0, D0 + timedelta(days=5))
    ok = sched.Schedule(D0, None, 14, 7, 12.0)
    with pytest.raises(ValueError, match="end must not be before start"):
        schedule_bands(ok, D0, D0 - timedelta(days=1))


def _reference_context(session: Any, patient_id: uuid.UUID, start: date, end: date) -> dict:
    """therapy_context as first written: ORM courses with their selectin-loaded
    changes, day-by-day clinical functions."""
    import sqlalchemy as sa

    from app.therapy.models import SystemicTherapy
    from app.therapy.schedules import active_changes, schedule_of

    def iso(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    courses = list(
        session.scalars(
            sa.select(SystemicTherapy)
            .where(
                SystemicTherapy.patient_id == patient_id,
                SystemicTherapy.deleted_at.is_(None),
                SystemicTherapy.start_date <= end,
                sa.or_(SystemicTherapy.stop_date.is_(None), SystemicTherapy.stop_date >= start),
            )
            .order_by(SystemicTherapy.start_date, SystemicTherapy.created_at)
        )
    )
    therapies, aa_bands, dose_changes = [], [], []
    for course in courses:
        s = schedule_of(course)
        on_bands = [
            {"start": iso(b0), "end": iso(b1), "dose": dose}
            for b0, b1, dose in sched.on_off_bands(s, start, end)
            if dose is not None
        ]
        therapies.append(
            {
                "id": str(course.id),
                "agent": course.agent,
                "agent_code": course.agent_code,
                "anti_angiogenic": course.anti_angiogenic,
                "dose_unit": course.dose_unit,
                "start_date": iso(course.start_date),
                "stop_date": iso(course.stop_date),
                "days_on": course.days_on,
                "days_off": course.days_off,
                "exposure_days": sched.exposure_days(s, start, end),
                "bands": on_bands,
            }
        )
        if course.anti_angiogenic:
            aa_bands += [
                {"therapy_id": str(course.id), "agent": course.agent, "dose_unit": course.dose_unit}
                | band
                for band in on_bands
            ]
        for change in active_changes(course):
            if start <= change.effective_on <= end:
                dose_changes.append(
                    {
                        "therapy_id": str(course.id),
                        "agent": course.agent,
                        "effective_on": iso(change.effective_on),
                        "kind": change.kind,
                        "dose": change.dose,
                        "dose_unit": course.dose_unit,
                        "reason": change.reason,
                    }
                )
    aa_bands.sort(key=lambda b: b["start"])
    dose_changes.sort(key=lambda c: c["effective_on"])
    aa = [schedule_of(c) for c in courses if c.anti_angiogenic]
    days = sum(
        1
        for i in range((end - start).days + 1)
        if any(sched.on_drug(s, start + timedelta(days=i)) for s in aa)
    )
    return {
        "window": {"start": iso(start), "end": iso(end)},
        "therapies": therapies,
        "anti_angiogenic_bands": aa_bands,
        "dose_changes": dose_changes,
        "anti_angiogenic_exposure_days": days,
    }


@pytest.fixture
def stored(app, clinic):
    """Four courses (one deleted, one ended long ago), changes including a
    deleted one and two on the same day, labs including a deleted one."""
    from app.extensions import db
    from app.patients.models import Patient
    from app.therapy.models import LabResult, SystemicTherapy, TherapyChange

    deleted = datetime(2022, 7, 1, tzinfo=UTC)
    with app.app_context():
        patient = Patient(
            clinic_id=clinic,
            mrn=f"MRN-{uuid.uuid4().hex[:8]}",
            given_name="Testa",
            family_name="Fictitious",
            birth_date=date(1950, 1, 1),
            sex="female",
        )
        db.session.add(patient)
        db.session.flush()

        def course(agent: str, aa: bool, on: int, off: int, start: int, **kw: Any) -> Any:
            c = SystemicTherapy(
                clinic_id=clinic,
                patient_id=patient.id,
                agent=agent,
                anti_angiogenic=aa,
                dose=kw.pop("dose", 12.0),
                dose_unit="mg",
                days_on=on,
                days_off=off,
                start_date=D0 + timedelta(days=start),
                **kw,
            )
            db.session.add(c)
            db.session.flush()
            return c

        anlotinib = course("anlotinib", True, 14, 7, -5)
        bev = course("bevacizumab", True, 1, 20, 0, stop_date=D0 + timedelta(days=60))
        course("metformin", False, 1, 0, -100, dose=500.0)
        course("old", True, 1, 0, -100, stop_date=D0 - timedelta(days=50))
        course("gone", True, 1, 0, 0, deleted_at=deleted)

        def change(therapy: Any, day: int, kind: str, dose: float | None = None, **kw: Any):
            db.session.add(
                TherapyChange(
                    clinic_id=clinic,
                    therapy_id=therapy.id,
                    effective_on=D0 + timedelta(days=day),
                    kind=kind,
                    dose=dose,
                    reason=f"{kind} on day {day}",
                    **kw,
                )
            )
            db.session.flush()  # created_at orders same-day changes

        change(anlotinib, 3, "dose_reduced", 10.0)
        change(anlotinib, 9, "held", deleted_at=deleted)
        change(anlotinib, 20, "held")
        change(anlotinib, 20, "resumed", 8.0)
        change(anlotinib, 40, "held")
        change(bev, 30, "stopped")
        for test, value, day, grade, gone in (
            ("platelets", 60.0, 2, 2, False),
            ("platelets", 40.0, 9, 3, False),
            ("platelets", 20.0, 11, 4, True),
            ("hemoglobin", 9.0, 5, 1, False),
            ("albumin", 3.0, 12, 1, False),
        ):
            db.session.add(
                LabResult(
                    clinic_id=clinic,
                    patient_id=patient.id,
                    test=test,
                    value=value,
                    unit="u",
                    canonical_value=value,
                    canonical_unit="u",
                    taken_at=datetime.combine(D0 + timedelta(days=day), datetime.min.time(), UTC),
                    ctcae_term=f"{test} term",
                    ctcae_grade=grade,
                    deleted_at=deleted if gone else None,
                )
            )
        db.session.commit()
        return patient.id


@pytest.mark.parametrize(
    ("offset", "length"),
    [(-30, 100), (0, 0), (3, 17), (20, 1), (-120, 400), (61, 90), (-200, 10)],
)
def test_therapy_context_equals_the_orm_algorithm(app, stored, offset, length):
    from app.extensions import db
    from app.therapy.context import anti_angiogenic_exposure_days, therapy_context

    start = D0 + timedelta(days=offset)
    end = start + timedelta(days=length)
    with app.app_context():
        expected = _reference_context(db.session, stored, start, end)
        assert therapy_context(db.session, stored, start, end) == expected
        assert (
            anti_angiogenic_exposure_days(db.session, stored, start, end)
            == expected["anti_angiogenic_exposure_days"]
        )


def test_lab_grades_before_latest_live_result_per_test_in_test_order(app, stored):
    from app.extensions import db
    from app.therapy.context import lab_grades_before

    with app.app_context():
        at = datetime.combine(D0 + timedelta(days=12), datetime.min.time(), UTC)
        out = lab_grades_before(db.session, stored, at)
    # The deleted grade 4 platelet count of day 11 is not the latest.
    assert list(out) == ["hemoglobin", "platelets", "albumin"]
    assert (out["platelets"]["value"], out["platelets"]["grade"]) == (40.0, 3)
    assert out["albumin"]["taken_at"] == "2022-06-13T00:00:00+00:00"


def test_helpers_see_the_callers_unflushed_therapy_rows(app, stored, clinic):
    """The helpers do not autoflush for nothing, but a course added and not yet
    flushed in the same session is still read."""
    from app.extensions import db
    from app.therapy.context import therapy_context
    from app.therapy.models import SystemicTherapy

    with app.app_context():
        db.session.add(
            SystemicTherapy(
                clinic_id=clinic,
                patient_id=stored,
                agent="sorafenib",
                anti_angiogenic=True,
                dose=400.0,
                dose_unit="mg",
                days_on=1,
                days_off=0,
                start_date=D0,
            )
        )
        out = therapy_context(db.session, stored, D0, D0 + timedelta(days=3))
        assert "sorafenib" in [t["agent"] for t in out["therapies"]]
        db.session.rollback()
