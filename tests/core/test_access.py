"""Who may call what: 401 without a token on every protected route, and the
role matrix of PERMISSIONS (app/core/access.py) on the foundation routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.core.access import PERMISSIONS
from tests.core.routes import PUBLIC, operations
from tests.factories import patient_body

# Webhooks created here must stay off the network.
pytestmark = pytest.mark.usefixtures("local_webhooks")

ROLES = ("admin", "clinic_admin", "clinician", "nurse", "researcher")


def test_permissions_follow_the_contract():
    """The contract's sentences about roles, checked against the table itself."""
    assert set(PERMISSIONS["self:read"]) == set(ROLES)
    for action in ("clinical:read", "clinical:write", "grade:override"):
        assert "researcher" not in PERMISSIONS[action], action
    assert {"nurse", "clinician"} <= set(PERMISSIONS["clinical:write"])
    assert "nurse" not in PERMISSIONS["grade:override"]
    assert "clinician" in PERMISSIONS["grade:override"]
    assert set(PERMISSIONS["users:manage"]) == {"admin", "clinic_admin"}
    assert set(PERMISSIONS["audit:read"]) == {"admin", "clinic_admin"}
    assert PERMISSIONS["clinic:create"] == ("admin",)
    assert set(PERMISSIONS["export:create"]) >= {"researcher", "clinic_admin"}
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())


@pytest.mark.parametrize("auth", [None, "Bearer not-a-real-token", "Basic abc"])
def test_every_protected_route_answers_401_first(client, nurse, auth):
    """Iterates the OpenAPI document, so routes added later are covered too.
    The body is deliberately invalid: a caller without a token gets 401, not 422."""
    headers = {"Authorization": auth} if auth else {}
    checked = 0
    for op in operations(client):
        if (op.method, op.path) in PUBLIC:
            continue
        kw: dict[str, Any] = {"json": {"bogus": 1}} if op.has_json_body else {}
        r = client.open(op.url(), method=op.method.upper(), headers=headers, **kw)
        assert r.status_code == 401, f"{op}: {r.status_code} {r.get_data()[:200]!r}"
        assert r.mimetype == "application/problem+json", str(op)
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), str(op)
        checked += 1
    assert checked >= 10


def test_public_routes_need_no_token(client):
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    r = client.post("/api/v1/auth/token", json={"email": "x@example.org", "password": "y"})
    assert r.status_code == 401  # wrong credentials, but the route itself is open
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 401
    assert client.post("/api/v1/auth/revoke", json={"refresh_token": "x"}).status_code == 204
    r = client.post(
        "/api/v1/auth/password-reset", json={"token": "x", "new_password": "long enough, surely"}
    )
    assert r.status_code == 422 and "token" in r.json["errors"]
    documented = {(op.method, op.path) for op in operations(client)}
    assert documented >= PUBLIC


# --- the role matrix ---------------------------------------------------------------------


@dataclass
class World:
    """One clinic with a member of every role, plus records to act on."""

    factory: Any
    clinic: uuid.UUID
    actors: dict[str, Any]

    def patient(self, deleted: bool = False) -> str:
        nurse = self.actors["nurse"]
        pid = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
        if deleted:
            assert nurse.delete(f"/api/v1/patients/{pid}", etag='"v1"').status_code == 200
        return pid

    def member(self, role: str = "nurse") -> uuid.UUID:
        return self.factory.user(role, self.clinic)

    def grant(self) -> str:
        researcher = self.member("researcher")
        r = self.actors["admin"].post(
            f"/api/v1/clinics/{self.clinic}/research-grants",
            json={"researcher_id": str(researcher)},
        )
        assert r.status_code == 201, r.json
        return r.json["id"]


@pytest.fixture
def world(factory, clinic, admin, clinic_admin, clinician, nurse, researcher) -> World:
    actors = {
        "admin": admin,
        "clinic_admin": clinic_admin,
        "clinician": clinician,
        "nurse": nurse,
        "researcher": researcher,
    }
    return World(factory, clinic, actors)


def _user_body() -> dict[str, Any]:
    return {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.org",
        "name": "New Person",
        "role": "nurse",
        "password": "a long enough password",
    }


# (method, OpenAPI path) -> (action in PERMISSIONS, request builder(world) -> (url, kwargs)).
# Each request is valid, so a permitted role gets 2xx and a forbidden one 403.
Call = Callable[[World], tuple[str, dict[str, Any]]]
MATRIX: dict[tuple[str, str], tuple[str, Call]] = {
    ("get", "/api/v1/me"): ("self:read", lambda w: ("/api/v1/me", {})),
    ("get", "/api/v1/clinics"): ("clinic:read", lambda w: ("/api/v1/clinics", {})),
    ("post", "/api/v1/clinics"): (
        "clinic:create",
        lambda w: ("/api/v1/clinics", {"json": {"name": f"Clinic {uuid.uuid4().hex[:6]}"}}),
    ),
    ("get", "/api/v1/clinics/{clinic_id}"): (
        "clinic:read",
        lambda w: (f"/api/v1/clinics/{w.clinic}", {}),
    ),
    ("patch", "/api/v1/clinics/{clinic_id}"): (
        "clinic:settings",
        lambda w: (
            f"/api/v1/clinics/{w.clinic}",
            {"json": {"overdue_assessment_days": 10}, "headers": {"If-Match": "*"}},
        ),
    ),
    ("get", "/api/v1/clinics/{clinic_id}/history"): (
        "clinic:settings",
        lambda w: (f"/api/v1/clinics/{w.clinic}/history", {}),
    ),
    ("get", "/api/v1/clinics/{clinic_id}/users"): (
        "users:manage",
        lambda w: (f"/api/v1/clinics/{w.clinic}/users", {}),
    ),
    ("post", "/api/v1/clinics/{clinic_id}/users"): (
        "users:manage",
        lambda w: (f"/api/v1/clinics/{w.clinic}/users", {"json": _user_body()}),
    ),
    ("get", "/api/v1/users/{user_id}"): (
        "users:manage",
        lambda w: (f"/api/v1/users/{w.member()}", {}),
    ),
    ("patch", "/api/v1/users/{user_id}"): (
        "users:manage",
        lambda w: (
            f"/api/v1/users/{w.member()}",
            {"json": {"name": "Renamed"}, "headers": {"If-Match": '"v1"'}},
        ),
    ),
    ("post", "/api/v1/users/{user_id}/password-reset"): (
        "users:manage",
        lambda w: (f"/api/v1/users/{w.member()}/password-reset", {}),
    ),
    ("get", "/api/v1/clinics/{clinic_id}/research-grants"): (
        "grants:manage",
        lambda w: (f"/api/v1/clinics/{w.clinic}/research-grants", {}),
    ),
    ("post", "/api/v1/clinics/{clinic_id}/research-grants"): (
        "grants:manage",
        lambda w: (
            f"/api/v1/clinics/{w.clinic}/research-grants",
            {"json": {"researcher_id": str(w.member("researcher"))}},
        ),
    ),
    ("delete", "/api/v1/research-grants/{grant_id}"): (
        "grants:manage",
        lambda w: (f"/api/v1/research-grants/{w.grant()}", {}),
    ),
    ("get", "/api/v1/patients"): ("clinical:read", lambda w: ("/api/v1/patients", {})),
    ("post", "/api/v1/patients"): (
        "clinical:write",
        lambda w: ("/api/v1/patients", {"json": patient_body(clinic_id=str(w.clinic))}),
    ),
    ("get", "/api/v1/patients/{patient_id}"): (
        "clinical:read",
        lambda w: (f"/api/v1/patients/{w.patient()}", {}),
    ),
    ("patch", "/api/v1/patients/{patient_id}"): (
        "clinical:write",
        lambda w: (
            f"/api/v1/patients/{w.patient()}",
            {"json": {"given_name": "Amended"}, "headers": {"If-Match": '"v1"'}},
        ),
    ),
    ("delete", "/api/v1/patients/{patient_id}"): (
        "clinical:write",
        lambda w: (f"/api/v1/patients/{w.patient()}", {"headers": {"If-Match": '"v1"'}}),
    ),
    ("get", "/api/v1/patients/{patient_id}/history"): (
        "clinical:read",
        lambda w: (f"/api/v1/patients/{w.patient()}/history", {}),
    ),
    ("post", "/api/v1/patients/{patient_id}/restore"): (
        "record:restore",
        lambda w: (f"/api/v1/patients/{w.patient(deleted=True)}/restore", {}),
    ),
    ("get", "/api/v1/audit-events"): ("audit:read", lambda w: ("/api/v1/audit-events", {})),
    # Webhooks are clinic settings; the digest is a member's own subscription
    # to the clinic's (clinical) alerts (app/alerts/services.py).
    ("get", "/api/v1/clinics/{clinic_id}/webhooks"): (
        "clinic:settings",
        lambda w: (f"/api/v1/clinics/{w.clinic}/webhooks", {}),
    ),
    ("post", "/api/v1/clinics/{clinic_id}/webhooks"): (
        "clinic:settings",
        lambda w: (
            f"/api/v1/clinics/{w.clinic}/webhooks",
            {"json": {"url": "https://example.org/hook", "events": ["alert.opened"]}},
        ),
    ),
    ("put", "/api/v1/clinics/{clinic_id}/alert-digest"): (
        "clinical:read",
        lambda w: (f"/api/v1/clinics/{w.clinic}/alert-digest", {}),
    ),
    ("delete", "/api/v1/clinics/{clinic_id}/alert-digest"): (
        "clinical:read",
        lambda w: (f"/api/v1/clinics/{w.clinic}/alert-digest", {}),
    ),
}


FOUNDATION = ("/api/v1/me", "/api/v1/clinics", "/api/v1/users", "/api/v1/research-grants")
FOUNDATION += ("/api/v1/patients", "/api/v1/audit-events")


def _is_foundation(path: str) -> bool:
    # Sub-resources of a patient (wounds, courses, ...) belong to other packages' tests.
    if path.startswith("/api/v1/patients/{patient_id}/"):
        return path.rsplit("/", 1)[1] in {"history", "restore"}
    return path.startswith(FOUNDATION)


def test_matrix_covers_the_foundation_routes(client):
    """Every documented route of the foundation packages has a row in MATRIX, and back."""
    documented = {(op.method, op.path) for op in operations(client) if _is_foundation(op.path)}
    assert documented == set(MATRIX)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0].upper()} {r[1]}")
def test_role_matrix(world, route):
    method, _path = route
    action, build = MATRIX[route]
    for role in ROLES:
        url, kw = build(world)
        actor = world.actors[role]
        r = actor.request(method.upper(), url, **kw)
        if role in PERMISSIONS[action]:
            assert 200 <= r.status_code < 300, f"{role} {method} {url}: {r.status_code} {r.json}"
        else:
            assert r.status_code == 403, f"{role} {method} {url}: {r.status_code} {r.json}"
            assert r.mimetype == "application/problem+json"
            assert action in r.json["detail"]


# --- what a clinic_admin may not do ------------------------------------------------------


def test_clinic_admin_cannot_create_admins(clinic_admin, clinic, admin):
    body = {**_user_body(), "role": "admin"}
    r = clinic_admin.post(f"/api/v1/clinics/{clinic}/users", json=body)
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    users = admin.get(f"/api/v1/clinics/{clinic}/users").json["items"]
    assert [u for u in users if u["email"] == body["email"]] == []
    # A clinic_admin may appoint another clinic_admin; an admin may create an admin.
    r = clinic_admin.post(f"/api/v1/clinics/{clinic}/users", json={**body, "role": "clinic_admin"})
    assert r.status_code == 201 and r.json["clinic_ids"] == [str(clinic)]
    r = admin.post(f"/api/v1/clinics/{clinic}/users", json={**_user_body(), "role": "admin"})
    assert r.status_code == 201 and r.json["role"] == "admin"


def test_clinic_admin_cannot_manage_another_clinics_users(
    factory, clinic_admin, other_clinic, admin
):
    theirs = factory.user("nurse", other_clinic)
    for method, url, kw in (
        ("GET", f"/api/v1/clinics/{other_clinic}/users", {}),
        ("POST", f"/api/v1/clinics/{other_clinic}/users", {"json": _user_body()}),
        ("GET", f"/api/v1/users/{theirs}", {}),
        (
            "PATCH",
            f"/api/v1/users/{theirs}",
            {"json": {"is_active": False}, "headers": {"If-Match": "*"}},
        ),
        ("GET", f"/api/v1/clinics/{other_clinic}/research-grants", {}),
    ):
        r = clinic_admin.request(method, url, **kw)
        assert r.status_code == 404, f"{method} {url}: {r.status_code}"
    # Nothing changed: the other clinic's nurse is active and alone with no newcomer.
    users = admin.get(f"/api/v1/clinics/{other_clinic}/users").json["items"]
    assert [(u["id"], u["is_active"]) for u in users] == [(str(theirs), True)]


def test_clinic_admin_cannot_touch_admins(clinic_admin, admin):
    assert clinic_admin.get(f"/api/v1/users/{admin.user_id}").status_code == 404
    r = clinic_admin.patch(f"/api/v1/users/{admin.user_id}", json={"is_active": False}, etag='"v1"')
    assert r.status_code == 404
    assert admin.get("/api/v1/me").status_code == 200


def test_clinic_lists_are_scoped(nurse, admin, clinic, other_clinic):
    assert [c["id"] for c in nurse.get("/api/v1/clinics").json["items"]] == [str(clinic)]
    assert {c["id"] for c in admin.get("/api/v1/clinics").json["items"]} == {
        str(clinic),
        str(other_clinic),
    }
