"""Sign-in, token refresh and revocation, and who am I."""

from flask import current_app, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from app.auth import limits, services
from app.auth.schemas import MeSchema, RefreshRequestSchema, TokenPairSchema, TokenRequestSchema
from app.core import audit
from app.core.access import require, unauthorized
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
