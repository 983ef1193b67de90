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
    r = clinic_admin.patch(f"/api/v1/users/{nurse.user_id}", json={"name": "Renamed Nurse"})
    assert r.status_code == 200 and r.json["name"] == "Renamed Nurse"
    assert nurse.get("/api/v1/me").json["name"] == "Renamed Nurse"
    r = clinic_admin.patch(f"/api/v1/users/{nurse.user_id}", json={"role": "admin"})
    assert r.status_code == 422 and "role" in r.json["errors"]


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
