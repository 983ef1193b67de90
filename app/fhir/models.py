"""SMART App Launch: registered apps, authorization codes and their tokens.

Codes and tokens are stored as their SHA-256 only, as the API's own tokens are
(app/auth/models.py). The rows implement the model interfaces Authlib's OAuth
2.0 server expects (``authlib.oauth2.rfc6749`` ClientMixin,
AuthorizationCodeMixin, TokenMixin), so the protocol itself is Authlib's.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, new_id, utcnow

# What a SMART app may ask for. Every resource scope is read-only.
SCOPES = (
    "patient/*.read",
    "user/*.read",
    "launch/patient",
    "openid",
    "fhirUser",
    "offline_access",
    "online_access",
)

#: How long a refresh token lives, by the scope that asked for one (SMART App
#: Launch 2.0, "Scopes for requesting a refresh token"): offline_access for an
#: app that keeps reading after the user has gone, online_access for one that
#: reads while the user works (a working day). Each refresh issues a new one
#: and ends the old.
REFRESH_LIFETIMES = {"offline_access": timedelta(days=90), "online_access": timedelta(hours=12)}


class SmartClient(ClientMixin, Base):
    """An app an administrator registered. A public app (no secret) must use
    PKCE; a confidential one authenticates with its secret as well."""

    __tablename__ = "smart_clients"
    __audit_type__ = "smart_client"
    # Audited; no versions: registration and revocation are its whole history.
    __versioned__ = False

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    redirect_uris: Mapped[list[Any]]
    scope: Mapped[str] = mapped_column(sa.String(500))
    # The clinic whose administrator registered it; None for an admin's app.
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("clinics.id"))
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return str(list_to_scope([s for s in scope_to_list(scope) if s in allowed]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint != "token":
            return True
        if self.secret_hash is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        # A refresh token is only issued to a scope that asks for one.
        return grant_type in ("authorization_code", "refresh_token")


class SmartAuthorizationCode(AuthorizationCodeMixin, Base):
    """A code the consent page issued: one use, ten minutes."""

    __tablename__ = "smart_authorization_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    redirect_uri: Mapped[str] = mapped_column(sa.String(2000))
    scope: Mapped[str] = mapped_column(sa.String(500))
    code_challenge: Mapped[str] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str] = mapped_column(sa.String(10))
    # The patient chosen at consent for patient/* scopes (launch/patient).
    patient_id: Mapped[uuid.UUID | None]
    # OpenID Connect: the app's nonce, echoed in the id token.
    nonce: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.created_at.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class SmartToken(TokenMixin, Base):
    """An access token issued to an app, for reading FHIR only."""

    __tablename__ = "smart_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(500))
    patient_id: Mapped[uuid.UUID | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # With offline_access or online_access: the refresh token issued with this
    # access token (its SHA-256) and when it stops working. Revoking the row
    # (a refresh, or the app's revocation) ends both.
    refresh_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    refresh_expires_at: Mapped[datetime | None]

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.client_id)

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


def digest(raw: str) -> str:
    """How codes, tokens and secrets are stored: their SHA-256, never the value."""
    return hashlib.sha256(raw.encode()).hexdigest()


CODE_LIFETIME = timedelta(minutes=10)
