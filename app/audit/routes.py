"""Read the audit trail (clinic_admins for their clinics; admins for all)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.core.access import scoped
from app.core.audit import AuditEvent
from app.core.pagination import paginate
from app.core.schemas import ListArgsSchema, OffsetDateTime, StrictSchema, page_schema
from app.extensions import db

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit trail")


class AuditEventSchema(StrictSchema):
    id = fields.UUID()
    at = OffsetDateTime()
    user_id = fields.UUID(allow_none=True)
    role = fields.String(allow_none=True)
    action = fields.String()
    record_type = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    clinic_id = fields.UUID(allow_none=True)
    client_addr = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    outcome = fields.String()
    details = fields.Dict(allow_none=True)


class AuditQueryArgsSchema(ListArgsSchema):
    clinic_id = fields.UUID()
    user_id = fields.UUID()
    record_type = fields.String(validate=validate.Length(max=40))
    record_id = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=40))
    since = OffsetDateTime()
    until = OffsetDateTime()


@blp.route("/audit-events")
class AuditEventsResource(MethodView):
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, page_schema(AuditEventSchema))
    def get(self, args):
        """Audit events, oldest first, filtered by clinic, user, record or time."""
        stmt = scoped(AuditEvent, "audit:read", clinic_id=args.get("clinic_id"))
        for key in ("clinic_id", "user_id", "record_type", "record_id", "action"):
            if key in args:
                stmt = stmt.where(getattr(AuditEvent, key) == args[key])
        # An event never changes: "changed since" (updated_since, as on every
        # list) is "recorded since".
        for bound in ("since", "updated_since"):
            if bound in args:
                stmt = stmt.where(AuditEvent.at >= args[bound])
        if "until" in args:
            stmt = stmt.where(AuditEvent.at < args["until"])
        return paginate(
            db.session,
            stmt,
            AuditEvent,
            limit=args["limit"],
            cursor=args.get("cursor"),
            order_by=(AuditEvent.at,),
        )
