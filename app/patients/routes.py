"""Patients."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.access import require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
from app.extensions import db
from app.patients import services
from app.patients.models import Patient
from app.patients.schemas import PatientListArgsSchema, PatientSchema, PatientUpdateSchema

blp = Blueprint("patients", __name__, url_prefix="/api/v1", description="Patients")


@blp.route("/patients")
class PatientsResource(MethodView):
    @blp.arguments(PatientListArgsSchema, location="query")
    @blp.response(200, page_schema(PatientSchema))
    def get(self, args):
        """Patients of the caller's clinics, oldest first; `updated_since` for delta sync."""
        return services.list_patients(db.session, args)

    @blp.arguments(PatientSchema)
    @blp.response(201, PatientSchema)
    @blp.alt_response(200, schema=PatientSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data):
        """Create a patient. Send a client-generated `id` to make retries safe."""
        require("clinical:write")
        patient, created = services.create_patient(db.session, data)
        return patient, 201 if created else 200, etag_header(patient)


register_record(
    blp,
    RecordType(
        name="Patient",
        path="/patients/<uuid:patient_id>",
        model=Patient,
        schema=PatientSchema,
        update_schema=PatientUpdateSchema,
        update=services.update_patient,
        delete=services.delete_patient,
    ),
)
