"""Pages print times in the clinic's own time zone, with the zone; the API and
the stored data stay UTC (tests/clinics has the setting itself)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from tests.summaries import helpers as h
from tests.web.conftest import sign_in


def _set_zone(clinic_admin, clinic, name: str) -> None:
    url = f"/api/v1/clinics/{clinic}"
    etag = clinic_admin.get(url).headers["ETag"]
    r = clinic_admin.patch(url, json={"timezone": name}, etag=etag)
    assert r.status_code == 200, r.json


def test_pages_show_the_clinics_local_time_with_its_zone(app, clinic, clinic_admin, nurse):
    day = date.today() - timedelta(days=3)
    pid = h.patient(app, clinic, given_name="Ila", family_name="Zonetest")
    wid = h.wound(app, clinic, pid, onset_date=day - timedelta(days=1))
    # 09:30 at +05:30 is 04:00 UTC; 21:00 UTC is 02:30 the next day in Kolkata.
    h.assess(nurse, wid, datetime.fromisoformat(f"{day}T09:30:00+05:30"), area_cm2=2.0)
    late = datetime(day.year, day.month, day.day, 21, 0, tzinfo=UTC)
    h.assess(nurse, wid, late, area_cm2=1.8)

    utc_page = sign_in(app, nurse.email).get(f"/web/wounds/{wid}").text
    assert f"{day} 04:00 UTC" in utc_page and "times in UTC" in utc_page

    _set_zone(clinic_admin, clinic, "Asia/Kolkata")
    client = sign_in(app, nurse.email)
    page = client.get(f"/web/wounds/{wid}").text
    assert f"{day} 09:30 IST" in page
    assert f"{day + timedelta(days=1)} 02:30 IST" in page  # the local date, not UTC's
    assert "UTC" not in re.sub(r"<[^>]+>", "", page.split("<footer")[0])
    assert "times in Asia/Kolkata" in page
    overview = client.get("/web/").text
    assert str(day + timedelta(days=1)) in overview  # last assessed, local date
    # The API is unchanged: UTC.
    api = nurse.get(f"/api/v1/wounds/{wid}/assessments").json["items"]
    assert {a["assessed_at"][-6:] for a in api} == {"+00:00"}

    audit = sign_in(app, clinic_admin.email).get("/web/audit").text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d IST", audit)


def test_a_user_of_clinics_in_different_zones_sees_each_record_in_its_clinics_zone(
    app, factory, clinic, other_clinic, clinic_admin
):
    both = factory.actor("nurse", clinic)
    factory.add_membership(both.user_id, other_clinic)
    _set_zone(clinic_admin, clinic, "Asia/Kolkata")
    day = date.today() - timedelta(days=2)
    when = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    wounds = {}
    for c in (clinic, other_clinic):
        wounds[c] = h.wound(app, c, h.patient(app, c), onset_date=day)
        h.assess(both, wounds[c], when, area_cm2=1.0)
    client = sign_in(app, both.email)
    here = client.get(f"/web/wounds/{wounds[clinic]}").text
    there = client.get(f"/web/wounds/{wounds[other_clinic]}").text
    assert f"{day} 14:30 IST" in here and "times in Asia/Kolkata" in here
    assert f"{day} 09:00 UTC" in there and "times in UTC" in there


def test_the_timeline_dates_a_procedure_by_the_clinics_day(app, clinic, clinic_admin, nurse):
    """A procedure at 21:00 UTC is on the next day in Kolkata (+05:30)."""
    _set_zone(clinic_admin, clinic, "Asia/Kolkata")
    day = date.today() - timedelta(days=4)
    pid = h.patient(app, clinic)
    wid = h.wound(app, clinic, pid, onset_date=day - timedelta(days=2))
    h.procedure(app, clinic, wid, datetime(day.year, day.month, day.day, 21, tzinfo=UTC))
    html = sign_in(app, nurse.email).get(f"/web/patients/{pid}").text
    timeline = html.split('class="timeline"')[1]
    assert re.search(
        rf'<li class="ev-procedure"><time datetime="{day + timedelta(days=1)}">', timeline
    )
