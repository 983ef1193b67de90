"""Patients."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core import records
from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.schemas import HistorySchema, page_schema
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


@blp.route("/patients/<uuid:patient_id>")
class PatientResource(MethodView):
    @blp.response(200, PatientSchema)
    def get(self, patient_id):
        """One patient. The ETag is needed to amend or delete it."""
        patient = get_record(db.session, Patient, patient_id)
        return patient, 200, etag_header(patient)

    @blp.arguments(PatientUpdateSchema)
    @blp.response(200, PatientSchema)
    @blp.alt_response(412, description="Stale If-Match; the current record is in `current`")
    @blp.alt_response(428, description="If-Match missing")
    def patch(self, changes, patient_id):
        """Amend a patient (If-Match required). Earlier versions stay in its history."""
        patient = get_record(db.session, Patient, patient_id, "clinical:write")
        patient = services.update_patient(db.session, patient, changes)
        return patient, 200, etag_header(patient)

    @blp.response(200, PatientSchema)
    def delete(self, patient_id):
        """Mark a patient deleted (If-Match required). An admin can restore it."""
        patient = get_record(db.session, Patient, patient_id, "clinical:write")
        patient = services.delete_patient(db.session, patient)
        return patient, 200, etag_header(patient)


@blp.route("/patients/<uuid:patient_id>/history")
class PatientHistoryResource(MethodView):
    @blp.response(200, HistorySchema)
    def get(self, patient_id):
        """Every version of the patient record: who changed which fields, when."""
        patient = get_record(db.session, Patient, patient_id, include_deleted=True)
        return {"items": records.history(db.session, patient)}


@blp.route("/patients/<uuid:patient_id>/restore")
class PatientRestoreResource(MethodView):
    @blp.response(200, PatientSchema)
    def post(self, patient_id):
        """Undo a delete (admin)."""
        patient = records.restore(db.session, Patient, patient_id)
        return patient, 200, etag_header(patient)
