"""Procedures on a wound: debridement, PRP, dressing, other."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core import records
from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.schemas import HistorySchema, page_schema
from app.extensions import db
from app.procedures import services
from app.procedures.models import Procedure
from app.procedures.schemas import (
    ProcedureListArgsSchema,
    ProcedureSchema,
    ProcedureUpdateSchema,
)
from app.wounds.models import Wound

blp = Blueprint(
    "procedures",
    __name__,
    url_prefix="/api/v1",
    description="Procedures on wounds: debridement, platelet-rich plasma, dressings",
)


@blp.route("/wounds/<uuid:wound_id>/procedures")
class WoundProceduresResource(MethodView):
    @blp.arguments(ProcedureListArgsSchema, location="query")
    @blp.response(200, page_schema(ProcedureSchema))
    def get(self, args, wound_id):
        """Procedures of a wound in performed_at order; filter by `kind`, `from`/`to`;
        `updated_since` for delta sync (tombstones for deleted ones)."""
        require("clinical:read")
        wound = records.load_parent(db.session, Wound, wound_id)
        return services.list_procedures(db.session, wound, args)

    @blp.arguments(ProcedureSchema)
    @blp.response(201, ProcedureSchema)
    @blp.alt_response(200, schema=ProcedureSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, wound_id):
        """Record a procedure. A debridement followed by PRP in one session is one
        procedure of kind debridement with both blocks. Send a client `id` to make
        retries safe."""
        require("clinical:write")
        wound = records.load_parent(db.session, Wound, wound_id)
        procedure, created = services.create_procedure(db.session, wound, data)
        return procedure, 201 if created else 200, etag_header(procedure)


@blp.route("/procedures/<uuid:procedure_id>")
class ProcedureResource(MethodView):
    @blp.response(200, ProcedureSchema)
    def get(self, procedure_id):
        """One procedure. The ETag is needed to amend or delete it."""
        procedure = get_record(db.session, Procedure, procedure_id)
        return procedure, 200, etag_header(procedure)

    @blp.arguments(ProcedureUpdateSchema)
    @blp.response(200, ProcedureSchema)
    @blp.alt_response(412, description="Stale If-Match; the current record is in `current`")
    @blp.alt_response(428, description="If-Match missing")
    def patch(self, changes, procedure_id):
        """Amend a procedure (If-Match required). Earlier versions stay in its history."""
        procedure = get_record(db.session, Procedure, procedure_id, "clinical:write")
        procedure = services.update_procedure(db.session, procedure, changes)
        return procedure, 200, etag_header(procedure)

    @blp.response(200, ProcedureSchema)
    def delete(self, procedure_id):
        """Mark a procedure deleted (If-Match required). An admin can restore it."""
        procedure = get_record(db.session, Procedure, procedure_id, "clinical:write")
        procedure = services.delete_procedure(db.session, procedure)
        return procedure, 200, etag_header(procedure)


@blp.route("/procedures/<uuid:procedure_id>/history")
class ProcedureHistoryResource(MethodView):
    @blp.response(200, HistorySchema)
    def get(self, procedure_id):
        """Every version of the procedure: who changed which fields, when."""
        procedure = get_record(db.session, Procedure, procedure_id, include_deleted=True)
        return {"items": records.history(db.session, procedure)}


@blp.route("/procedures/<uuid:procedure_id>/restore")
class ProcedureRestoreResource(MethodView):
    @blp.response(200, ProcedureSchema)
    def post(self, procedure_id):
        """Undo a delete (admin)."""
        procedure = records.restore(db.session, Procedure, procedure_id)
        return procedure, 200, etag_header(procedure)
