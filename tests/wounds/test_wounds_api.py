"""Wounds through the HTTP API."""

import uuid
from datetime import date, datetime, timedelta

import pytest

from tests.factories import patient_body

ONSET = date.today() - timedelta(days=40)


def wound_body(**overrides):
    body = {
        "body_site": "popliteal fossa",
        "laterality": "left",
        "in_skin_fold": True,
        "etiology": "radiation_ulcer",
        "onset_date": ONSET.isoformat(),
    }
    body.update(overrides)
    return body


def course_body():
    return {
        "target_site": "left popliteal fossa",
        "start_date": (ONSET - timedelta(days=20)).isoformat(),
        "phases": [{"technique": "imrt", "dose_per_fraction_cgy": 400, "fractions": 10}],
    }


@pytest.fixture
def patient(nurse):
    return nurse.post("/api/v1/patients", json=patient_body()).json["id"]


@pytest.fixture
def wound(nurse, patient):
    r = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body())
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_offline_sync_in_order_create_read_amend_history(nurse, admin):
    # The device made the patient, the course and the wound offline; it syncs
    # them in order, retrying each once as a flaky connection would.
    pid, cid, wid = (str(uuid.uuid4()) for _ in range(3))
    for url, body in (
        ("/api/v1/patients", patient_body(id=pid)),
        (f"/api/v1/patients/{pid}/radiotherapy-courses", {**course_body(), "id": cid}),
        (
            f"/api/v1/patients/{pid}/wounds",
            wound_body(id=wid, radiotherapy_course_id=cid),
        ),
    ):
        assert nurse.post(url, json=body).status_code == 201
        assert nurse.post(url, json=body).status_code == 200

    r = nurse.get(f"/api/v1/wounds/{wid}")
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"'
    assert r.json["patient_id"] == pid and r.json["radiotherapy_course_id"] == cid
    assert r.json["status"] == "open" and r.json["healed_on"] is None
    assert r.json["in_skin_fold"] is True

    r = nurse.post(
        f"/api/v1/patients/{pid}/wounds", json=wound_body(id=wid, body_site="other site")
    )
    assert r.status_code == 409 and r.json["stored"]["body_site"] == "popliteal fossa"

    healed = (ONSET + timedelta(days=35)).isoformat()
    assert nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "healed"}).status_code == 428
    r = nurse.patch(
        f"/api/v1/wounds/{wid}", json={"status": "healed", "healed_on": healed}, etag='"v1"'
    )
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["healed_on"] == healed
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "open"}, etag='"v1"')
    assert r.status_code == 412 and r.json["current"]["status"] == "healed"

    # Reopening clears healed_on and keeps the healing it ends among the closures.
    assert nurse.get(f"/api/v1/wounds/{wid}").json["closures"] is None
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "open"}, etag='"v2"')
    assert r.status_code == 200 and r.json["healed_on"] is None and r.json["version"] == 3
    (closure,) = r.json["closures"]
    assert closure["healed_on"] == healed
    assert closure["reopened_by"] == "amendment" and closure["assessment_id"] is None
    assert datetime.fromisoformat(closure["reopened_at"]).utcoffset() == timedelta(0)

    versions = nurse.get(f"/api/v1/wounds/{wid}/history").json["items"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["changed_fields"] == ["healed_on", "status"]
    assert versions[1]["data"]["healed_on"] == healed
    assert versions[1]["changed_by"] == str(nurse.user_id)
    assert versions[2]["changed_fields"] == ["closures", "healed_on", "status"]

    # Healed and reopened again: the closures add up; the record keeps them.
    again = (ONSET + timedelta(days=38)).isoformat()
    r = nurse.patch(
        f"/api/v1/wounds/{wid}", json={"status": "healed", "healed_on": again}, etag='"v3"'
    )
    assert r.status_code == 200 and len(r.json["closures"]) == 1
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "open"}, etag='"v4"')
    assert [c["healed_on"] for c in r.json["closures"]] == [healed, again]
    # An open wound set open again adds nothing.
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "open"}, etag='"v5"')
    assert len(r.json["closures"]) == 2
    # The closures are the service's to write.
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"closures": []}, etag='"v6"')
    assert r.status_code == 422 and "closures" in r.json["errors"]


def test_delete_restore_and_tombstones(nurse, admin, patient, wound):
    url = f"/api/v1/wounds/{wound}"
    since = nurse.get(url).json["created_at"]
    keep = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).json["id"]
    assert nurse.delete(url).status_code == 428
    assert nurse.delete(url, etag='"v9"').status_code == 412
    r = nurse.delete(url, etag='"v1"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    for list_url in (f"/api/v1/patients/{patient}/wounds", "/api/v1/wounds"):
        assert [w["id"] for w in nurse.get(list_url).json["items"]] == [keep]
        feed = nurse.get(list_url, query_string={"updated_since": since}).json["items"]
        tomb = [w for w in feed if w["id"] == wound]
        assert tomb == [
            {"id": wound, "deleted": True, "version": 2, "updated_at": tomb[0]["updated_at"]}
        ]
    assert nurse.get(f"{url}/history").json["items"][-1]["action"] == "delete"
    assert nurse.post(f"{url}/restore").status_code == 403
    r = admin.post(f"{url}/restore")
    assert r.status_code == 200 and r.json["version"] == 3
    assert nurse.get(url).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "healed"}, "healed_on"),
        ({"status": "healed", "healed_on": (ONSET - timedelta(days=1)).isoformat()}, "healed_on"),
        (
            {"status": "healed", "healed_on": (date.today() + timedelta(days=2)).isoformat()},
            "healed_on",
        ),
        ({"healed_on": ONSET.isoformat()}, "healed_on"),
        ({"onset_date": (date.today() + timedelta(days=2)).isoformat()}, "onset_date"),
        ({"onset_date": "2024-02-30"}, "onset_date"),
        ({"laterality": "upper"}, "laterality"),
        ({"etiology": "burn"}, "etiology"),
        ({"status": "closed"}, "status"),
        ({"body_site": ""}, "body_site"),
        ({"body_site": "x" * 201}, "body_site"),
        ({"in_skin_fold": "maybe"}, "in_skin_fold"),
        ({"radiotherapy_course_id": str(uuid.uuid4())}, "radiotherapy_course_id"),
        ({"radiotherapy_course_id": "not-a-uuid"}, "radiotherapy_course_id"),
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        ({"clinic_id": str(uuid.uuid4())}, "clinic_id"),
        ({"version": 2}, "version"),
    ],
)
def test_validation_names_the_field(nurse, patient, overrides, field):
    url = f"/api/v1/patients/{patient}/wounds"
    r = nurse.post(url, json=wound_body(**overrides))
    assert r.status_code == 422, r.json
    assert field in r.json["errors"], r.json
    assert nurse.get(url).json["items"] == []


def test_course_must_belong_to_the_same_patient(nurse, outsider, patient):
    other = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    other_course = nurse.post(
        f"/api/v1/patients/{other}/radiotherapy-courses", json=course_body()
    ).json["id"]
    r = nurse.post(
        f"/api/v1/patients/{patient}/wounds", json=wound_body(radiotherapy_course_id=other_course)
    )
    assert r.status_code == 422 and "radiotherapy_course_id" in r.json["errors"]

    own = nurse.post(f"/api/v1/patients/{patient}/radiotherapy-courses", json=course_body()).json[
        "id"
    ]
    wid = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).json["id"]
    r = nurse.patch(
        f"/api/v1/wounds/{wid}", json={"radiotherapy_course_id": other_course}, etag='"v1"'
    )
    assert r.status_code == 422 and "radiotherapy_course_id" in r.json["errors"]
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"radiotherapy_course_id": own}, etag='"v1"')
    assert r.status_code == 200 and r.json["radiotherapy_course_id"] == own

    # A course of another clinic is not visible either.
    op = outsider.post("/api/v1/patients", json=patient_body()).json["id"]
    oc = outsider.post(f"/api/v1/patients/{op}/radiotherapy-courses", json=course_body()).json["id"]
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"radiotherapy_course_id": oc}, etag='"v2"')
    assert r.status_code == 422 and "radiotherapy_course_id" in r.json["errors"]


def test_patch_rules(nurse, wound):
    url = f"/api/v1/wounds/{wound}"
    r = nurse.patch(url, json={"healed_on": ONSET.isoformat()}, etag='"v1"')
    assert r.status_code == 422 and "healed_on" in r.json["errors"]
    r = nurse.patch(url, json={"status": "healed"}, etag='"v1"')
    assert r.status_code == 422 and "healed_on" in r.json["errors"]
    r = nurse.patch(
        url,
        json={"status": "healed", "healed_on": (ONSET + timedelta(days=5)).isoformat()},
        etag='"v1"',
    )
    assert r.status_code == 200
    # Moving the onset after the healing date is refused.
    r = nurse.patch(url, json={"onset_date": (ONSET + timedelta(days=6)).isoformat()}, etag='"v2"')
    assert r.status_code == 422 and "healed_on" in r.json["errors"]
    r = nurse.patch(url, json={"status": None}, etag='"v2"')
    assert r.status_code == 422 and "status" in r.json["errors"]
    assert nurse.get(url).json["version"] == 2


def test_correcting_the_skin_fold_flag_regrades_the_assessments(nurse, admin, patient):
    """Moist desquamation confined to a fold is CTCAE 2 (RTOG 2); once the wound
    is found not to lie in a fold it is CTCAE 3 (RTOG 3). Each assessment is
    amended: a new version and ETag, a history entry, a delta-sync update."""
    from tests.assessments.helpers import seed_ulcer_body

    wid = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).json["id"]
    findings = {"erythema": "brisk", "desquamation": "moist", "moist_beyond_skin_folds": False}
    moist, dry = (
        nurse.post(
            f"/api/v1/wounds/{wid}/assessments",
            json=seed_ulcer_body(assessed_at=f"{ONSET + timedelta(days=day)}T09:00:00Z", **extra),
        ).json
        for day, extra in (
            (1, {"findings": findings}),
            (2, {"findings": {"erythema": "faint"}}),
        )
    )
    assert (moist["ctcae_grade"]["value"], moist["rtog_grade"]["value"]) == (2, 2)
    gone = nurse.post(
        f"/api/v1/wounds/{wid}/assessments",
        json=seed_ulcer_body(
            assessed_at=f"{ONSET + timedelta(days=3)}T09:00:00Z", findings=findings
        ),
    ).json
    deleted = nurse.delete(f"/api/v1/assessments/{gone['id']}", etag='"v1"')
    assert deleted.status_code == 200
    before = nurse.get(f"/api/v1/assessments/{moist['id']}")

    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"in_skin_fold": False}, etag='"v1"')
    assert r.status_code == 200, r.json

    after = nurse.get(f"/api/v1/assessments/{moist['id']}")
    assert (after.json["ctcae_grade"]["value"], after.json["rtog_grade"]["value"]) == (3, 3)
    assert after.json["version"] == 2 and after.headers["ETag"] != before.headers["ETag"]
    history = nurse.get(f"/api/v1/assessments/{moist['id']}/history").json["items"]
    assert {"ctcae_grade", "rtog_grade"} <= set(history[-1]["changed_fields"])
    feed = nurse.get(
        f"/api/v1/wounds/{wid}/assessments",
        query_string={"updated_since": deleted.json["updated_at"]},
    ).json["items"]
    # (the deleted one as a tombstone)
    assert {(i["id"], i["deleted"]) for i in feed} == {(gone["id"], True), (moist["id"], False)}
    # Faint erythema does not depend on the fold: that assessment is untouched.
    assert nurse.get(f"/api/v1/assessments/{dry['id']}").json["version"] == 1
    # A deleted assessment comes back graded as the wound now stands.
    assert admin.post(f"/api/v1/assessments/{gone['id']}/restore").status_code == 200
    assert nurse.get(f"/api/v1/assessments/{gone['id']}").json["ctcae_grade"]["value"] == 3

    # Back into the fold, and an unrelated correction leaves grades alone.
    nurse.patch(f"/api/v1/wounds/{wid}", json={"in_skin_fold": True}, etag='"v2"')
    assert nurse.get(f"/api/v1/assessments/{moist['id']}").json["ctcae_grade"]["value"] == 2
    nurse.patch(f"/api/v1/wounds/{wid}", json={"body_site": "knee crease"}, etag='"v3"')
    assert nurse.get(f"/api/v1/assessments/{moist['id']}").json["version"] == 3


def test_onset_cannot_move_past_the_first_assessment(nurse, admin, patient):
    """Assessments never lie before their wound's onset: not when recorded
    (422 on assessed_at), and not after the onset is corrected (422 on
    onset_date, naming the first assessment; 409 on restoring one it passed)."""
    from tests.assessments.helpers import seed_ulcer_body

    wid = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).json["id"]

    def assess(day: int, when: str = "09:00:00Z") -> dict:
        at = f"{ONSET + timedelta(days=day)}T{when}"
        return nurse.post(
            f"/api/v1/wounds/{wid}/assessments", json=seed_ulcer_body(assessed_at=at)
        ).json

    early, later = assess(3), assess(10)
    assert nurse.delete(f"/api/v1/assessments/{early['id']}", etag='"v1"').status_code == 200
    past_later = (ONSET + timedelta(days=11)).isoformat()
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"onset_date": past_later}, etag='"v1"')
    assert r.status_code == 422 and "onset_date" in r.json["errors"], r.json
    assert str(ONSET + timedelta(days=10)) in r.json["errors"]["onset_date"][0]
    assert nurse.get(f"/api/v1/wounds/{wid}").json["version"] == 1

    # Up to the first assessment's date is fine; so is moving it earlier.
    to_later = (ONSET + timedelta(days=10)).isoformat()
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"onset_date": to_later}, etag='"v1"')
    assert r.status_code == 200, r.json
    # The deleted early assessment now lies before the onset: restoring it is refused.
    r = admin.post(f"/api/v1/assessments/{early['id']}/restore")
    assert r.status_code == 409 and "Correct the onset first" in r.json["detail"]
    assert nurse.get(f"/api/v1/assessments/{later['id']}").status_code == 200
    assert nurse.get(f"/api/v1/assessments/{early['id']}").status_code == 404
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"onset_date": ONSET.isoformat()}, etag='"v2"')
    assert r.status_code == 200
    assert admin.post(f"/api/v1/assessments/{early['id']}/restore").status_code == 200


def test_onset_check_allows_for_the_devices_time_zone(nurse, patient):
    """An assessment sent at 08:00 +10:00 is 22:00 UTC the day before; its
    device called it the onset day, so that onset stays acceptable."""
    from tests.assessments.helpers import seed_ulcer_body

    day = ONSET + timedelta(days=5)
    wid = nurse.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).json["id"]
    r = nurse.post(
        f"/api/v1/wounds/{wid}/assessments",
        json=seed_ulcer_body(assessed_at=f"{day}T08:00:00+10:00"),
    )
    assert r.status_code == 201, r.json
    r = nurse.patch(f"/api/v1/wounds/{wid}", json={"onset_date": day.isoformat()}, etag='"v1"')
    assert r.status_code == 200, r.json


def test_list_filters_and_pagination(nurse, clinic, patient):
    url = f"/api/v1/patients/{patient}/wounds"
    healed = (ONSET + timedelta(days=30)).isoformat()
    ids = [
        nurse.post(url, json=wound_body()).json["id"],
        nurse.post(url, json=wound_body(etiology="pressure")).json["id"],
        nurse.post(url, json=wound_body(status="healed", healed_on=healed)).json["id"],
    ]
    got = nurse.get(url, query_string={"status": "open"}).json["items"]
    assert [w["id"] for w in got] == ids[:2]
    got = nurse.get(url, query_string={"etiology": "pressure"}).json["items"]
    assert [w["id"] for w in got] == [ids[1]]
    got = nurse.get(
        "/api/v1/wounds",
        query_string={"status": "open", "etiology": "radiation_ulcer", "clinic_id": clinic},
    ).json["items"]
    assert [w["id"] for w in got] == [ids[0]]
    page1 = nurse.get(url, query_string={"limit": 2}).json
    page2 = nurse.get(url, query_string={"limit": 2, "cursor": page1["next_cursor"]}).json
    assert [w["id"] for w in page1["items"] + page2["items"]] == ids
    assert page2["next_cursor"] is None
    assert nurse.get(url, query_string={"status": "closed"}).status_code == 422
    assert nurse.get(url, query_string={"cursor": "junk"}).status_code == 422


def test_other_clinic_gets_404_on_every_route(nurse, outsider, clinic, patient, wound):
    url = f"/api/v1/wounds/{wound}"
    assert outsider.get(f"/api/v1/patients/{patient}/wounds").status_code == 404
    assert outsider.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).status_code == 404
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, json={"body_site": "x"}, etag='"v1"').status_code == 404
    assert outsider.delete(url, etag='"v1"').status_code == 404
    assert outsider.get(f"{url}/history").status_code == 404
    assert outsider.get("/api/v1/wounds").json["items"] == []
    assert outsider.get("/api/v1/wounds", query_string={"clinic_id": clinic}).status_code == 404
    assert outsider.post(f"{url}/restore").status_code == 403  # admin-only, before lookup
    assert nurse.get(url).json["version"] == 1


def test_researcher_gets_403(researcher, patient, wound):
    assert researcher.get(f"/api/v1/patients/{patient}/wounds").status_code == 403
    assert (
        researcher.post(f"/api/v1/patients/{patient}/wounds", json=wound_body()).status_code == 403
    )
    assert researcher.get("/api/v1/wounds").status_code == 403
    assert researcher.get(f"/api/v1/wounds/{wound}").status_code == 403
    assert researcher.get(f"/api/v1/wounds/{wound}/history").status_code == 403


def test_clinic_admin_reads_but_does_not_write(clinic_admin, patient, wound):
    assert clinic_admin.get(f"/api/v1/wounds/{wound}").status_code == 200
    r = clinic_admin.patch(f"/api/v1/wounds/{wound}", json={"body_site": "x"}, etag='"v1"')
    assert r.status_code == 403


def test_wound_list_query_count_does_not_grow_with_rows(nurse, patient, count_queries):
    url = f"/api/v1/patients/{patient}/wounds"

    def count_for(n):
        while len(nurse.get(url, query_string={"limit": 500}).json["items"]) < n:
            nurse.post(url, json=wound_body())
        counts = []
        for list_url in (url, "/api/v1/wounds"):
            with count_queries() as counter:
                items = nurse.get(list_url, query_string={"limit": 500}).json["items"]
            assert len(items) == n
            counts.append(counter.count)
        return counts

    assert count_for(3) == count_for(30)
