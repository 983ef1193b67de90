"""Clinics, clinic users and research grants."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.schemas import PasswordResetIssuedSchema
from app.clinics import services
from app.clinics.models import ResearchGrant
from app.clinics.schemas import (
    ClinicSchema,
    ClinicUpdateSchema,
    GrantCreateSchema,
    GrantSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)
from app.core import records
from app.core.access import not_found, require
from app.core.etags import etag_header
from app.core.schemas import HistorySchema, ListArgsSchema, page_schema
from app.extensions import db

blp = Blueprint("clinics", __name__, url_prefix="/api/v1", description="Clinics, users and grants")

_REPLAY = "Replay of a create sent with the same client `id` and content"
_REUSED = "The client `id` was used for other content (the stored record in `stored`)"


@blp.route("/clinics")
class ClinicsResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(ClinicSchema))
    def get(self, args):
        """Clinics the caller belongs to (all of them for an admin), by name."""
        user = require("clinic:read")
        return services.clinics_for(db.session, user, args)

    @blp.arguments(ClinicSchema)
    @blp.response(201, ClinicSchema)
    @blp.alt_response(200, schema=ClinicSchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data):
        """Create a clinic (admin)."""
        require("clinic:create")
        clinic, created = services.create_clinic(db.session, data)
        return clinic, 201 if created else 200, etag_header(clinic)


@blp.route("/clinics/<uuid:clinic_id>")
class ClinicResource(MethodView):
    @blp.response(200, ClinicSchema)
    def get(self, clinic_id):
        """One of your clinics, with its settings and ETag."""
        user = require("clinic:read")
        clinic = services.get_clinic(db.session, user, clinic_id)
        return clinic, 200, etag_header(clinic)

    @blp.arguments(ClinicUpdateSchema)
    @blp.response(200, ClinicSchema)
    @blp.alt_response(412, description="Stale If-Match; the current clinic is in `current`")
    @blp.alt_response(428, description="If-Match missing")
    def patch(self, data, clinic_id):
        """Change the clinic's settings (admin, its clinic_admin; If-Match): the
        PAR threshold trajectories and the dashboard judge by, the days after
        which an assessment is overdue, the default marker size. They apply at
        once; the change is audited and kept in the clinic's history. Renaming
        is for admins."""
        user = require("clinic:settings", clinic_id)
        clinic = services.get_clinic(db.session, user, clinic_id)
        clinic = services.update_clinic(db.session, user, clinic, data)
        return clinic, 200, etag_header(clinic)


@blp.route("/clinics/<uuid:clinic_id>/history")
class ClinicHistoryResource(MethodView):
    @blp.response(200, HistorySchema)
    def get(self, clinic_id):
        """Every version of the clinic's settings: who changed what, and when
        (admin, its clinic_admin)."""
        user = require("clinic:settings", clinic_id)
        clinic = services.get_clinic(db.session, user, clinic_id)
        return {"items": records.history(db.session, clinic)}


@blp.route("/clinics/<uuid:clinic_id>/users")
class ClinicUsersResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args, clinic_id):
        """Users of a clinic (admin, clinic_admin), by email; disabled ones too."""
        require("users:manage", clinic_id)
        return services.clinic_users(db.session, clinic_id, args)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(200, schema=UserSchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data, clinic_id):
        """Create a user in a clinic (admin, clinic_admin of that clinic)."""
        actor = require("users:manage", clinic_id)
        user, created = services.create_user(db.session, actor, clinic_id, data)
        return user, 201 if created else 200, etag_header(user)


@blp.route("/users/<uuid:user_id>")
class UserResource(MethodView):
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user (admin; clinic_admin for its own clinics' users), with its ETag."""
        actor = require("users:manage")
        user = services.managed_user(db.session, actor, user_id)
        return user, 200, etag_header(user)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(412, description="Stale If-Match; the current user is in `current`")
    @blp.alt_response(428, description="If-Match missing")
    def patch(self, data, user_id):
        """Rename, disable or re-enable a user (If-Match required, as on every
        record). Disabling ends its tokens at once."""
        actor = require("users:manage")
        user = services.managed_user(db.session, actor, user_id)
        user = services.update_user(db.session, actor, user, data)
        return user, 200, etag_header(user)


@blp.route("/users/<uuid:user_id>/password-reset")
class UserPasswordResetResource(MethodView):
    @blp.response(201, PasswordResetIssuedSchema)
    @blp.alt_response(409, description="The user is disabled")
    @blp.alt_response(403, description="A clinic_admin, for a user also in other clinics")
    def post(self, user_id):
        """Issue a one-time password reset token for a user (admin; clinic_admin
        for users of its clinics only, not admins). Hand it to the user, who sets a
        new password with `POST /api/v1/auth/password-reset` before `expires_at`
        (`PASSWORD_RESET_SECONDS`, 24 hours). Only its hash is stored; issuing
        another ends this one. The user's password and sign-ins are unchanged
        until the token is used. Audited."""
        actor = require("users:manage")
        user = services.managed_user(db.session, actor, user_id)
        token, expires_at = services.issue_password_reset(db.session, actor, user)
        return {"user_id": user.id, "token": token, "expires_at": expires_at}


@blp.route("/clinics/<uuid:clinic_id>/research-grants")
class GrantsResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(GrantSchema))
    def get(self, args, clinic_id):
        """Researchers this clinic lets export its de-identified data (revoked
        grants too, with revoked_at), oldest first."""
        require("grants:manage", clinic_id)
        return services.grants_of(db.session, clinic_id, args)

    @blp.arguments(GrantCreateSchema)
    @blp.response(201, GrantSchema)
    def post(self, data, clinic_id):
        """Grant a researcher export access to this clinic."""
        actor = require("grants:manage", clinic_id)
        return services.grant(db.session, actor, clinic_id, data["researcher_id"])


@blp.route("/research-grants/<uuid:grant_id>")
class GrantResource(MethodView):
    @blp.response(200, GrantSchema)
    def delete(self, grant_id):
        """Revoke a grant (kept, marked revoked)."""
        actor = require("grants:manage")
        row = db.session.get(ResearchGrant, grant_id)
        if row is None or not (actor.role == "admin" or row.clinic_id in actor.clinic_ids):
            raise not_found("grant")
        return services.revoke_grant(db.session, row)
