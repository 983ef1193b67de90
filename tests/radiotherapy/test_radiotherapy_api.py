"""Radiotherapy courses, the fraction log and cumulative dose through the HTTP API."""

import uuid
from datetime import date, timedelta

import pytest

from tests.factories import patient_body


def weekdays_from(start: date, n: int) -> list[date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


START = date.today() - timedelta(days=90)
SEED_PHASES = [
    {"technique": "imrt", "dose_per_fraction_cgy": 400, "fractions": 10},
    {"technique": "srt", "dose_per_fraction_cgy": 700, "fractions": 3},
]


def course_body(**overrides):
    body = {
        "target_site": "left popliteal fossa",
        "start_date": START.isoformat(),
        "phases": SEED_PHASES,
    }
    body.update(overrides)
    return body


@pytest.fixture
def patient(nurse):
    return nurse.post("/api/v1/patients", json=patient_body()).json["id"]


@pytest.fixture
def course(nurse, patient):
    r = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body())
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_seed_case_course_total_and_dose_on_13th_fraction(nurse, patient):
    cid = str(uuid.uuid4())
    r = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body(id=cid))
    assert r.status_code == 201, r.json
    assert r.json["total_dose_cgy"] == 6100
    assert r.json["patient_id"] == patient and r.json["fraction_count_delivered"] == 0
    assert [p["technique"] for p in r.json["phases"]] == ["imrt", "srt"]

    # Without a log the dose is estimated from the planned weekday schedule.
    days = weekdays_from(START, 13)
    r = nurse.get(f"/api/v1/radiotherapy-courses/{cid}/dose", query_string={"on": days[4]})
    assert r.status_code == 200, r.json
    assert r.json["source"] == "planned_schedule" and r.json["cumulative_dose_cgy"] == 2000

    doses = [400] * 10 + [700] * 3
    for day, dose in zip(days, doses, strict=True):
        r = nurse.post(
            f"/api/v1/radiotherapy-courses/{cid}/fractions",
            json={"id": str(uuid.uuid4()), "delivered_on": day.isoformat(), "dose_cgy": dose},
        )
        assert r.status_code == 201, r.json

    r = nurse.get(f"/api/v1/radiotherapy-courses/{cid}/dose", query_string={"on": days[12]})
    assert r.json["source"] == "fraction_log"
    assert r.json["cumulative_dose_cgy"] == 6100 and r.json["fraction_number"] == 13
    assert r.json["planned_total_cgy"] == 6100
    r = nurse.get(f"/api/v1/radiotherapy-courses/{cid}/dose", query_string={"on": days[10]})
    assert r.json["cumulative_dose_cgy"] == 4700 and r.json["fraction_number"] == 11

    assert nurse.get(f"/api/v1/radiotherapy-courses/{cid}").json["fraction_count_delivered"] == 13
    page1 = nurse.get(f"/api/v1/radiotherapy-courses/{cid}/fractions?limit=10").json
    page2 = nurse.get(
        f"/api/v1/radiotherapy-courses/{cid}/fractions",
        query_string={"limit": 10, "cursor": page1["next_cursor"]},
    ).json
    logged = [f["delivered_on"] for f in page1["items"] + page2["items"]]
    assert logged == [d.isoformat() for d in days] and page2["next_cursor"] is None


def test_offline_create_replay_and_conflict(nurse, patient):
    body = course_body(id=str(uuid.uuid4()))
    url = f"/api/v1/patients/{patient}/radiotherapy-courses"
    assert nurse.post(url, json=body).status_code == 201
    again = nurse.post(url, json=body)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    changed = nurse.post(
        url,
        json={
            **body,
            "phases": [{"technique": "imrt", "dose_per_fraction_cgy": 200, "fractions": 30}],
        },
    )
    assert changed.status_code == 409
    assert changed.json["stored"]["total_dose_cgy"] == 6100
    assert len(nurse.get(url).json["items"]) == 1

    fid = str(uuid.uuid4())
    furl = f"/api/v1/radiotherapy-courses/{body['id']}/fractions"
    fbody = {"id": fid, "delivered_on": START.isoformat(), "dose_cgy": 400}
    assert nurse.post(furl, json=fbody).status_code == 201
    assert nurse.post(furl, json=fbody).status_code == 200
    r = nurse.post(furl, json={**fbody, "dose_cgy": 700})
    assert r.status_code == 409 and r.json["stored"]["dose_cgy"] == 400
    assert len(nurse.get(furl).json["items"]) == 1


def test_phases_replaced_with_history_and_etags(nurse, course):
    url = f"/api/v1/radiotherapy-courses/{course}"
    etag = nurse.get(url).headers["ETag"]
    assert etag == '"v1"'
    new = [{"technique": "vmat", "dose_per_fraction_cgy": 200, "fractions": 25}]
    assert nurse.patch(url, json={"phases": new}).status_code == 428
    r = nurse.patch(url, json={"phases": new}, etag=etag)
    assert r.status_code == 200, r.json
    assert r.json["version"] == 2 and r.json["total_dose_cgy"] == 5000
    assert r.headers["ETag"] == '"v2"'
    r = nurse.patch(url, json={"target_site": "knee"}, etag=etag)
    assert r.status_code == 412 and r.json["current_version"] == 2

    r = nurse.patch(
        url,
        json={"target_site": "left knee", "phases": SEED_PHASES},
        etag='"v2"',
    )
    assert r.status_code == 200 and r.json["version"] == 3 and r.json["total_dose_cgy"] == 6100

    versions = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["changed_fields"] == ["phases"]
    assert versions[2]["changed_fields"] == ["phases", "target_site"]
    assert [p["technique"] for p in versions[0]["data"]["phases"]] == ["imrt", "srt"]
    assert versions[1]["data"]["phases"] == [
        {"technique": "vmat", "dose_per_fraction_cgy": 200.0, "fractions": 25, "start_date": None}
    ]
    assert versions[2]["data"]["target_site"] == "left knee"

    # Nothing changed: no new version.
    r = nurse.patch(url, json={"target_site": "left knee"}, etag='"v3"')
    assert r.status_code == 200 and r.json["version"] == 3


def test_delete_restore_and_tombstones(nurse, admin, patient, course):
    list_url = f"/api/v1/patients/{patient}/radiotherapy-courses"
    since = nurse.get(f"/api/v1/radiotherapy-courses/{course}").json["created_at"]
    url = f"/api/v1/radiotherapy-courses/{course}"
    assert nurse.delete(url).status_code == 428
    r = nurse.delete(url, etag='"v1"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    assert nurse.get(list_url).json["items"] == []
    feed = nurse.get(list_url, query_string={"updated_since": since}).json["items"]
    assert feed == [
        {"id": course, "deleted": True, "version": 2, "updated_at": feed[0]["updated_at"]}
    ]
    assert nurse.get(f"{url}/history").json["items"][-1]["action"] == "delete"

    assert nurse.post(f"{url}/restore").status_code == 403
    r = admin.post(f"{url}/restore")
    assert r.status_code == 200 and r.json["version"] == 3
    assert nurse.get(url).status_code == 200
    assert admin.post(f"{url}/restore").status_code == 409


def test_fraction_delta_feed(nurse, course):
    # The fraction log is a delta feed too.
    furl = f"/api/v1/radiotherapy-courses/{course}/fractions"
    first = nurse.post(furl, json={"delivered_on": START.isoformat(), "dose_cgy": 400}).json
    feed = nurse.get(furl, query_string={"updated_since": first["updated_at"]}).json["items"]
    assert [f["id"] for f in feed] == [first["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"phases": [{"technique": "imrt", "dose_per_fraction_cgy": 0, "fractions": 10}]},
            "phases.0.dose_per_fraction_cgy",
        ),
        (
            {"phases": [{"technique": "imrt", "dose_per_fraction_cgy": -5, "fractions": 10}]},
            "phases.0.dose_per_fraction_cgy",
        ),
        (
            {"phases": [{"technique": "imrt", "dose_per_fraction_cgy": 3000, "fractions": 10}]},
            "phases.0.dose_per_fraction_cgy",
        ),
        (
            {"phases": [{"technique": "imrt", "dose_per_fraction_cgy": 200, "fractions": 0}]},
            "phases.0.fractions",
        ),
        (
            {"phases": [{"technique": "imrt", "dose_per_fraction_cgy": 200, "fractions": 61}]},
            "phases.0.fractions",
        ),
        (
            {"phases": [{"technique": "laser", "dose_per_fraction_cgy": 200, "fractions": 5}]},
            "phases.0.technique",
        ),
        ({"phases": []}, "phases"),
        ({"end_date": (START - timedelta(days=1)).isoformat()}, "end_date"),
        (
            {
                "phases": [
                    {
                        "technique": "imrt",
                        "dose_per_fraction_cgy": 200,
                        "fractions": 5,
                        "start_date": (START - timedelta(days=3)).isoformat(),
                    }
                ]
            },
            "phases.0.start_date",
        ),
        ({"target_site": ""}, "target_site"),
        ({"total_dose_cgy": 1}, "total_dose_cgy"),
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        ({"version": 3}, "version"),
    ],
)
def test_course_validation_names_the_field(nurse, patient, body, field):
    url = f"/api/v1/patients/{patient}/radiotherapy-courses"
    r = nurse.post(url, json=course_body(**body))
    assert r.status_code == 422, r.json
    assert field in r.json["errors"], r.json
    assert nurse.get(url).json["items"] == []


def test_fraction_validation(nurse, patient):
    end = START + timedelta(days=20)
    cid = nurse.post(
        f"/api/v1/patients/{patient}/radiotherapy-courses",
        json=course_body(end_date=end.isoformat()),
    ).json["id"]
    furl = f"/api/v1/radiotherapy-courses/{cid}/fractions"
    cases = [
        (
            {"delivered_on": (START - timedelta(days=1)).isoformat(), "dose_cgy": 400},
            "delivered_on",
        ),
        ({"delivered_on": (end + timedelta(days=1)).isoformat(), "dose_cgy": 400}, "delivered_on"),
        ({"delivered_on": START.isoformat(), "dose_cgy": 0}, "dose_cgy"),
        ({"delivered_on": START.isoformat(), "dose_cgy": 2600}, "dose_cgy"),
        ({"delivered_on": "not-a-date", "dose_cgy": 400}, "delivered_on"),
    ]
    for body, field in cases:
        r = nurse.post(furl, json=body)
        assert r.status_code == 422 and field in r.json["errors"], (body, r.json)
    # An open-ended course still refuses fractions in the future.
    open_id = nurse.post(
        f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body()
    ).json["id"]
    r = nurse.post(
        f"/api/v1/radiotherapy-courses/{open_id}/fractions",
        json={"delivered_on": (date.today() + timedelta(days=3)).isoformat(), "dose_cgy": 400},
    )
    assert r.status_code == 422 and "delivered_on" in r.json["errors"]
    assert nurse.get(furl).json["items"] == []

    # Course dates cannot be amended so that a logged fraction falls outside them.
    assert (
        nurse.post(furl, json={"delivered_on": START.isoformat(), "dose_cgy": 400}).status_code
        == 201
    )
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{cid}",
        json={"start_date": (START + timedelta(days=1)).isoformat()},
        etag='"v1"',
    )
    assert r.status_code == 422 and "start_date" in r.json["errors"]
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{cid}",
        json={"end_date": (START - timedelta(days=1)).isoformat()},
        etag='"v1"',
    )
    assert r.status_code == 422 and "end_date" in r.json["errors"]


def test_dose_query_validation(nurse, course):
    r = nurse.get(f"/api/v1/radiotherapy-courses/{course}/dose?on=yesterday")
    assert r.status_code == 422 and "on" in r.json["errors"]
    r = nurse.get(f"/api/v1/radiotherapy-courses/{course}/dose")
    assert r.status_code == 200 and r.json["on"] == date.today().isoformat()
    assert r.json["cumulative_dose_cgy"] == 6100  # the planned course is long over


def test_other_clinic_gets_404_on_every_route(nurse, outsider, patient, course):
    url = f"/api/v1/radiotherapy-courses/{course}"
    assert outsider.get(f"/api/v1/patients/{patient}/radiotherapy-courses").status_code == 404
    assert (
        outsider.post(
            f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body()
        ).status_code
        == 404
    )
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, json={"target_site": "x"}, etag='"v1"').status_code == 404
    assert outsider.delete(url, etag='"v1"').status_code == 404
    assert outsider.get(f"{url}/history").status_code == 404
    assert outsider.get(f"{url}/fractions").status_code == 404
    assert (
        outsider.post(
            f"{url}/fractions", json={"delivered_on": START.isoformat(), "dose_cgy": 400}
        ).status_code
        == 404
    )
    assert outsider.get(f"{url}/dose").status_code == 404
    # Restore is admin-only: a nurse of any clinic gets 403 before the lookup.
    assert outsider.post(f"{url}/restore").status_code == 403
    # An id taken in another clinic cannot be claimed or read through a replay.
    other_patient = outsider.post("/api/v1/patients", json=patient_body()).json["id"]
    r = outsider.post(
        f"/api/v1/patients/{other_patient}/radiotherapy-courses", json=course_body(id=course)
    )
    assert r.status_code == 409 and "stored" not in r.json
    assert nurse.get(url).json["patient_id"] == patient


def test_researcher_gets_403(researcher, patient, course):
    url = f"/api/v1/radiotherapy-courses/{course}"
    assert researcher.get(f"/api/v1/patients/{patient}/radiotherapy-courses").status_code == 403
    assert researcher.get(url).status_code == 403
    assert researcher.get(f"{url}/fractions").status_code == 403
    assert researcher.get(f"{url}/dose").status_code == 403
    assert researcher.get(f"{url}/history").status_code == 403
    assert (
        researcher.post(
            f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body()
        ).status_code
        == 403
    )


def test_course_list_query_count_is_constant(nurse, patient, count_queries):
    url = f"/api/v1/patients/{patient}/radiotherapy-courses"

    def count_for(n):
        while len(nurse.get(url, query_string={"limit": 500}).json["items"]) < n:
            nurse.post(url, json=course_body())
        with count_queries() as counter:
            assert len(nurse.get(url, query_string={"limit": 500}).json["items"]) == n
        return counter.count

    assert count_for(2) == count_for(12)


def test_twenty_concurrent_replays_leave_one_course_with_its_phases(app, nurse, patient):
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    from app.extensions import db
    from app.radiotherapy.models import RadiotherapyCourse, RadiotherapyPhase

    body = course_body(id=str(uuid.uuid4()))

    def replay(_: int) -> int:
        client = app.test_client()
        r = client.post(
            f"/api/v1/patients/{patient}/radiotherapy-courses", json=body, headers=nurse.headers
        )
        return r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(replay, range(20)))
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(RadiotherapyCourse))
        phases = db.session.scalar(sa.select(sa.func.count()).select_from(RadiotherapyPhase))
    assert (count, phases) == (1, 2)


def _log(nurse, course, day, dose):
    r = nurse.post(
        f"/api/v1/radiotherapy-courses/{course}/fractions",
        json={"delivered_on": day.isoformat(), "dose_cgy": dose},
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def _dose(nurse, course, day):
    r = nurse.get(f"/api/v1/radiotherapy-courses/{course}/dose", query_string={"on": day})
    assert r.status_code == 200, r.json
    return r.json["cumulative_dose_cgy"], r.json["fraction_number"]


def test_a_mistyped_fraction_is_corrected_with_history(nurse, course):
    days = weekdays_from(START, 3)
    _log(nurse, course, days[0], 400)
    wrong = _log(nurse, course, days[1], 40)  # typed 40 for 400
    url = f"/api/v1/fractions/{wrong}"
    r = nurse.get(url)
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"'
    assert r.json["course_id"] == course and r.json["dose_cgy"] == 40
    assert _dose(nurse, course, days[1]) == (440, 2)

    assert nurse.patch(url, json={"dose_cgy": 400}).status_code == 428
    r = nurse.patch(url, json={"dose_cgy": 400}, etag='"v1"')
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["dose_cgy"] == 400
    assert r.headers["ETag"] == '"v2"'
    assert _dose(nurse, course, days[1]) == (800, 2)
    # A second device still holding v1 hears 412 with the current record.
    r = nurse.patch(url, json={"dose_cgy": 300}, etag='"v1"')
    assert r.status_code == 412 and r.json["current"]["dose_cgy"] == 400

    # The date too, as long as it stays within the course.
    r = nurse.patch(url, json={"delivered_on": days[2].isoformat()}, etag='"v2"')
    assert r.status_code == 200 and r.json["delivered_on"] == days[2].isoformat()
    assert _dose(nurse, course, days[1]) == (400, 1)

    history = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in history] == [1, 2, 3]
    assert history[0]["data"]["dose_cgy"] == 40
    assert history[1]["changed_fields"] == ["dose_cgy"]
    assert history[2]["changed_fields"] == ["delivered_on"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"delivered_on": (START - timedelta(days=1)).isoformat()}, "delivered_on"),
        ({"delivered_on": (date.today() + timedelta(days=2)).isoformat()}, "delivered_on"),
        ({"delivered_on": None}, "delivered_on"),
        ({"dose_cgy": 0}, "dose_cgy"),
        ({"dose_cgy": 2600}, "dose_cgy"),
        ({"course_id": str(uuid.uuid4())}, "course_id"),
        ({"version": 7}, "version"),
        ({"clinic_id": str(uuid.uuid4())}, "clinic_id"),
    ],
)
def test_fraction_correction_is_validated_and_writes_nothing(nurse, course, body, field):
    fid = _log(nurse, course, START, 400)
    r = nurse.patch(f"/api/v1/fractions/{fid}", json=body, etag='"v1"')
    assert r.status_code == 422 and field in r.json["errors"], r.json
    stored = nurse.get(f"/api/v1/fractions/{fid}").json
    assert stored["version"] == 1 and stored["delivered_on"] == START.isoformat()
    assert stored["dose_cgy"] == 400


def test_a_fraction_logged_by_mistake_is_deleted_and_restored(nurse, admin, course):
    days = weekdays_from(START, 2)
    _log(nurse, course, days[0], 400)
    extra = _log(nurse, course, days[1], 400)
    furl = f"/api/v1/radiotherapy-courses/{course}/fractions"
    since = nurse.get(f"/api/v1/fractions/{extra}").json["updated_at"]
    url = f"/api/v1/fractions/{extra}"

    assert nurse.delete(url).status_code == 428
    r = nurse.delete(url, etag='"v1"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    assert [f["delivered_on"] for f in nurse.get(furl).json["items"]] == [days[0].isoformat()]
    feed = nurse.get(furl, query_string={"updated_since": since}).json["items"]
    assert feed == [
        {"id": extra, "deleted": True, "version": 2, "updated_at": feed[0]["updated_at"]}
    ]
    assert _dose(nurse, course, days[1]) == (400, 1)
    course_url = f"/api/v1/radiotherapy-courses/{course}"
    assert nurse.get(course_url).json["fraction_count_delivered"] == 1
    assert nurse.get(f"{url}/history").json["items"][-1]["action"] == "delete"

    assert nurse.post(f"{url}/restore").status_code == 403
    r = admin.post(f"{url}/restore")
    assert r.status_code == 200 and r.json["version"] == 3
    assert _dose(nurse, course, days[1]) == (800, 2)
    assert admin.post(f"{url}/restore").status_code == 409


def test_restore_refused_when_the_course_dates_moved_past_the_fraction(nurse, admin, course):
    fid = _log(nurse, course, START, 400)
    assert nurse.delete(f"/api/v1/fractions/{fid}", etag='"v1"').status_code == 200
    # With the fraction deleted nothing holds the course start back.
    later = (START + timedelta(days=2)).isoformat()
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{course}", json={"start_date": later}, etag='"v1"'
    )
    assert r.status_code == 200, r.json
    r = admin.post(f"/api/v1/fractions/{fid}/restore")
    assert r.status_code == 409 and START.isoformat() in r.json["detail"]
    # Nothing was written: the fraction is still deleted.
    assert nurse.get(f"/api/v1/fractions/{fid}").status_code == 404
    assert nurse.get(f"/api/v1/fractions/{fid}/history").json["items"][-1]["version"] == 2


def test_fraction_routes_are_clinic_scoped_and_not_for_researchers(
    nurse, outsider, researcher, course
):
    fid = _log(nurse, course, START, 400)
    url = f"/api/v1/fractions/{fid}"
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, json={"dose_cgy": 200}, etag='"v1"').status_code == 404
    assert outsider.delete(url, etag='"v1"').status_code == 404
    assert outsider.get(f"{url}/history").status_code == 404
    assert researcher.get(url).status_code == 403
    assert researcher.get(f"{url}/history").status_code == 403
    assert researcher.patch(url, json={"dose_cgy": 200}, etag='"v1"').status_code == 403
    assert nurse.get(url).json["version"] == 1


# --- BED / EQD2 and the skin-dose context -----------------------------------------


def test_seed_course_bed10_and_eqd2_beside_the_physical_dose(nurse, patient):
    """10 x 4 Gy + 3 x 7 Gy: BED10 91.7 Gy, EQD2(10) 76.4 Gy (Fowler 1989)."""
    r = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body())
    assert r.status_code == 201, r.json
    bio = r.json["biological_dose"]
    plan = bio["prescription"]
    assert plan["basis"] == "prescription" and plan["physical_gy"] == 61.0
    assert plan["acute"] == {"alpha_beta_gy": 10.0, "bed_gy": 91.7, "eqd2_gy": 76.4}
    assert plan["late"] == {"alpha_beta_gy": 3.0, "bed_gy": 163.3, "eqd2_gy": 98.0}
    assert "prescription dose" in plan["note"] and "not measured skin dose" in plan["note"]
    assert bio["delivered"] is None  # nothing logged yet


def test_delivered_bed_reads_each_logged_fraction_at_its_own_dose(nurse, course):
    """Ten IMRT fractions and one boost fraction logged: the delivered BED is
    theirs alone; no schedule is assumed for the two boost fractions to come."""
    days = weekdays_from(START, 11)
    for day, dose_cgy in zip(days, [400] * 10 + [700], strict=True):
        r = nurse.post(
            f"/api/v1/radiotherapy-courses/{course}/fractions",
            json={"delivered_on": day.isoformat(), "dose_cgy": dose_cgy},
        )
        assert r.status_code == 201, r.json
    delivered = nurse.get(f"/api/v1/radiotherapy-courses/{course}").json["biological_dose"][
        "delivered"
    ]
    assert delivered["basis"] == "fraction_log" and delivered["fractions"] == 11
    assert delivered["physical_gy"] == 47.0
    # 10 x 4 x 1.4 + 7 x 1.7 = 56 + 11.9
    assert delivered["acute"]["bed_gy"] == 67.9
    assert delivered["acute"]["eqd2_gy"] == round(67.9 / 1.2, 1)


def test_bolus_and_measured_skin_dose_are_optional_and_checked(nurse, patient, course):
    url = f"/api/v1/patients/{patient}/radiotherapy-courses"
    r = nurse.post(
        url,
        json=course_body(bolus=True, bolus_thickness_cm=0.5, measured_skin_dose_cgy=4200),
    )
    assert r.status_code == 201, r.json
    assert (r.json["bolus"], r.json["bolus_thickness_cm"]) == (True, 0.5)
    assert r.json["measured_skin_dose_cgy"] == 4200
    plain = nurse.get(f"/api/v1/radiotherapy-courses/{course}").json
    assert plain["bolus"] is None and plain["measured_skin_dose_cgy"] is None
    for bad, field in (
        ({"bolus_thickness_cm": 0.5}, "bolus_thickness_cm"),  # thickness without a bolus
        ({"bolus": False, "bolus_thickness_cm": 1}, "bolus_thickness_cm"),
        ({"bolus": True, "bolus_thickness_cm": 0}, "bolus_thickness_cm"),
        ({"bolus": True, "bolus_thickness_cm": 9}, "bolus_thickness_cm"),
        ({"measured_skin_dose_cgy": -5}, "measured_skin_dose_cgy"),
        ({"measured_skin_dose_cgy": 1e6}, "measured_skin_dose_cgy"),
        ({"bolus": "yes"}, "bolus"),
    ):
        r = nurse.post(url, json=course_body(**bad))
        assert r.status_code == 422, bad
        assert field in r.json["errors"], r.json
    # PATCH: a thickness on a course without a bolus is refused too.
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{course}", json={"bolus_thickness_cm": 1}, etag='"v1"'
    )
    assert r.status_code == 422 and "bolus_thickness_cm" in r.json["errors"]
    r = nurse.patch(
        f"/api/v1/radiotherapy-courses/{course}",
        json={"bolus": True, "bolus_thickness_cm": 1, "measured_skin_dose_cgy": 3900},
        etag='"v1"',
    )
    assert r.status_code == 200 and r.json["bolus_thickness_cm"] == 1, r.json
