"""Query arguments and response shapes of the summaries (documented in OpenAPI).

The response schemas dump the summaries' dicts as they are built: fields are
declared in the order the builders write their keys (the JSON keeps that
order), and a key a builder leaves out of an entry (e.g. a timeline event's
``at``) is left out of the dump too. tests/summaries/test_summary_schemas.py
checks real answers against both the schemas and the OpenAPI document.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.clinical.progress import CHECKPOINT_STATES
from app.clinical.trajectory import STATUSES
from app.core.schemas import StrictSchema
from app.procedures.models import PROCEDURE_KINDS
from app.summaries.chart import MAX_HEIGHT, MAX_WIDTH, MIN_HEIGHT, MIN_WIDTH
from app.summaries.dashboard import SORTS
from app.summaries.healing_schemas import (
    TrajectoryAreaMethodsSchema,
    TrajectoryCheckpointSchema,
    TrajectoryEpisodeSchema,
    TrajectoryRecallSchema,
    TrajectoryRecentChangeSchema,
)
from app.summaries.symptom_schemas import TrajectorySymptomsSchema
from app.therapy.models import CHANGE_KINDS
from app.wounds.models import ETIOLOGIES, WOUND_STATUSES


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
    record = fields.List(
        fields.String(validate=validate.OneOf(WOUND_STATUSES)),
        metadata={
            "description": "Record statuses of the wounds listed (repeatable; default open):"
            " healed lists healed wounds, open and healed every wound"
        },
    )
    grade_min = fields.Integer(
        validate=validate.Range(min=0, max=5),
        metadata={
            "description": "Latest effective grade on the clinic's primary scale at least this"
        },
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
            "description": "priority (deteriorating, recurred, stalled, then overdue, then worst"
            " grade); days_since_assessment (longest first); grade (worst first, primary"
            " scale); par (lowest first);"
            " onset (oldest first); site (A-Z)"
        },
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Length(max=2000))


# ----------------------------------------------------------------- shared pieces


class TrajectoryAreaSchema(Schema):
    """An area and when it was measured (the trajectory's baseline or latest)."""

    at = fields.String()
    area_cm2 = fields.Float()


class PointSchema(Schema):
    at = fields.String()
    area_cm2 = fields.Float(allow_none=True)
    assessment_id = fields.String()


class TrajectoryRulesSchema(Schema):
    """The thresholds a status was judged by (app/clinical/trajectory.TrajectoryRules)."""

    par_threshold_pct = fields.Float()
    par_week = fields.Integer()
    week_window_days = fields.Integer()
    deteriorating_margin_pct = fields.Float()
    min_points_for_projection = fields.Integer()
    min_days_for_projection = fields.Integer()
    max_projection_days = fields.Integer()
    min_days_for_trend = fields.Integer()
    recent_window_days = fields.Integer()


class TrajectoryOverriddenSchema(Schema):
    ctcae = fields.Boolean()
    rtog = fields.Boolean()


class DashboardGradesSchema(Schema):
    ctcae = fields.Integer(allow_none=True)
    rtog = fields.Integer(allow_none=True)


# -------------------------------------------------------------------- trajectory


class SeriesItemSchema(Schema):
    at = fields.String()
    assessment_id = fields.String()
    area_cm2 = fields.Float(allow_none=True)
    area_method = fields.String(allow_none=True)
    length_cm = fields.Float(allow_none=True)
    width_cm = fields.Float(allow_none=True)
    push_total = fields.Integer(allow_none=True)
    closed = fields.Boolean()
    episode = fields.Integer(metadata={"description": "The healing episode it belongs to"})
    ctcae_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective (override applied)"}
    )
    rtog_grade = fields.Integer(
        allow_none=True, metadata={"description": "Effective (override applied)"}
    )
    ctcae_derived = fields.Integer(allow_none=True)
    rtog_derived = fields.Integer(allow_none=True)
    overridden = fields.Nested(
        TrajectoryOverriddenSchema,
        metadata={"description": "Whether an override is in force per scale"},
    )


class TrajectoryDebridementSchema(Schema):
    method = fields.String(allow_none=True)
    to_bleeding = fields.Boolean(allow_none=True)


class TrajectoryPrpSchema(Schema):
    form = fields.String(allow_none=True)
    volume_ml = fields.Float(allow_none=True)
    activator = fields.String(allow_none=True)


class TrajectoryProcedureSchema(Schema):
    id = fields.String()
    performed_at = fields.String()
    kind = fields.String(validate=validate.OneOf(PROCEDURE_KINDS))
    debridement = fields.Nested(TrajectoryDebridementSchema, allow_none=True)
    prp = fields.Nested(TrajectoryPrpSchema, allow_none=True)
    area_before = fields.Nested(
        PointSchema,
        allow_none=True,
        metadata={"description": "Last measured assessment at or before the procedure"},
    )
    area_after = fields.Nested(
        PointSchema, allow_none=True, metadata={"description": "First measured one after it"}
    )


class TrajectoryRadiotherapySchema(Schema):
    """The wound's radiotherapy course and the dose delivered when it opened."""

    course_id = fields.String()
    target_site = fields.String()
    start_date = fields.String()
    end_date = fields.String(allow_none=True)
    total_dose_cgy = fields.Float(metadata={"description": "Planned, over all phases"})
    fractions_planned = fields.Integer()
    dose_at_onset_cgy = fields.Float(allow_none=True)
    fraction_number_at_onset = fields.Integer(allow_none=True)
    onset = fields.String(
        validate=validate.OneOf(("during", "after", "before", "unknown")),
        metadata={"description": "When the wound opened relative to the course"},
    )
    source = fields.String(
        allow_none=True, metadata={"description": "Fraction log or planned schedule"}
    )
    note = fields.String(allow_none=True)


class TrajectoryGradeAtSchema(Schema):
    value = fields.Integer()
    at = fields.String()
    assessment_id = fields.String()


class TrajectoryGradeHistorySchema(Schema):
    """Worst effective grade per scale (first reached) and the latest."""

    worst_ctcae = fields.Nested(TrajectoryGradeAtSchema, allow_none=True)
    latest_ctcae = fields.Nested(TrajectoryGradeAtSchema, allow_none=True)
    worst_rtog = fields.Nested(TrajectoryGradeAtSchema, allow_none=True)
    latest_rtog = fields.Nested(TrajectoryGradeAtSchema, allow_none=True)


class TrajectoryTherapyWindowSchema(Schema):
    start = fields.String()
    end = fields.String()


class TrajectoryDoseBandSchema(Schema):
    start = fields.String()
    end = fields.String()
    dose = fields.Float()


class TrajectoryTherapyCourseSchema(Schema):
    """A systemic course over the healing period with its on-drug bands."""

    id = fields.String()
    agent = fields.String()
    agent_code = fields.String(allow_none=True)
    anti_angiogenic = fields.Boolean()
    dose_unit = fields.String()
    start_date = fields.String()
    stop_date = fields.String(allow_none=True)
    days_on = fields.Integer()
    days_off = fields.Integer()
    exposure_days = fields.Integer()
    bands = fields.List(fields.Nested(TrajectoryDoseBandSchema))


class TrajectoryAntiAngiogenicBandSchema(Schema):
    therapy_id = fields.String()
    agent = fields.String()
    dose_unit = fields.String()
    start = fields.String()
    end = fields.String()
    dose = fields.Float()


class TrajectoryDoseChangeSchema(Schema):
    therapy_id = fields.String()
    agent = fields.String()
    effective_on = fields.String()
    kind = fields.String(validate=validate.OneOf(CHANGE_KINDS))
    dose = fields.Float(allow_none=True)
    dose_unit = fields.String()
    reason = fields.String()


class TrajectoryTopicalSchema(Schema):
    id = fields.String()
    category = fields.String()
    product = fields.String()
    start_date = fields.String()
    stop_date = fields.String(allow_none=True)


class TrajectoryLabSchema(Schema):
    value = fields.Float()
    unit = fields.String()
    taken_at = fields.String()
    ctcae_term = fields.String(allow_none=True)
    ctcae_grade = fields.Integer(allow_none=True)


class TrajectoryLabsAtProcedureSchema(Schema):
    procedure_id = fields.String()
    performed_at = fields.String()
    labs = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(TrajectoryLabSchema),
        metadata={"description": "Latest result of each test at or before it, by test"},
    )


class TrajectoryTherapySchema(Schema):
    """Therapy over the healing period (onset to healing, else today)."""

    window = fields.Nested(TrajectoryTherapyWindowSchema)
    note = fields.String(
        metadata={"description": "Only when the window is too long to report; then no therapies"}
    )
    therapies = fields.List(fields.Nested(TrajectoryTherapyCourseSchema))
    anti_angiogenic_bands = fields.List(fields.Nested(TrajectoryAntiAngiogenicBandSchema))
    dose_changes = fields.List(fields.Nested(TrajectoryDoseChangeSchema))
    anti_angiogenic_exposure_days = fields.Integer()
    topical_treatments = fields.List(fields.Nested(TrajectoryTopicalSchema))
    labs_at_procedures = fields.List(fields.Nested(TrajectoryLabsAtProcedureSchema))


class TrajectoryErythemaSchema(Schema):
    """One colour measure of a photo of the wound (POST /photos/{id}/colour)."""

    measure_id = fields.String()
    photo_id = fields.String()
    at = fields.String(metadata={"description": "The photo's capture time"})
    L = fields.Float(metadata={"description": "CIELAB L* (D65) of the treated region"})
    a = fields.Float(metadata={"description": "CIELAB a* of the treated region"})
    b = fields.Float(metadata={"description": "CIELAB b* of the treated region"})
    reference_a = fields.Float(metadata={"description": "a* of the unirradiated reference"})
    delta_a = fields.Float(metadata={"description": "a* region - reference"})
    delta_e2000 = fields.Float()
    ita = fields.Float(allow_none=True, metadata={"description": "ITA of the region, degrees"})
    erythema_index = fields.Float(metadata={"description": "100 x log10(R/G) of the region"})
    delta_erythema_index = fields.Float()
    calibration = fields.String(metadata={"description": "colour_checker | uncalibrated"})


class TrajectorySchema(Schema):
    wound_id = fields.String()
    patient_id = fields.String()
    body_site = fields.String()
    wound_status = fields.String()
    onset_date = fields.String()
    healed_on = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    rule = fields.String(metadata={"description": "The reasons, joined; the first decided"})
    reasons = fields.List(
        fields.String(), metadata={"description": "Why: the reason that decided first"}
    )
    rules = fields.Nested(TrajectoryRulesSchema, metadata={"description": "Thresholds applied"})
    episode = fields.Integer(metadata={"description": "The current healing episode"})
    episodes = fields.List(fields.Nested(TrajectoryEpisodeSchema))
    baseline = fields.Nested(
        TrajectoryAreaSchema, allow_none=True, metadata={"description": "Of the current episode"}
    )
    latest = fields.Nested(TrajectoryAreaSchema, allow_none=True)
    par_pct = fields.Float(allow_none=True)
    area_methods = fields.Nested(TrajectoryAreaMethodsSchema, allow_none=True)
    week4_checkpoint = fields.Nested(TrajectoryCheckpointSchema)
    par_week4_pct = fields.Float(
        allow_none=True, metadata={"description": "week4_checkpoint.par_pct"}
    )
    par_week4_note = fields.String(
        allow_none=True, metadata={"description": "week4_checkpoint.note"}
    )
    recent_change = fields.Nested(TrajectoryRecentChangeSchema, allow_none=True)
    weekly_area_change_cm2 = fields.Float(allow_none=True)
    gilman_cm_per_week = fields.Float(allow_none=True)
    k_per_day = fields.Float(allow_none=True)
    projected_closure_on = fields.String(allow_none=True)
    projection_note = fields.String(allow_none=True)
    days_to_closure = fields.Integer(allow_none=True)
    series = fields.List(fields.Nested(SeriesItemSchema))
    procedures = fields.List(fields.Nested(TrajectoryProcedureSchema))
    erythema = fields.List(
        fields.Nested(TrajectoryErythemaSchema),
        metadata={"description": "Colour measures of the wound's photos, oldest first"},
    )
    radiotherapy = fields.Nested(TrajectoryRadiotherapySchema, allow_none=True)
    dose_at_onset_cgy = fields.Float(allow_none=True)
    grade_history = fields.Nested(TrajectoryGradeHistorySchema)
    symptoms = fields.Nested(
        TrajectorySymptomsSchema,
        metadata={"description": "Patient-reported symptoms beside the clinician's grade"},
    )
    therapy = fields.Nested(TrajectoryTherapySchema, allow_none=True)
    radiation_recall = fields.Nested(
        TrajectoryRecallSchema,
        allow_none=True,
        metadata={
            "description": "CTCAE v5.0 'Radiation recall reaction (dermatologic)': flagged when "
            "the wound began after its radiotherapy course ended while the patient was on a "
            "systemic therapy course; null when no course is linked"
        },
    )


# --------------------------------------------------------------------- dashboard


class DashboardPatientSchema(Schema):
    id = fields.String()
    mrn = fields.String()
    given_name = fields.String()
    family_name = fields.String()


class DashboardItemSchema(Schema):
    wound_id = fields.String()
    patient = fields.Nested(DashboardPatientSchema)
    body_site = fields.String()
    laterality = fields.String()
    etiology = fields.String()
    onset_date = fields.String()
    wound_status = fields.String(metadata={"description": "The record: open (or healed)"})
    healed_on = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    rule = fields.String()
    par_pct = fields.Float(allow_none=True)
    par_week4_pct = fields.Float(allow_none=True)
    week4_checkpoint = fields.String(
        validate=validate.OneOf(CHECKPOINT_STATES),
        metadata={"description": "State of the week-4 checkpoint (see the trajectory)"},
    )
    episode = fields.Integer(metadata={"description": "The current healing episode"})
    assessment_count = fields.Integer()
    last_assessed_at = fields.String(allow_none=True)
    days_since_assessment = fields.Integer(
        metadata={
            "description": "Calendar days in the clinic's time zone since the last assessment"
            " (since onset when there is none)"
        }
    )
    overdue = fields.Boolean(
        metadata={"description": "days_since_assessment above the clinic's overdue days"}
    )
    latest_grade = fields.Nested(
        DashboardGradesSchema,
        metadata={
            "description": "Effective grades of the latest assessment on each scale, side by "
            "side: {ctcae, rtog}"
        },
    )
    grade = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The latest effective grade on the clinic's primary scale "
            "(primary_grade_scale); not the worse of the two scales"
        },
    )
    grade_3_plus = fields.Boolean(metadata={"description": "grade (primary scale) is 3 or more"})


DashboardStatusCountsSchema = Schema.from_dict(
    {status: fields.Integer() for status in STATUSES}, name="DashboardStatusCountsSchema"
)
DashboardGradeCountsSchema = Schema.from_dict(
    {**{str(g): fields.Integer() for g in range(6)}, "none": fields.Integer()},
    name="DashboardGradeCountsSchema",
)


DashboardGradeCountsByScaleSchema = Schema.from_dict(
    {
        "ctcae": fields.Nested(DashboardGradeCountsSchema),
        "rtog": fields.Nested(DashboardGradeCountsSchema),
    },
    name="DashboardGradeCountsByScaleSchema",
)


class DashboardCountsSchema(Schema):
    """Over every wound matching the filters except status and grade_min."""

    total = fields.Integer()
    by_status = fields.Nested(DashboardStatusCountsSchema)
    by_grade = fields.Nested(
        DashboardGradeCountsByScaleSchema,
        metadata={
            "description": "Latest effective grade on each scale: {ctcae: {0..5, none}, "
            "rtog: {0..5, none}}; none: ungraded"
        },
    )
    overdue = fields.Integer()
    grade_3_plus = fields.Integer(
        metadata={"description": "Wounds whose grade on the primary scale is 3 or more"}
    )


class DashboardSchema(Schema):
    clinic_id = fields.String()
    overdue_after_days = fields.Integer()
    primary_grade_scale = fields.String(
        metadata={"description": "ctcae or rtog: the clinic's scale for grade and grade >= 3"}
    )
    rules = fields.Nested(TrajectoryRulesSchema)
    items = fields.List(fields.Nested(DashboardItemSchema))
    next_cursor = fields.String(allow_none=True)
    counts = fields.Nested(DashboardCountsSchema)


# --------------------------------------------------------------- patient summary


class SummaryPatientSchema(Schema):
    id = fields.String()
    clinic_id = fields.String()
    mrn = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    birth_date = fields.String()
    sex = fields.String()


class SummaryWoundSchema(Schema):
    id = fields.String()
    body_site = fields.String()
    laterality = fields.String()
    etiology = fields.String()
    onset_date = fields.String()
    wound_status = fields.String()
    healed_on = fields.String(allow_none=True)
    radiotherapy_course_id = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    rule = fields.String()
    par_pct = fields.Float(allow_none=True)
    episode = fields.Integer(metadata={"description": "The current healing episode"})
    assessment_count = fields.Integer()
    latest = fields.Nested(TrajectoryAreaSchema, allow_none=True)


class SummaryPhaseSchema(Schema):
    technique = fields.String()
    dose_per_fraction_cgy = fields.Float()
    fractions = fields.Integer()


class SummaryCourseSchema(Schema):
    id = fields.String()
    target_site = fields.String()
    start_date = fields.String()
    end_date = fields.String(allow_none=True)
    total_dose_cgy = fields.Float(metadata={"description": "Planned, over all phases"})
    fractions = fields.Integer()
    phases = fields.List(fields.Nested(SummaryPhaseSchema))


class SummaryTherapySchema(Schema):
    id = fields.String()
    agent = fields.String()
    anti_angiogenic = fields.Boolean()
    dose = fields.Float()
    dose_unit = fields.String()
    start_date = fields.String()
    stop_date = fields.String(allow_none=True)


TIMELINE_KINDS = (
    "wound_onset",
    "wound_healed",
    "wound_reopened",
    "radiotherapy_start",
    "radiotherapy_end",
    "procedure",
    "therapy_start",
    "therapy_stop",
    "therapy_change",
)


class SummaryTimelineEventSchema(Schema):
    """One dated event; which ids it carries depends on its kind."""

    on = fields.String(metadata={"description": "The day (ISO date)"})
    at = fields.String(metadata={"description": "procedure: the time"})
    kind = fields.String(validate=validate.OneOf(TIMELINE_KINDS))
    procedure_kind = fields.String(validate=validate.OneOf(PROCEDURE_KINDS))
    procedure_id = fields.String()
    wound_id = fields.String(metadata={"description": "wound_* and procedure events"})
    course_id = fields.String(metadata={"description": "radiotherapy_* events"})
    therapy_id = fields.String(metadata={"description": "therapy_* events"})
    anti_angiogenic = fields.Boolean(metadata={"description": "therapy_start and therapy_stop"})
    change = fields.String(
        validate=validate.OneOf(CHANGE_KINDS), metadata={"description": "therapy_change"}
    )
    label = fields.String(metadata={"description": "The event in words"})


class PatientSummarySchema(Schema):
    patient = fields.Nested(SummaryPatientSchema)
    wounds = fields.List(fields.Nested(SummaryWoundSchema))
    radiotherapy_courses = fields.List(fields.Nested(SummaryCourseSchema))
    systemic_therapies = fields.List(fields.Nested(SummaryTherapySchema))
    timeline = fields.List(
        fields.Nested(SummaryTimelineEventSchema),
        metadata={"description": "By day, then time, then causal order"},
    )
