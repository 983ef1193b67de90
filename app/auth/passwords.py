"""Changing a password, and one-time reset tokens an admin hands out.

Both end every sign-in of the user (API token pairs and clinic-page sessions
alike): whoever knew the old password, or held a token made with it, is out.
A change answers a new token pair, so the caller stays signed in; a reset does
not sign anyone in.

A reset token is 256 random bits, stored as its SHA-256 only (an ``AuthToken``
of kind ``reset``, which no bearer, refresh or page check accepts), valid once
and for ``PASSWORD_RESET_SECONDS``. Issuing a new one ends the earlier ones.
Passwords are hashed with argon2id (app/auth/services.py).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.auth.models import AuthToken, User
from app.auth.services import (
    TokenPair,
    _digest,
    hash_password,
    issue_pair,
    revoke_user_tokens,
    verify_password,
)
from app.core import audit
from app.core.db import utcnow
from app.core.errors import Problem

RESET_KIND = "reset"


class PasswordRefused(Exception):
    """A change or reset that must not happen; ``field`` is the input at fault."""

    def __init__(self, field: str, message: str, user_id: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.user_id = user_id


def audit_user_event(
    session: Session, action: str, user: User, *, actor: Any = None, **details: Any
) -> None:
    """One event per clinic of ``user``, so each clinic's audit trail shows it
    (as a change of the user by ``update_user``); no secret is ever in it."""
    for clinic_id in user.clinic_ids or [None]:
        audit.record(
            session,
            action,
            "user",
            user.id,
            clinic_id=clinic_id,
            details=details or None,
            user=actor,
        )


def change(session: Session, user: User, current: str, new: str) -> TokenPair:
    """Set a new password after checking the current one; every token of the
    user ends, and a fresh pair is answered for this caller."""
    if not verify_password(user, current):
        raise PasswordRefused("current_password", "is not your current password", user.id)
    if verify_password(user, new):
        raise PasswordRefused("new_password", "is your current password; choose another", user.id)
    user.password_hash = hash_password(new)
    revoke_user_tokens(session, user.id)
    pair = issue_pair(session, user)
    audit_user_event(session, "password_change", user)
    return pair


def issue_reset(session: Session, user: User) -> tuple[str, datetime]:
    """A one-time reset token for ``user`` and when it expires. Earlier unused
    reset tokens of the user stop working."""
    if not user.is_active:
        raise Problem(409, "Conflict", "The user is disabled; enable it before a password reset.")
    now = utcnow()
    session.execute(
        sa.update(AuthToken)
        .where(
            AuthToken.user_id == user.id,
            AuthToken.kind == RESET_KIND,
            AuthToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    raw = secrets.token_urlsafe(32)
    expires = now + timedelta(seconds=int(current_app.config["PASSWORD_RESET_SECONDS"]))
    session.add(
        AuthToken(
            user_id=user.id,
            family_id=uuid.uuid4(),
            kind=RESET_KIND,
            token_hash=_digest(raw),
            created_at=now,
            last_used_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    audit_user_event(session, "password_reset_issued", user, expires_at=expires.isoformat())
    return raw, expires


def consume_reset(session: Session, raw: str, new: str) -> User:
    """Set the password of the reset token's user, once: the token is claimed
    with a conditional UPDATE, so of two requests racing with it one wins."""
    token = session.scalars(
        sa.select(AuthToken).where(
            AuthToken.token_hash == _digest(raw), AuthToken.kind == RESET_KIND
        )
    ).first()
    now = utcnow()
    if token is None:
        raise PasswordRefused("token", "is not a reset token")
    if token.used_at is not None or token.revoked_at is not None:
        raise PasswordRefused("token", "was used or replaced; ask for a new one", token.user_id)
    if token.expires_at <= now:
        raise PasswordRefused("token", "has expired; ask for a new one", token.user_id)
    claimed = session.execute(
        sa.update(AuthToken)
        .where(
            AuthToken.id == token.id,
            AuthToken.used_at.is_(None),
            AuthToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise PasswordRefused("token", "was used or replaced; ask for a new one", token.user_id)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise PasswordRefused("token", "belongs to a disabled user", token.user_id)
    user.password_hash = hash_password(new)
    revoke_user_tokens(session, user.id)
    audit_user_event(session, "password_reset", user, actor=user)
    return user
