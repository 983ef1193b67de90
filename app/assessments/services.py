"""Assessments: create, amend, delete, list, grade overrides, and THE place
where grades, scores and areas are derived (``derive``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.assessments.models import Assessment, GradeOverride
from app.assessments.radiation import RADIATION_COLUMNS, radiation_columns
from app.assessments.schemas import (
    AssessmentSchema,
    FindingsSchema,
    InfectionSignsSchema,
    OverrideSchema,
    TissueSchema,
)
from app.clinical import geometry, grading, scores
from app.core import records
from app.core.access import current_user, scoped
from app.core.errors import Problem, field_error, validation_problem
from app.core.history import mark_changed
from app.core.idempotency import create_once
from app.radiotherapy.timing import timing_changed, timing_columns
from app.wounds import events as wound_events
from app.wounds.models import Wound
from app.wounds.services import reopen_wound

_dump = AssessmentSchema().dump

TISSUE_COLUMNS: tuple[str, ...] = tuple(TissueSchema().fields)
FINDING_COLUMNS: tuple[str, ...] = tuple(FindingsSchema().fields)
SIGN_COLUMNS: tuple[str, ...] = tuple(f"sign_{name}" for name in InfectionSignsSchema().fields)

# Inputs with a column default (closed, the findings), as (name, default):
# a create that omits them is derived with the default.
_INPUT_DEFAULTS: tuple[tuple[str, Any], ...] = tuple(
    (name, Assessment.__table__.c[name].default.arg) for name in ("closed", *FINDING_COLUMNS)
)

# What creating or listing assessments needs of their wound, read as a row
# (records.load_parent): the mapped Wound would join every flush and commit.
# Its radiotherapy course's dates come in the same SELECT (acute or late).
WOUND_FACTS: tuple[Any, ...] = (
    Wound.id,
    Wound.clinic_id,
    Wound.onset_date,
    Wound.in_skin_fold,
    *timing_columns(Wound.radiotherapy_course_id),
    Wound.status,
    Wound.healed_on,
)

# Every column ``derive`` writes. Nothing else may write them (the schemas make
# them read-only), so they always agree with the stored inputs.
DERIVED_COLUMNS: tuple[str, ...] = (
    "area_cm2",
    "area_method",
    "ctcae_grade",
    "ctcae_reasons",
    "rtog_grade",
    "rtog_reasons",
    "push_area",
    "push_exudate",
    "push_tissue",
    "push_total",
    "bwat_total",
    *RADIATION_COLUMNS,
)


# --- derivation -------------------------------------------------------------


def _area(a: Assessment) -> tuple[float | None, str | None]:
    """The area in use and how it was obtained.

    Traced outline first (photos), then an area measured at the bedside, then
    the ellipse estimate pi/4 x L x W (clinical-reference.md, "Healing
    trajectory": L x W overstates a true ellipse by 4/pi, Rogers 2010). A closed
    wound with nothing measured has area 0 (recorded closure, "measured").
    """
    if a.traced_area_cm2 is not None:
        return a.traced_area_cm2, "traced"
    if a.measured_area_cm2 is not None:
        return a.measured_area_cm2, "measured"
    if a.length_cm is not None and a.width_cm is not None:
        return geometry.ellipse_area(a.length_cm, a.width_cm), "ellipse"
    if a.closed:
        return 0.0, "measured"
    return None, None


def _bwat(a: Assessment) -> scores.BwatScore | None:
    """The BWAT total of the items given (app/clinical/scores.py; items 1-4
    score 0 on a closed wound); ValueError naming ``bwat.<item>``."""
    if a.bwat_items is None:
        return None
    try:
        return scores.bwat_score(
            a.bwat_items, length_cm=a.length_cm, width_cm=a.width_cm, healed=bool(a.closed)
        )
    except ValueError as exc:
        raise ValueError(f"bwat.{exc}") from exc


def _tissue(a: Assessment) -> scores.Tissue | None:
    values = {name: getattr(a, name) for name in TISSUE_COLUMNS}
    if all(v is None for v in values.values()):
        return None
    return scores.Tissue(**{k: (v if v is not None else 0.0) for k, v in values.items()})


def check_consistency(a: Assessment, tissue: scores.Tissue | None) -> None:
    """Cross-field rules a single field cannot express; 422 naming the field.
    ``tissue`` is the assessment's tissue record (``_tissue(a)``).

    - tissue percentages sum to at most 100 (each is checked 0-100 by the schema);
    - a closed wound has no open area: closed=true with a positive length,
      width, depth, measured or traced area is contradictory and refused (the
      clinician either re-opens the wound or enters zeros/omits them), rather
      than silently zeroing a measurement someone took.
    """
    if tissue is not None:
        try:
            tissue.validate()
        except ValueError as exc:
            raise field_error("tissue", "percentages must sum to at most 100") from exc
    if a.closed:
        for name in (
            "length_cm",
            "width_cm",
            "depth_cm",
            "measured_area_cm2",
            "traced_area_cm2",
        ):
            value = getattr(a, name)
            if value is not None and value > 0:
                wire = "area_cm2" if name == "measured_area_cm2" else name
                raise validation_problem(
                    {
                        "closed": [f"a closed wound has no open area, but {wire} is {value:g}"],
                        wire: ["must be 0 or omitted when closed is true"],
                    },
                    f"closed: contradicts {wire} = {value:g}",
                )


def wound_facts(session: Session, wound_id: uuid.UUID) -> Any:
    """The WOUND_FACTS row of a wound (pending changes flushed first), for
    ``derive`` outside a create."""
    return session.execute(sa.select(*WOUND_FACTS).where(Wound.id == wound_id)).one()


def derive(assessment: Assessment, wound: Any) -> Assessment:
    """Recompute every derived column of ``assessment`` from its stored inputs.

    Contract (stable; the photos service calls it after setting
    ``traced_area_cm2`` / ``traced_perimeter_cm``):

    - Reads only the assessment's input columns (measurements, measured and
      traced area, exudate, tissue percentages, closed, findings, bwat_items,
      assessed_at) and ``wound``, a row of WOUND_FACTS (``wound_facts``): its
      skin-fold flag and its radiotherapy course's dates. Never touches the
      session, never flushes; the caller flushes (and the request boundary
      commits).
    - Writes exactly ``DERIVED_COLUMNS``: area_cm2/area_method (traced >
      measured > ellipse), ctcae_grade/ctcae_reasons and rtog_grade/rtog_reasons
      (app/clinical/grading.py, skin-fold rule from the wound), push_* (PUSH
      3.0 on L x W, app/clinical/scores.py; all None when PUSH cannot be
      computed without guessing), bwat_total (None unless all 13 items), and
      the RADIATION_COLUMNS (app/assessments/radiation.py: CTCAE Skin
      ulceration, acute/late phase, RTOG/EORTC late grade).
    - Idempotent: calling it twice gives the same values.
    - Raises Problem 422 (field named) when the inputs contradict each other
      (``check_consistency``) or the clinical engine refuses a value.
    Returns the same assessment for chaining.
    """
    tissue = _tissue(assessment)
    check_consistency(assessment, tissue)
    try:
        findings = grading.Findings.from_mapping(
            {name: getattr(assessment, name) for name in FINDING_COLUMNS}
        )
        fold = bool(wound.in_skin_fold)
        ctcae = grading.grade_ctcae(findings, in_skin_fold=fold)
        rtog = grading.grade_rtog(findings, in_skin_fold=fold)
        push = scores.push_score(
            assessment.length_cm,
            assessment.width_cm,
            assessment.exudate_amount,
            tissue,
            closed=bool(assessment.closed),
        )
        bwat = _bwat(assessment)
        area, method = _area(assessment)
        radiation = radiation_columns(findings, area, assessment.assessed_at, wound)
    except ValueError as exc:
        # The schema validates every field first, so this is a last line of
        # defence: the engine's message names the field ("name: rule").
        field, _, rule = str(exc).partition(": ")
        raise field_error(field if rule else "_schema", rule or str(exc)) from exc

    assessment.area_cm2 = area
    assessment.area_method = method
    ctcae_dict, rtog_dict = ctcae.to_dict(), rtog.to_dict()
    assessment.ctcae_grade = ctcae_dict["value"]
    assessment.ctcae_reasons = ctcae_dict["reasons"]
    assessment.rtog_grade = rtog_dict["value"]
    assessment.rtog_reasons = rtog_dict["reasons"]
    assessment.push_area = push.area if push else None
    assessment.push_exudate = push.exudate if push else None
    assessment.push_tissue = push.tissue if push else None
    assessment.push_total = push.total if push else None
    assessment.bwat_total = bwat.total if bwat else None
    for name, value in radiation.items():
        setattr(assessment, name, value)
    return assessment


# --- input handling -----------------------------------------------------------


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Wire shape -> model columns: nested tissue/findings become flat columns,
    `bwat` becomes bwat_items. A null tissue clears every percentage."""
    flat = {k: v for k, v in data.items() if k not in {"tissue", "findings", "bwat", "infection"}}
    if "tissue" in data:
        tissue = data["tissue"]
        if tissue is None:
            flat.update(dict.fromkeys(TISSUE_COLUMNS))
        else:
            flat.update(tissue)
    if "findings" in data:
        flat.update(data["findings"])
    if "infection" in data:
        flat.update({f"sign_{name}": value for name, value in data["infection"].items()})
    if "bwat" in data:
        flat["bwat_items"] = dict(data["bwat"]) if data["bwat"] is not None else None
    return flat


# UTC+14 (Line Islands), the widest offset a device can send. Only the UTC
# instant of an assessment is stored, not the device's offset, so a date
# check made later takes the latest local date any device could have given it:
# it never refuses what _check_time accepted.
_WIDEST_OFFSET = timedelta(hours=14)


def _latest_local_date(at: datetime) -> date:
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return (utc + _WIDEST_OFFSET).date()


def check_onset_fits(session: Session, wound: Wound, onset: date) -> None:
    """A corrected onset must not fall after the wound's first assessment that
    is not deleted (422 on onset_date), or those assessments would lie before
    the wound began."""
    first = session.scalar(
        sa.select(sa.func.min(Assessment.assessed_at)).where(
            Assessment.wound_id == wound.id, Assessment.deleted_at.is_(None)
        )
    )
    if first is not None and _latest_local_date(first) < onset:
        raise field_error(
            "onset_date",
            f"must be on or before the wound's first assessment ({_latest_local_date(first)});"
            " correct or withdraw that assessment first",
        )


def restore_assessment(session: Session, assessment_id: uuid.UUID) -> Assessment:
    """Undo a delete (admin). Refused (409) when the wound's onset was corrected
    meanwhile to a date after this assessment: only assessments not deleted
    bound that correction, so this one was not considered."""
    assessment = records.restore(session, Assessment, assessment_id)
    wound = session.get(Wound, assessment.wound_id)
    assert wound is not None  # a foreign key; wounds are never hard-deleted
    if _latest_local_date(assessment.assessed_at) < wound.onset_date:
        raise Problem(
            409,
            "Conflict",
            f"This assessment ({assessment.assessed_at.isoformat()}) lies before the wound's"
            f" onset as now recorded ({wound.onset_date}). Correct the onset first.",
        )
    return assessment


def check_length_and_width(values: dict[str, Any]) -> None:
    """A length without a width (or the reverse) is refused, 422 naming the
    missing one: the ellipse area pi/4 x L x W needs both, and an assessment
    silently without an area would drop out of the trajectory."""
    length, width = values.get("length_cm"), values.get("width_cm")
    if (length is None) != (width is None):
        missing, given = ("width_cm", "length_cm") if width is None else ("length_cm", "width_cm")
        raise field_error(
            missing, f"is required with {given}: an area needs both (send both or neither)"
        )


def reopen_if_open_after_healing(session: Session, assessment: Assessment, wound: Any) -> None:
    """An open measurement (not closed, area > 0) on a later day than the healed
    date of a healed wound reopens the wound (wounds.services.reopen_wound): the
    wound has recurred, and the healed date is kept as the closure that ended
    the earlier healing episode. Days are UTC dates, as the trajectory reads
    them. ``wound``: a Wound or a row of WOUND_FACTS."""
    if wound.status != "healed" or wound.healed_on is None:
        return
    if assessment.closed or not assessment.area_cm2 or assessment.deleted_at is not None:
        return
    if assessment.assessed_at.astimezone(UTC).date() <= wound.healed_on:
        return
    mapped = wound if isinstance(wound, Wound) else session.get(Wound, wound.id)
    assert mapped is not None  # a foreign key; wounds are never hard-deleted
    reopen_wound(session, mapped, at=assessment.assessed_at, assessment_id=assessment.id)


def derive_again(session: Session, assessment: Assessment, wound: Any) -> None:
    """``derive`` after an input changed outside a request body (the photos
    service sets the traced area), then reopen the wound when the new area makes
    the assessment an open measurement after its healed date. ``wound``: a row
    of WOUND_FACTS."""
    derive(assessment, wound)
    reopen_if_open_after_healing(session, assessment, wound)


def _check_time(wound: Any, assessed_at: datetime) -> datetime:
    """assessed_at not in the future (clock skew tolerated) nor before the wound's
    onset. The onset is a calendar date, so it is compared with the date in the
    offset the device sent (its local date). Returns the instant in UTC."""
    records.not_in_future("assessed_at", assessed_at)
    if assessed_at.date() < wound.onset_date:
        raise field_error(
            "assessed_at", f"is before the wound's onset ({wound.onset_date.isoformat()})"
        )
    return assessed_at.astimezone(UTC)


def create_assessment(
    session: Session, wound: Any, data: dict[str, Any]
) -> tuple[Assessment, bool]:
    """Create (or replay) an assessment of ``wound`` (a Wound, or a row of
    WOUND_FACTS); derived values computed before the first flush, so version 1
    already carries them. A length needs a width and the reverse (422). An open
    measurement after a healed wound's healed date reopens the wound
    (reopen_if_open_after_healing)."""
    user = current_user()
    flat = flatten(data)
    flat["assessed_at"] = _check_time(wound, flat["assessed_at"])
    check_length_and_width(flat)

    def complete(assessment: Assessment) -> None:
        # Column defaults apply only at flush; derive needs them now.
        for name, default in _INPUT_DEFAULTS:
            if getattr(assessment, name) is None:
                setattr(assessment, name, default)
        derive(assessment, wound)

    assessment, created = records.create_record(
        session,
        Assessment,
        flat,
        _dump,
        derive=complete,
        assessed_by=user.id,
        clinic_id=wound.clinic_id,
        wound_id=wound.id,
    )
    if created:
        # A record inserted a moment ago has no grade overrides yet; saying so
        # spares the response a SELECT of them.
        set_committed_value(assessment, "overrides", [])
        reopen_if_open_after_healing(session, assessment, wound)
    return assessment, created


def update_assessment(
    session: Session, assessment: Assessment, changes: dict[str, Any]
) -> Assessment:
    """Amend (If-Match required), then re-derive everything in the same flush, so
    the new version in the history carries inputs and derived values together.
    An amendment that makes it an open measurement after a healed wound's healed
    date reopens the wound (reopen_if_open_after_healing)."""

    wound: Any = None

    def columns(body: dict[str, Any]) -> dict[str, Any]:
        # Read once If-Match holds and before anything is set (a read would
        # autoflush a half-amended assessment), and held here.
        nonlocal wound
        wound = wound_facts(session, assessment.wound_id)
        flat = flatten(body)
        if "assessed_at" in flat:
            flat["assessed_at"] = _check_time(wound, flat["assessed_at"])
        if "length_cm" in flat or "width_cm" in flat:
            stored = {"length_cm": assessment.length_cm, "width_cm": assessment.width_cm}
            check_length_and_width(stored | flat)
        return flat

    def rederive(amended: Assessment) -> None:
        assert wound is not None  # columns ran first
        derive(amended, wound)

    updated: Assessment = records.amend(
        session, assessment, changes, _dump, prepare=columns, derive=rederive
    )
    reopen_if_open_after_healing(session, updated, wound)
    return updated


def delete_assessment(session: Session, assessment: Assessment) -> Assessment:
    records.soft_delete(session, assessment, _dump)
    return assessment


def list_assessments(session: Session, wound: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Assessments of one wound in assessed_at order (from/to inclusive)."""
    start, end = args.get("from_"), args.get("to")
    if start is not None and end is not None and start > end:
        raise field_error("to", "must not be before from")
    stmt = scoped(Assessment, include_deleted=True).where(Assessment.wound_id == wound.id)
    if start is not None:
        stmt = stmt.where(Assessment.assessed_at >= start)
    if end is not None:
        stmt = stmt.where(Assessment.assessed_at <= end)
    return records.list_page(
        session, stmt, Assessment, args, order_by=(Assessment.assessed_at,), parent=wound
    )


# --- grade overrides ------------------------------------------------------------

MAX_GRADE = {"ctcae": 5, "rtog": 4}


def regrade(session: Session, wound: Wound) -> None:
    """Derive again the grades of every assessment of ``wound``, after its
    ``in_skin_fold`` was corrected, or its radiotherapy course (or that
    course's dates) changed.

    The skin-fold rule (CTCAE v5.0: moist desquamation "mostly confined to skin
    folds and creases" is grade 2, "in areas other than skin folds" grade 3;
    grading.py) reads the wound's flag, and grades are stored per assessment.
    Each assessment whose grade moves is amended by the flush hooks: a new
    version, a history entry naming the grade columns, an audit event and an
    update for delta sync. Deleted assessments too, so that a restore brings
    back grades that agree with the wound. Overrides keep the derived grade
    they replaced.
    """
    facts = wound_facts(session, wound.id)
    for assessment in session.scalars(sa.select(Assessment).where(Assessment.wound_id == wound.id)):
        derive(assessment, facts)
    session.flush()


def override_grade(
    session: Session, assessment: Assessment, data: dict[str, Any]
) -> tuple[Assessment, bool]:
    """Store a clinician's grade beside the derived one (both stay visible).

    CTCAE v5.0 grades 0-5 (5 = death, which only a clinician can record; it is
    never derived); RTOG acute skin grades 0-4 (Cox 1995). A later override of
    the same scale supersedes the earlier one, which is kept. A ``value`` of
    None withdraws the override in force (409 when there is none): the derived
    grade applies again, and the withdrawal is a row of its own, with its
    reason. With a client ``id`` a retry is a replay (created False), checked
    before the rules, so a retried withdrawal is not refused as having nothing
    left to withdraw. The write is audited by the flush hook (record type
    grade_override) and bumps the assessment's version so offline clients and
    ETags see it. Returns (assessment, created).
    """
    user = current_user()
    scale, value = data["scale"], data["value"]
    in_force = assessment.current_override(scale)

    def build(record_id: uuid.UUID, fp: str) -> GradeOverride:
        if value is not None and value > MAX_GRADE[scale]:
            raise field_error("value", f"{scale} grades run 0-{MAX_GRADE[scale]}")
        if not data["reason"].strip():
            raise field_error("reason", "must say why the derived grade is overridden")
        if value is None and in_force is None:
            raise Problem(
                409,
                "Conflict",
                f"No clinician override of the {scale} grade is in force on this assessment:"
                " there is nothing to withdraw.",
            )
        return GradeOverride(
            id=record_id,
            create_hash=fp,
            clinic_id=assessment.clinic_id,
            assessment_id=assessment.id,
            wound_id=assessment.wound_id,
            scale=scale,
            value=value,
            derived_value=getattr(assessment, f"{scale}_grade"),
            reason=data["reason"].strip(),
            by_user_id=user.id,
        )

    payload = {**data, "assessment_id": assessment.id}
    override, created = create_once(session, GradeOverride, payload, build, OverrideSchema().dump)
    if created:
        # The assessment itself is amended: a new version (ETag), a delta-sync
        # update for phones, and a history entry naming the override.
        entry: dict[str, Any] = {
            "scale": scale,
            "value": value,
            "derived_value": override.derived_value,
        }
        if value is None and in_force is not None:
            entry["withdrawn_value"] = in_force.value
        entry["reason"] = override.reason
        mark_changed(session, assessment, "grade_override", entry)
        session.flush()
    session.expire(assessment, ["overrides"])
    return assessment, created


def _refuse_onset_after_first_assessment(wound: Wound, *, session: Session, onset: date) -> None:
    check_onset_fits(session, wound, onset)


def _regrade_after_skin_fold_change(wound: Wound, *, session: Session) -> None:
    regrade(session, wound)


def _regrade_after_course_change(wound: Wound, *, session: Session) -> None:
    regrade(session, wound)


def _regrade_wounds_of_course(course_id: uuid.UUID, *, session: Session) -> None:
    for wound in session.scalars(sa.select(Wound).where(Wound.radiotherapy_course_id == course_id)):
        regrade(session, wound)


def follow_wound_changes() -> None:
    """Subscribe assessments to their wound's changes (create_app calls this;
    connecting twice is harmless): an onset moved past the first assessment is
    refused; a changed skin-fold flag, a wound linked to another radiotherapy
    course, or a change to its course's dates or fraction log (acute or late
    phase) grades the assessments again."""
    wound_events.onset_moving_later.connect(_refuse_onset_after_first_assessment)
    wound_events.skin_fold_changed.connect(_regrade_after_skin_fold_change)
    wound_events.course_changed.connect(_regrade_after_course_change)
    timing_changed.connect(_regrade_wounds_of_course)
