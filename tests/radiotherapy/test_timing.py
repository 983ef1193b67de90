"""The course window read in SQL (app/radiotherapy/timing.py) when several
courses are selected at once, as the research export does."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import patient_body
from tests.radiotherapy.test_radiotherapy_api import START, course_body


def test_each_course_gets_its_own_window(app, nurse):
    from app.exports.context import course_windows
    from app.extensions import db

    made = {}
    for offset, end_days in ((0, 20), (30, 45)):
        patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
        start = START + timedelta(days=offset)
        end = start + timedelta(days=end_days)
        r = nurse.post(
            f"/api/v1/patients/{patient}/radiotherapy-courses",
            json=course_body(start_date=start.isoformat(), end_date=end.isoformat()),
        )
        assert r.status_code == 201, r.json
        made[r.json["id"].replace("-", "")] = (patient.replace("-", ""), start, end)

    with app.app_context(), db.engine.connect() as conn:
        windows = course_windows(conn, {p for p, _, _ in made.values()})
    got = {cid.replace("-", "").lower(): window for cid, window in windows.items()}
    assert got == {cid: (start, end) for cid, (_, start, end) in made.items()}
    assert all(isinstance(d, date) for window in got.values() for d in window)
