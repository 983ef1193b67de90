"""Therapy context: systemic therapy courses and their changes, topical
treatments of a wound, laboratory results."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.core import records
from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import ListArgsSchema, page_schema
from app.extensions import db
from app.patients.models import Patient
from app.therapy import courses, labs, topicals, writes
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange, TopicalTreatment
from app.therapy.schemas import (
    ExposureArgsSchema,
    ExposureSchema,
    LabListArgsSchema,
    LabResultSchema,
    LabResultUpdateSchema,
    SystemicTherapySchema,
    SystemicTherapyUpdateSchema,
    TherapyChangeSchema,
    TherapyChangeUpdateSchema,
    TopicalTreatmentSchema,
    TopicalTreatmentUpdateSchema,
)
from app.wounds.models import Wound

blp = Blueprint(
    "therapy",
    __name__,
    url_prefix="/api/v1",
    description="Therapy context: systemic therapy, topical treatments, lab results",
)

_REPLAY = "Replay of an earlier create"
_REUSED = "The id was used for different content; the stored record is in `stored`"


def _write_parent(model, parent_id):
    """The path parent of a create, for a caller who may write (404 across clinics).

    Locked (FOR UPDATE on PostgreSQL, the write lock on SQLite) because the rules
    of a new course or change read its siblings: two concurrent creates must not
    both pass them.
    """
    require("clinical:write")
    parent = get_record(db.session, model, parent_id, audit_read=False, for_update=True)
    writes.lock_on_sqlite(db.session, parent)
    return parent


# --- systemic therapies ---------------------------------------------------------


@blp.route("/patients/<uuid:patient_id>/systemic-therapies")
class TherapiesResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(SystemicTherapySchema))
    def get(self, args, patient_id):
        """The patient's systemic therapy courses, by start date."""
        patient = records.load_parent(db.session, Patient, patient_id)
        return courses.list_therapies(db.session, patient, args)

    @blp.arguments(SystemicTherapySchema)
    @blp.response(201, SystemicTherapySchema)
    @blp.alt_response(200, schema=SystemicTherapySchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data, patient_id):
        """Start a course, e.g. anlotinib 12 mg daily, 14 days on / 7 off.

        422 naming the rule for: an overlapping course of the same agent
        (overlapping_course), dose <= 0 (dose_positive), days_on of 0
        (days_on_positive), stop_date before start_date (stop_before_start).
        """
        patient = _write_parent(Patient, patient_id)
        therapy, created = courses.create_therapy(db.session, patient, data)
        return therapy, 201 if created else 200, etag_header(therapy)


register_record(
    blp,
    RecordType(
        name="Therapy",
        path="/systemic-therapies/<uuid:therapy_id>",
        model=SystemicTherapy,
        schema=SystemicTherapySchema,
        update_schema=SystemicTherapyUpdateSchema,
        update=courses.update_therapy,
        delete=courses.delete_therapy,
        restore=courses.restore_therapy,
        docs={
            "get": "One course with its changes and today's derived state (on drug, dose, cycle).",
            "patch": "Amend a course (If-Match). It must stay consistent with its recorded"
            " changes.",
            "delete": "Mark a course deleted (If-Match). An admin can restore it.",
            "history": "Every version of the course record.",
            "restore": "Undo a delete (admin); refused (422) if another course of the agent now"
            " overlaps.",
        },
    ),
)


@blp.route("/systemic-therapies/<uuid:therapy_id>/changes")
class TherapyChangesResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(TherapyChangeSchema))
    def get(self, args, therapy_id):
        """The course's dated changes, in date order."""
        therapy = records.load_parent(db.session, SystemicTherapy, therapy_id)
        return courses.list_changes(db.session, therapy, args)

    @blp.arguments(TherapyChangeSchema)
    @blp.response(201, TherapyChangeSchema)
    @blp.alt_response(200, schema=TherapyChangeSchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data, therapy_id):
        """Record a change from `effective_on` on: dose_reduced (with the new, lower
        dose), held, resumed (optionally at a new dose) or stopped, with its reason.

        422 naming the rule for a change before the course start
        (change_before_start), a reduction without a lower dose
        (dose_reduced_needs_dose, dose_reduced_lower) or an impossible sequence
        (change_sequence: resumed without a hold, anything after stopped).
        """
        therapy = _write_parent(SystemicTherapy, therapy_id)
        change, created = courses.add_change(db.session, therapy, data)
        return change, 201 if created else 200, etag_header(change)


register_record(
    blp,
    RecordType(
        name="TherapyChange",
        path="/therapy-changes/<uuid:change_id>",
        model=TherapyChange,
        schema=TherapyChangeSchema,
        update_schema=TherapyChangeUpdateSchema,
        update=courses.update_change,
        delete=courses.delete_change,
        restore=courses.restore_change,
        docs={
            "get": "One recorded change. The ETag is needed to correct or delete it.",
            "patch": """Correct a change recorded with the wrong date, kind, dose or reason
            (If-Match). The course must keep its rules (422 naming the field and the
            rule, as when the change was recorded); its version moves too.""",
            "delete": """Withdraw a change recorded by mistake (If-Match). 409 when the course would
            break a rule without it (a resume left without its hold). An admin can restore it.""",
            "history": "Every version of the change: who changed which fields, when.",
            "restore": """Undo a delete (admin). 409 when the course as it now stands would break a
            rule with the change back.""",
        },
        responses={
            "patch": {409: "The correction would make the course overlap another"},
            "delete": {409: "The course would break a rule without this change"},
            "restore": {409: "Not deleted, or the course would break a rule with it"},
        },
    ),
)


@blp.route("/systemic-therapies/<uuid:therapy_id>/exposure")
class TherapyExposureResource(MethodView):
    @blp.arguments(ExposureArgsSchema, location="query")
    @blp.response(200, ExposureSchema)
    def get(self, args, therapy_id):
        """Days on drug, on/off bands with the dose, and cycle numbers over [from, to]
        (both inclusive). Cycles run on the calendar from the start date; a hold does
        not shift them."""
        therapy = get_record(db.session, SystemicTherapy, therapy_id)
        return courses.exposure(therapy, args.get("from_"), args.get("to"))


# --- topical treatments -----------------------------------------------------------


@blp.route("/wounds/<uuid:wound_id>/topical-treatments")
class TopicalsResource(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, page_schema(TopicalTreatmentSchema))
    def get(self, args, wound_id):
        """Topical and supportive treatments of the wound, by start date."""
        wound = records.load_parent(db.session, Wound, wound_id)
        return topicals.list_topicals(db.session, wound, args)

    @blp.arguments(TopicalTreatmentSchema)
    @blp.response(201, TopicalTreatmentSchema)
    @blp.alt_response(200, schema=TopicalTreatmentSchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data, wound_id):
        """Record a topical treatment; stop_date must not be before start_date."""
        wound = _write_parent(Wound, wound_id)
        topical, created = topicals.create_topical(db.session, wound, data)
        return topical, 201 if created else 200, etag_header(topical)


register_record(
    blp,
    RecordType(
        name="Topical",
        path="/topical-treatments/<uuid:topical_id>",
        model=TopicalTreatment,
        schema=TopicalTreatmentSchema,
        update_schema=TopicalTreatmentUpdateSchema,
        update=topicals.update_topical,
        delete=topicals.delete_topical,
        docs={
            "get": "One topical treatment.",
            "patch": "Amend a topical treatment (If-Match), e.g. set its stop date.",
            "delete": "Mark a topical treatment deleted (If-Match).",
            "history": "Every version of the topical treatment record.",
        },
    ),
)


# --- laboratory results ---------------------------------------------------------------


@blp.route("/patients/<uuid:patient_id>/lab-results")
class LabsResource(MethodView):
    @blp.arguments(LabListArgsSchema, location="query")
    @blp.response(200, page_schema(LabResultSchema))
    def get(self, args, patient_id):
        """The patient's lab results, oldest first; `test` filters one test."""
        patient = records.load_parent(db.session, Patient, patient_id)
        return labs.list_labs(db.session, patient, args)

    @blp.arguments(LabResultSchema)
    @blp.response(201, LabResultSchema)
    @blp.alt_response(200, schema=LabResultSchema, description=_REPLAY)
    @blp.alt_response(409, description=_REUSED)
    def post(self, data, patient_id):
        """Record a result; it is converted to the canonical unit and graded by
        CTCAE v5.0 against the configured lower limits of normal.

        422 on `unit` for an unknown unit (listing the accepted ones, rule
        accepted_unit), on `value` for an impossible magnitude (plausible_range).
        """
        patient = _write_parent(Patient, patient_id)
        lab, created = labs.create_lab(db.session, patient, data)
        return lab, 201 if created else 200, etag_header(lab)


register_record(
    blp,
    RecordType(
        name="Lab",
        path="/lab-results/<uuid:lab_id>",
        model=LabResult,
        schema=LabResultSchema,
        update_schema=LabResultUpdateSchema,
        update=labs.update_lab,
        delete=labs.delete_lab,
        docs={
            "get": "One lab result with its canonical value and CTCAE grade.",
            "patch": "Amend a result (If-Match); it is converted and graded again.",
            "delete": "Mark a result deleted (If-Match).",
            "history": "Every version of the lab result record.",
        },
    ),
)
