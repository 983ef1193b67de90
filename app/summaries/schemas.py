"""Query arguments and response shapes of the summaries (documented in OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.clinical.trajectory import STATUSES
from app.core.schemas import StrictSchema
from app.summaries.chart import MAX_HEIGHT, MAX_WIDTH, MIN_HEIGHT, MIN_WIDTH
from app.summaries.dashboard import SORTS
from app.wounds.models import ETIOLOGIES


class ChartArgsSchema(StrictSchema):
    width = fields.Integer(
        load_default=800,
        validate=validate.Range(min=MIN_WIDTH, max=MAX_WIDTH),
        metadata={"description": f"Pixels, {MIN_WIDTH}-{MAX_WIDTH} (default 800)"},
    )
    height = fields.Integer(
        load_default=400,
        validate=validate.Range(min=MIN_HEIGHT, max=MAX_HEIGHT),
        metadata={"description": f"Pixels, {MIN_HEIGHT}-{MAX_HEIGHT} (default 400)"},
    )


class DashboardArgsSchema(StrictSchema):
    clinic_id = fields.UUID(
        metadata={"description": "Required only when the caller belongs to several clinics"}
    )
    status = fields.List(
        fields.String(validate=validate.OneOf(STATUSES)),
        metadata={"description": "Trajectory statuses to show (repeat the parameter for several)"},
    )
    grade_min = fields.Integer(
        validate=validate.Range(min=0, max=5),
        metadata={"description": "Latest effective grade (worse of CTCAE/RTOG) at least this"},
    )
    site = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Substring of body_site, case-insensitive"},
    )
    etiology = fields.String(validate=validate.OneOf(ETIOLOGIES))
    nurse = fields.UUID(metadata={"description": "User id who created the wound or assessed it"})
    anti_angiogenic = fields.Boolean(
        metadata={
            "description": "Patient is (true) / is not (false) on an anti-angiogenic drug today"
        }
    )
    sort = fields.String(
        load_default="priority",
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "priority (deteriorating, stalled, then overdue, then worst grade);"
            " days_since_assessment (longest first); grade (worst first); par (lowest first);"
            " onset (oldest first); site (A-Z)"
        },
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Length(max=2000))


class PointSchema(Schema):
    at = fields.String()
    area_cm2 = fields.Float(allow_none=True)
    assessment_id = fields.String()


class SeriesItemSchema(Schema):
    at = fields.String()
    assessment_id = fields.String()
    area_cm2 = fields.Float(allow_none=True)
    area_method = fields.String(allow_none=True)
    length_cm = fields.Float(allow_none=True)
    width_cm = fields.Float(allow_none=True)
    push_total = fields.Integer(allow_none=True)
    closed = fields.Boolean()
    ctcae_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective (override applied)"}
    )
    rtog_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective (override applied)"}
    )
    ctcae_derived = fields.Integer(allow_none=True)
    rtog_derived = fields.Integer(allow_none=True)
    overridden = fields.Dict(keys=fields.String(), values=fields.Boolean())


class TrajectoryProcedureSchema(Schema):
    id = fields.String()
    performed_at = fields.String()
    kind = fields.String()
    debridement = fields.Dict(allow_none=True)
    prp = fields.Dict(allow_none=True)
    area_before = fields.Nested(PointSchema, allow_none=True)
    area_after = fields.Nested(PointSchema, allow_none=True)


class TrajectorySchema(Schema):
    wound_id = fields.String()
    patient_id = fields.String()
    body_site = fields.String()
    wound_status = fields.String()
    onset_date = fields.String()
    healed_on = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "|".join(STATUSES)})
    rule = fields.String(metadata={"description": "The rule that decided the status"})
    rules = fields.Dict(metadata={"description": "Thresholds applied"})
    baseline = fields.Nested(PointSchema, allow_none=True)
    latest = fields.Nested(PointSchema, allow_none=True)
    par_pct = fields.Float(allow_none=True)
    par_week4_pct = fields.Float(allow_none=True)
    par_week4_note = fields.String(allow_none=True)
    weekly_area_change_cm2 = fields.Float(allow_none=True)
    gilman_cm_per_week = fields.Float(allow_none=True)
    k_per_day = fields.Float(allow_none=True)
    projected_closure_on = fields.String(allow_none=True)
    projection_note = fields.String(allow_none=True)
    days_to_closure = fields.Integer(allow_none=True)
    series = fields.List(fields.Nested(SeriesItemSchema))
    procedures = fields.List(fields.Nested(TrajectoryProcedureSchema))
    radiotherapy = fields.Dict(allow_none=True)
    dose_at_onset_cgy = fields.Float(allow_none=True)
    grade_history = fields.Dict()
    therapy = fields.Dict(allow_none=True)


class DashboardItemSchema(Schema):
    wound_id = fields.String()
    patient = fields.Dict()
    body_site = fields.String()
    laterality = fields.String()
    etiology = fields.String()
    onset_date = fields.String()
    status = fields.String()
    rule = fields.String()
    par_pct = fields.Float(allow_none=True)
    par_week4_pct = fields.Float(allow_none=True)
    assessment_count = fields.Integer()
    last_assessed_at = fields.String(allow_none=True)
    days_since_assessment = fields.Integer()
    overdue = fields.Boolean()
    latest_grade = fields.Dict()
    grade = fields.Integer(allow_none=True)
    grade_3_plus = fields.Boolean()


class DashboardSchema(Schema):
    clinic_id = fields.String()
    overdue_after_days = fields.Integer()
    rules = fields.Dict()
    items = fields.List(fields.Nested(DashboardItemSchema))
    next_cursor = fields.String(allow_none=True)
    counts = fields.Dict()


class PatientSummarySchema(Schema):
    patient = fields.Dict()
    wounds = fields.List(fields.Dict())
    radiotherapy_courses = fields.List(fields.Dict())
    systemic_therapies = fields.List(fields.Dict())
    timeline = fields.List(fields.Dict())
