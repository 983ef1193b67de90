"""Clinics, clinic users and research grants through the HTTP API."""

from __future__ import annotations

from tests.factories import PASSWORD


def new_user(**overrides):
    body = {
        "email": "New.Nurse@Example.org",
        "name": "New Nurse",
        "role": "nurse",
        "password": "a long enough password",
    }
    return {**body, **overrides}


def test_admin_creates_clinic_and_names_are_unique(admin):
    r = admin.post("/api/v1/clinics", json={"name": "East", "default_marker_size_cm": 2.5})
    assert r.status_code == 201
    assert r.json["name"] == "East" and r.json["default_marker_size_cm"] == 2.5
    r = admin.post("/api/v1/clinics", json={"name": "East"})
    assert r.status_code == 422 and "name" in r.json["errors"]
    r = admin.post("/api/v1/clinics", json={"name": "West", "default_marker_size_cm": 0})
    assert r.status_code == 422 and "default_marker_size_cm" in r.json["errors"]


def test_clinic_admin_creates_a_user_who_can_sign_in(clinic_admin, clinic, client):
    r = clinic_admin.post(f"/api/v1/clinics/{clinic}/users", json=new_user())
    assert r.status_code == 201, r.json
    user = r.json
    assert r.headers["ETag"] == '"v1"' and user["version"] == 1
    assert user["email"] == "new.nurse@example.org"
    assert user["clinic_ids"] == [str(clinic)] and user["is_active"] is True
    assert "password" not in user and "password_hash" not in user

    listed = clinic_admin.get(f"/api/v1/clinics/{clinic}/users").json["items"]
    assert user["id"] in {u["id"] for u in listed}

    r = client.post(
        "/api/v1/auth/token",
        json={"email": "new.nurse@example.org", "password": "a long enough password"},
    )
    assert r.status_code == 200


def test_user_create_validation(clinic_admin, clinic):
    url = f"/api/v1/clinics/{clinic}/users"
    assert clinic_admin.post(url, json=new_user()).status_code == 201
    r = clinic_admin.post(url, json=new_user(email="NEW.nurse@example.org"))
    assert r.status_code == 422 and "email" in r.json["errors"]
    r = clinic_admin.post(url, json=new_user(email="x@example.org", password="short"))
    assert r.status_code == 422 and "password" in r.json["errors"]
    r = clinic_admin.post(url, json=new_user(email="y@example.org", role="superuser"))
    assert r.status_code == 422 and "role" in r.json["errors"]
    r = clinic_admin.post(url, json=new_user(email="z@example.org", is_active=False))
    assert r.status_code == 422 and "is_active" in r.json["errors"]


def test_rename_user(clinic_admin, nurse):
    url = f"/api/v1/users/{nurse.user_id}"
    got = clinic_admin.get(url)
    assert got.headers["ETag"] == '"v1"' and got.json["version"] == 1
    r = clinic_admin.patch(url, json={"name": "Renamed Nurse"}, etag=got.headers["ETag"])
    assert r.status_code == 200 and r.json["name"] == "Renamed Nurse"
    assert r.headers["ETag"] == '"v2"'
    assert nurse.get("/api/v1/me").json["name"] == "Renamed Nurse"
    r = clinic_admin.patch(url, json={"role": "admin"}, etag='"v2"')
    assert r.status_code == 422 and "role" in r.json["errors"]


def test_user_changes_need_if_match(clinic_admin, admin, nurse):
    """Two admins at once: one disables the nurse, the other, from a stale
    page, renames her. The rename is refused (412, with the user as she now
    is), not applied over the disable; without If-Match it is a 428."""
    url = f"/api/v1/users/{nurse.user_id}"
    missing = clinic_admin.patch(url, json={"name": "Nobody"})
    assert missing.status_code == 428 and missing.json["etag"] == '"v1"'
    assert admin.patch(url, json={"is_active": False}, etag='"v1"').status_code == 200
    stale = clinic_admin.patch(url, json={"name": "Renamed"}, etag='"v1"')
    assert stale.status_code == 412 and stale.json["current"]["is_active"] is False
    now = admin.get(url).json
    assert now["name"] != "Renamed" and now["version"] == 2 and now["is_active"] is False


def test_research_grants(clinic_admin, clinic, researcher, nurse):
    url = f"/api/v1/clinics/{clinic}/research-grants"
    r = clinic_admin.post(url, json={"researcher_id": str(nurse.user_id)})
    assert r.status_code == 422 and "researcher_id" in r.json["errors"]

    r = clinic_admin.post(url, json={"researcher_id": str(researcher.user_id)})
    assert r.status_code == 201
    grant = r.json
    assert grant["granted_by"] == str(clinic_admin.user_id) and grant["revoked_at"] is None
    # Granting again returns the live grant rather than a second one.
    again = clinic_admin.post(url, json={"researcher_id": str(researcher.user_id)})
    assert again.json["id"] == grant["id"]
    assert [g["id"] for g in clinic_admin.get(url).json["items"]] == [grant["id"]]

    r = clinic_admin.delete(f"/api/v1/research-grants/{grant['id']}")
    assert r.status_code == 200 and r.json["revoked_at"] is not None
    listed = clinic_admin.get(url).json["items"]
    assert listed[0]["revoked_at"] is not None  # kept, marked revoked
    assert PASSWORD not in str(listed)


def test_admin_lists_page_and_sync_like_every_list(admin, clinic_admin, clinic, researcher):
    """limit/cursor pages that neither skip nor repeat, and updated_since
    returning what changed: a disabled user, a revoked grant, a renamed clinic."""
    url = f"/api/v1/clinics/{clinic}/users"
    for n in range(3):
        r = clinic_admin.post(url, json=new_user(email=f"n{n}@example.org", name=f"N {n}"))
        assert r.status_code == 201
    everyone = clinic_admin.get(url, query_string={"limit": 500}).json
    assert everyone["next_cursor"] is None
    emails = [u["email"] for u in everyone["items"]]
    assert emails == sorted(emails) and len(emails) >= 4

    seen, cursor = [], None
    while True:
        page = clinic_admin.get(url, query_string={"limit": 2, "cursor": cursor or ""}).json
        assert len(page["items"]) <= 2
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == emails
    bad = clinic_admin.get(url, query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json["errors"]

    mark = clinic_admin.get(url, query_string={"limit": 500}).json["items"]
    since = max(u["updated_at"] for u in mark)
    target = next(u for u in mark if u["email"] == "n1@example.org")
    r = clinic_admin.patch(
        f"/api/v1/users/{target['id']}", json={"is_active": False}, etag=f'"v{target["version"]}"'
    )
    assert r.status_code == 200
    changed = clinic_admin.get(url, query_string={"updated_since": since}).json["items"]
    assert [(u["id"], u["is_active"]) for u in changed if u["updated_at"] > since] == [
        (target["id"], False)
    ]

    grants = f"/api/v1/clinics/{clinic}/research-grants"
    grant = clinic_admin.post(grants, json={"researcher_id": str(researcher.user_id)}).json
    before = grant["updated_at"]
    assert clinic_admin.get(grants, query_string={"limit": 1}).json["next_cursor"] is None
    clinic_admin.delete(f"/api/v1/research-grants/{grant['id']}")
    after = clinic_admin.get(grants, query_string={"updated_since": before}).json["items"]
    assert [g["id"] for g in after] == [grant["id"]] and after[0]["revoked_at"] is not None
    assert after[0]["updated_at"] > before

    admin.post("/api/v1/clinics", json={"name": "Zeta"})
    admin.post("/api/v1/clinics", json={"name": "Alpha"})
    first = admin.get("/api/v1/clinics", query_string={"limit": 1}).json
    assert first["items"][0]["name"] == "Alpha" and first["next_cursor"]
    rest = admin.get("/api/v1/clinics", query_string={"cursor": first["next_cursor"]}).json
    names = [c["name"] for c in rest["items"]]
    assert "Alpha" not in names and "Zeta" in names and names == sorted(names)


def test_audit_events_take_updated_since_as_recorded_since(clinic_admin, nurse):
    """Events never change, so updated_since (taken by every list) means
    recorded since; it used to be accepted and ignored."""
    from tests.factories import patient_body

    first = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    nurse.post("/api/v1/patients", json=patient_body())
    url = "/api/v1/audit-events"
    events = clinic_admin.get(url, query_string={"limit": 500}).json["items"]
    last = max(e["at"] for e in events)
    earlier = {e["id"] for e in events if e["at"] < last}
    assert earlier  # the first patient's create, at least
    second = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    newer = clinic_admin.get(url, query_string={"updated_since": last, "limit": 500}).json
    ids = {e["id"] for e in newer["items"]}
    records = {e["record_id"] for e in newer["items"]}
    assert second in records and not ids & earlier
    assert all(e["at"] >= last for e in newer["items"])
    assert first in {e["record_id"] for e in events}


def test_clinic_admin_tunes_the_settings_trajectories_judge_by(
    app, admin, clinic_admin, nurse, clinic, other_clinic
):
    """A wound at 60% PAR by week 4 is on track at the default 40%; the clinic
    lead raises its threshold to 70% and the same wound reads stalled, its
    trajectory's ETag moved. The change needs If-Match, is audited, and a
    rename stays an admin's."""
    from datetime import date, timedelta

    from tests.summaries import helpers as h

    start = date.today() - timedelta(days=60)
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=start)
    h.series(nurse, wid, start, [(0, 10), (7, 8), (14, 6.5), (21, 5), (28, 4)])
    before = nurse.get(f"/api/v1/wounds/{wid}/trajectory")
    assert before.json["status"] == "on_track"

    url = f"/api/v1/clinics/{clinic}"
    got = clinic_admin.get(url)
    assert got.status_code == 200 and got.headers["ETag"] == '"v1"'
    assert got.json["par_threshold_pct"] is None
    assert clinic_admin.patch(url, json={"par_threshold_pct": 70}).status_code == 428
    assert nurse.patch(url, json={"par_threshold_pct": 70}, etag='"v1"').status_code == 403
    r = clinic_admin.patch(url, json={"par_threshold_pct": 101}, etag='"v1"')
    assert r.status_code == 422 and "par_threshold_pct" in r.json["errors"]
    r = clinic_admin.patch(
        url, json={"par_threshold_pct": 70, "overdue_assessment_days": 10}, etag='"v1"'
    )
    assert r.status_code == 200 and r.headers["ETag"] == '"v2"', r.json
    assert r.json["par_threshold_pct"] == 70 and r.json["overdue_assessment_days"] == 10

    after = nurse.get(f"/api/v1/wounds/{wid}/trajectory")
    assert after.json["status"] == "stalled" and "70% threshold" in after.json["rule"]
    assert after.headers["ETag"] != before.headers["ETag"]

    stale = clinic_admin.patch(url, json={"par_threshold_pct": 50}, etag='"v1"')
    assert stale.status_code == 412 and stale.json["current"]["par_threshold_pct"] == 70
    renamed = clinic_admin.patch(url, json={"name": "Elsewhere"}, etag='"v2"')
    assert renamed.status_code == 403
    other = admin.get(f"/api/v1/clinics/{other_clinic}").json["name"]
    taken = admin.patch(url, json={"name": other}, etag='"v2"')
    assert taken.status_code == 422 and "name" in taken.json["errors"]
    assert admin.patch(url, json={"name": "Renamed Clinic"}, etag='"v2"').status_code == 200
    assert clinic_admin.get(f"/api/v1/clinics/{other_clinic}").status_code == 404

    history = clinic_admin.get(f"{url}/history").json["items"]
    assert [v["version"] for v in history] == [1, 2, 3]
    assert history[0]["data"]["par_threshold_pct"] is None
    assert history[1]["changed_fields"] == ["overdue_assessment_days", "par_threshold_pct"]
    assert history[1]["changed_by"] == str(clinic_admin.user_id)
    assert history[2]["changed_fields"] == ["name"]
    assert nurse.get(f"{url}/history").status_code == 403

    events = clinic_admin.get("/api/v1/audit-events", query_string={"record_type": "clinic"}).json[
        "items"
    ]
    assert [e["action"] for e in events] == ["create", "update", "update"]
    assert {e["record_id"] for e in events} == {str(clinic)}


def test_who_may_see_what_changes_leave_audit_events(clinic_admin, clinic, researcher):
    """A new user, a disabled one, a research grant and its revocation: who
    may read or export the clinic's data changed, and its log says so."""
    r = clinic_admin.post(f"/api/v1/clinics/{clinic}/users", json=new_user())
    uid = r.json["id"]
    clinic_admin.patch(f"/api/v1/users/{uid}", json={"is_active": False}, etag='"v1"')
    grants = f"/api/v1/clinics/{clinic}/research-grants"
    gid = clinic_admin.post(grants, json={"researcher_id": str(researcher.user_id)}).json["id"]
    clinic_admin.delete(f"/api/v1/research-grants/{gid}")

    def events(record_type):
        items = clinic_admin.get(
            "/api/v1/audit-events", query_string={"record_type": record_type}
        ).json["items"]
        return [(e["action"], e["record_id"], e["user_id"], e["clinic_id"]) for e in items]

    me, here = str(clinic_admin.user_id), str(clinic)
    assert events("user") == [("create", uid, me, here), ("update", uid, me, here)]
    assert events("research_grant") == [("create", gid, me, here), ("update", gid, me, here)]
    details = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "user", "action": "update"}
    ).json["items"][0]["details"]
    assert details == {"changed": ["is_active"], "is_active": False}
    assert "password" not in str(events("user"))


def test_clinic_and_user_creates_are_safe_to_retry(app, admin, clinic_admin, clinic, other_clinic):
    """The same client id and content is a replay (200, nothing new), other
    content a 409; the password is no part of the match, and another clinic's
    admin learns only that the id is taken."""
    import uuid

    from app.auth.models import User
    from app.clinics.models import Clinic
    from tests.assessments.helpers import count_rows

    body = {"id": str(uuid.uuid4()), "name": "Retry Clinic", "par_threshold_pct": 50}
    first = admin.post("/api/v1/clinics", json=body)
    assert first.status_code == 201 and first.json["id"] == body["id"]
    again = admin.post("/api/v1/clinics", json=body)
    assert again.status_code == 200 and again.json == first.json
    other = admin.post("/api/v1/clinics", json={**body, "name": "Another"})
    assert other.status_code == 409 and other.json["stored"]["name"] == "Retry Clinic"
    clinics = count_rows(app, Clinic)

    url = f"/api/v1/clinics/{clinic}/users"
    user = new_user(id=str(uuid.uuid4()))
    made = clinic_admin.post(url, json=user)
    assert made.status_code == 201
    users = count_rows(app, User)
    replay = clinic_admin.post(url, json={**user, "password": "another long password"})
    assert replay.status_code == 200 and replay.json["id"] == user["id"]
    changed = clinic_admin.post(url, json={**user, "role": "clinician"})
    assert changed.status_code == 409 and changed.json["stored"]["role"] == "nurse"
    outsider = admin.post(f"/api/v1/clinics/{other_clinic}/users", json=new_user(email="o@x.org"))
    assert outsider.status_code == 201
    taken = clinic_admin.post(url, json={**new_user(email="p@x.org"), "id": outsider.json["id"]})
    assert taken.status_code == 409 and "stored" not in taken.json
    assert count_rows(app, User) == users + 1 and count_rows(app, Clinic) == clinics
    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "user", "action": "create"}
    ).json["items"]
    assert [e["record_id"] for e in events] == [user["id"]]


def test_clinic_time_zone_is_an_audited_setting_and_the_api_stays_utc(
    clinic_admin, nurse, clinic, other_clinic
):
    """The clinic's IANA zone: UTC until its clinic_admin sets one (If-Match,
    audited, kept in the history); names this machine cannot load are a 422.
    Answers stay in UTC whatever the zone."""
    from datetime import date, timedelta

    from tests.summaries import helpers as h

    url = f"/api/v1/clinics/{clinic}"
    assert clinic_admin.get(url).json["timezone"] == "UTC"
    bad_zones = ("Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/Berlin\x00", "x" * 65)
    for bad in (*bad_zones, None, 1):
        r = clinic_admin.patch(url, json={"timezone": bad}, etag='"v1"')
        assert r.status_code == 422 and "timezone" in r.json["errors"], (bad, r.json)
    assert nurse.patch(url, json={"timezone": "Europe/Berlin"}, etag='"v1"').status_code == 403
    r = clinic_admin.patch(url, json={"timezone": "Europe/Berlin"}, etag='"v1"')
    assert r.status_code == 200 and r.json["timezone"] == "Europe/Berlin"
    assert clinic_admin.get(f"/api/v1/clinics/{other_clinic}").status_code == 404

    history = clinic_admin.get(f"{url}/history").json["items"]
    assert history[-1]["changed_fields"] == ["timezone"]
    assert history[-1]["changed_by"] == str(clinic_admin.user_id)
    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "clinic", "action": "update"}
    ).json["items"]
    assert [e["record_id"] for e in events] == [str(clinic)]

    # The API still answers in UTC: 09:30+01:00 comes back as 08:30Z.
    day = date.today() - timedelta(days=3)
    wid = h.wound(app=nurse.app, clinic_id=clinic, patient_id=h.patient(nurse.app, clinic))
    r = nurse.post(
        f"/api/v1/wounds/{wid}/assessments",
        json={"assessed_at": f"{day.isoformat()}T09:30:00+01:00", "area_cm2": 2.0},
    )
    assert r.status_code == 201, r.json
    assert r.json["assessed_at"] == f"{day.isoformat()}T08:30:00+00:00"


def test_a_new_clinic_may_name_its_zone(admin):
    r = admin.post("/api/v1/clinics", json={"name": "East Clinic", "timezone": "Asia/Tokyo"})
    assert r.status_code == 201 and r.json["timezone"] == "Asia/Tokyo"
    r = admin.post("/api/v1/clinics", json={"name": "West Clinic", "timezone": "Tokyo"})
    assert r.status_code == 422 and "timezone" in r.json["errors"]
