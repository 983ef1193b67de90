"""SMART refresh tokens over real HTTP: issued only to a scope that asks for
one (offline_access, online_access), rotated on every use, never widened, and
ended by their expiry, the app's revocation or the user's deactivation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from tests.fhir.conftest import FHIR
from tests.fhir.test_smart import (
    _authorize_url,
    _pkce,
    _register,
    _sign_in_and_consent,
    _token,
    http,
)
from tests.web.conftest import email_of


def _issue(base, app, actor, clinic_admin, clinic, scope) -> tuple[dict, dict]:
    """(the registered app, the token answer) after sign-in and consent."""
    client = _register(clinic_admin, scope=scope, clinic_id=str(clinic))
    verifier, challenge = _pkce()
    url = _authorize_url(base, client["client_id"], scope, challenge)
    answer = _sign_in_and_consent(base, url, email_of(app, actor.user_id), mrn="FHIR-0001")
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    issued = _token(base, client["client_id"], code, verifier)
    assert issued.status_code == 200, issued.text
    return client, issued.json()


def _refresh(base, client_id, refresh_token, **extra):
    return http.post(
        f"{base}{FHIR}/auth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            **extra,
        },
    )


def _reads(base, token) -> int:
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    return http.get(f"{base}{FHIR}/Patient", headers=bearer).status_code


def test_offline_access_refreshes_rotate_and_keep_the_patient(
    live_server, app, record, nurse, clinic_admin, clinic
):
    base = live_server
    scope = "patient/*.read launch/patient offline_access"
    client, first = _issue(base, app, nurse, clinic_admin, clinic, scope)
    assert "refresh_token" in first, first
    assert first["refresh_token"] and first["patient"] == str(record.patient_id)

    second = _refresh(base, client["client_id"], first["refresh_token"])
    assert second.status_code == 200, second.text
    renewed = second.json()
    assert renewed["refresh_token"] not in (None, first["refresh_token"])
    assert renewed["patient"] == str(record.patient_id)
    assert set(renewed["scope"].split()) == set(scope.split())
    assert _reads(base, renewed) == 200
    assert _reads(base, first) == 401  # the old access token ended with its refresh token

    # A refresh token works once: replayed (stolen, say), it is refused.
    replayed = _refresh(base, client["client_id"], first["refresh_token"])
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    # Another app cannot use it.
    other = _register(clinic_admin, scope=scope, clinic_id=str(clinic))
    stolen = _refresh(base, other["client_id"], renewed["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    # Never wider than granted; narrower without offline_access: no new refresh token.
    wider = _refresh(base, client["client_id"], renewed["refresh_token"], scope="user/*.read")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = _refresh(base, client["client_id"], renewed["refresh_token"], scope="patient/*.read")
    assert narrower.status_code == 200, narrower.text
    last = narrower.json()
    assert last["scope"] == "patient/*.read" and "refresh_token" not in last
    assert _reads(base, last) == 200


def test_no_refresh_token_without_the_scope_and_none_after_expiry_or_revocation(
    live_server, app, record, nurse, clinic_admin, clinic
):
    from app.extensions import db
    from app.fhir.models import SmartToken

    base = live_server
    _, plain = _issue(base, app, nurse, clinic_admin, clinic, "patient/*.read launch/patient")
    assert "refresh_token" not in plain

    scope = "patient/*.read launch/patient online_access"
    client, online = _issue(base, app, nurse, clinic_admin, clinic, scope)
    with app.app_context():
        row = db.session.scalars(
            sa.select(SmartToken).order_by(SmartToken.issued_at.desc())
        ).first()
        # online_access: a working day, not the 90 days of offline_access
        lifetime = row.refresh_expires_at - row.issued_at
        assert timedelta(hours=11) < lifetime <= timedelta(hours=12)
        row.refresh_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    expired = _refresh(base, client["client_id"], online["refresh_token"])
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"

    client, offline = _issue(
        base, app, nurse, clinic_admin, clinic, "patient/*.read launch/patient offline_access"
    )
    revoked = clinic_admin.post(f"/api/v1/smart-clients/{client['id']}/revoke")
    assert revoked.status_code == 200, revoked.json
    after = _refresh(base, client["client_id"], offline["refresh_token"])
    assert after.status_code in (400, 401) and after.json()["error"] == "invalid_client"


def test_a_deactivated_user_cannot_refresh(live_server, app, record, nurse, clinic_admin, clinic):
    from app.auth.models import User
    from app.extensions import db

    base = live_server
    scope = "patient/*.read launch/patient offline_access"
    client, token = _issue(base, app, nurse, clinic_admin, clinic, scope)
    with app.app_context():
        db.session.get(User, nurse.user_id).is_active = False
        db.session.commit()
    try:
        refused = _refresh(base, client["client_id"], token["refresh_token"])
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_request"
        assert _reads(base, token) == 401  # nor read with what it holds
    finally:
        with app.app_context():
            db.session.get(User, nurse.user_id).is_active = True
            db.session.commit()


def test_discovery_offers_the_refresh_grant(client):
    smart = client.get(f"{FHIR}/.well-known/smart-configuration").json
    assert "refresh_token" in smart["grant_types_supported"]
    assert {"permission-offline", "permission-online"} <= set(smart["capabilities"])
    assert {"offline_access", "online_access"} <= set(smart["scopes_supported"])
