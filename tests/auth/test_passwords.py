"""Password change (current password required) and admin-issued one-time
reset tokens: every other sign-in ends, secrets stay out of the audit trail
and the database holds only hashes."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import AuthToken
from app.core.audit import AuditEvent
from app.core.db import utcnow
from tests.factories import PASSWORD
from tests.web.conftest import sign_in as web_sign_in

CHANGE = "/api/v1/auth/password"
RESET = "/api/v1/auth/password-reset"
NEW = "a brand new passphrase 2026"


def issue_url(user_id) -> str:
    return f"/api/v1/users/{user_id}/password-reset"


def use_token(client, token: str, new_password: str = NEW):
    return client.post(RESET, json={"token": token, "new_password": new_password})


def token_sign_in(client, email: str, password: str):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def events(app, action: str) -> list[AuditEvent]:
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.at)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def audit_text(app) -> str:
    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent.__table__)).mappings().all()
    return " ".join(str(v) for row in rows for v in row.values())


def signed_in_elsewhere(client, email: str) -> dict:
    """A second sign-in of the same user (another phone)."""
    r = token_sign_in(client, email, PASSWORD)
    assert r.status_code == 200, r.json
    return r.json


def me(client, access_token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


# ------------------------------------------------------------------ change


def test_change_ends_every_other_sign_in_and_answers_a_new_pair(app, client, nurse):
    other = signed_in_elsewhere(client, nurse.email)
    page = web_sign_in(app, nurse.email)
    assert page.get("/web/").status_code == 200

    r = nurse.post(CHANGE, json={"current_password": PASSWORD, "new_password": NEW})
    assert r.status_code == 200, r.json
    assert set(r.json) == {"access_token", "refresh_token", "token_type", "expires_in"}

    assert me(client, nurse.token).status_code == 401  # the token that asked
    assert me(client, other["access_token"]).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    assert page.get("/web/").status_code == 302  # the clinic-page session too
    assert me(client, r.json["access_token"]).status_code == 200

    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 401
    assert token_sign_in(client, nurse.email, NEW).status_code == 200
    [event] = events(app, "password_change")
    assert event.outcome == "success" and event.user_id == nurse.user_id
    assert event.record_id == str(nurse.user_id) and event.clinic_id == nurse.clinic_id
    assert NEW not in audit_text(app) and PASSWORD not in audit_text(app)


def test_change_needs_the_current_password(app, client, nurse):
    r = nurse.post(CHANGE, json={"current_password": "not it at all", "new_password": NEW})
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json" and "current_password" in r.json["errors"]
    assert me(client, nurse.token).status_code == 200  # nothing revoked
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 200
    [event] = events(app, "password_change")
    assert event.outcome == "failure" and event.user_id == nurse.user_id
    assert event.details == {"field": "current_password"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 1025}, "new_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"new_password": NEW}, "current_password"),
    ],
)
def test_change_refuses_a_bad_new_password(client, nurse, body, field):
    r = nurse.post(CHANGE, json=body)
    assert r.status_code == 422 and field in r.json["errors"], r.json
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 200


def test_change_needs_a_token(client):
    r = client.post(CHANGE, json={"current_password": PASSWORD, "new_password": NEW})
    assert r.status_code == 401


@pytest.fixture
def two_per_minute(app) -> Iterator[None]:
    from app.extensions import limiter

    keys = ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT")
    saved = {key: app.config[key] for key in keys}
    app.config.update(LOGIN_RATE_LIMIT="2 per minute", LOGIN_ADDRESS_RATE_LIMIT="4 per minute")
    limiter.reset()
    yield
    app.config.update(saved)
    limiter.reset()


def test_change_counts_in_the_sign_in_account_bucket(client, nurse, two_per_minute):
    # Guessing the current password with a stolen token is guessing a password.
    assert token_sign_in(client, nurse.email, "wrong guess").status_code == 401
    wrong = {"current_password": "another guess", "new_password": NEW}
    assert nurse.post(CHANGE, json=wrong).status_code == 422
    r = nurse.post(CHANGE, json={"current_password": PASSWORD, "new_password": NEW})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 429


def test_reset_counts_in_the_sign_in_address_bucket(client, nurse, two_per_minute):
    for _ in range(4):
        assert use_token(client, "guess").status_code == 422
    assert use_token(client, "guess").status_code == 429
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 429


# ------------------------------------------------------------------ reset


def issue(actor, user_id) -> dict:
    r = actor.post(issue_url(user_id))
    assert r.status_code == 201, r.json
    return r.json


def test_reset_token_is_one_time_and_ends_every_sign_in(app, client, clinic_admin, nurse):
    other = signed_in_elsewhere(client, nurse.email)
    issued = issue(clinic_admin, nurse.user_id)
    assert issued["user_id"] == str(nurse.user_id)
    assert me(client, nurse.token).status_code == 200  # nothing changes until it is used

    r = use_token(client, issued["token"])
    assert r.status_code == 204, r.json
    assert me(client, nurse.token).status_code == 401
    assert me(client, other["access_token"]).status_code == 401
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 401
    assert token_sign_in(client, nurse.email, NEW).status_code == 200

    again = use_token(client, issued["token"], "yet another one 2026")
    assert again.status_code == 422 and "token" in again.json["errors"]
    assert token_sign_in(client, nurse.email, NEW).status_code == 200

    [issued_event] = events(app, "password_reset_issued")
    assert issued_event.user_id == clinic_admin.user_id
    assert issued_event.record_id == str(nurse.user_id)
    assert issued_event.clinic_id == nurse.clinic_id
    used = events(app, "password_reset")
    assert [(e.outcome, e.user_id) for e in used] == [
        ("success", nurse.user_id),
        ("failure", None),
    ]
    assert used[1].record_id == str(nurse.user_id)
    text = audit_text(app)
    assert issued["token"] not in text and NEW not in text


def test_only_the_token_hash_is_stored(app, clinic_admin, nurse):
    from app.extensions import db

    issued = issue(clinic_admin, nurse.user_id)
    with app.app_context():
        [row] = db.session.scalars(sa.select(AuthToken).where(AuthToken.kind == "reset")).all()
        assert row.token_hash == hashlib.sha256(issued["token"].encode()).hexdigest()
        assert row.user_id == nurse.user_id
        lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(seconds=app.config["PASSWORD_RESET_SECONDS"])


def test_an_expired_token_is_refused(app, client, clinic_admin, nurse):
    from app.extensions import db

    issued = issue(clinic_admin, nurse.user_id)
    with app.app_context():
        db.session.execute(
            sa.update(AuthToken)
            .where(AuthToken.kind == "reset")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    r = use_token(client, issued["token"])
    assert r.status_code == 422 and "expired" in r.json["errors"]["token"][0]
    assert token_sign_in(client, nurse.email, PASSWORD).status_code == 200


def test_a_new_token_ends_the_earlier_one(client, clinic_admin, nurse):
    first = issue(clinic_admin, nurse.user_id)
    second = issue(clinic_admin, nurse.user_id)
    assert first["token"] != second["token"]
    r = use_token(client, first["token"])
    assert r.status_code == 422
    assert use_token(client, second["token"]).status_code == 204


def test_a_reset_token_is_no_bearer_or_refresh_token(client, clinic_admin, nurse):
    token = issue(clinic_admin, nurse.user_id)["token"]
    assert me(client, token).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": token}).status_code == 401


def test_unknown_token_and_weak_password_are_refused(client, clinic_admin, nurse):
    token = issue(clinic_admin, nurse.user_id)["token"]
    r = use_token(client, "x" + token)
    assert r.status_code == 422 and "token" in r.json["errors"]
    r = use_token(client, token, "short")
    assert r.status_code == 422 and "new_password" in r.json["errors"]
    # The refused attempt did not use the token up.
    assert use_token(client, token).status_code == 204


def test_who_may_issue_a_reset(factory, clinic, admin, clinic_admin, nurse, outsider, researcher):
    other_admin = factory.actor("clinic_admin", outsider.clinic_id)
    assert nurse.post(issue_url(researcher.user_id)).status_code == 403
    assert other_admin.post(issue_url(nurse.user_id)).status_code == 404
    assert clinic_admin.post(issue_url(admin.user_id)).status_code == 404
    assert clinic_admin.post(issue_url(uuid.uuid4())).status_code == 404
    assert clinic_admin.post(issue_url(researcher.user_id)).status_code == 201
    assert admin.post(issue_url(outsider.user_id)).status_code == 201
    assert admin.post(issue_url(clinic_admin.user_id)).status_code == 201


def test_a_user_of_other_clinics_too_is_reset_by_an_admin(
    app, factory, clinic, other_clinic, admin, clinic_admin
):
    from app.auth.models import ClinicMembership
    from app.extensions import db

    shared = factory.user("clinician", clinic)
    with app.app_context():
        db.session.add(ClinicMembership(user_id=shared, clinic_id=other_clinic))
        db.session.commit()
    # The token would sign its holder in to the other clinic as well.
    r = clinic_admin.post(issue_url(shared))
    assert r.status_code == 403 and "admin" in r.json["detail"]
    assert admin.post(issue_url(shared)).status_code == 201


def test_no_reset_for_a_disabled_user(client, admin, clinic_admin, nurse):
    issued = issue(clinic_admin, nurse.user_id)
    etag = clinic_admin.get(f"/api/v1/users/{nurse.user_id}").headers["ETag"]
    r = clinic_admin.patch(f"/api/v1/users/{nurse.user_id}", json={"is_active": False}, etag=etag)
    assert r.status_code == 200
    # Disabling ended the outstanding token, and no new one is issued.
    assert use_token(client, issued["token"]).status_code == 422
    assert clinic_admin.post(issue_url(nurse.user_id)).status_code == 409


def test_concurrent_uses_of_one_token_set_one_password(app, clinic_admin, nurse):
    token = issue(clinic_admin, nurse.user_id)["token"]
    passwords = [f"racing passphrase number {i:02d}" for i in range(8)]

    def use(password: str) -> int:
        r = app.test_client().post(RESET, json={"token": token, "new_password": password})
        return r.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(use, passwords))
    assert sorted(statuses) == [204] + [422] * 7, statuses
    winner = passwords[statuses.index(204)]
    client = app.test_client()
    assert token_sign_in(client, nurse.email, winner).status_code == 200
    assert len([e for e in events(app, "password_reset") if e.outcome == "success"]) == 1
