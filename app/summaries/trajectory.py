"""A wound's healing trajectory (GET /wounds/{id}/trajectory and its charts).

This module only loads rows and assembles the answer: every clinical number
comes from app/clinical (trajectory.compute_trajectory, dose.cumulative_dose_on).

Loading is explicit and bounded: a fixed number of SELECTs of the columns the
answer needs (Core selects on the session's connection, which skip the ORM's
result machinery), whatever the number of assessments or procedures. Nothing
is cached, so nothing can go stale; the chart carries an ETag computed from
the data it was drawn from, which lets clients cache it safely instead.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, GradeOverride, overrides_in_force
from app.clinical.dose import Fraction, Phase, cumulative_dose_on, planned_total_dose
from app.clinical.trajectory import Measurement, Trajectory, compute_trajectory
from app.clinics.models import Clinic
from app.core import audit
from app.core.access import in_clinic, not_found, require
from app.core.db import UUIDText
from app.core.formats import iso
from app.procedures.models import PROCEDURE_DETAILS, Procedure
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
from app.summaries.erythema import erythema_series, load_erythema
from app.summaries.recall import recall_block
from app.summaries.statuses import (
    in_irradiated_field,
    measurement,
    past_closures,
    rules_dict,
    trajectory_rules,
)
from app.summaries.symptoms import COLUMNS as SYMPTOM_COLUMNS
from app.summaries.symptoms import symptom_block
from app.therapy.context import therapy_context, topicals_for_wound
from app.therapy.models import LabResult
from app.wounds.models import Wound

# Bump when the chart drawing changes, so cached charts are redrawn.
CHART_STYLE_VERSION = "1"


def _effective(derived: int | None, override: dict[str, Any] | None) -> int | None:
    return override["value"] if override is not None else derived


@dataclass
class WoundData:
    """Everything one wound's trajectory is built from (rows as mappings)."""

    wound: Any
    assessments: Sequence[Any]
    overrides: dict[str, dict[str, dict[str, Any]]]  # by assessment id (text)
    override_rows: Sequence[Any]
    procedures: Sequence[Any]
    phases: Sequence[Any] = field(default_factory=list)
    fractions: Sequence[Any] = field(default_factory=list)
    therapy: dict[str, Any] | None = None
    recall: dict[str, Any] | None = None  # radiation recall (app/summaries/recall.py)
    erythema: Sequence[Any] = field(default_factory=list)  # app/summaries/erythema.py


_WOUND_COLUMNS = (
    Wound.id,
    Wound.clinic_id,
    Wound.patient_id,
    Wound.body_site,
    Wound.laterality,
    Wound.in_skin_fold,
    Wound.etiology,
    Wound.onset_date,
    Wound.status,
    Wound.healed_on,
    Wound.version,
    Wound.radiotherapy_course_id,
    Wound.closures,
)

_SERIES_COLUMNS = (
    sa.type_coerce(Assessment.id, UUIDText()).label("id"),
    Assessment.assessed_at,
    Assessment.area_cm2,
    Assessment.area_method,
    Assessment.length_cm,
    Assessment.width_cm,
    Assessment.push_total,
    Assessment.ctcae_grade,
    Assessment.rtog_grade,
    Assessment.closed,
    Assessment.traced_area_cm2,
    Assessment.measured_area_cm2,
    Assessment.traced_perimeter_cm,
    Assessment.version,
    *(getattr(Assessment, column) for column in SYMPTOM_COLUMNS),
)


_WOUND = sa.bindparam("wound_id", type_=sa.Uuid())
_COURSE = sa.bindparam("course_id", type_=sa.Uuid())
_LIVE_ASSESSMENT = sa.and_(Assessment.wound_id == _WOUND, Assessment.deleted_at.is_(None))

# Built once and reused with parameters: building a SELECT costs more than
# running it on a single wound's rows.
_WOUND_STMT = (
    sa.select(
        *_WOUND_COLUMNS,
        Clinic.par_threshold_pct.label("clinic_par_threshold_pct"),
        RadiotherapyCourse.target_site.label("course_target_site"),
        RadiotherapyCourse.start_date.label("course_start"),
        RadiotherapyCourse.end_date.label("course_end"),
        RadiotherapyCourse.version.label("course_version"),
    )
    .join(Clinic, Clinic.id == Wound.clinic_id)
    .outerjoin(
        RadiotherapyCourse,
        sa.and_(
            RadiotherapyCourse.id == Wound.radiotherapy_course_id,
            RadiotherapyCourse.deleted_at.is_(None),
        ),
    )
    .where(Wound.id == _WOUND, Wound.deleted_at.is_(None))
)
_SERIES_STMT = (
    sa.select(*_SERIES_COLUMNS)
    .where(_LIVE_ASSESSMENT)
    .order_by(Assessment.assessed_at, Assessment.created_at, Assessment.id)
)
_OVERRIDES_STMT = (
    sa.select(
        GradeOverride.id,
        sa.type_coerce(GradeOverride.assessment_id, UUIDText()).label("assessment_id"),
        GradeOverride.scale,
        GradeOverride.value,
        GradeOverride.derived_value,
        GradeOverride.reason,
        GradeOverride.by_user_id,
        GradeOverride.created_at,
    )
    .join(Assessment, Assessment.id == GradeOverride.assessment_id)
    .where(_LIVE_ASSESSMENT)
    .order_by(GradeOverride.created_at, GradeOverride.id)
)
_PROCEDURES_STMT = (
    sa.select(
        sa.type_coerce(Procedure.id, UUIDText()).label("id"),
        *PROCEDURE_DETAILS,
        Procedure.version,
    )
    .where(Procedure.wound_id == _WOUND, Procedure.deleted_at.is_(None))
    .order_by(Procedure.performed_at, Procedure.id)
)
_PHASES_STMT = (
    sa.select(
        RadiotherapyPhase.technique,
        RadiotherapyPhase.dose_per_fraction_cgy,
        RadiotherapyPhase.fractions,
        RadiotherapyPhase.start_date,
    )
    .where(RadiotherapyPhase.course_id == _COURSE)
    .order_by(RadiotherapyPhase.position)
)
_FRACTIONS_STMT = (
    sa.select(FractionDelivery.delivered_on, FractionDelivery.dose_cgy)
    .where(FractionDelivery.course_id == _COURSE, FractionDelivery.deleted_at.is_(None))
    .order_by(FractionDelivery.delivered_on)
)


def load_wound(session: Session, wound_id: uuid.UUID) -> WoundData:
    """Load one wound the caller may read (404 otherwise) with its assessments,
    overrides, procedures and radiotherapy course: a fixed number of SELECTs
    (plus the therapy module's, when present). Audits the read."""
    user = require("clinical:read")
    conn = session.connection()
    # The clinic is checked on the row (as access.get_record does): one statement
    # for every caller, without an IN list rendered per request.
    wound = conn.execute(_WOUND_STMT, {"wound_id": wound_id}).mappings().first()
    if wound is None or not in_clinic(user, wound["clinic_id"]):
        raise not_found("wound")
    audit.record(session, "read", "wound", wound_id, clinic_id=wound["clinic_id"])
    params = {"wound_id": wound_id}
    # .all() fetches in one call (iterating a result fetches row by row).
    override_rows = conn.execute(_OVERRIDES_STMT, params).mappings().all()
    data = WoundData(
        wound=wound,
        assessments=conn.execute(_SERIES_STMT, params).mappings().all(),
        overrides=_latest_overrides(override_rows),
        override_rows=override_rows,
        procedures=conn.execute(_PROCEDURES_STMT, params).mappings().all(),
        erythema=load_erythema(conn, wound_id),
    )
    if wound["course_start"] is not None:
        course = {"course_id": wound["radiotherapy_course_id"]}
        data.phases = conn.execute(_PHASES_STMT, course).mappings().all()
        data.fractions = conn.execute(_FRACTIONS_STMT, course).mappings().all()
    data.therapy = _therapy_context(session, data)
    data.recall = recall_block(
        session, wound, data.phases, data.fractions, lambda: _ctcae_grades(data)
    )
    return data


def _ctcae_grades(data: WoundData) -> list[int]:
    """The effective CTCAE grade of each assessment that has one, in time order."""
    out = []
    for row in data.assessments:
        grade = _series_item(row, data.overrides.get(row["id"], {}))["ctcae_grade"]
        if grade is not None:
            out.append(grade)
    return out


def _therapy_context(session: Session, data: WoundData) -> dict[str, Any]:
    """Therapy over the healing period (app.therapy.context): anti-angiogenic
    bands and dose changes, the wound's topical treatments, and the latest blood
    counts at each procedure.

    The period runs from the onset (or first assessment, if earlier) to the day
    the wound healed, else to today. Lab results come in one query for all
    procedures, so the number of queries does not grow with them."""
    w = data.wound
    start = w["onset_date"]
    if data.assessments:
        start = min(start, data.assessments[0]["assessed_at"].date())
    end = w["healed_on"] if w["status"] == "healed" and w["healed_on"] else None
    if end is None:
        end = datetime.now(UTC).date()
        if data.assessments:
            end = max(end, data.assessments[-1]["assessed_at"].date())
    end = max(end, start)
    try:
        block: dict[str, Any] = dict(therapy_context(session, w["patient_id"], start, end))
    except ValueError as exc:  # e.g. a window longer than the therapy module allows
        block = {"window": {"start": iso(start), "end": iso(end)}, "note": str(exc)}
    block["topical_treatments"] = topicals_for_wound(session, w["id"])
    block["labs_at_procedures"] = _labs_at_procedures(session, w["patient_id"], data.procedures)
    return block


_LABS_STMT = (
    sa.select(
        LabResult.test,
        LabResult.value,
        LabResult.unit,
        LabResult.taken_at,
        LabResult.ctcae_term,
        LabResult.ctcae_grade,
    )
    .where(
        LabResult.patient_id == sa.bindparam("patient_id", type_=sa.Uuid()),
        LabResult.deleted_at.is_(None),
        LabResult.taken_at <= sa.bindparam("until", type_=LabResult.__table__.c.taken_at.type),
    )
    .order_by(LabResult.taken_at, LabResult.created_at)
)


def _labs_at_procedures(
    session: Session, patient_id: uuid.UUID, procedures: Sequence[Any]
) -> list[dict[str, Any]]:
    """For each procedure, the latest result of each blood test taken at or before
    it, with its stored CTCAE grade (e.g. platelets before a PRP session).

    One SELECT of the results up to the last procedure, walked once: procedures
    come in time order, so each one's results are the previous one's plus those
    taken since."""
    if not procedures:
        return []
    last = max(p["performed_at"] for p in procedures)
    labs = session.connection().execute(_LABS_STMT, {"patient_id": patient_id, "until": last}).all()
    out = []
    latest: dict[str, dict[str, Any]] = {}
    i = 0
    for p in sorted(procedures, key=lambda p: p["performed_at"]):
        while i < len(labs) and labs[i].taken_at <= p["performed_at"]:
            lab = labs[i]
            latest[lab.test] = {
                "value": lab.value,
                "unit": lab.unit,
                "taken_at": iso(lab.taken_at),
                "ctcae_term": lab.ctcae_term,
                "ctcae_grade": lab.ctcae_grade,
            }
            i += 1
        out.append(
            {
                "procedure_id": str(p["id"]),
                "performed_at": iso(p["performed_at"]),
                "labs": dict(latest),
            }
        )
    return out


def _latest_overrides(rows: Iterable[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """assessment id -> scale -> the override in force (rows ordered by created_at)."""
    return overrides_in_force((r["assessment_id"], r["scale"], r["value"], dict(r)) for r in rows)


def data_version(data: WoundData, *extra: Any) -> str:
    """A strong ETag for everything a trajectory (or chart) is drawn from.

    Any amendment bumps a record's version, a delete removes it from the live
    set and an override adds a row, so each changes this hash."""
    h = hashlib.sha256()
    w = data.wound
    parts: list[Any] = [
        CHART_STYLE_VERSION,
        w["id"],
        w["version"],
        w["clinic_par_threshold_pct"],
        w["course_version"],
        *[(a["id"], a["version"]) for a in data.assessments],
        *[o["id"] for o in data.override_rows],
        *[(p["id"], p["version"]) for p in data.procedures],
        *[(e["id"], e["version"]) for e in data.erythema],
        *[(f["delivered_on"], f["dose_cgy"]) for f in data.fractions],
        json.dumps(data.therapy, sort_keys=True, default=str) if data.therapy else None,
        *extra,
    ]
    h.update(repr(parts).encode())
    return f'"t{h.hexdigest()[:32]}"'


def _series_item(row: Any, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ctcae_o, rtog_o = overrides.get("ctcae"), overrides.get("rtog")
    return {
        "at": iso(row["assessed_at"]),
        "assessment_id": str(row["id"]),
        "area_cm2": row["area_cm2"],
        "area_method": row["area_method"],
        "length_cm": row["length_cm"],
        "width_cm": row["width_cm"],
        "push_total": row["push_total"],
        "closed": bool(row["closed"]),
        "episode": 1,  # numbered by build_trajectory
        "ctcae_grade": _effective(row["ctcae_grade"], ctcae_o),
        "rtog_grade": _effective(row["rtog_grade"], rtog_o),
        "ctcae_derived": row["ctcae_grade"],
        "rtog_derived": row["rtog_grade"],
        "overridden": {"ctcae": ctcae_o is not None, "rtog": rtog_o is not None},
    }


def _area_point(item: dict[str, Any] | None) -> dict[str, Any] | None:
    # Keys in the order the API has always printed them (PointSchema's order).
    if item is None:
        return None
    return {"at": item["at"], "area_cm2": item["area_cm2"], "assessment_id": item["assessment_id"]}


def _procedures(
    procs: Sequence[Any], series: list[dict[str, Any]], rows: Sequence[Any]
) -> list[dict[str, Any]]:
    """Procedures in time order, each with the last measured assessment at or
    before it (measured, then treated, in one visit) and the first one after."""
    measured = [
        (row["assessed_at"], item)
        for row, item in zip(rows, series, strict=True)
        if item["area_cm2"] is not None
    ]
    times = [at for at, _ in measured]  # in time order, as the series
    out = []
    for p in procs:
        i = bisect_right(times, p["performed_at"])  # measured[:i] are at or before it
        entry: dict[str, Any] = {
            "id": str(p["id"]),
            "performed_at": iso(p["performed_at"]),
            "kind": p["kind"],
            "debridement": None,
            "prp": None,
            "area_before": _area_point(measured[i - 1][1] if i > 0 else None),
            "area_after": _area_point(measured[i][1] if i < len(measured) else None),
        }
        if p["debridement_method"] is not None or p["debridement_to_bleeding"] is not None:
            entry["debridement"] = {
                "method": p["debridement_method"],
                "to_bleeding": p["debridement_to_bleeding"],
            }
        if p["prp_form"] is not None or p["prp_volume_ml"] is not None:
            entry["prp"] = {
                "form": p["prp_form"],
                "volume_ml": p["prp_volume_ml"],
                "activator": p["prp_activator"],
            }
        out.append(entry)
    return out


def _radiotherapy(data: WoundData) -> dict[str, Any] | None:
    """Dose at the wound's onset from the fraction log, else the planned schedule
    (app/clinical/dose.py), and where onset fell relative to the course."""
    w = data.wound
    if w["course_start"] is None:
        return None
    phases = [
        Phase(
            technique=p["technique"],
            dose_per_fraction_cgy=p["dose_per_fraction_cgy"],
            fractions=p["fractions"],
            start_date=p["start_date"],
        )
        for p in data.phases
    ]
    block: dict[str, Any] = {
        "course_id": str(w["radiotherapy_course_id"]),
        "target_site": w["course_target_site"],
        "start_date": iso(w["course_start"]),
        "end_date": iso(w["course_end"]),
        "total_dose_cgy": planned_total_dose(phases),
        "fractions_planned": sum(p.fractions for p in phases),
        "dose_at_onset_cgy": None,
        "fraction_number_at_onset": None,
        "onset": "unknown",
        "source": None,
        "note": None,
    }
    try:
        dose = cumulative_dose_on(
            w["onset_date"],
            fractions=[Fraction(f["delivered_on"], f["dose_cgy"]) for f in data.fractions],
            phases=phases,
            course_start=w["course_start"],
            course_end=w["course_end"],
        )
    except ValueError as exc:
        block["note"] = str(exc)
        return block
    if dose.during_course:
        onset = "during"
    elif dose.after_course:
        onset = "after"
    elif dose.during_course is False:
        onset = "before"
    else:
        onset = "unknown"
    block.update(
        dose_at_onset_cgy=dose.cumulative_dose_cgy,
        fraction_number_at_onset=dose.fraction_number,
        onset=onset,
        source=dose.source,
        note=dose.note,
    )
    return block


def _grade_history(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Worst effective grade on each scale and when it was first reached, and the latest."""
    out: dict[str, Any] = {}
    for scale in ("ctcae", "rtog"):
        key = f"{scale}_grade"
        graded = [s for s in series if s[key] is not None]
        worst = None
        for s in graded:
            if worst is None or s[key] > worst[key]:
                worst = s
        out[f"worst_{scale}"] = (
            None
            if worst is None
            else {"value": worst[key], "at": worst["at"], "assessment_id": worst["assessment_id"]}
        )
        latest = graded[-1] if graded else None
        out[f"latest_{scale}"] = (
            None
            if latest is None
            else {
                "value": latest[key],
                "at": latest["at"],
                "assessment_id": latest["assessment_id"],
            }
        )
    return out


def _number_episodes(series: list[dict[str, Any]], traj: Trajectory) -> None:
    """Give each series item its healing episode: the one whose first
    measurement is the latest at or before it in the series' order (seq is the
    index in the series). Items before any measurement belong to the first."""
    starts = traj.episode_starts
    number = starts[0][0] if starts else traj.episode
    pending = 0
    for i, item in enumerate(series):
        while pending < len(starts) and starts[pending][1] <= i:
            number = starts[pending][0]
            pending += 1
        item["episode"] = number


def _points(rows: Sequence[Any]) -> list[Measurement]:
    """The Measurements of the assessments with an area (seq: the row's index).
    The other methods' areas are read only when the areas compared were not all
    taken by one method (area_methods.compare): built only when the rows have
    more than one method."""
    one_method = len({row["area_method"] for row in rows}) == 1
    points = []
    for i, row in enumerate(rows):
        if one_method:
            area = row["area_cm2"]
            if area is None and not row["closed"]:
                continue
            m: Measurement | None = Measurement(
                row["assessed_at"],
                0.0 if area is None else float(area),
                row["traced_perimeter_cm"],
                bool(row["closed"]),
                row["area_method"],
                (),
                i,
            )
        else:
            m = measurement(
                row["assessed_at"],
                row["area_cm2"],
                row["closed"],
                row["area_method"],
                row["traced_area_cm2"],
                row["measured_area_cm2"],
                row["length_cm"],
                row["width_cm"],
                perimeter=row["traced_perimeter_cm"],
                seq=i,
            )
        if m is not None:
            points.append(m)
    return points


def build_trajectory(data: WoundData) -> dict[str, Any]:
    """The trajectory document of GET /wounds/{id}/trajectory."""
    w = data.wound
    rules = trajectory_rules(w["clinic_par_threshold_pct"])
    series = [_series_item(row, data.overrides.get(row["id"], {})) for row in data.assessments]
    points = _points(data.assessments)
    healed_on = w["healed_on"] if w["status"] == "healed" else None
    traj = compute_trajectory(
        points,
        healed_on=healed_on,
        past_closures=past_closures(w["closures"]),
        irradiated=in_irradiated_field(w["radiotherapy_course_id"], w["etiology"]),
        rules=rules,
    )
    _number_episodes(series, traj)
    radiotherapy = _radiotherapy(data)
    result: dict[str, Any] = {
        "wound_id": str(w["id"]),
        "patient_id": str(w["patient_id"]),
        "body_site": w["body_site"],
        "wound_status": w["status"],
        "onset_date": iso(w["onset_date"]),
        "healed_on": iso(w["healed_on"]),
        "status": traj.status,
        "rule": traj.rule,
        "reasons": traj.reasons,
        "rules": dict(rules_dict(rules)),  # a copy: callers may change the document
        "episode": traj.episode,
        "episodes": traj.episodes,
        "baseline": traj.baseline,
        "latest": traj.latest,
        "par_pct": traj.par_pct,
        "area_methods": traj.area_methods,
        "week4_checkpoint": traj.week4_checkpoint.to_dict(),
        "par_week4_pct": traj.par_week4_pct,
        "par_week4_note": traj.par_week4_note,
        "recent_change": None if traj.recent_change is None else traj.recent_change.to_dict(),
        "weekly_area_change_cm2": traj.weekly_area_change_cm2,
        "gilman_cm_per_week": traj.gilman_cm_per_week,
        "k_per_day": traj.k_per_day,
        "projected_closure_on": iso(traj.projected_closure_on),
        "projection_note": traj.projection_note,
        "days_to_closure": traj.days_to_closure,
        "series": series,
        "procedures": _procedures(data.procedures, series, data.assessments),
        "erythema": erythema_series(list(data.erythema)),
        "radiotherapy": radiotherapy,
        "dose_at_onset_cgy": radiotherapy["dose_at_onset_cgy"] if radiotherapy else None,
        "grade_history": _grade_history(series),
        "symptoms": symptom_block(data.assessments, series, traj.episode),
        "therapy": data.therapy,
        "radiation_recall": data.recall,
    }
    return result
