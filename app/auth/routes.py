"""Sign-in, token refresh and revocation, password change and reset, and who am I."""

from flask import current_app, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from app.auth import limits, passwords, services
from app.auth.models import User
from app.auth.schemas import (
    MeSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    RefreshRequestSchema,
    TokenPairSchema,
    TokenRequestSchema,
)
from app.core import audit
from app.core.access import current_user, require, unauthorized
from app.core.errors import field_error
from app.extensions import db, limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in and tokens")


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_RATE_LIMIT"])


def _account_key() -> str:
    body = request.get_json(silent=True)
    return limits.account_key(body.get("email") if isinstance(body, dict) else None)


@blp.route("/auth/token")
class TokenResource(MethodView):
    decorators = [limits.per_address(), limits.per_account(_account_key)]

    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenPairSchema)
    @blp.doc(security=[])
    def post(self, args):
        """Sign in with email and password; returns an access and a refresh token."""
        user = services.authenticate(db.session, args["email"], args["password"])
        if user is None:
            audit.record_now(db.engine, "login", "user", None, outcome="failure")
            raise unauthorized("Email or password is wrong, or the account is disabled.")
        pair = services.issue_pair(db.session, user)
        audit.record(db.session, "login", "user", user.id, user=user)
        return pair


@blp.route("/auth/refresh")
class RefreshResource(MethodView):
    # A refresh token cannot be guessed: its own bucket, per address, with the
    # address limit (every phone of a clinic may share one address).
    decorators = [limiter.limit(_address_limit, key_func=get_remote_address, scope="refresh")]

    @blp.arguments(RefreshRequestSchema)
    @blp.response(200, TokenPairSchema)
    @blp.doc(security=[])
    def post(self, args):
        """Exchange a refresh token for a new pair; the old refresh token stops working."""
        try:
            return services.refresh(db.session, args["refresh_token"])
        except services.RefreshRejected as exc:
            db.session.commit()  # keep the family revocation that reuse triggered
            audit.record_now(db.engine, "refresh", "token", None, outcome="failure")
            raise unauthorized(f"Refresh refused: {exc}. Sign in again.") from exc


@blp.route("/auth/revoke")
class RevokeResource(MethodView):
    @blp.arguments(RefreshRequestSchema)
    @blp.response(204)
    @blp.doc(security=[])
    def post(self, args):
        """Sign out: revoke the refresh token and every token of its sign-in.

        Unknown tokens are accepted silently (RFC 7009 2.2)."""
        services.revoke(db.session, args["refresh_token"])


@blp.route("/me")
class MeResource(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in user, with role and clinics."""
        return require("self:read")


def _caller_account() -> str:
    # Authenticated before the limits are counted (app/core/access.py).
    return limits.account_key(current_user().email)


def _refused(action: str, exc: passwords.PasswordRefused) -> Exception:
    """Audit a refused change or reset (in its own transaction: the request's
    is rolled back first, so nothing of it is kept and it holds no lock) and
    answer 422 naming the field."""
    db.session.rollback()
    audit.record_now(
        db.engine, action, "user", exc.user_id, outcome="failure", details={"field": exc.field}
    )
    return field_error(exc.field, exc.message)


@blp.route("/auth/password")
class PasswordResource(MethodView):
    decorators = [limits.per_address(), limits.per_account(_caller_account)]

    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, TokenPairSchema)
    def post(self, args):
        """Change your password (the current one is required). Every token and
        clinic-page session of yours ends, this one included; the answer is a
        new token pair to carry on with. Rate-limited with sign-in."""
        principal = require("self:read")
        user = db.session.get(User, principal.id)
        try:
            return passwords.change(
                db.session, user, args["current_password"], args["new_password"]
            )
        except passwords.PasswordRefused as exc:
            raise _refused("password_change", exc) from exc


@blp.route("/auth/password-reset")
class PasswordResetResource(MethodView):
    decorators = [limits.per_address()]

    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    @blp.doc(security=[])
    def post(self, args):
        """Set a new password with a one-time reset token from an admin
        (`POST /api/v1/users/{user_id}/password-reset`). The token works once,
        until it expires; every token and session of the user ends. Then sign in
        with the new password. Rate-limited with sign-in, per address."""
        try:
            passwords.consume_reset(db.session, args["token"], args["new_password"])
        except passwords.PasswordRefused as exc:
            raise _refused("password_reset", exc) from exc
