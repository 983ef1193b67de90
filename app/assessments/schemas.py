"""Assessment schemas: nested `tissue` / `findings` / `bwat` on the wire, flat
columns in the model (app/assessments/models.py).

Input is strict: unknown fields, server-owned fields (clinic_id, wound_id,
version, derived grades and scores) and wrong JSON types are a 422 naming the
field. Numbers must be JSON numbers (not strings), booleans JSON booleans.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate
from marshmallow.utils import missing  # type: ignore[attr-defined]

from app.assessments.models import EXUDATE_AMOUNTS, EXUDATE_TYPES
from app.clinical.grading import (
    ATROPHY,
    BLEEDING,
    DESQUAMATION,
    EDEMA,
    EPILATION,
    ERYTHEMA,
    FIBROSIS,
    TELANGIECTASIA,
    ULCERATION,
)
from app.clinical.scores import BWAT_HEALED_ITEMS, BWAT_ITEMS, bwat_items
from app.clinical.symptoms import NRS_MAX, NRS_MIN, PRO_LEVELS
from app.clinical.ulceration import TERM as SKIN_ULCERATION
from app.core.schemas import ListArgsSchema, OffsetDateTime, RecordSchema, StrictSchema

# Sane upper bounds (cm, cm^2): beyond these a value is a typo (mm for cm, a
# misplaced decimal), not a wound on one body site.
MAX_LENGTH_CM = 100.0
MAX_DEPTH_CM = 30.0
MAX_AREA_CM2 = 2000.0
MAX_NOTES = 10_000


class StrictFloat(fields.Float):
    """A JSON number only: "3.5" (a string) and true are refused, not coerced."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str | bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBool(fields.Boolean):
    """JSON true/false only: 1, "yes" or "on" are refused, not coerced."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class InOutFloat(StrictFloat):
    """A number read into one attribute and written out from another: `area_cm2`
    is the measured area in a request and the area in use in a response."""

    def __init__(self, *, dump_from: str, **kw: Any):
        super().__init__(**kw)
        self.dump_from = dump_from

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return super().get_value(obj, self.dump_from, accessor, default)


class ColumnGroup(fields.Nested):
    """A nested object on the wire whose members are flat columns of the model.

    On dump, member ``name`` is read from the column ``prefix + name``; when
    ``present`` is given and that column is empty the whole group dumps as null
    (e.g. no debridement block on a dressing). On load it is an ordinary nested
    object; the service flattens it (``flatten``).
    """

    def __init__(self, nested: Any, *, prefix: str = "", present: str | None = None, **kw: Any):
        super().__init__(nested, **kw)
        self.prefix = prefix
        self.present = present

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        if isinstance(obj, dict):
            return super().get_value(obj, attr, accessor, default)
        values = {name: getattr(obj, self.prefix + name) for name in self.schema.fields}
        if self.present is not None and values[self.present] is None:
            return None
        return values


def pct() -> StrictFloat:
    return StrictFloat(allow_none=True, validate=validate.Range(min=0, max=100))


def length(maximum: float) -> StrictFloat:
    return StrictFloat(allow_none=True, validate=validate.Range(min=0, max=maximum))


def nrs(description: str) -> fields.Integer:
    """A patient's 0-10 numeric rating (a JSON integer); null = not asked."""
    return fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=NRS_MIN, max=NRS_MAX),
        metadata={"description": description},
    )


class TissueSchema(StrictSchema):
    """Percent of the wound bed by tissue type; each 0-100, sum <= 100; null = not recorded."""

    epithelial_pct = pct()
    granulation_pct = pct()
    slough_pct = pct()
    necrotic_pct = pct()


class FindingsSchema(StrictSchema):
    """Structured skin findings (CTCAE v5.0, RTOG acute and RTOG/EORTC late
    criteria; docs/clinical-reference.md); omitted = none / false."""

    erythema = fields.String(validate=validate.OneOf(ERYTHEMA))
    erythema_tender = StrictBool(
        metadata={"description": "The erythematous skin is tender (RTOG 2 'Tender ... erythema')"}
    )
    desquamation = fields.String(validate=validate.OneOf(DESQUAMATION))
    moist_beyond_skin_folds = StrictBool()
    edema = fields.String(validate=validate.OneOf(EDEMA))
    bleeding = fields.String(validate=validate.OneOf(BLEEDING))
    ulceration = fields.String(validate=validate.OneOf(ULCERATION))
    deep_tissue_damage = StrictBool(
        metadata={
            "description": "Extensive destruction, or damage to muscle, bone or supporting "
            "structures (CTCAE Skin ulceration grade 4)"
        }
    )
    necrosis = StrictBool()
    skin_graft_indicated = StrictBool()
    life_threatening = StrictBool()
    epilation = fields.String(
        validate=validate.OneOf(EPILATION),
        metadata={
            "description": "Hair loss in the field: RTOG acute 1; late 1 (partial), 2 (total)"
        },
    )
    decreased_sweating = StrictBool(metadata={"description": "RTOG acute grade 1"})
    atrophy = fields.String(
        validate=validate.OneOf(ATROPHY), metadata={"description": "Late skin effect (RTOG/EORTC)"}
    )
    telangiectasia = fields.String(
        validate=validate.OneOf(TELANGIECTASIA),
        metadata={"description": "Late skin effect (RTOG/EORTC)"},
    )
    pigmentation_change = StrictBool(metadata={"description": "Late skin effect (RTOG/EORTC)"})
    fibrosis = fields.String(
        validate=validate.OneOf(FIBROSIS),
        metadata={
            "description": "Induration (fibrosis) of subcutaneous tissue: late effect (RTOG/EORTC)"
        },
    )


class InfectionSignsSchema(StrictSchema):
    """Signs of infection, Sibbald/Woo 2006: NERDS (non_healing, exudate,
    red_friable granulation, debris, smell) for the superficial bed, STONEES
    (size_bigger, temperature, probes_to_bone, new_breakdown, exudate,
    erythema_edema, smell) for deep infection; three or more of either list
    raise an infection alert. Null or omitted = not recorded."""

    non_healing = StrictBool(allow_none=True)
    exudate = StrictBool(allow_none=True)
    red_friable = StrictBool(allow_none=True)
    debris = StrictBool(allow_none=True)
    smell = StrictBool(allow_none=True)
    size_bigger = StrictBool(allow_none=True)
    temperature = StrictBool(allow_none=True)
    probes_to_bone = StrictBool(allow_none=True)
    new_breakdown = StrictBool(allow_none=True)
    erythema_edema = StrictBool(allow_none=True)


BwatSchema = StrictSchema.from_dict(
    {
        # Items 1-4 score 0 on a healed wound (closed: true), and only then.
        name: fields.Integer(
            strict=True, validate=validate.Range(min=0 if name in BWAT_HEALED_ITEMS else 1, max=5)
        )
        for name in BWAT_ITEMS
    },
    name="BwatSchema",
)
BwatSchema.__doc__ = (
    "Bates-Jensen Wound Assessment Tool items, each 1-5. The total needs all 13; "
    "`size` is derived from length x width when omitted. On a closed (healed) wound "
    "items 1-4 (size, depth, edges, undermining) score 0, as the tool's instructions say."
)


class _AssessmentInput(StrictSchema):
    """The fields a client writes (create and PATCH)."""

    assessed_at = OffsetDateTime()
    length_cm = length(MAX_LENGTH_CM)
    width_cm = length(MAX_LENGTH_CM)
    depth_cm = length(MAX_DEPTH_CM)
    # `area_cm2` in a request is the measured area; in a response it is the
    # area in use (see area_method), so the input lands in measured_area_cm2.
    measured_area_cm2 = StrictFloat(
        load_only=True,
        data_key="area_cm2",
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_AREA_CM2),
        metadata={"description": "Measured area (cm^2), optional; responses give the area in use"},
    )
    exudate_amount = fields.String(allow_none=True, validate=validate.OneOf(EXUDATE_AMOUNTS))
    exudate_type = fields.String(allow_none=True, validate=validate.OneOf(EXUDATE_TYPES))
    tissue = ColumnGroup(TissueSchema, allow_none=True)
    closed = StrictBool(
        metadata={"description": "Wound closed (resurfaced); then no area may be positive"}
    )
    pain_score = nrs(
        "Patient-reported pain, 0-10 numeric rating scale (0 no pain, 10 worst pain imaginable;"
        " Hawker 2011)"
    )
    itch_nrs = nrs(
        "Patient-reported itch, 0-10 numeric rating scale (0 no itch, 10 worst itch imaginable;"
        " Reich 2012)"
    )
    burning_nrs = nrs(
        "Patient-reported burning, 0-10 numeric rating scale (0 no burning, 10 worst burning"
        " imaginable; the pain NRS applied by analogy)"
    )
    pro_skin_reaction = fields.String(
        allow_none=True,
        validate=validate.OneOf(PRO_LEVELS),
        metadata={
            "description": "PRO-CTCAE 'Radiation skin reaction' severity at its worst in the "
            "last 7 days, as the patient rated it: none (0), mild (1), moderate (2), severe (3), "
            "very_severe (4); null = not asked or not applicable"
        },
    )
    odor = StrictBool(allow_none=True)
    infection_signs = StrictBool(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=MAX_NOTES))
    findings = ColumnGroup(FindingsSchema)
    infection = ColumnGroup(InfectionSignsSchema, prefix="sign_")
    bwat = fields.Nested(
        BwatSchema,
        allow_none=True,
        metadata={"description": "BWAT items (1-5); the response adds the total"},
    )


class OverrideSchema(StrictSchema):
    scale = fields.String(dump_only=True)
    value = fields.Integer(dump_only=True)
    derived_value = fields.Integer(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)
    by = fields.UUID(dump_only=True, attribute="by_user_id")
    at = fields.AwareDateTime(dump_only=True, attribute="created_at")


def _grade(value: int | None, reasons: list[Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value, "reasons": reasons or []}


class AssessmentSchema(RecordSchema, _AssessmentInput):
    """An assessment as created and returned. Derived members are read-only."""

    assessed_at = OffsetDateTime(required=True)
    clinic_id = fields.UUID(dump_only=True)
    wound_id = fields.UUID(dump_only=True)
    measured_area = fields.Float(
        dump_only=True,
        allow_none=True,
        attribute="measured_area_cm2",
        data_key="measured_area_cm2",
    )
    measured_area_cm2 = InOutFloat(
        data_key="area_cm2",
        dump_from="area_cm2",
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_AREA_CM2),
        metadata={
            "description": "In a request: the measured area (cm^2), optional. In a response: "
            "the area in use, per area_method (traced, else measured, else ellipse pi/4 L W)"
        },
    )
    area_method = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "traced | measured | ellipse"}
    )
    traced_area_cm2 = fields.Float(dump_only=True, allow_none=True)
    traced_perimeter_cm = fields.Float(dump_only=True, allow_none=True)
    ctcae_grade = fields.Method(
        "_ctcae",
        dump_only=True,
        metadata={"description": "Derived CTCAE v5.0 grade {value, reasons}"},
    )
    rtog_grade = fields.Method(
        "_rtog", dump_only=True, metadata={"description": "Derived RTOG grade {value, reasons}"}
    )
    ctcae_skin_ulceration = fields.Method(
        "_ulcer",
        dump_only=True,
        metadata={
            "description": f"CTCAE v5.0 '{SKIN_ULCERATION}' {{term, value, reasons}}, graded "
            "beside the dermatitis grade when an ulcer is recorded (combined area, depth of "
            "tissue loss); null when none is"
        },
    )
    radiation_phase = fields.Method(
        "_phase",
        dump_only=True,
        metadata={
            "description": "{phase (acute, late or null), days_after_course, note}: late more "
            "than 90 days after the wound's radiotherapy course ended"
        },
    )
    rtog_late_grade = fields.Method(
        "_late",
        dump_only=True,
        metadata={
            "description": "RTOG/EORTC late radiation morbidity grade, skin and subcutaneous "
            "tissue {value, reasons}, for a late assessment; null otherwise"
        },
    )
    push = fields.Method(
        "_push",
        dump_only=True,
        metadata={"description": "PUSH 3.0 {area, exudate, tissue, total}; null if incomplete"},
    )
    bwat = fields.Method(  # type: ignore[assignment]
        "_bwat",
        "_load_bwat",
        allow_none=True,
        metadata={"description": "BWAT items 1-5 in; {items, total} out (total null if partial)"},
    )
    grade_override = fields.Method(
        "_latest_override",
        dump_only=True,
        metadata={
            "description": "The most recent clinician override in force, of any scale, as "
            "in the contract: {scale, value, derived_value, reason, by, at}; null when none. "
            "See grade_overrides for both scales."
        },
    )
    grade_overrides = fields.Method(
        "_overrides",
        dump_only=True,
        metadata={
            "description": "Current clinician override per scale: {ctcae?: {scale, value, "
            "derived_value, reason, by, at}, rtog?: {...}}; null when none"
        },
    )
    effective_grades = fields.Method(
        "_effective",
        dump_only=True,
        metadata={
            "description": "Grades to use: {ctcae: {value, source}, rtog: {...}}, source "
            "'override' or 'derived'"
        },
    )
    assessed_by = fields.UUID(dump_only=True)

    def _ctcae(self, obj: Any) -> Any:
        return _grade(obj.ctcae_grade, obj.ctcae_reasons)

    def _rtog(self, obj: Any) -> Any:
        return _grade(obj.rtog_grade, obj.rtog_reasons)

    def _ulcer(self, obj: Any) -> Any:
        graded = _grade(obj.ctcae_ulcer_grade, obj.ctcae_ulcer_reasons)
        return {"term": SKIN_ULCERATION, **graded} if graded else None

    def _phase(self, obj: Any) -> Any:
        return {
            "phase": obj.rt_phase,
            "days_after_course": obj.days_after_rt,
            "note": obj.rt_phase_note,
        }

    def _late(self, obj: Any) -> Any:
        return _grade(obj.rtog_late_grade, obj.rtog_late_reasons)

    def _push(self, obj: Any) -> Any:
        if obj.push_total is None:
            return None
        return {
            "area": obj.push_area,
            "exudate": obj.push_exudate,
            "tissue": obj.push_tissue,
            "total": obj.push_total,
        }

    def _bwat(self, obj: Any) -> Any:
        if obj.bwat_items is None:
            return None
        items = dict(obj.bwat_items)
        if obj.bwat_total is not None:
            # The items that made the total: a derived size, 0 on items 1-4 when healed.
            items = bwat_items(
                items, length_cm=obj.length_cm, width_cm=obj.width_cm, healed=bool(obj.closed)
            )
        return {"items": items, "total": obj.bwat_total}

    def _load_bwat(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return BwatSchema().load(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc

    def _latest_override(self, obj: Any) -> Any:
        in_force = [o for o in obj.overrides if o is obj.current_override(o.scale)]
        return OverrideSchema().dump(in_force[-1]) if in_force else None

    def _overrides(self, obj: Any) -> Any:
        current = {
            scale: OverrideSchema().dump(o)
            for scale in ("ctcae", "rtog")
            if (o := obj.current_override(scale)) is not None
        }
        return current or None

    def _effective(self, obj: Any) -> Any:
        out: dict[str, Any] = {}
        for scale in ("ctcae", "rtog"):
            override = obj.current_override(scale)
            if override is not None:
                out[scale] = {"value": override.value, "source": "override"}
            else:
                out[scale] = {"value": getattr(obj, f"{scale}_grade"), "source": "derived"}
        return out


class AssessmentUpdateSchema(_AssessmentInput):
    """PATCH: any input field; `tissue` and `findings` members change one by one."""


class AssessmentListArgsSchema(ListArgsSchema):
    from_ = OffsetDateTime(
        data_key="from", metadata={"description": "assessed_at at or after this instant"}
    )
    to = OffsetDateTime(metadata={"description": "assessed_at at or before this instant"})


class GradeOverrideInSchema(StrictSchema):
    id = fields.UUID(
        metadata={
            "description": "Client-generated UUID (optional): a retry is a replay (200), "
            "the same id with other content a 409"
        }
    )
    scale = fields.String(required=True, validate=validate.OneOf(("ctcae", "rtog")))
    value = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=5),
        metadata={
            "description": "0-4; 5 (death) only on CTCAE. null withdraws the override "
            "in force on the scale: the derived grade applies again (409 when none is)"
        },
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={
            "description": "Why the derived grade is wrong, or why the override is "
            "withdrawn (required)"
        },
    )
