"""SMART App Launch's OAuth 2.0 server, built on Authlib.

Authorization code grant (SMART App Launch 2.0), PKCE with S256 required
of every client (RFC 7636; "plain" is refused), one-use codes that live ten
minutes; refresh tokens for a scope with offline_access or online_access,
rotated on every use (the old one ends with the access token it came with).
The consent page is a clinic page (app/web/smart.py, behind the same
sign-in); the token endpoint is ``POST /fhir/R4/auth/token``. Tokens read
FHIR and nothing else: the API's token lookup never sees them.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask

from app.auth.models import User
from app.core.access import Principal
from app.core.db import utcnow
from app.extensions import db
from app.fhir import openid
from app.fhir.models import (
    CODE_LIFETIME,
    REFRESH_LIFETIMES,
    SCOPES,
    SmartAuthorizationCode,
    SmartClient,
    SmartToken,
    digest,
)

TOKEN_LIFETIME_SECONDS = 3600


class S256Challenge(CodeChallenge):
    """PKCE for every client, S256 only (SMART App Launch 2.0 requires it)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE is required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


def refresh_lifetime(scope: str | None) -> timedelta | None:
    """How long a refresh token for ``scope`` lives; None: the scope asks for none."""
    asked = [REFRESH_LIFETIMES[s] for s in scope_to_list(scope) or [] if s in REFRESH_LIFETIMES]
    return max(asked) if asked else None


class _IssuesRefreshOnRequest:
    """A refresh token goes with an access token only when the scope asks for one."""

    def generate_token(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if refresh_lifetime(kwargs.get("scope")) is None:
            kwargs["include_refresh_token"] = False
        return super().generate_token(*args, **kwargs)  # type: ignore[misc, no-any-return]


def _with_patient(response: tuple[int, dict[str, Any], Any], patient_id: Any) -> Any:
    """The SMART launch context: the patient chosen at consent, in the token response."""
    status, token, headers = response
    if patient_id is not None:
        token["patient"] = str(patient_id)
    return status, token, headers


class SmartCodeGrant(_IssuesRefreshOnRequest, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: Any) -> SmartAuthorizationCode:
        data = request.payload.data
        item = SmartAuthorizationCode(
            code_hash=digest(code),
            client_id=request.client.client_id,
            user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or request.client.redirect_uris[0],
            scope=request.scope or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            patient_id=getattr(request, "smart_patient_id", None),
            nonce=data.get("nonce"),
            expires_at=utcnow() + CODE_LIFETIME,
        )
        db.session.add(item)
        db.session.flush()
        return item

    def query_authorization_code(self, code: str, client: Any) -> SmartAuthorizationCode | None:
        item = db.session.scalars(
            sa.select(SmartAuthorizationCode).where(
                SmartAuthorizationCode.code_hash == digest(code),
                SmartAuthorizationCode.client_id == client.client_id,
            )
        ).first()
        if item is None or item.used_at is not None or item.expires_at <= utcnow():
            return None
        return item

    def delete_authorization_code(self, authorization_code: SmartAuthorizationCode) -> None:
        # One use: kept (with when it was used), never valid again.
        authorization_code.used_at = utcnow()
        db.session.flush()

    def authenticate_user(self, authorization_code: SmartAuthorizationCode) -> User | None:
        user = db.session.get(User, authorization_code.user_id)
        return user if user is not None and user.is_active else None

    def create_token_response(self) -> tuple[int, dict[str, Any], Any]:
        response = super().create_token_response()
        return _with_patient(response, self.request.authorization_code.patient_id)  # type: ignore[no-any-return]


class SmartRefreshGrant(_IssuesRefreshOnRequest, grants.RefreshTokenGrant):
    """grant_type=refresh_token: a new access token, and a new refresh token
    in place of the one used (a stolen refresh token works once at most; the
    app's next refresh then fails and it signs in again). A narrower scope may
    be asked for, never a wider one."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> SmartToken | None:
        token = db.session.scalars(
            sa.select(SmartToken).where(SmartToken.refresh_token_hash == digest(refresh_token))
        ).first()
        if token is None or token.is_revoked() or token.refresh_expires_at is None:
            return None
        return token if token.refresh_expires_at > utcnow() else None

    def authenticate_user(self, refresh_token: SmartToken) -> User | None:
        user = db.session.get(User, refresh_token.user_id)
        return user if user is not None and user.is_active else None

    def revoke_old_credential(self, refresh_token: SmartToken) -> None:
        refresh_token.revoked_at = utcnow()
        db.session.flush()

    def create_token_response(self) -> tuple[int, dict[str, Any], Any]:
        response = super().create_token_response()
        return _with_patient(response, self.request.refresh_token.patient_id)  # type: ignore[no-any-return]


def _save_token(token: dict[str, Any], request: Any) -> None:
    now = utcnow()
    # The launch context comes from the code, or from the token refreshed.
    origin = request.authorization_code or request.refresh_token
    refresh = token.get("refresh_token")
    lifetime = refresh_lifetime(token.get("scope"))
    db.session.add(
        SmartToken(
            token_hash=digest(token["access_token"]),
            client_id=request.client.client_id,
            user_id=request.user.id,
            scope=token.get("scope", ""),
            patient_id=origin.patient_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
            refresh_token_hash=digest(refresh) if refresh else None,
            refresh_expires_at=now + lifetime if refresh and lifetime else None,
        )
    )
    db.session.flush()


def _query_client(client_id: str) -> SmartClient | None:
    return db.session.scalars(
        sa.select(SmartClient).where(
            SmartClient.client_id == client_id, SmartClient.revoked_at.is_(None)
        )
    ).first()


server = AuthorizationServer()


def init_app(app: Flask) -> None:
    # Authlib makes refresh tokens only when told to; _IssuesRefreshOnRequest
    # then keeps them to the scopes that ask for one.
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {"authorization_code": TOKEN_LIFETIME_SECONDS, "refresh_token": TOKEN_LIFETIME_SECONDS},
    )
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    openid.init_app(app)
    if not server._token_grants:  # one registration per process (several test apps)
        server.register_grant(
            SmartCodeGrant, [S256Challenge(required=True), openid.SmartOpenIDCode()]
        )
        server.register_grant(SmartRefreshGrant)


def new_client(
    name: str,
    redirect_uris: list[str],
    scope: str,
    *,
    confidential: bool,
    clinic_id: uuid.UUID | None,
    created_by: uuid.UUID | None,
) -> tuple[SmartClient, str | None]:
    """Register an app; returns it and its secret (shown once; stored hashed)."""
    unknown = [s for s in scope_to_list(scope) or [] if s not in SCOPES]
    if unknown:
        raise ValueError(f"unsupported scopes: {', '.join(unknown)}")
    secret = secrets.token_urlsafe(32) if confidential else None
    client = SmartClient(
        client_id=secrets.token_urlsafe(16),
        secret_hash=digest(secret) if secret else None,
        name=name,
        redirect_uris=redirect_uris,
        scope=scope,
        clinic_id=clinic_id,
        created_by=created_by,
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


@dataclass(frozen=True)
class SmartGrant:
    """What a SMART token allows: its scopes and, for patient/* scopes
    without user/* ones, the one patient it may read."""

    scopes: tuple[str, ...]
    patient_id: uuid.UUID | None

    @property
    def reads_fhir(self) -> bool:
        return any(s.endswith(".read") for s in self.scopes)


def principal_for_token(raw: str) -> tuple[Principal, SmartGrant] | None:
    """The user and grant behind a live SMART access token, or None."""
    token = db.session.scalars(
        sa.select(SmartToken).where(SmartToken.token_hash == digest(raw))
    ).first()
    if token is None or token.is_revoked() or token.is_expired():
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    scopes = tuple(scope_to_list(token.scope) or [])
    user_wide = "user/*.read" in scopes
    patient_id = None if user_wide else token.patient_id
    return Principal.of(user), SmartGrant(scopes, patient_id)


def smart_configuration(base: str, authorize_url: str) -> dict[str, Any]:
    """/.well-known/smart-configuration (SMART App Launch 2.0, section 2.3)."""
    return {
        "issuer": base,
        "authorization_endpoint": authorize_url,
        "token_endpoint": f"{base}/auth/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "scopes_supported": list(SCOPES),
        "code_challenge_methods_supported": ["S256"],
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": [openid.ALG],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "context-standalone-patient",
            "permission-patient",
            "permission-user",
            "sso-openid-connect",
            "permission-offline",
            "permission-online",
        ],
    }
