"""Sign-in and the life of a token: expiry, rotation, reuse, revocation, disabled users."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from tests.factories import PASSWORD, patient_body

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
REVOKE = "/api/v1/auth/revoke"
ME = "/api/v1/me"


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(TOKEN, json={"email": email, "password": password})


def me(client, access_token: str):
    return client.get(ME, headers={"Authorization": f"Bearer {access_token}"})


def token_rows(app, raw: str | None = None):
    """Token rows (all, or the one whose hash matches ``raw``), read straight from the DB."""
    from app.auth.models import AuthToken
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(AuthToken)
        if raw is not None:
            stmt = stmt.where(AuthToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def shift_token(app, raw: str, **changes: timedelta) -> None:
    """Move a token's clock columns back in time (instead of sleeping)."""
    from app.auth.models import AuthToken
    from app.core.db import utcnow
    from app.extensions import db

    digest = hashlib.sha256(raw.encode()).hexdigest()
    with app.app_context():
        values = {column: utcnow() - ago for column, ago in changes.items()}
        db.session.execute(
            sa.update(AuthToken).where(AuthToken.token_hash == digest).values(**values)
        )
        db.session.commit()


def test_sign_in_returns_a_working_pair(client, nurse, clinic):
    r = sign_in(client, nurse.email)
    assert r.status_code == 200, r.json
    body = r.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == client.application.config["ACCESS_TOKEN_IDLE_SECONDS"]
    assert body["access_token"] != body["refresh_token"]
    # 256 random bits, url-safe base64: well above the 128 bits asked for.
    assert len(body["access_token"]) >= 43 and len(body["refresh_token"]) >= 43

    r = me(client, body["access_token"])
    assert r.status_code == 200
    assert r.json == {
        "id": str(nurse.user_id),
        "email": nurse.email,
        "name": "Test Nurse",
        "role": "nurse",
        "clinic_ids": [str(clinic)],
    }


def test_sign_in_email_is_case_insensitive(client, nurse):
    assert sign_in(client, nurse.email.upper()).status_code == 200


def test_sign_in_failures_look_the_same(client, app, nurse, admin):
    wrong = sign_in(client, nurse.email, "not the password at all")
    unknown = sign_in(client, "nobody@example.org")
    admin.patch(f"/api/v1/users/{nurse.user_id}", json={"is_active": False}, etag='"v1"')
    disabled = sign_in(client, nurse.email)
    for r in (wrong, unknown, disabled):
        assert r.status_code == 401
        assert r.mimetype == "application/problem+json"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert "access_token" not in r.json
    # No enumeration: the same words whether the account exists, or is disabled.
    assert wrong.json["detail"] == unknown.json["detail"] == disabled.json["detail"]


def test_sign_in_validates_its_body(client):
    assert client.post(TOKEN, json={"email": "a@example.org"}).status_code == 422
    assert client.post(TOKEN, json={"email": "not-an-email", "password": "x"}).status_code == 422
    r = client.post(TOKEN, json={"email": "a@example.org", "password": "x", "extra": 1})
    assert r.status_code == 422 and "extra" in r.json["errors"]


def test_bad_bearer_tokens_are_401(client, nurse):
    for header in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Basic {nurse.token}"},
    ):
        r = client.get(ME, headers=header)
        assert r.status_code == 401, header
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    pair = sign_in(client, nurse.email).json
    # A refresh token is not an access token.
    assert me(client, pair["refresh_token"]).status_code == 401


def test_access_token_idle_timeout(client, app, nurse):
    pair = sign_in(client, nurse.email).json
    idle = app.config["ACCESS_TOKEN_IDLE_SECONDS"]

    # Used a little under the idle limit ago: still good, and the use resets the clock.
    shift_token(app, pair["access_token"], last_used_at=timedelta(seconds=idle - 30))
    assert me(client, pair["access_token"]).status_code == 200
    shift_token(app, pair["access_token"], last_used_at=timedelta(seconds=idle - 30))
    assert me(client, pair["access_token"]).status_code == 200

    # Idle past the limit: refused.
    shift_token(app, pair["access_token"], last_used_at=timedelta(seconds=idle + 1))
    r = me(client, pair["access_token"])
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_use_refreshes_the_idle_clock(client, app, nurse):
    pair = sign_in(client, nurse.email).json
    idle = app.config["ACCESS_TOKEN_IDLE_SECONDS"]
    shift_token(app, pair["access_token"], last_used_at=timedelta(seconds=idle - 30))
    assert me(client, pair["access_token"]).status_code == 200
    # Had the use not been recorded, the token would now be idle past the limit.
    [row] = token_rows(app, pair["access_token"])
    from app.core.db import utcnow

    assert utcnow() - row.last_used_at < timedelta(seconds=60)


def test_access_token_absolute_lifetime(client, app, nurse):
    pair = sign_in(client, nurse.email).json
    [row] = token_rows(app, pair["access_token"])
    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(seconds=app.config["ACCESS_TOKEN_MAX_SECONDS"])
    # Busy all along (never idle), but past its absolute end: refused.
    shift_token(app, pair["access_token"], expires_at=timedelta(seconds=1))
    assert me(client, pair["access_token"]).status_code == 401


def test_refresh_rotates_the_pair(client, app, nurse):
    first = sign_in(client, nurse.email).json
    r = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.json
    second = r.json
    assert second["access_token"] not in (first["access_token"], first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).status_code == 200
    # One live pair per sign-in: the old access token ended with the rotation.
    assert me(client, first["access_token"]).status_code == 401
    # The new refresh token works once more.
    third = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    assert me(client, third.json["access_token"]).status_code == 200


def test_reused_refresh_token_revokes_the_family(client, app, nurse):
    first = sign_in(client, nurse.email).json
    other_device = sign_in(client, nurse.email).json
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json
    assert me(client, second["access_token"]).status_code == 200

    # An attacker (or a confused client) presents the rotated token again.
    r = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"

    # Every token of that sign-in is dead, including the legitimate new pair...
    assert me(client, second["access_token"]).status_code == 401
    r = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    family = {row.family_id for row in token_rows(app, second["access_token"])}
    assert all(row.revoked_at is not None for row in token_rows(app) if row.family_id in family)
    # ...but another sign-in of the same user is untouched.
    assert me(client, other_device["access_token"]).status_code == 200


def test_refresh_token_expiry(client, app, nurse):
    pair = sign_in(client, nurse.email).json
    shift_token(app, pair["refresh_token"], expires_at=timedelta(seconds=1))
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401

    pair = sign_in(client, nurse.email).json
    idle = app.config["REFRESH_TOKEN_IDLE_SECONDS"]
    shift_token(app, pair["refresh_token"], last_used_at=timedelta(seconds=idle + 1))
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_refresh_refuses_unknown_and_access_tokens(client, nurse):
    pair = sign_in(client, nurse.email).json
    for token in ("nonsense", pair["access_token"]):
        r = client.post(REFRESH, json={"refresh_token": token})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    # Neither attempt harmed the real sign-in.
    assert me(client, pair["access_token"]).status_code == 200


def test_revoke_ends_the_sign_in(client, nurse):
    pair = sign_in(client, nurse.email).json
    other = sign_in(client, nurse.email).json
    r = client.post(REVOKE, json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204 and r.data == b""
    assert me(client, pair["access_token"]).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert me(client, other["access_token"]).status_code == 200
    # Revoking twice, or an unknown token, is quietly accepted (RFC 7009 2.2).
    assert client.post(REVOKE, json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert client.post(REVOKE, json={"refresh_token": "unknown"}).status_code == 204


def test_disabling_a_user_kills_its_tokens_at_once(client, app, admin, nurse):
    pair = sign_in(client, nurse.email).json
    assert nurse.get(ME).status_code == 200

    r = admin.patch(f"/api/v1/users/{nurse.user_id}", json={"is_active": False}, etag='"v1"')
    assert r.status_code == 200 and r.json["is_active"] is False
    assert nurse.get(ME).status_code == 401
    assert me(client, pair["access_token"]).status_code == 401
    assert client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert sign_in(client, nurse.email).status_code == 401
    assert all(
        row.revoked_at is not None for row in token_rows(app) if row.user_id == nurse.user_id
    )

    # Re-enabled: a fresh sign-in works; the old tokens stay dead.
    r = admin.patch(f"/api/v1/users/{nurse.user_id}", json={"is_active": True}, etag='"v2"')
    assert r.status_code == 200 and r.json["is_active"] is True
    assert me(client, pair["access_token"]).status_code == 401
    fresh = sign_in(client, nurse.email)
    assert fresh.status_code == 200
    assert me(client, fresh.json["access_token"]).status_code == 200


def test_a_user_cannot_disable_itself(admin):
    r = admin.patch(f"/api/v1/users/{admin.user_id}", json={"is_active": False}, etag='"v1"')
    assert r.status_code == 422 and "is_active" in r.json["errors"]
    assert admin.get(ME).status_code == 200


def test_tokens_are_stored_hashed(client, app, nurse):
    pair = sign_in(client, nurse.email).json
    raw = {pair["access_token"], pair["refresh_token"]}
    from app.extensions import db

    with app.app_context():
        table = db.metadata.tables["auth_tokens"]
        rows = db.session.execute(sa.select(table)).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    for token in raw:
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_password_hash_is_argon2id_at_owasp_cost(app, nurse):
    from app.auth.models import User
    from app.auth.services import hash_password
    from app.extensions import db

    with app.app_context():
        stored = db.session.get(User, nurse.user_id).password_hash
    for hashed in (stored, hash_password("another long password")):
        m = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", hashed)
        assert m, hashed
        memory_kib, time_cost, _parallelism = map(int, m.groups())
        assert memory_kib >= 19456 and time_cost >= 2
    assert "correct horse" not in stored


def test_every_request_reads_the_users_clinics_afresh(app, factory, clinic, nurse):
    """The caller's clinics come from the database on every request (one query
    with the token), not from anything kept between requests: a membership added
    a moment ago counts at once, a user in no clinic has none, and a user in
    several lists them all in the API's order."""
    patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    other = factory.clinic("Second clinic")
    newcomer = factory.actor("nurse", None)
    assert newcomer.get(ME).json["clinic_ids"] == []
    assert newcomer.get(f"/api/v1/patients/{patient}").status_code == 404

    factory.add_membership(newcomer.user_id, clinic)
    assert newcomer.get(ME).json["clinic_ids"] == [str(clinic)]
    assert newcomer.get(f"/api/v1/patients/{patient}").status_code == 200

    factory.add_membership(newcomer.user_id, other)
    body = newcomer.get(ME).json
    assert body["clinic_ids"] == sorted([str(clinic), str(other)])
    assert body["role"] == "nurse" and body["email"] and body["name"]
