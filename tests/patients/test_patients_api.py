"""Patients through the HTTP API: the reference behaviour every record shares."""

import uuid

from tests.factories import patient_body


def test_create_read_amend_delete_with_history(nurse, admin):
    pid = str(uuid.uuid4())
    r = nurse.post("/api/v1/patients", json=patient_body(id=pid, mrn="A-1"))
    assert r.status_code == 201, r.json
    assert r.json["id"] == pid and r.json["version"] == 1
    assert r.headers["ETag"] == '"v1"'

    r = nurse.get(f"/api/v1/patients/{pid}")
    assert r.status_code == 200 and r.json["mrn"] == "A-1"
    etag = r.headers["ETag"]

    r = nurse.patch(f"/api/v1/patients/{pid}", json={"mrn": "A-2"}, etag=etag)
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["mrn"] == "A-2"

    # The stale ETag is refused, with the current version in the body.
    r = nurse.patch(f"/api/v1/patients/{pid}", json={"mrn": "A-3"}, etag=etag)
    assert r.status_code == 412
    assert r.json["current_version"] == 2 and r.json["current"]["mrn"] == "A-2"

    r = nurse.patch(f"/api/v1/patients/{pid}", json={"mrn": "A-3"})
    assert r.status_code == 428

    r = nurse.get(f"/api/v1/patients/{pid}/history")
    versions = r.json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changed_fields"] == ["mrn"] and versions[0]["data"]["mrn"] == "A-1"

    r = nurse.delete(f"/api/v1/patients/{pid}", etag='"v2"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(f"/api/v1/patients/{pid}").status_code == 404
    assert nurse.get("/api/v1/patients").json["items"] == []

    assert nurse.post(f"/api/v1/patients/{pid}/restore").status_code == 403
    r = admin.post(f"/api/v1/patients/{pid}/restore")
    assert r.status_code == 200 and r.json["version"] == 4
    assert nurse.get(f"/api/v1/patients/{pid}").status_code == 200


def test_offline_create_is_idempotent(nurse):
    body = patient_body(id=str(uuid.uuid4()))
    first = nurse.post("/api/v1/patients", json=body)
    again = nurse.post("/api/v1/patients", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    changed = nurse.post("/api/v1/patients", json={**body, "mrn": "OTHER"})
    assert changed.status_code == 409
    assert changed.json["stored"]["mrn"] == body["mrn"]
    assert len(nurse.get("/api/v1/patients").json["items"]) == 1


def test_other_clinic_sees_404_and_researcher_403(nurse, outsider, researcher):
    pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    assert outsider.get(f"/api/v1/patients/{pid}").status_code == 404
    assert (
        outsider.patch(f"/api/v1/patients/{pid}", json={"mrn": "x"}, etag='"v1"').status_code == 404
    )
    assert outsider.get("/api/v1/patients").json["items"] == []
    assert researcher.get(f"/api/v1/patients/{pid}").status_code == 403
    assert researcher.get("/api/v1/patients").status_code == 403


def test_mass_assignment_is_rejected(nurse, other_clinic):
    for field, value in (("version", 7), ("created_at", "2020-01-01T00:00:00Z"), ("deleted", True)):
        r = nurse.post("/api/v1/patients", json=patient_body(**{field: value}))
        assert r.status_code == 422 and field in r.json["errors"], r.json
    r = nurse.post("/api/v1/patients", json=patient_body(clinic_id=str(other_clinic)))
    assert r.status_code == 422 and "clinic_id" in r.json["errors"]
    assert nurse.get("/api/v1/patients").json["items"] == []


def test_pagination_and_delta_sync(nurse):
    ids = [nurse.post("/api/v1/patients", json=patient_body()).json["id"] for _ in range(5)]
    page1 = nurse.get("/api/v1/patients?limit=2").json
    page2 = nurse.get(f"/api/v1/patients?limit=2&cursor={page1['next_cursor']}").json
    assert "items" in page2, page2
    page3 = nurse.get(f"/api/v1/patients?limit=2&cursor={page2['next_cursor']}").json
    seen = [p["id"] for p in page1["items"] + page2["items"] + page3["items"]]
    assert seen == ids and page3["next_cursor"] is None

    since = nurse.get(f"/api/v1/patients/{ids[0]}").json["created_at"]
    nurse.delete(f"/api/v1/patients/{ids[1]}", etag='"v1"')
    feed = nurse.get("/api/v1/patients", query_string={"updated_since": since}).json["items"]
    tomb = [p for p in feed if p["id"] == ids[1]]
    assert tomb == [
        {"id": ids[1], "deleted": True, "version": 2, "updated_at": tomb[0]["updated_at"]}
    ]
    assert nurse.get("/api/v1/patients?cursor=garbage").status_code == 422


def test_future_birth_date_refused(nurse):
    r = nurse.post("/api/v1/patients", json=patient_body(birth_date="2999-01-01"))
    assert r.status_code == 422 and "birth_date" in r.json["errors"]


def test_reads_and_writes_are_audited(nurse, clinic_admin):
    pid = nurse.post("/api/v1/patients", json=patient_body(given_name="Zebulon")).json["id"]
    nurse.get(f"/api/v1/patients/{pid}")
    events = clinic_admin.get("/api/v1/audit-events", query_string={"record_id": pid}).json["items"]
    assert [e["action"] for e in events] == ["create", "read"]
    assert all(e["user_id"] == str(nurse.user_id) and e["role"] == "nurse" for e in events)
    assert "Zebulon" not in str(events)


def test_unknown_query_parameter_is_named_not_ignored(nurse):
    r = nurse.get("/api/v1/patients?limt=5")
    assert r.status_code == 422 and "limt" in r.json["errors"]
