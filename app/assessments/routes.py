"""Assessments of a wound, and clinician grade overrides."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.assessments import services
from app.assessments.models import Assessment
from app.assessments.schemas import (
    AssessmentListArgsSchema,
    AssessmentSchema,
    AssessmentUpdateSchema,
    GradeOverrideInSchema,
)
from app.core import records
from app.core.access import get_record, require
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
from app.extensions import db
from app.wounds.models import Wound

blp = Blueprint(
    "assessments",
    __name__,
    url_prefix="/api/v1",
    description="Wound assessments: measurements, findings, derived grades and scores",
)


@blp.route("/wounds/<uuid:wound_id>/assessments")
class WoundAssessmentsResource(MethodView):
    @blp.arguments(AssessmentListArgsSchema, location="query")
    @blp.response(200, page_schema(AssessmentSchema))
    def get(self, args, wound_id):
        """Assessments of a wound in assessed_at order; `from`/`to` bound assessed_at
        (inclusive); `updated_since` for delta sync (tombstones for deleted ones)."""
        require("clinical:read")
        wound = records.load_parent(db.session, Wound, wound_id, columns=services.WOUND_FACTS)
        return services.list_assessments(db.session, wound, args)

    # An instance, not the class: webargs would build (and deep-copy the fields
    # of) a new schema on every request. The schema keeps no per-request state.
    @blp.arguments(AssessmentSchema())
    @blp.response(201, AssessmentSchema)
    @blp.alt_response(200, schema=AssessmentSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, wound_id):
        """Record an assessment. Grades, PUSH, BWAT total and area are derived on
        write. Send a client-generated `id` to make retries safe.

        `length_cm` and `width_cm` go together (422 naming the missing one): the
        ellipse area needs both. An open measurement (not closed, area above 0)
        on a later day (UTC) than a healed wound's `healed_on` reopens the wound:
        it becomes open, its healed date moves into its `closures` (with this
        assessment's id), and the change is in the wound's history and the audit
        log like any amendment. The trajectory then shows the recurrence as a
        new healing episode. A closed assessment, or one without an area, never
        reopens a wound."""
        require("clinical:write")
        wound = records.load_parent(db.session, Wound, wound_id, columns=services.WOUND_FACTS)
        assessment, created = services.create_assessment(db.session, wound, data)
        return assessment, 201 if created else 200, etag_header(assessment)


register_record(
    blp,
    RecordType(
        name="Assessment",
        path="/assessments/<uuid:assessment_id>",
        model=Assessment,
        schema=AssessmentSchema,
        update_schema=AssessmentUpdateSchema,
        update=services.update_assessment,
        delete=services.delete_assessment,
        restore=services.restore_assessment,
        docs={
            "patch": """Amend an assessment (If-Match required); derived values are recomputed.
            Earlier versions stay in its history. A length needs a width and the
            reverse (422). An amendment that makes it an open measurement after a
            healed wound's healed date reopens the wound, as a create does.""",
            "history": "Every version of the assessment: who changed which fields, when.",
            "restore": """Undo a delete (admin). 409 when the wound's onset was corrected, while
            the assessment was deleted, to a date after it.""",
        },
        responses={"restore": {409: "Not deleted, or now before the wound's onset"}},
    ),
)

_OVERRIDE_REPLAY = "Replay of an override sent with the same client `id` and content"
_OVERRIDE_CONFLICT = (
    "The client `id` was used for other content (the stored override in `stored`), or"
    " `value` is null and no override of the scale is in force"
)


@blp.route("/assessments/<uuid:assessment_id>/grade-override")
class GradeOverrideResource(MethodView):
    @blp.arguments(GradeOverrideInSchema)
    @blp.response(201, AssessmentSchema)
    @blp.alt_response(200, schema=AssessmentSchema, description=_OVERRIDE_REPLAY)
    @blp.alt_response(409, description=_OVERRIDE_CONFLICT)
    def post(self, data, assessment_id):
        """Override a derived grade (clinicians), with a reason. The derived grade is
        kept; the response shows both (`ctcae_grade`/`rtog_grade` derived,
        `grade_override`, `grade_overrides` and `effective_grades`).

        `value: null` withdraws the override in force on the scale (entered in
        error, or reconsidered), with the reason: the derived grade applies
        again everywhere (the assessment, trajectories, the dashboard, exports)
        and both the override and its withdrawal stay in the assessment's
        history and the audit log. A later override applies as usual."""
        assessment = get_record(db.session, Assessment, assessment_id, "grade:override")
        assessment, created = services.override_grade(db.session, assessment, data)
        return assessment, 201 if created else 200, etag_header(assessment)
