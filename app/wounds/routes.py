"""Wounds."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
from app.extensions import db
from app.patients.models import Patient
from app.wounds import services
from app.wounds.models import Wound
from app.wounds.schemas import (
    ClinicWoundListArgsSchema,
    WoundListArgsSchema,
    WoundSchema,
    WoundUpdateSchema,
)

blp = Blueprint("wounds", __name__, url_prefix="/api/v1", description="Wounds")


@blp.route("/patients/<uuid:patient_id>/wounds")
class PatientWoundsResource(MethodView):
    @blp.arguments(WoundListArgsSchema, location="query")
    @blp.response(200, page_schema(WoundSchema))
    def get(self, args, patient_id):
        """The patient's wounds, oldest first; filter by status and etiology."""
        patient = get_record(db.session, Patient, patient_id, audit_read=False)
        return services.list_wounds(db.session, patient, args)

    @blp.arguments(WoundSchema)
    @blp.response(201, WoundSchema)
    @blp.alt_response(200, schema=WoundSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, patient_id):
        """Create a wound. Send a client-generated `id` to make retries safe."""
        require("clinical:write")
        patient = get_record(db.session, Patient, patient_id, "clinical:write")
        wound, created = services.create_wound(db.session, patient, data)
        return wound, 201 if created else 200, etag_header(wound)


@blp.route("/wounds")
class WoundsResource(MethodView):
    @blp.arguments(ClinicWoundListArgsSchema, location="query")
    @blp.response(200, page_schema(WoundSchema))
    def get(self, args):
        """Wounds across the caller's clinics; filter by clinic, patient, status, etiology."""
        return services.list_clinic_wounds(db.session, args)


register_record(
    blp,
    RecordType(
        name="Wound",
        path="/wounds/<uuid:wound_id>",
        model=Wound,
        schema=WoundSchema,
        update_schema=WoundUpdateSchema,
        update=services.update_wound,
        delete=services.delete_wound,
        docs={
            "patch": """Amend a wound (If-Match required). Earlier versions stay in its history.

            Setting `status` open on a healed wound reopens it: `healed_on` is
            cleared and the healed date moves into `closures` (with when it was
            reopened), so the trajectory keeps the healing episode it ended. An
            open measurement after the healed date reopens the wound the same way
            (see POST /wounds/{wound_id}/assessments).

            Correcting `in_skin_fold` grades the wound's assessments again (the
            CTCAE/RTOG skin-fold rule reads it), and so does linking the wound to
            another `radiotherapy_course_id` (their acute/late phase reads the
            course's dates): each whose grade moves is amended, with a new version,
            history and a delta-sync update. A later `onset_date` must not pass the
            first assessment (422 naming it).""",
        },
    ),
)
