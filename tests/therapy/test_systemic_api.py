"""Systemic therapy courses through the HTTP API: conventions, rules, exposure."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.therapy.conftest import anlotinib


def _course(nurse, patient, **overrides):
    r = nurse.post(f"/api/v1/patients/{patient}/systemic-therapies", json=anlotinib(**overrides))
    assert r.status_code == 201, r.json
    return r.json


def _rule_error(r, field, rule):
    assert r.status_code == 422, r.json
    assert field in r.json["errors"], r.json
    assert f"rule: {rule}" in " ".join(r.json["errors"][field]), r.json


def test_seed_course_create_read_and_preset(nurse, patient):
    course = _course(nurse, patient)
    assert course["anti_angiogenic"] is True  # anlotinib preset, salt name matched
    assert course["patient_id"] == patient and course["changes"] == []
    assert set(course["derived"]) == {"on_drug_today", "dose_today", "cycle_today"}
    r = nurse.get(f"/api/v1/systemic-therapies/{course['id']}")
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"'
    assert r.json["dose"] == 12 and r.json["days_on"] == 14 and r.json["days_off"] == 7
    listed = nurse.get(f"/api/v1/patients/{patient}/systemic-therapies").json["items"]
    assert [c["id"] for c in listed] == [course["id"]]


def test_anti_angiogenic_preset_explicit_and_configurable(nurse, patient, app, monkeypatch):
    other = _course(nurse, patient, agent="Metformin", dose=500)
    assert other["anti_angiogenic"] is False
    explicit = _course(nurse, patient, agent="bevacizumab-awwb", anti_angiogenic=False)
    assert explicit["anti_angiogenic"] is False
    monkeypatch.setitem(app.config, "ANTI_ANGIOGENIC_EXTRA", "tumstatin, endostar")
    configured = _course(nurse, patient, agent="Endostar", dose=15)
    assert configured["anti_angiogenic"] is True


def test_derived_today(nurse, patient):
    today = datetime.now(UTC).date()
    # Day 4 of cycle 1 (still day 4 or 5 if the clock passes midnight meanwhile).
    running = _course(nurse, patient, start_date=(today - timedelta(days=3)).isoformat())
    assert running["derived"] == {"on_drug_today": True, "dose_today": 12.0, "cycle_today": 1}
    past = _course(
        nurse, patient, agent="pazopanib", dose=800, start_date="2021-01-01", stop_date="2021-03-01"
    )
    assert past["derived"] == {"on_drug_today": False, "dose_today": None, "cycle_today": None}


def test_exposure_on_cycle_boundaries(nurse, patient):
    """14 on / 7 off from 1 June: day 14 (14 June) on, day 15 off, day 22 on again."""
    course = _course(nurse, patient)
    r = nurse.get(
        f"/api/v1/systemic-therapies/{course['id']}/exposure",
        query_string={"from": "2022-06-14", "to": "2022-06-22"},
    )
    assert r.status_code == 200, r.json
    assert r.json["days_on_drug"] == 2
    assert r.json["bands"] == [
        {"start": "2022-06-14", "end": "2022-06-14", "on_drug": True, "dose": 12.0},
        {"start": "2022-06-15", "end": "2022-06-21", "on_drug": False, "dose": None},
        {"start": "2022-06-22", "end": "2022-06-22", "on_drug": True, "dose": 12.0},
    ]
    assert r.json["cycles"] == [
        {"number": 1, "start": "2022-06-14", "end": "2022-06-21"},
        {"number": 2, "start": "2022-06-22", "end": "2022-06-22"},
    ]
    assert r.json["from"] == "2022-06-14" and r.json["to"] == "2022-06-22"

    # Three whole cycles: 42 days on drug, cycles 1-3.
    r = nurse.get(
        f"/api/v1/systemic-therapies/{course['id']}/exposure",
        query_string={"from": "2022-06-01", "to": "2022-08-02"},
    )
    assert r.json["days_on_drug"] == 42 and [c["number"] for c in r.json["cycles"]] == [1, 2, 3]
    # Before the course: nothing.
    r = nurse.get(
        f"/api/v1/systemic-therapies/{course['id']}/exposure",
        query_string={"from": "2022-05-01", "to": "2022-05-31"},
    )
    assert r.json["days_on_drug"] == 0 and r.json["cycles"] == []


def test_exposure_defaults_and_bad_window(nurse, patient):
    course = _course(nurse, patient, stop_date="2022-06-21")
    r = nurse.get(f"/api/v1/systemic-therapies/{course['id']}/exposure")
    assert (r.json["from"], r.json["to"], r.json["days_on_drug"]) == (
        "2022-06-01",
        "2022-06-21",
        14,
    )
    url = f"/api/v1/systemic-therapies/{course['id']}/exposure"
    _rule_error(
        nurse.get(url, query_string={"from": "2022-06-10", "to": "2022-06-01"}),
        "to",
        "window_order",
    )
    _rule_error(
        nurse.get(url, query_string={"from": "1900-01-01", "to": "2022-06-01"}),
        "to",
        "window_too_long",
    )
    assert nurse.get(url, query_string={"from": "not-a-date"}).status_code == 422


def test_dose_change_mid_cycle_and_hold_resume(nurse, patient):
    course = _course(nurse, patient)
    url = f"/api/v1/systemic-therapies/{course['id']}"
    r = nurse.post(
        f"{url}/changes",
        json={
            "effective_on": "2022-06-08",
            "kind": "dose_reduced",
            "dose": 10,
            "reason": "grade 3 platelet count decreased",
        },
    )
    assert r.status_code == 201, r.json
    assert r.json["therapy_id"] == course["id"] and r.headers["ETag"] == '"v1"'
    r = nurse.get(f"{url}/exposure", query_string={"from": "2022-06-01", "to": "2022-06-22"})
    assert r.json["bands"] == [
        {"start": "2022-06-01", "end": "2022-06-07", "on_drug": True, "dose": 12.0},
        {"start": "2022-06-08", "end": "2022-06-14", "on_drug": True, "dose": 10.0},
        {"start": "2022-06-15", "end": "2022-06-21", "on_drug": False, "dose": None},
        {"start": "2022-06-22", "end": "2022-06-22", "on_drug": True, "dose": 10.0},
    ]
    # Held on day 8 of cycle 2, resumed on day 1 of cycle 3: the cycle clock does not move.
    for body in (
        {"effective_on": "2022-06-29", "kind": "held", "reason": "grade 2 anemia"},
        {"effective_on": "2022-07-13", "kind": "resumed", "reason": "recovered"},
    ):
        assert nurse.post(f"{url}/changes", json=body).status_code == 201
    r = nurse.get(f"{url}/exposure", query_string={"from": "2022-06-22", "to": "2022-07-13"})
    assert r.json["days_on_drug"] == 7 + 1
    assert [c["number"] for c in r.json["cycles"]] == [2, 3]
    changes = nurse.get(f"{url}/changes").json["items"]
    assert [c["kind"] for c in changes] == ["dose_reduced", "held", "resumed"]
    assert nurse.get(url).json["changes"] == changes

    # A stop ends the course: no drug from that day, and nothing may follow it.
    stop = {"effective_on": "2022-07-20", "kind": "stopped", "reason": "wound not healing"}
    assert nurse.post(f"{url}/changes", json=stop).status_code == 201
    r = nurse.get(f"{url}/exposure", query_string={"from": "2022-07-13", "to": "2022-07-31"})
    assert r.json["days_on_drug"] == 7 and r.json["cycles"][-1]["end"] == "2022-07-19"
    after = {"effective_on": "2022-07-25", "kind": "held", "reason": "x"}
    _rule_error(nurse.post(f"{url}/changes", json=after), "kind", "change_sequence")


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"dose": -12}, "dose", "dose_positive"),
        ({"dose": 0}, "dose", "dose_positive"),
        ({"days_on": 0}, "days_on", "days_on_positive"),
        ({"days_off": -1}, "days_off", "days_off_nonneg"),
        ({"stop_date": "2022-05-31"}, "stop_date", "stop_before_start"),
    ],
)
def test_course_rules_are_422_naming_the_rule(nurse, patient, overrides, field, rule):
    r = nurse.post(f"/api/v1/patients/{patient}/systemic-therapies", json=anlotinib(**overrides))
    _rule_error(r, field, rule)
    assert nurse.get(f"/api/v1/patients/{patient}/systemic-therapies").json["items"] == []


def test_course_field_validation(nurse, patient):
    url = f"/api/v1/patients/{patient}/systemic-therapies"
    for bad in ({"dose": "twelve"}, {"agent": ""}, {"start_date": "2022-13-01"}, {"version": 3}):
        r = nurse.post(url, json=anlotinib(**bad))
        assert r.status_code == 422 and set(bad) <= set(r.json["errors"]), r.json
    body = anlotinib()
    del body["days_off"]
    assert "days_off" in nurse.post(url, json=body).json["errors"]


def test_overlapping_courses_of_one_agent(nurse, patient):
    first = _course(nurse, patient)  # open-ended from 2022-06-01
    url = f"/api/v1/patients/{patient}/systemic-therapies"
    r = nurse.post(url, json=anlotinib(agent="anlotinib", start_date="2022-09-01"))
    _rule_error(r, "start_date", "overlapping_course")
    assert first["id"] in r.json["errors"]["start_date"][0]
    # Same drug named by code counts too; a different agent at the same time is fine.
    assert nurse.post(url, json=anlotinib(agent="Pazopanib", dose=800)).status_code == 201
    # End the first course; the next one may start the day after, not on its last day.
    r = nurse.patch(
        f"/api/v1/systemic-therapies/{first['id']}", json={"stop_date": "2022-08-31"}, etag='"v1"'
    )
    assert r.status_code == 200, r.json
    _rule_error(
        nurse.post(url, json=anlotinib(start_date="2022-08-31")), "start_date", "overlapping_course"
    )
    second = nurse.post(url, json=anlotinib(start_date="2022-09-01"))
    assert second.status_code == 201
    # Moving the first course's stop back over the second is refused too.
    r = nurse.patch(
        f"/api/v1/systemic-therapies/{first['id']}", json={"stop_date": None}, etag='"v2"'
    )
    _rule_error(r, "start_date", "overlapping_course")
    # A deleted course does not block; restoring it when it would overlap is refused.
    nurse.delete(f"/api/v1/systemic-therapies/{second.json['id']}", etag='"v1"')
    third = nurse.post(url, json=anlotinib(start_date="2022-09-02"))
    assert third.status_code == 201


def test_overlap_blocks_restore(nurse, admin, patient):
    url = f"/api/v1/patients/{patient}/systemic-therapies"
    first = _course(nurse, patient)
    nurse.delete(f"/api/v1/systemic-therapies/{first['id']}", etag='"v1"')
    _course(nurse, patient, start_date="2022-07-01")
    r = admin.post(f"/api/v1/systemic-therapies/{first['id']}/restore")
    _rule_error(r, "start_date", "overlapping_course")
    assert nurse.get(f"/api/v1/systemic-therapies/{first['id']}").status_code == 404
    assert len(nurse.get(url).json["items"]) == 1


def test_change_rules(nurse, patient):
    course = _course(nurse, patient)
    url = f"/api/v1/systemic-therapies/{course['id']}/changes"

    def change(**kw):
        body = {"effective_on": "2022-06-10", "kind": "dose_reduced", "dose": 10, "reason": "r"}
        body.update(kw)
        return nurse.post(url, json=body)

    _rule_error(change(effective_on="2022-05-31"), "effective_on", "change_before_start")
    _rule_error(change(dose=None), "dose", "dose_reduced_needs_dose")
    r = change()
    del_dose = nurse.post(
        url, json={"effective_on": "2022-06-10", "kind": "dose_reduced", "reason": "r"}
    )
    _rule_error(del_dose, "dose", "dose_reduced_needs_dose")
    assert r.status_code == 201
    # Not lower than the dose in force (10 mg after the first reduction).
    _rule_error(change(effective_on="2022-07-01", dose=10), "dose", "dose_reduced_lower")
    _rule_error(change(effective_on="2022-07-01", dose=14), "dose", "dose_reduced_lower")
    _rule_error(change(dose=-8), "dose", "dose_positive")
    _rule_error(change(kind="resumed", dose=None), "kind", "change_sequence")
    assert change(kind="paused").status_code == 422
    assert change(reason="").status_code == 422
    # A course amendment that contradicts its changes is refused.
    r = nurse.patch(
        f"/api/v1/systemic-therapies/{course['id']}",
        json={"start_date": "2022-06-15"},
        etag='"v1"',
    )
    _rule_error(r, "start_date", "change_before_start")
    r = nurse.patch(f"/api/v1/systemic-therapies/{course['id']}", json={"dose": 8}, etag='"v1"')
    _rule_error(r, "dose", "dose_reduced_lower")
    assert len(nurse.get(url).json["items"]) == 1


def test_offline_replay_of_course_and_change(nurse, patient):
    body = anlotinib(id=str(uuid.uuid4()))
    url = f"/api/v1/patients/{patient}/systemic-therapies"
    first, again = nurse.post(url, json=body), nurse.post(url, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    conflict = nurse.post(url, json={**body, "dose": 10})
    assert conflict.status_code == 409 and conflict.json["stored"]["dose"] == 12
    assert len(nurse.get(url).json["items"]) == 1

    curl = f"/api/v1/systemic-therapies/{body['id']}/changes"
    held = {"id": str(uuid.uuid4()), "effective_on": "2022-06-05", "kind": "held", "reason": "r"}
    # A replayed hold is not a second hold (that would break the sequence rule).
    assert [nurse.post(curl, json=held).status_code for _ in range(2)] == [201, 200]
    r = nurse.post(curl, json={**held, "reason": "other"})
    assert r.status_code == 409 and r.json["stored"]["reason"] == "r"
    assert len(nurse.get(curl).json["items"]) == 1


def test_etag_history_delete_restore(nurse, admin, patient):
    course = _course(nurse, patient)
    url = f"/api/v1/systemic-therapies/{course['id']}"
    assert nurse.patch(url, json={"dose": 10}).status_code == 428
    r = nurse.patch(url, json={"dose": 10, "agent_code": "L01EX"}, etag='"v1"')
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["anti_angiogenic"] is True
    r = nurse.patch(url, json={"dose": 8}, etag='"v1"')
    assert r.status_code == 412 and r.json["current"]["dose"] == 10
    history = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["changed_fields"] == ["agent_code", "dose"]
    assert history[0]["data"]["dose"] == 12

    assert nurse.delete(url).status_code == 428
    r = nurse.delete(url, etag='"v2"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    assert nurse.get(f"/api/v1/patients/{patient}/systemic-therapies").json["items"] == []
    assert nurse.post(f"{url}/restore").status_code == 403
    r = admin.post(f"{url}/restore")
    assert r.status_code == 200 and r.json["version"] == 4
    assert nurse.get(url).status_code == 200
    assert admin.post(f"{url}/restore").status_code == 409


def test_delta_sync_tombstones(nurse, patient):
    course = _course(nurse, patient)
    since = course["created_at"]
    nurse.delete(f"/api/v1/systemic-therapies/{course['id']}", etag='"v1"')
    feed = nurse.get(
        f"/api/v1/patients/{patient}/systemic-therapies", query_string={"updated_since": since}
    ).json["items"]
    assert feed[0]["id"] == course["id"] and feed[0]["deleted"] is True


def test_other_clinic_404_and_researcher_403(nurse, outsider, researcher, patient):
    course = _course(nurse, patient)
    cid = course["id"]
    change = nurse.post(
        f"/api/v1/systemic-therapies/{cid}/changes",
        json={"effective_on": "2022-06-05", "kind": "held", "reason": "r"},
    ).json
    requests = [
        ("get", f"/api/v1/patients/{patient}/systemic-therapies", None),
        (
            "post",
            f"/api/v1/patients/{patient}/systemic-therapies",
            anlotinib(start_date="2030-01-01"),
        ),
        ("get", f"/api/v1/systemic-therapies/{cid}", None),
        ("patch", f"/api/v1/systemic-therapies/{cid}", {"dose": 1}),
        ("delete", f"/api/v1/systemic-therapies/{cid}", None),
        ("get", f"/api/v1/systemic-therapies/{cid}/history", None),
        ("get", f"/api/v1/systemic-therapies/{cid}/changes", None),
        (
            "post",
            f"/api/v1/systemic-therapies/{cid}/changes",
            {"effective_on": "2022-06-09", "kind": "resumed", "reason": "r"},
        ),
        ("get", f"/api/v1/systemic-therapies/{cid}/exposure", None),
    ]
    for method, url, body in requests:
        kw = {"json": body} if body is not None else {}
        if method in ("patch", "delete"):
            kw["etag"] = '"v1"'
        assert getattr(outsider, method)(url, **kw).status_code == 404, (method, url)
        assert getattr(researcher, method)(url, **kw).status_code == 403, (method, url)
    # Nothing changed.
    r = nurse.get(f"/api/v1/systemic-therapies/{cid}")
    # Version 2: the course itself (1) amended by the owner's one change.
    assert r.json["version"] == 2 and [c["id"] for c in r.json["changes"]] == [change["id"]]


def test_reads_and_writes_are_audited(nurse, clinic_admin, patient):
    course = _course(nurse, patient)
    nurse.get(f"/api/v1/systemic-therapies/{course['id']}")
    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_id": course["id"]}
    ).json["items"]
    assert [e["action"] for e in events] == ["create", "read"]


def test_dates_out_of_range_are_422_not_500(nurse, patient):
    url = f"/api/v1/patients/{patient}/systemic-therapies"
    for overrides in ({"start_date": "0001-01-01"}, {"stop_date": "9999-12-31"}):
        r = nurse.post(url, json=anlotinib(**overrides))
        assert r.status_code == 422 and set(overrides) <= set(r.json["errors"]), r.json
    course = _course(nurse, patient)
    r = nurse.post(
        f"/api/v1/systemic-therapies/{course['id']}/changes",
        json={"effective_on": "9999-12-31", "kind": "stopped", "reason": "r"},
    )
    assert r.status_code == 422 and "effective_on" in r.json["errors"]
    r = nurse.get(
        f"/api/v1/systemic-therapies/{course['id']}/exposure", query_string={"to": "9999-12-31"}
    )
    assert r.status_code == 422


def test_concurrent_overlapping_creates_store_one_course(app, nurse, patient):
    """The patient row is locked while the overlap rule runs (PostgreSQL); on
    SQLite the losers' stale snapshots fail to write (503, nothing saved)."""
    url = f"/api/v1/patients/{patient}/systemic-therapies"

    def create(_: int) -> int:
        from tests.factories import Actor

        actor = Actor(app, nurse.user_id, nurse.email, nurse.role, nurse.token, nurse.clinic_id)
        return actor.post(url, json=anlotinib()).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(create, range(6)))
    assert codes.count(201) == 1, codes
    assert set(codes) <= {201, 422, 503}, codes
    assert len(nurse.get(url).json["items"]) == 1


def test_creating_a_course_leaves_the_patient_unchanged(nurse, patient):
    before = nurse.get(f"/api/v1/patients/{patient}").json
    _course(nurse, patient)
    after = nurse.get(f"/api/v1/patients/{patient}").json
    assert (after["version"], after["updated_at"]) == (before["version"], before["updated_at"])


def test_a_change_amends_the_course_for_etags_delta_sync_and_history(nurse, patient):
    course = nurse.post(
        f"/api/v1/patients/{patient}/systemic-therapies",
        json={
            "agent": "anlotinib",
            "dose": 12,
            "dose_unit": "mg",
            "days_on": 14,
            "days_off": 7,
            "start_date": "2025-01-06",
        },
    ).json
    before = nurse.get(f"/api/v1/systemic-therapies/{course['id']}")
    r = nurse.post(
        f"/api/v1/systemic-therapies/{course['id']}/changes",
        json={"effective_on": "2025-02-03", "kind": "held", "reason": "grade 3 platelets"},
    )
    assert r.status_code == 201, r.json
    after = nurse.get(f"/api/v1/systemic-therapies/{course['id']}")
    assert after.json["version"] == before.json["version"] + 1
    assert after.headers["ETag"] != before.headers["ETag"]
    history = nurse.get(f"/api/v1/systemic-therapies/{course['id']}/history").json["items"]
    assert history[-1]["changed_fields"] == ["changes"]
    assert history[-1]["data"]["changes"]["kind"] == "held"


def _change(nurse, course_id, **body):
    r = nurse.post(f"/api/v1/systemic-therapies/{course_id}/changes", json=body)
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_a_mistyped_change_is_corrected_and_the_course_follows(nurse, patient):
    course = _course(nurse, patient)
    curl = f"/api/v1/systemic-therapies/{course['id']}"
    cid = _change(
        nurse, course["id"], effective_on="2022-06-08", kind="dose_reduced", dose=1, reason="r"
    )
    url = f"/api/v1/therapy-changes/{cid}"
    r = nurse.get(url)
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"' and r.json["dose"] == 1
    version = nurse.get(curl).json["version"]

    assert nurse.patch(url, json={"dose": 10}).status_code == 428
    r = nurse.patch(url, json={"dose": 10}, etag='"v1"')
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["dose"] == 10
    assert nurse.patch(url, json={"dose": 9}, etag='"v1"').status_code == 412
    # The course's exposure uses the corrected dose, and the course has a new version.
    r = nurse.get(f"{curl}/exposure", query_string={"from": "2022-06-08", "to": "2022-06-08"})
    assert r.json["bands"][0]["dose"] == 10.0
    after = nurse.get(curl).json
    assert after["version"] == version + 1 and after["changes"][0]["dose"] == 10
    assert nurse.get(f"{curl}/history").json["items"][-1]["changed_fields"] == ["changes"]

    history = nurse.get(f"{url}/history").json["items"]
    assert [(v["version"], v["data"]["dose"]) for v in history] == [(1, 1.0), (2, 10.0)]
    assert history[1]["changed_fields"] == ["dose"]


def test_change_corrections_keep_the_course_rules(nurse, patient):
    course = _course(nurse, patient)
    _change(
        nurse, course["id"], effective_on="2022-06-08", kind="dose_reduced", dose=10, reason="r"
    )
    held = _change(nurse, course["id"], effective_on="2022-06-29", kind="held", reason="anemia")
    url = f"/api/v1/therapy-changes/{held}"

    _rule_error(
        nurse.patch(url, json={"effective_on": "2022-05-30"}, etag='"v1"'),
        "effective_on",
        "change_before_start",
    )
    _rule_error(
        nurse.patch(url, json={"kind": "dose_reduced"}, etag='"v1"'),
        "dose",
        "dose_reduced_needs_dose",
    )
    _rule_error(
        nurse.patch(url, json={"kind": "dose_reduced", "dose": 11}, etag='"v1"'),
        "dose",
        "dose_reduced_lower",
    )
    _rule_error(nurse.patch(url, json={"kind": "resumed"}, etag='"v1"'), "kind", "change_sequence")
    for bad in ({"kind": "paused"}, {"reason": ""}, {"therapy_id": course["id"]}, {"version": 4}):
        r = nurse.patch(url, json=bad, etag='"v1"')
        assert r.status_code == 422 and set(bad) <= set(r.json["errors"]), r.json
    # Nothing was written: the change and its course are as they were.
    assert nurse.get(url).json["version"] == 1
    assert [
        c["kind"] for c in nurse.get(f"/api/v1/systemic-therapies/{course['id']}").json["changes"]
    ] == ["dose_reduced", "held"]


def test_withdrawing_a_change_keeps_the_sequence_and_can_be_undone(nurse, admin, patient):
    course = _course(nurse, patient)
    curl = f"/api/v1/systemic-therapies/{course['id']}"
    held = _change(nurse, course["id"], effective_on="2022-06-29", kind="held", reason="anemia")
    resumed = _change(nurse, course["id"], effective_on="2022-07-13", kind="resumed", reason="ok")

    # Without the hold, the resume would follow nothing: refused, nothing written.
    r = nurse.delete(f"/api/v1/therapy-changes/{held}", etag='"v1"')
    assert r.status_code == 409 and "rule: change_sequence" in r.json["detail"], r.json
    assert [c["kind"] for c in nurse.get(curl).json["changes"]] == ["held", "resumed"]

    assert nurse.delete(f"/api/v1/therapy-changes/{resumed}").status_code == 428
    r = nurse.delete(f"/api/v1/therapy-changes/{resumed}", etag='"v1"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(f"/api/v1/therapy-changes/{resumed}").status_code == 404
    assert [c["kind"] for c in nurse.get(curl).json["changes"]] == ["held"]
    assert [c["id"] for c in nurse.get(f"{curl}/changes").json["items"]] == [held]
    r = nurse.get(f"{curl}/exposure", query_string={"from": "2022-07-13", "to": "2022-07-20"})
    assert r.json["days_on_drug"] == 0  # held, no longer resumed

    assert nurse.post(f"/api/v1/therapy-changes/{resumed}/restore").status_code == 403
    # A stop recorded meanwhile would put the resume after the end: restore refused.
    stop = _change(nurse, course["id"], effective_on="2022-07-06", kind="stopped", reason="x")
    r = admin.post(f"/api/v1/therapy-changes/{resumed}/restore")
    assert r.status_code == 409 and "rule: change_sequence" in r.json["detail"], r.json
    assert nurse.get(f"/api/v1/therapy-changes/{resumed}").status_code == 404

    assert nurse.delete(f"/api/v1/therapy-changes/{stop}", etag='"v1"').status_code == 200
    r = admin.post(f"/api/v1/therapy-changes/{resumed}/restore")
    assert r.status_code == 200 and r.json["version"] == 3
    assert [c["kind"] for c in nurse.get(curl).json["changes"]] == ["held", "resumed"]
    actions = [
        v["action"] for v in nurse.get(f"/api/v1/therapy-changes/{resumed}/history").json["items"]
    ]
    assert actions == ["create", "delete", "restore"]


def test_withdrawing_a_stop_that_kept_courses_apart_is_refused(nurse, patient):
    first = _course(nurse, patient)
    stop = _change(nurse, first["id"], effective_on="2022-08-01", kind="stopped", reason="x")
    _course(nurse, patient, start_date="2022-09-01")
    r = nurse.delete(f"/api/v1/therapy-changes/{stop}", etag='"v1"')
    assert r.status_code == 409 and "rule: overlapping_course" in r.json["detail"], r.json
    r = nurse.patch(
        f"/api/v1/therapy-changes/{stop}", json={"effective_on": "2022-09-05"}, etag='"v1"'
    )
    assert r.status_code == 409 and "rule: overlapping_course" in r.json["detail"], r.json
    assert nurse.get(f"/api/v1/therapy-changes/{stop}").json["version"] == 1


def test_change_routes_are_clinic_scoped_and_not_for_researchers(
    nurse, outsider, researcher, patient
):
    course = _course(nurse, patient)
    cid = _change(nurse, course["id"], effective_on="2022-06-29", kind="held", reason="anemia")
    url = f"/api/v1/therapy-changes/{cid}"
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, json={"reason": "x"}, etag='"v1"').status_code == 404
    assert outsider.delete(url, etag='"v1"').status_code == 404
    assert outsider.get(f"{url}/history").status_code == 404
    assert researcher.get(url).status_code == 403
    assert researcher.patch(url, json={"reason": "x"}, etag='"v1"').status_code == 403
    assert nurse.get(url).json["version"] == 1


def test_a_correction_that_changes_nothing_moves_nothing(nurse, patient):
    course = _course(nurse, patient)
    cid = _change(nurse, course["id"], effective_on="2022-06-29", kind="held", reason="anemia")
    before = nurse.get(f"/api/v1/systemic-therapies/{course['id']}").json["version"]
    r = nurse.patch(f"/api/v1/therapy-changes/{cid}", json={"kind": "held"}, etag='"v1"')
    assert r.status_code == 200 and r.json["version"] == 1
    assert nurse.get(f"/api/v1/systemic-therapies/{course['id']}").json["version"] == before
    r = nurse.patch(
        f"/api/v1/therapy-changes/{cid}", json={"reason": "grade 2 anemia"}, etag='"v1"'
    )
    assert r.status_code == 200 and r.json["version"] == 2
    assert nurse.get(f"/api/v1/systemic-therapies/{course['id']}").json["version"] == before + 1


@pytest.mark.parametrize("first", ["resume", "withdraw"])
def test_concurrent_resume_and_withdrawn_hold_never_both_land(
    app, nurse, patient, monkeypatch, first
):
    """Recording a resume and withdrawing its hold are each fine alone; together
    they would leave a resume without a hold. Both writes lock the course before
    reading its changes, so the second must judge the course as the first left it.

    The order is forced: the first request, having read the course's changes,
    lets the second start and waits until the second has sent its lock
    statement (and a moment more, so it is waiting on the lock) before it
    finishes. The second has by then loaded the course and its changes as they
    stood before the first committed; it must read them again once it holds the
    lock, and refuse by the schedule rule. (Without that re-read, SQLite let the
    stale check pass and only the course's version, a unique history row, caught
    it: a 409 from an IntegrityError, not the rule.)"""
    import threading
    import time

    from sqlalchemy import event

    from app.extensions import db
    from app.therapy import courses as services
    from tests.factories import Actor

    course = _course(nurse, patient)
    url = f"/api/v1/systemic-therapies/{course['id']}"
    held = _change(nurse, course["id"], effective_on="2022-06-29", kind="held", reason="r")
    second = "withdraw" if first == "resume" else "resume"

    role = threading.local()
    second_may_start, second_locking = threading.Event(), threading.Event()
    read_changes = services.active_changes

    def read_then_wait(therapy):
        changes = read_changes(therapy)
        if getattr(role, "name", None) == first:
            second_may_start.set()
            second_locking.wait(timeout=10)
            time.sleep(0.3)
        return changes

    def on_execute(conn, cursor, statement, params, context, executemany):
        locks = "FOR UPDATE" in statement or statement.startswith("UPDATE systemic_therapies")
        if getattr(role, "name", None) == second and locks:
            second_locking.set()

    def act(which: str):
        role.name = which
        if which == second:
            assert second_may_start.wait(timeout=10)
        actor = Actor(app, nurse.user_id, nurse.email, nurse.role, nurse.token, nurse.clinic_id)
        if which == "withdraw":
            return actor.delete(f"/api/v1/therapy-changes/{held}", etag='"v1"')
        body = {"effective_on": "2022-07-13", "kind": "resumed", "reason": "recovered"}
        return actor.post(f"{url}/changes", json=body)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(services, "active_changes", read_then_wait)
            with ThreadPoolExecutor(max_workers=2) as pool:
                responses = dict(zip([first, second], pool.map(act, [first, second]), strict=True))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert second_locking.is_set()  # the race really happened
    kinds = [c["kind"] for c in nurse.get(url).json["changes"]]
    if first == "resume":
        assert responses["resume"].status_code == 201
        assert responses["withdraw"].status_code == 409, responses["withdraw"].json
        assert "inconsistent" in responses["withdraw"].json["detail"]
        assert kinds == ["held", "resumed"]
    else:
        assert responses["withdraw"].status_code == 200
        assert responses["resume"].status_code == 422, responses["resume"].json
        assert "change_sequence" in str(responses["resume"].json)
        assert kinds == []
