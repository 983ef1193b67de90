"""Signing in and out of the clinic pages, with the API's accounts and rate limits."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.auth import limits
from app.auth import services as auth_services
from app.core import audit
from app.core.access import Principal
from app.extensions import db
from app.web import auth
from app.web.blueprint import bp, form_text


def _safe_next(value: str | None) -> str:
    """Only a local /web path (no scheme, no host) may follow sign-in."""
    if value:
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/web/"):
            return value
    return url_for("web.overview")


def _account_key() -> str:
    # The API's own buckets (app/auth/limits.py): attempts through the form and
    # through POST /auth/token count together.
    return limits.account_key(request.form.get("email", ""))


@bp.get("/")
def root() -> ResponseReturnValue:
    return redirect(url_for("web.overview"))


@bp.get("/web/sign-in")
def sign_in() -> ResponseReturnValue:
    if auth.session_user(db.session) is not None:
        return redirect(url_for("web.overview"))
    return render_template("sign_in.html", next=request.args.get("next", ""), error=None)


@bp.post("/web/sign-in")
@limits.per_address()
@limits.per_account(_account_key)
def sign_in_post() -> ResponseReturnValue:
    """Sign in with the API's accounts, rate limits and audit events."""
    email = form_text(request.form.get("email"))[:254]
    password = form_text(request.form.get("password"))[:1024]
    user = auth_services.authenticate(db.session, email, password) if email and password else None
    if user is None:
        audit.record_now(
            db.engine, "login", "user", None, outcome="failure", details={"via": "web"}
        )
        error = "Email or password is wrong, or the account is disabled."
        return render_template(
            "sign_in.html", next=request.form.get("next", ""), error=error, email=email
        ), 401
    auth.start_session(db.session, user)
    g.user = Principal.of(user)
    audit.record(db.session, "login", "user", user.id, user=user, details={"via": "web"})
    target = _safe_next(request.form.get("next"))
    if user.role == "researcher" and target == url_for("web.overview"):
        target = url_for("web.exports")
    return redirect(target, 303)


@bp.post("/web/sign-out")
def sign_out() -> ResponseReturnValue:
    audit.record(db.session, "logout", "user", g.user.id, details={"via": "web"})
    auth.end_session(db.session)
    return redirect(url_for("web.sign_in"), 303)
