"""Procedures on a wound: debridement, PRP, dressing, other."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core import records
from app.core.access import require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
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


register_record(
    blp,
    RecordType(
        name="Procedure",
        path="/procedures/<uuid:procedure_id>",
        model=Procedure,
        schema=ProcedureSchema,
        update_schema=ProcedureUpdateSchema,
        update=services.update_procedure,
        delete=services.delete_procedure,
        docs={"history": "Every version of the procedure: who changed which fields, when."},
    ),
)
