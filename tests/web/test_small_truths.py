"""What the pages say must be true: a course's state from its fraction log, a
fraction beyond the plan flagged, the exports page's day 0 as the data
dictionary has it, format names in words."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape

from app.exports.dictionary import DAY_ZERO_NOTE
from tests.summaries import helpers as h
from tests.web.conftest import sign_in


def _weekdays(start: date, n: int) -> list[date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _course_html(app, clinic, nurse, logged: int, end: date | None = None) -> str:
    start = date.today() - timedelta(days=60)
    pid = h.patient(app, clinic)
    phases = [("imrt", 400.0, 10), ("srt", 700.0, 3)]
    days = _weekdays(start, logged)
    fractions = [(d, 400.0 if i < 10 else 700.0) for i, d in enumerate(days)]
    h.course(app, clinic, pid, start=start, end=end, phases=phases, fractions=fractions)
    html = sign_in(app, nurse.email).get(f"/web/patients/{pid}").text
    return html.split('id="rt-h"')[1].split("</section>")[0]


def test_a_course_is_completed_once_its_last_planned_fraction_is_logged(app, clinic, nurse):
    done = _course_html(app, clinic, nurse, logged=13)
    assert ">completed<" in done and "no end date recorded" in done and "ongoing" not in done
    assert "beyond the plan" not in done
    running = _course_html(app, clinic, nurse, logged=7)
    assert ">under way<" in running and ">completed<" not in running
    assert "fraction 7 of 13" in running


def test_a_fraction_beyond_the_plan_is_flagged_on_the_patient_page(app, clinic, nurse):
    over = _course_html(app, clinic, nurse, logged=14)
    assert ">completed<" in over
    assert "14 fractions are logged against a plan of 13: 1 beyond the plan" in over
    assert 'role="alert"' in over and "fraction 14 of 13" in over


def test_a_course_without_a_log_is_judged_by_its_dates_only(app, clinic, nurse):
    ended = _course_html(app, clinic, nurse, logged=0, end=date.today() - timedelta(days=30))
    assert ">ended<" in ended and ">completed<" not in ended


def test_the_exports_page_says_what_the_data_dictionary_says(app, clinic_admin):
    html = unescape(sign_in(app, clinic_admin.email).get("/web/exports").text)
    assert DAY_ZERO_NOTE in html
    assert "first record." not in html.replace(DAY_ZERO_NOTE, "")
    assert ">FHIR R4 NDJSON<" in html and ">Apache Parquet<" in html
    assert ">fhir_ndjson<" not in html and 'value="fhir_ndjson"' in html
