"""Cookie sessions and CSRF tokens for the clinic pages.

The Flask session cookie (signed, HttpOnly, SameSite=Lax, Secure outside
development) holds the user id and a random session token. Only the token's
SHA-256 is stored, as an ``AuthToken`` row of kind ``web``, so that:
- signing out revokes the row and the cookie stops working at once, even if
  someone kept a copy of it;
- disabling a user (``auth.services.set_active``) revokes every token of the
  user, web sessions included;
- the idle timeout and absolute lifetime are the access tokens' own.
Web tokens are never accepted by the API (``user_for_access_token`` looks only
at kind ``access``), and the pages never read an ``Authorization`` header.

CSRF: a random token per session (OWASP "synchronizer token" pattern), put in
every POST form and compared in constant time before any POST view runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, session
from sqlalchemy.orm import Session

from app.auth.models import AuthToken, User
from app.core.db import utcnow

WEB_KIND = "web"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(db_session: Session, user: User) -> None:
    """Sign ``user`` in: a fresh cookie (no fixation) and a server-side token row."""
    cfg = current_app.config
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db_session.add(
        AuthToken(
            user_id=user.id,
            family_id=uuid.uuid4(),
            kind=WEB_KIND,
            token_hash=_digest(raw),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=cfg["ACCESS_TOKEN_MAX_SECONDS"]),
        )
    )
    db_session.flush()
    end_session(db_session)  # a sign-in over an existing session ends that one
    session["uid"] = str(user.id)
    session["sid"] = raw
    session["csrf"] = secrets.token_urlsafe(32)


def session_user(db_session: Session) -> User | None:
    """The active user of this cookie session, or None (and the cookie cleared)."""
    uid, raw = session.get("uid"), session.get("sid")
    if not isinstance(uid, str) or not isinstance(raw, str):
        return None
    token = db_session.scalars(
        sa.select(AuthToken).where(AuthToken.token_hash == _digest(raw), AuthToken.kind == WEB_KIND)
    ).first()
    now = utcnow()
    idle = timedelta(seconds=current_app.config["ACCESS_TOKEN_IDLE_SECONDS"])
    if (
        token is None
        or str(token.user_id) != uid
        or token.revoked_at is not None
        or token.expires_at <= now
        or token.last_used_at + idle <= now
    ):
        session.clear()
        return None
    user = db_session.get(User, token.user_id)
    if user is None or not user.is_active:
        session.clear()
        return None
    # Touch at most once a minute, as the API's access tokens do.
    if (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
    return user


def end_session(db_session: Session) -> None:
    """Sign out: revoke the server-side token, then forget the cookie."""
    raw = session.get("sid")
    if isinstance(raw, str):
        db_session.execute(
            sa.update(AuthToken)
            .where(AuthToken.token_hash == _digest(raw), AuthToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.clear()


def csrf_token() -> str:
    """This session's CSRF token (created on first use, also before sign-in)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(sent: Any) -> bool:
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )
