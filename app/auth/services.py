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

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from app.auth.models import AuthToken, User
from app.core.db import utcnow
from app.extensions import db

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this keeps unknown-email sign-ins as slow as real ones.
    Made on first use: an argon2 hash at import would slow every process start."""
    return _hasher.hash("not-a-real-password")


MIN_PASSWORD_LENGTH = 12


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


def _live(token: AuthToken, idle_seconds: int) -> bool:
    now = utcnow()
    return (
        token.revoked_at is None
        and token.expires_at > now
        and token.last_used_at + timedelta(seconds=idle_seconds) > now
    )


@functools.cache
def _access_token_query() -> sa.Select[tuple[AuthToken, User]]:
    """The access token with its user and the user's clinic memberships (which
    every permission check reads): one round trip on every authenticated
    request, and a statement built once rather than on each of them."""
    return (
        sa.select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == sa.bindparam("token_hash"), AuthToken.kind == "access")
        .options(joinedload(User.memberships))
    )


def user_for_access_token(raw: str) -> User | None:
    """The active user behind an access token, refreshing its idle clock."""
    session = db.session
    row = session.execute(_access_token_query(), {"token_hash": _digest(raw)}).unique().first()
    if row is None:
        return None
    token, user = row
    if not _live(token, current_app.config["ACCESS_TOKEN_IDLE_SECONDS"]):
        return None
    if not user.is_active:
        return None
    now = utcnow()
    # Touch at most once a minute: a busy client should not write on every read.
    if (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
    return user


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
