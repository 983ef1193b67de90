"""Radiotherapy courses, the fraction log and the cumulative dose on a date."""

from datetime import UTC, datetime

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
from app.extensions import db
from app.patients.models import Patient
from app.radiotherapy import services
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse
from app.radiotherapy.schemas import (
    CourseListArgsSchema,
    CourseSchema,
    CourseUpdateSchema,
    DoseArgsSchema,
    DoseSchema,
    FractionListArgsSchema,
    FractionSchema,
    FractionUpdateSchema,
)

blp = Blueprint(
    "radiotherapy",
    __name__,
    url_prefix="/api/v1",
    description="Radiotherapy courses, fraction log, cumulative dose",
)


@blp.route("/patients/<uuid:patient_id>/radiotherapy-courses")
class PatientCoursesResource(MethodView):
    @blp.arguments(CourseListArgsSchema, location="query")
    @blp.response(200, page_schema(CourseSchema))
    def get(self, args, patient_id):
        """The patient's courses, by start date; `updated_since` for delta sync."""
        patient = get_record(db.session, Patient, patient_id, audit_read=False)
        return services.list_courses(db.session, patient, args)

    @blp.arguments(CourseSchema)
    @blp.response(201, CourseSchema)
    @blp.alt_response(200, schema=CourseSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, patient_id):
        """Create a course with its phases; total_dose_cgy is derived.
        Send a client-generated `id` to make retries safe."""
        require("clinical:write")
        patient = get_record(db.session, Patient, patient_id, "clinical:write")
        course, created = services.create_course(db.session, patient, data)
        return course, 201 if created else 200, etag_header(course)


register_record(
    blp,
    RecordType(
        name="Course",
        path="/radiotherapy-courses/<uuid:course_id>",
        model=RadiotherapyCourse,
        schema=CourseSchema,
        update_schema=CourseUpdateSchema,
        update=services.update_course,
        delete=services.delete_course,
        restore=services.restore_course,
        present=services.with_delivered_count,
        # The course's rules read its logged fractions and phases: a concurrent
        # amendment must wait rather than pass them on a stale read.
        lock_on_update=True,
        noun="course",
        docs={
            "patch": """Amend a course (If-Match required). `phases`, when sent, replaces all
            phases; earlier versions (with their phases) stay in its history.""",
            "history": "Every version of the course, each snapshot with its phases.",
        },
    ),
)


@blp.route("/radiotherapy-courses/<uuid:course_id>/fractions")
class FractionsResource(MethodView):
    @blp.arguments(FractionListArgsSchema, location="query")
    @blp.response(200, page_schema(FractionSchema))
    def get(self, args, course_id):
        """The fraction log of a course, by delivery date."""
        course = get_record(db.session, RadiotherapyCourse, course_id, audit_read=False)
        return services.list_fractions(db.session, course, args)

    @blp.arguments(FractionSchema)
    @blp.response(201, FractionSchema)
    @blp.alt_response(200, schema=FractionSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, course_id):
        """Log a delivered fraction; delivered_on must lie within the course and not
        in the future. Send a client-generated `id` to make retries safe."""
        require("clinical:write")
        course = get_record(db.session, RadiotherapyCourse, course_id, "clinical:write")
        fraction, created = services.log_fraction(db.session, course, data)
        return fraction, 201 if created else 200, etag_header(fraction)


register_record(
    blp,
    RecordType(
        name="Fraction",
        path="/fractions/<uuid:fraction_id>",
        model=FractionDelivery,
        schema=FractionSchema,
        update_schema=FractionUpdateSchema,
        update=services.update_fraction,
        delete=services.delete_fraction,
        restore=services.restore_fraction,
        docs={
            "get": "One logged fraction. The ETag is needed to correct or delete it.",
            "patch": """Correct a fraction logged with the wrong date or dose (If-Match required).
            A new delivered_on must still fall within the course. The cumulative dose
            uses the correction at once; earlier versions stay in the fraction's history.""",
            "delete": (
                "Mark a fraction logged by mistake deleted (If-Match required): it leaves the\n"
                "log, the cumulative dose and the delivered count. An admin can restore it."
            ),
            "history": "Every version of the fraction: who changed which fields, when.",
            "restore": """Undo a delete (admin). 409 when the course's dates were amended meanwhile
            so that the fraction no longer falls within them.""",
        },
        responses={"restore": {409: "Not deleted, or now outside its course's dates"}},
    ),
)


@blp.route("/radiotherapy-courses/<uuid:course_id>/dose")
class DoseResource(MethodView):
    @blp.arguments(DoseArgsSchema, location="query")
    @blp.response(200, DoseSchema)
    def get(self, args, course_id):
        """Cumulative dose delivered by the end of `on` (default today, UTC). `source`
        says whether it came from the fraction log or the planned weekday schedule."""
        course = get_record(db.session, RadiotherapyCourse, course_id)
        today = datetime.now(UTC).date()  # UTC, as the future-date checks use
        return services.dose_on(db.session, course, args.get("on") or today)
