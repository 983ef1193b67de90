"""Passwords, tokens and sign-in.

Passwords: argon2id with m=19 MiB, t=2, p=1 (OWASP Password Storage Cheat
Sheet minimum). Tokens: 256-bit random values, stored as SHA-256 only, with an
idle timeout and an absolute lifetime. Refresh tokens rotate; presenting a
used one revokes its whole family (OAuth 2.0 Security BCP, RFC 9700 4.14).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import Session

from app.auth.models import AuthToken, ClinicMembership, User
from app.core.access import Principal
from app.core.db import utcnow
from app.extensions import db

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps unknown-email sign-ins as slow as real ones.
    Made on first use: an argon2 hash at import would slow every process start."""
    return _hasher.hash("not-a-real-password")


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    try:
        stored = user.password_hash if user else _dummy_hash()
        return _hasher.verify(stored, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type name, not a secret


def _new_token(session: Session, user: User, kind: str, family_id: uuid.UUID) -> str:
    cfg = current_app.config
    now = utcnow()
    max_age = (
        cfg["ACCESS_TOKEN_MAX_SECONDS"] if kind == "access" else cfg["REFRESH_TOKEN_MAX_SECONDS"]
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        AuthToken(
            user_id=user.id,
            family_id=family_id,
            kind=kind,
            token_hash=_digest(raw),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=max_age),
        )
    )
    return raw


def issue_pair(session: Session, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
    family = family_id or uuid.uuid4()
    access = _new_token(session, user, "access", family)
    refresh = _new_token(session, user, "refresh", family)
    session.flush()
    return TokenPair(access, refresh, current_app.config["ACCESS_TOKEN_IDLE_SECONDS"])


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalars(sa.select(User).where(User.email == email.strip().lower())).first()
    if not verify_password(user, password) or user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _live(token: Any, idle_seconds: int) -> bool:
    """Whether a token (an AuthToken or a row with its columns) may still be used."""
    now = utcnow()
    return (
        token.revoked_at is None
        and token.expires_at > now
        and token.last_used_at + timedelta(seconds=idle_seconds) > now
    )


@functools.cache
def _access_token_query() -> sa.Select[Any]:
    """The access token, its user and the user's clinics (one row per clinic, one
    with a NULL clinic for a user in none): one round trip on every
    authenticated request, in Core, and a statement built once."""
    tokens, users = AuthToken.__table__.c, User.__table__.c
    memberships = ClinicMembership.__table__
    return (
        sa.select(
            tokens.id.label("token_id"),
            tokens.expires_at,
            tokens.last_used_at,
            tokens.revoked_at,
            users.id,
            users.email,
            users.name,
            users.role,
            users.is_active,
            memberships.c.clinic_id,
        )
        .select_from(
            AuthToken.__table__.join(User.__table__, users.id == tokens.user_id).outerjoin(
                memberships, memberships.c.user_id == users.id
            )
        )
        .where(tokens.token_hash == sa.bindparam("token_hash"), tokens.kind == "access")
    )


_TOUCH = (
    sa.update(AuthToken.__table__)
    .where(AuthToken.__table__.c.id == sa.bindparam("token_id"))
    .values(last_used_at=sa.bindparam("now"))
)


def user_for_access_token(raw: str) -> Principal | None:
    """The active user behind an access token, refreshing its idle clock."""
    connection = db.session.connection()
    rows = connection.execute(_access_token_query(), {"token_hash": _digest(raw)}).all()
    if not rows:
        return None
    token = rows[0]  # the token and user columns are the same in every row
    if not _live(token, current_app.config["ACCESS_TOKEN_IDLE_SECONDS"]) or not token.is_active:
        return None
    now = utcnow()
    # Touch at most once a minute: a busy client should not write on every read.
    if (now - token.last_used_at).total_seconds() > 60:
        connection.execute(_TOUCH, {"token_id": token.token_id, "now": now})
    clinic_ids = sorted((r.clinic_id for r in rows if r.clinic_id is not None), key=str)
    return Principal(token.id, token.email, token.name, token.role, tuple(clinic_ids))


class RefreshRejected(Exception):
    pass


def refresh(session: Session, raw: str) -> TokenPair:
    token = session.scalars(
        sa.select(AuthToken)
        .where(AuthToken.token_hash == _digest(raw), AuthToken.kind == "refresh")
        .with_for_update()
    ).first()
    if token is None:
        raise RefreshRejected("unknown refresh token")
    if token.used_at is not None or token.revoked_at is not None:
        # Reuse of a rotated token: assume theft, end the whole family.
        revoke_family(session, token.family_id)
        raise RefreshRejected("refresh token reused; all tokens of this sign-in were revoked")
    if not _live(token, current_app.config["REFRESH_TOKEN_IDLE_SECONDS"]):
        raise RefreshRejected("refresh token expired")
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise RefreshRejected("user disabled")
    token.used_at = utcnow()
    # The access tokens of the old pair end too: one live pair per sign-in.
    session.execute(
        sa.update(AuthToken)
        .where(
            AuthToken.family_id == token.family_id,
            AuthToken.kind == "access",
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return issue_pair(session, user, token.family_id)


def revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(
        sa.update(AuthToken)
        .where(AuthToken.family_id == family_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke(session: Session, raw: str) -> bool:
    token = session.scalars(
        sa.select(AuthToken).where(AuthToken.token_hash == _digest(raw))
    ).first()
    if token is None:
        return False
    revoke_family(session, token.family_id)
    return True


def revoke_user_tokens(session: Session, user_id: uuid.UUID) -> None:
    session.execute(
        sa.update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def set_active(session: Session, user: User, active: bool) -> None:
    """Disabling a user ends every token it holds, at once."""
    user.is_active = active
    user.disabled_at = None if active else utcnow()
    if not active:
        revoke_user_tokens(session, user.id)
    session.flush()
