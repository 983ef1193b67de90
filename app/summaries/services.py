"""Healing-trajectory summaries, the clinic dashboard and the patient summary.

This layer only loads rows and assembles answers: every clinical number comes
from app/clinical (trajectory.compute_trajectory, dose.cumulative_dose_on).

Loading is explicit and bounded: each summary issues a fixed number of
SELECTs of the columns it needs (Core selects, not whole ORM objects), whatever
the number of assessments, procedures or wounds. Nothing is cached, so nothing
can go stale; the chart carries an ETag computed from the data it was drawn
from, which lets clients cache it safely instead.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, GradeOverride, overrides_in_force
from app.clinical.dose import Fraction, Phase, cumulative_dose_on
from app.clinical.trajectory import (
    DETERIORATING,
    STALLED,
    STATUSES,
    Measurement,
    Trajectory,
    TrajectoryRules,
    compute_trajectory,
)
from app.clinics.models import Clinic
from app.core import audit
from app.core.access import clinic_clause, in_clinic, not_found, require
from app.core.db import UUIDText, naive_as_utc
from app.core.errors import field_error
from app.patients.models import Patient
from app.procedures.models import PROCEDURE_DETAILS, Procedure
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange
from app.wounds.models import Wound

# Bump when the chart drawing changes, so cached charts are redrawn.
CHART_STYLE_VERSION = "1"


# --------------------------------------------------------------------------- rules


def trajectory_rules(clinic_par_threshold_pct: float | None) -> TrajectoryRules:
    """Thresholds for compute_trajectory: the clinic's PAR threshold when it set
    one, else PAR_THRESHOLD_PCT; PAR_WEEK and DETERIORATING_MARGIN_PCT from config.
    (No threshold is published for radiation wounds: clinical-reference.md.)"""
    cfg = current_app.config
    return TrajectoryRules(
        par_threshold_pct=float(
            clinic_par_threshold_pct
            if clinic_par_threshold_pct is not None
            else cfg["PAR_THRESHOLD_PCT"]
        ),
        par_week=int(cfg["PAR_WEEK"]),
        deteriorating_margin_pct=float(cfg["DETERIORATING_MARGIN_PCT"]),
    )


@functools.lru_cache(maxsize=64)
def _rules_dict(rules: TrajectoryRules) -> dict[str, Any]:
    # Rules are frozen and few (one per clinic threshold): their dict is built
    # once per value, not per request (dataclasses.asdict is not cheap).
    return rules.to_dict()


def overdue_days(clinic_days: int | None) -> int:
    """Assessment interval after which a wound is overdue (clinic setting or config)."""
    return int(
        clinic_days if clinic_days is not None else current_app.config["OVERDUE_ASSESSMENT_DAYS"]
    )


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # as UTCDateTime hands it back: no conversion to make
            return value.isoformat()
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _measurement(at: datetime, area: float | None, closed: bool, perimeter: float | None = None):
    """The Measurement for an assessment, or None when it has no area.

    A closed wound without a recorded area counts as 0 cm2 (it has resurfaced)."""
    if area is None:
        if not closed:
            return None
        area = 0.0
    return Measurement(at=at, area_cm2=float(area), perimeter_cm=perimeter, closed=bool(closed))


def _effective(derived: int | None, override: dict[str, Any] | None) -> int | None:
    return override["value"] if override is not None else derived


# ---------------------------------------------------------------- single wound


def _core(session: Session) -> Any:
    """The session's connection: Core SELECTs of plain columns skip the ORM's
    result machinery, which costs more than the query on big dashboards."""
    return session.connection()


@dataclass
class WoundData:
    """Everything one wound's trajectory is built from (rows as mappings)."""

    wound: Any
    assessments: list[Any]
    overrides: dict[str, dict[str, dict[str, Any]]]  # by assessment id (text)
    override_rows: list[Any]
    procedures: list[Any]
    phases: list[Any] = field(default_factory=list)
    fractions: list[Any] = field(default_factory=list)
    therapy: dict[str, Any] | None = None


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
    Assessment.traced_perimeter_cm,
    Assessment.version,
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
    conn = _core(session)
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
    )
    if wound["course_start"] is not None:
        course = {"course_id": wound["radiotherapy_course_id"]}
        data.phases = conn.execute(_PHASES_STMT, course).mappings().all()
        data.fractions = conn.execute(_FRACTIONS_STMT, course).mappings().all()
    data.therapy = _therapy_context(session, data)
    return data


def _therapy_context(session: Session, data: WoundData) -> dict[str, Any] | None:
    """Therapy over the healing period, from app/therapy/services.py when it offers
    ``therapy_context`` (None otherwise): anti-angiogenic bands and dose changes,
    the wound's topical treatments, and the latest blood counts at each procedure.

    The period runs from the onset (or first assessment, if earlier) to the day
    the wound healed, else to today. Lab results come in one query for all
    procedures, so the number of queries does not grow with them."""
    try:
        from app.therapy import context as therapy_services
    except ImportError:
        return None
    context_fn = getattr(therapy_services, "therapy_context", None)
    if context_fn is None:
        return None
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
        block: dict[str, Any] = dict(context_fn(session, w["patient_id"], start, end))
    except ValueError as exc:  # e.g. a window longer than the therapy module allows
        block = {"window": {"start": _iso(start), "end": _iso(end)}, "note": str(exc)}
    topicals_fn = getattr(therapy_services, "topicals_for_wound", None)
    block["topical_treatments"] = topicals_fn(session, w["id"]) if topicals_fn else []
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
    labs = _core(session).execute(_LABS_STMT, {"patient_id": patient_id, "until": last}).all()
    out = []
    latest: dict[str, dict[str, Any]] = {}
    i = 0
    for p in sorted(procedures, key=lambda p: p["performed_at"]):
        while i < len(labs) and labs[i].taken_at <= p["performed_at"]:
            lab = labs[i]
            latest[lab.test] = {
                "value": lab.value,
                "unit": lab.unit,
                "taken_at": _iso(lab.taken_at),
                "ctcae_term": lab.ctcae_term,
                "ctcae_grade": lab.ctcae_grade,
            }
            i += 1
        out.append(
            {
                "procedure_id": str(p["id"]),
                "performed_at": _iso(p["performed_at"]),
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
        *[(f["delivered_on"], f["dose_cgy"]) for f in data.fractions],
        json.dumps(data.therapy, sort_keys=True, default=str) if data.therapy else None,
        *extra,
    ]
    h.update(repr(parts).encode())
    return f'"t{h.hexdigest()[:32]}"'


def _series_item(row: Any, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ctcae_o, rtog_o = overrides.get("ctcae"), overrides.get("rtog")
    return {
        "at": _iso(row["assessed_at"]),
        "assessment_id": str(row["id"]),
        "area_cm2": row["area_cm2"],
        "area_method": row["area_method"],
        "length_cm": row["length_cm"],
        "width_cm": row["width_cm"],
        "push_total": row["push_total"],
        "closed": bool(row["closed"]),
        "ctcae_grade": _effective(row["ctcae_grade"], ctcae_o),
        "rtog_grade": _effective(row["rtog_grade"], rtog_o),
        "ctcae_derived": row["ctcae_grade"],
        "rtog_derived": row["rtog_grade"],
        "overridden": {"ctcae": ctcae_o is not None, "rtog": rtog_o is not None},
    }


def _area_point(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {"at": item["at"], "assessment_id": item["assessment_id"], "area_cm2": item["area_cm2"]}


def _procedures(procs: Sequence[Any], series: list[dict[str, Any]], rows: Sequence[Any]):
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
            "performed_at": _iso(p["performed_at"]),
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
        "start_date": _iso(w["course_start"]),
        "end_date": _iso(w["course_end"]),
        "total_dose_cgy": float(sum(p.dose_per_fraction_cgy * p.fractions for p in phases)),
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


def build_trajectory(data: WoundData) -> dict[str, Any]:
    """The trajectory document of GET /wounds/{id}/trajectory."""
    w = data.wound
    rules = trajectory_rules(w["clinic_par_threshold_pct"])
    series = [_series_item(row, data.overrides.get(row["id"], {})) for row in data.assessments]
    points = [
        m
        for m in (
            _measurement(
                row["assessed_at"], row["area_cm2"], row["closed"], row["traced_perimeter_cm"]
            )
            for row in data.assessments
        )
        if m is not None
    ]
    healed_on = w["healed_on"] if w["status"] == "healed" else None
    traj = compute_trajectory(points, healed_on=healed_on, rules=rules)
    radiotherapy = _radiotherapy(data)
    result: dict[str, Any] = {
        "wound_id": str(w["id"]),
        "patient_id": str(w["patient_id"]),
        "body_site": w["body_site"],
        "wound_status": w["status"],
        "onset_date": _iso(w["onset_date"]),
        "healed_on": _iso(w["healed_on"]),
        "status": traj.status,
        "rule": traj.rule,
        "rules": dict(_rules_dict(rules)),  # a copy: callers may change the document
        "baseline": traj.baseline,
        "latest": traj.latest,
        "par_pct": traj.par_pct,
        "par_week4_pct": traj.par_week4_pct,
        "par_week4_note": traj.par_week4_note,
        "weekly_area_change_cm2": traj.weekly_area_change_cm2,
        "gilman_cm_per_week": traj.gilman_cm_per_week,
        "k_per_day": traj.k_per_day,
        "projected_closure_on": _iso(traj.projected_closure_on),
        "projection_note": traj.projection_note,
        "days_to_closure": traj.days_to_closure,
        "series": series,
        "procedures": _procedures(data.procedures, series, data.assessments),
        "radiotherapy": radiotherapy,
        "dose_at_onset_cgy": radiotherapy["dose_at_onset_cgy"] if radiotherapy else None,
        "grade_history": _grade_history(series),
        "therapy": data.therapy,
    }
    return result


# ------------------------------------------------------------------- dashboard

_RANK = {DETERIORATING: 0, STALLED: 1}
SORTS = ("priority", "days_since_assessment", "grade", "par", "onset", "site")


def _assessment_points(rows: Iterable[Any]) -> dict[Any, list[Any]]:
    by_wound: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        by_wound[row[0]].append(row)
    return by_wound


def _utc(value: Any) -> datetime:
    """assessed_at as fetched without type processing: SQLite's stored text, or
    the driver's datetime (PostgreSQL). Same result as the UTCDateTime column type."""
    if isinstance(value, str):
        return naive_as_utc(datetime.fromisoformat(value))
    return value.astimezone(UTC) if value.tzinfo else naive_as_utc(value)  # type: ignore[no-any-return]


def _stored(at: datetime, like: Any) -> Any:
    """``at`` (UTC) in the form assessed_at is fetched in (``like``): SQLite's
    text (fixed width, so it sorts as time does; isoformat without "+00:00")
    or the driver's datetime."""
    if isinstance(like, str):
        return at.isoformat(" ", "microseconds")[:-6]
    return at


def _status_indices(instants: list[Any], gone: list[bool], rules: TrajectoryRules) -> list[int]:
    """The assessments that decide compute_trajectory's status, rule, baseline,
    latest, PAR and PAR at week 4 (not its slopes or projection).

    Those read only: the baseline, the previous and the latest assessment
    (deterioration); the assessments either side of the PAR day and of the start
    of the stall window (interpolation); and the trailing run of closed
    assessments with the one before it (healed). Passing just these gives the
    same answer for a fraction of the work, which is what lets the dashboard
    judge thousands of wounds per request; tests/summaries checks the
    equivalence on random series. ``instants`` are assessed_at as fetched, in
    time order (only two are parsed); ``gone`` marks closed or zero-area ones.

    Where an assessment lies exactly on the PAR day or the window start, the
    trajectory's comparison of float days may fall either way (the window
    start is itself a float difference), so the neighbours of such a tie are
    kept too: any superset of the deciding assessments gives the same answer.
    Elsewhere the instants are at least a microsecond from the mark, far more
    than the rounding of days.
    """
    n = len(instants)
    keep = {0, n - 2, n - 1}
    origin, latest = _utc(instants[0]), _utc(instants[-1])
    for target in (
        origin + timedelta(days=rules.par_day),
        latest - timedelta(days=rules.stall_window_days),
    ):
        mark = _stored(target, instants[0])
        before = bisect_right(instants, mark) - 1
        after = bisect_left(instants, mark)
        keep.update((before, after))
        if after < n and instants[after] == mark:
            keep.update((after - 1, before + 1))
    if gone[-1]:
        first = n - 1
        while first > 0 and gone[first - 1]:
            first -= 1
        keep.add(first)
        keep.add(first - 1)
    return sorted(i for i in keep if 0 <= i < n)


def statuses_for(
    rows: Sequence[Any], rules: TrajectoryRules, healed_on: date | None = None
) -> Trajectory:
    """compute_trajectory's status, rule and PAR for one wound from its
    (wound_id, assessed_at, area_cm2, closed, ...) rows in time order, fed only
    the assessments those depend on (_status_indices). Slopes, k and the
    projection in the result are NOT those of the full series."""
    # An assessment without an area counts only when it found the wound closed.
    measured = [row for row in rows if row[2] is not None or row[3]]
    if len(measured) > 6:
        gone = [bool(row[3]) or row[2] == 0 for row in measured]
        keep = _status_indices([row[1] for row in measured], gone, rules)
        measured = [measured[i] for i in keep]
    points = [
        Measurement(
            at=_utc(row[1]),
            area_cm2=0.0 if row[2] is None else float(row[2]),
            closed=bool(row[3]),
        )
        for row in measured
    ]
    return compute_trajectory(points, healed_on=healed_on, rules=rules)


def _encode_cursor(key: tuple[Any, ...]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, like: tuple[Any, ...] | None) -> tuple[Any, ...]:
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not isinstance(raw, list) or (like is not None and len(raw) != len(like)):
            raise ValueError
        key = tuple(raw)
        if like is not None:
            for a, b in zip(key, like, strict=True):
                if isinstance(a, str) != isinstance(b, str):
                    raise ValueError
        return key
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise field_error(
            "cursor", "is not a cursor this list gave out; start again without it"
        ) from exc


def _sort_key(item: dict[str, Any], sort: str) -> tuple[Any, ...]:
    """Sort keys made of numbers and strings only (so they travel in a cursor);
    the wound id last makes every key unique."""
    grade = item["grade"] if item["grade"] is not None else -1
    days = item["days_since_assessment"]
    wid = item["wound_id"]
    if sort == "priority":
        return (
            _RANK.get(item["status"], 2),
            0 if item["overdue"] else 1,
            -grade,
            -days,
            wid,
        )
    if sort == "days_since_assessment":
        return (-days, wid)
    if sort == "grade":
        return (-grade, _RANK.get(item["status"], 2), wid)
    if sort == "par":
        par = item["par_pct"]
        return (0 if par is not None else 1, par if par is not None else 0.0, wid)
    if sort == "onset":
        return (item["onset_date"], wid)
    return (item["body_site"].lower(), wid)


def _resolve_clinic(user: Any, requested: uuid.UUID | None) -> uuid.UUID:
    if requested is not None:
        require("clinical:read", requested)
        return requested
    if len(user.clinic_ids) == 1:
        return user.clinic_ids[0]  # type: ignore[no-any-return]
    raise field_error("clinic_id", "is required: you belong to several clinics (or none)")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def dashboard_statements(
    clinic_id: uuid.UUID, args: dict[str, Any], today: date
) -> tuple[Any, Any, Any]:
    """(wounds, assessments, overrides) SELECTs for the dashboard: the open wounds
    of the clinic matching the filters, and bounded columns of all their live
    assessments in (wound, time) order. Public so the benchmark can run the very
    same SQL raw."""
    wound_filter = [
        Wound.clinic_id == clinic_id,
        Wound.status == "open",
        Wound.deleted_at.is_(None),
        Patient.deleted_at.is_(None),
    ]
    if args.get("site"):
        wound_filter.append(Wound.body_site.ilike(f"%{_like_escape(args['site'])}%", escape="\\"))
    if args.get("etiology"):
        wound_filter.append(Wound.etiology == args["etiology"])
    if args.get("nurse"):
        nurse = args["nurse"]
        assessed = sa.exists().where(
            Assessment.wound_id == Wound.id,
            Assessment.deleted_at.is_(None),
            Assessment.assessed_by == nurse,
        )
        wound_filter.append(sa.or_(Wound.created_by == nurse, assessed))
    if args.get("anti_angiogenic") is not None:
        on_drug = sa.exists().where(
            SystemicTherapy.patient_id == Wound.patient_id,
            SystemicTherapy.deleted_at.is_(None),
            SystemicTherapy.anti_angiogenic.is_(True),
            SystemicTherapy.start_date <= today,
            sa.or_(SystemicTherapy.stop_date.is_(None), SystemicTherapy.stop_date >= today),
            ~sa.exists().where(
                TherapyChange.therapy_id == SystemicTherapy.id,
                TherapyChange.deleted_at.is_(None),
                TherapyChange.kind == "stopped",
                TherapyChange.effective_on <= today,
            ),
        )
        wound_filter.append(on_drug if args["anti_angiogenic"] else ~on_drug)

    # Ids as text: thousands of uuid.UUID objects would cost more than the query.
    wounds = (
        sa.select(
            sa.cast(Wound.id, sa.String),
            sa.cast(Wound.patient_id, sa.String),
            Wound.body_site,
            Wound.laterality,
            Wound.etiology,
            Wound.onset_date,
            Patient.mrn,
            Patient.given_name,
            Patient.family_name,
        )
        .join(Patient, Patient.id == Wound.patient_id)
        .where(*wound_filter)
    )
    wound_ids = (
        sa.select(Wound.id).join(Patient, Patient.id == Wound.patient_id).where(*wound_filter)
    )
    # (wound_id, assessed_at) order straight from ix_assessments_wound_time; the
    # wound subquery already limits them to the clinic.
    assessments = (
        sa.select(
            sa.cast(Assessment.wound_id, sa.String),
            sa.type_coerce(Assessment.assessed_at, sa.String),
            Assessment.area_cm2,
            Assessment.closed,
            Assessment.ctcae_grade,
            Assessment.rtog_grade,
            sa.cast(Assessment.id, sa.String),
        )
        .where(Assessment.deleted_at.is_(None), Assessment.wound_id.in_(wound_ids))
        .order_by(Assessment.wound_id, Assessment.assessed_at)
    )
    # Overrides are few: take the clinic's and keep those of each wound's latest
    # assessment in Python (cheaper than walking every assessment to find them).
    overrides = (
        sa.select(
            sa.cast(GradeOverride.assessment_id, sa.String),
            GradeOverride.scale,
            GradeOverride.value,
        )
        .where(GradeOverride.clinic_id == clinic_id)
        .order_by(GradeOverride.created_at, GradeOverride.id)
    )
    return wounds, assessments, overrides


def dashboard(session: Session, args: dict[str, Any], now: datetime | None = None):
    """Open wounds of one clinic with their trajectory status, overdue flag and
    latest grade; worst first. Four SELECTs whatever the number of wounds:
    clinic settings, wounds, their assessments (bounded columns), overrides.

    ``counts`` cover every wound matching the filters except ``status`` and
    ``grade_min`` (which narrow the list the way a dashboard tab would)."""
    user = require("clinical:read")
    clinic_id = _resolve_clinic(user, args.get("clinic_id"))
    now = now or datetime.now(UTC)
    today = now.date()
    clinic = (
        _core(session)
        .execute(
            sa.select(Clinic.par_threshold_pct, Clinic.overdue_assessment_days).where(
                Clinic.id == clinic_id
            )
        )
        .first()
    )
    if clinic is None:
        raise not_found("clinic")
    rules = trajectory_rules(clinic[0])
    due_days = overdue_days(clinic[1])

    wounds_stmt, assess_stmt, override_stmt = dashboard_statements(clinic_id, args, today)
    wounds = _core(session).execute(wounds_stmt).all()
    by_wound = _assessment_points(_core(session).execute(assess_stmt).all())
    overrides = overrides_in_force(
        (aid, scale, value, value) for aid, scale, value in _core(session).execute(override_stmt)
    )

    items = []
    for w in wounds:
        rows = by_wound.get(w[0], ())
        traj = statuses_for(rows, rules)
        last = rows[-1] if rows else None
        if last is not None:
            o = overrides.get(last[6], {})
            ctcae = o.get("ctcae", last[4])
            rtog = o.get("rtog", last[5])
            last_at = _utc(last[1])
            days = (today - last_at.date()).days
        else:
            ctcae = rtog = None
            last_at = None
            days = (today - w[5]).days
        graded = [g for g in (ctcae, rtog) if g is not None]
        grade = max(graded) if graded else None
        items.append(
            {
                "wound_id": w[0],
                "patient": {
                    "id": w[1],
                    "mrn": w[6],
                    "given_name": w[7],
                    "family_name": w[8],
                },
                "body_site": w[2],
                "laterality": w[3],
                "etiology": w[4],
                "onset_date": w[5].isoformat(),
                "status": traj.status,
                "rule": traj.rule,
                "par_pct": traj.par_pct,
                "par_week4_pct": traj.par_week4_pct,
                "assessment_count": len(rows),
                "last_assessed_at": _iso(last_at),
                "days_since_assessment": days,
                "overdue": days > due_days,
                "latest_grade": {"ctcae": ctcae, "rtog": rtog},
                "grade": grade,
                "grade_3_plus": grade is not None and grade >= 3,
            }
        )

    counts_status = dict.fromkeys(STATUSES, 0)
    counts_grade: dict[str, int] = {str(g): 0 for g in range(6)} | {"none": 0}
    overdue_n = severe_n = 0
    for it in items:
        counts_status[it["status"]] += 1
        counts_grade["none" if it["grade"] is None else str(it["grade"])] += 1
        overdue_n += it["overdue"]
        severe_n += it["grade_3_plus"]
    counts = {
        "total": len(items),
        "by_status": counts_status,
        "by_grade": counts_grade,
        "overdue": overdue_n,
        "grade_3_plus": severe_n,
    }

    if args.get("status"):
        wanted = set(args["status"])
        items = [it for it in items if it["status"] in wanted]
    if args.get("grade_min") is not None:
        items = [it for it in items if it["grade"] is not None and it["grade"] >= args["grade_min"]]

    sort = args.get("sort", "priority")
    keyed = sorted(((_sort_key(it, sort), it) for it in items), key=lambda kv: kv[0])
    if args.get("cursor"):
        after = _decode_cursor(args["cursor"], keyed[0][0] if keyed else None)
        try:
            keyed = [kv for kv in keyed if kv[0] > after]
        except TypeError as exc:
            raise field_error("cursor", "does not belong to this sort; start again") from exc
    limit = args["limit"]
    page = keyed[:limit]
    next_cursor = _encode_cursor(page[-1][0]) if len(keyed) > limit else None
    for _, it in page:  # canonical UUID text (SQLite keeps ids as bare hex)
        it["wound_id"] = str(uuid.UUID(it["wound_id"]))
        it["patient"]["id"] = str(uuid.UUID(it["patient"]["id"]))
    audit.record(
        session,
        "list",
        "wound",
        None,
        clinic_id=clinic_id,
        details={"view": "dashboard", "count": len(page)},
    )
    return {
        "clinic_id": str(clinic_id),
        "overdue_after_days": due_days,
        "rules": rules.to_dict(),
        "items": [it for _, it in page],
        "next_cursor": next_cursor,
        "counts": counts,
    }


# ------------------------------------------------------------- patient summary


def patient_summary(session: Session, patient_id: uuid.UUID) -> dict[str, Any]:
    """A patient's wounds with their statuses, radiotherapy courses with total
    dose, and a timeline of procedures, therapy changes and wound events."""
    user = require("clinical:read")
    patient = (
        _core(session)
        .execute(
            sa.select(
                Patient.id,
                Patient.clinic_id,
                Patient.mrn,
                Patient.given_name,
                Patient.family_name,
                Patient.birth_date,
                Patient.sex,
                Clinic.par_threshold_pct,
            )
            .join(Clinic, Clinic.id == Patient.clinic_id)
            .where(
                Patient.id == patient_id, Patient.deleted_at.is_(None), clinic_clause(Patient, user)
            )
        )
        .first()
    )
    if patient is None:
        raise not_found("patient")
    audit.record(session, "read", "patient", patient_id, clinic_id=patient.clinic_id)
    rules = trajectory_rules(patient.par_threshold_pct)

    wounds = (
        _core(session)
        .execute(
            sa.select(*_WOUND_COLUMNS)
            .where(Wound.patient_id == patient_id, Wound.deleted_at.is_(None))
            .order_by(Wound.onset_date, Wound.id)
        )
        .all()
    )
    wound_ids = sa.select(Wound.id).where(
        Wound.patient_id == patient_id, Wound.deleted_at.is_(None)
    )
    by_wound = _assessment_points(
        _core(session)
        .execute(
            sa.select(
                Assessment.wound_id, Assessment.assessed_at, Assessment.area_cm2, Assessment.closed
            )
            .where(Assessment.wound_id.in_(wound_ids), Assessment.deleted_at.is_(None))
            .order_by(Assessment.wound_id, Assessment.assessed_at, Assessment.created_at)
        )
        .all()
    )
    procedures = (
        _core(session)
        .execute(
            sa.select(
                Procedure.id,
                Procedure.wound_id,
                Procedure.performed_at,
                Procedure.kind,
                Procedure.debridement_method,
                Procedure.prp_form,
            )
            .where(Procedure.wound_id.in_(wound_ids), Procedure.deleted_at.is_(None))
            .order_by(Procedure.performed_at, Procedure.id)
        )
        .all()
    )
    courses = (
        _core(session)
        .execute(
            sa.select(
                RadiotherapyCourse.id,
                RadiotherapyCourse.target_site,
                RadiotherapyCourse.start_date,
                RadiotherapyCourse.end_date,
            )
            .where(
                RadiotherapyCourse.patient_id == patient_id,
                RadiotherapyCourse.deleted_at.is_(None),
            )
            .order_by(RadiotherapyCourse.start_date, RadiotherapyCourse.id)
        )
        .all()
    )
    phases: dict[Any, list[Any]] = defaultdict(list)
    for row in (
        _core(session)
        .execute(
            sa.select(
                RadiotherapyPhase.course_id,
                RadiotherapyPhase.technique,
                RadiotherapyPhase.dose_per_fraction_cgy,
                RadiotherapyPhase.fractions,
            )
            .join(RadiotherapyCourse, RadiotherapyCourse.id == RadiotherapyPhase.course_id)
            .where(RadiotherapyCourse.patient_id == patient_id)
            .order_by(RadiotherapyPhase.course_id, RadiotherapyPhase.position)
        )
        .all()
    ):
        phases[row[0]].append(row)
    therapies = (
        _core(session)
        .execute(
            sa.select(
                SystemicTherapy.id,
                SystemicTherapy.agent,
                SystemicTherapy.anti_angiogenic,
                SystemicTherapy.dose,
                SystemicTherapy.dose_unit,
                SystemicTherapy.start_date,
                SystemicTherapy.stop_date,
            ).where(SystemicTherapy.patient_id == patient_id, SystemicTherapy.deleted_at.is_(None))
        )
        .all()
    )
    changes = (
        _core(session)
        .execute(
            sa.select(
                TherapyChange.therapy_id,
                TherapyChange.effective_on,
                TherapyChange.kind,
                TherapyChange.dose,
                TherapyChange.reason,
                SystemicTherapy.agent,
                SystemicTherapy.dose_unit,
            )
            .join(SystemicTherapy, SystemicTherapy.id == TherapyChange.therapy_id)
            .where(
                SystemicTherapy.patient_id == patient_id,
                SystemicTherapy.deleted_at.is_(None),
                TherapyChange.deleted_at.is_(None),
            )
        )
        .all()
    )

    wound_items = []
    timeline: list[dict[str, Any]] = []
    for w in wounds:
        healed_on = w.healed_on if w.status == "healed" else None
        traj = statuses_for(by_wound.get(w.id, ()), rules, healed_on)
        wound_items.append(
            {
                "id": str(w.id),
                "body_site": w.body_site,
                "laterality": w.laterality,
                "etiology": w.etiology,
                "onset_date": w.onset_date.isoformat(),
                "wound_status": w.status,
                "healed_on": _iso(w.healed_on),
                "radiotherapy_course_id": (
                    str(w.radiotherapy_course_id) if w.radiotherapy_course_id else None
                ),
                "status": traj.status,
                "rule": traj.rule,
                "par_pct": traj.par_pct,
                "assessment_count": len(by_wound.get(w.id, ())),
                "latest": traj.latest,
            }
        )
        timeline.append(
            {
                "on": w.onset_date.isoformat(),
                "kind": "wound_onset",
                "wound_id": str(w.id),
                "label": f"{w.body_site} wound opened",
            }
        )
        if w.healed_on is not None:
            timeline.append(
                {
                    "on": w.healed_on.isoformat(),
                    "kind": "wound_healed",
                    "wound_id": str(w.id),
                    "label": f"{w.body_site} wound healed",
                }
            )
    course_items = []
    for c in courses:
        total = float(sum(p.dose_per_fraction_cgy * p.fractions for p in phases[c.id]))
        course_items.append(
            {
                "id": str(c.id),
                "target_site": c.target_site,
                "start_date": c.start_date.isoformat(),
                "end_date": _iso(c.end_date),
                "total_dose_cgy": total,
                "fractions": sum(p.fractions for p in phases[c.id]),
                "phases": [
                    {
                        "technique": p.technique,
                        "dose_per_fraction_cgy": p.dose_per_fraction_cgy,
                        "fractions": p.fractions,
                    }
                    for p in phases[c.id]
                ],
            }
        )
        timeline.append(
            {
                "on": c.start_date.isoformat(),
                "kind": "radiotherapy_start",
                "course_id": str(c.id),
                "label": f"radiotherapy to {c.target_site} started ({total:g} cGy planned)",
            }
        )
        if c.end_date is not None:
            timeline.append(
                {
                    "on": c.end_date.isoformat(),
                    "kind": "radiotherapy_end",
                    "course_id": str(c.id),
                    "label": f"radiotherapy to {c.target_site} ended",
                }
            )
    for p in procedures:
        label = p.kind
        if p.debridement_method:
            label += f" ({p.debridement_method.replace('_', ' ')})"
        if p.prp_form and p.kind != "prp":
            label += f" + PRP {p.prp_form}"
        timeline.append(
            {
                "on": p.performed_at.date().isoformat(),
                "at": _iso(p.performed_at),
                "kind": "procedure",
                "procedure_kind": p.kind,
                "procedure_id": str(p.id),
                "wound_id": str(p.wound_id),
                "label": label,
            }
        )
    for t in therapies:
        timeline.append(
            {
                "on": t.start_date.isoformat(),
                "kind": "therapy_start",
                "therapy_id": str(t.id),
                "anti_angiogenic": t.anti_angiogenic,
                "label": f"{t.agent} {t.dose:g} {t.dose_unit} started",
            }
        )
        if t.stop_date is not None:
            timeline.append(
                {
                    "on": t.stop_date.isoformat(),
                    "kind": "therapy_stop",
                    "therapy_id": str(t.id),
                    "anti_angiogenic": t.anti_angiogenic,
                    "label": f"{t.agent} stopped",
                }
            )
    for ch in changes:
        dose = f" to {ch.dose:g} {ch.dose_unit}" if ch.dose is not None else ""
        timeline.append(
            {
                "on": ch.effective_on.isoformat(),
                "kind": "therapy_change",
                "therapy_id": str(ch.therapy_id),
                "change": ch.kind,
                "label": f"{ch.agent} {ch.kind.replace('_', ' ')}{dose}",
            }
        )
    # Same-day events in causal order (e.g. the last fraction, then the wound opening).
    order = {
        "radiotherapy_start": 0,
        "therapy_start": 1,
        "radiotherapy_end": 2,
        "wound_onset": 3,
        "procedure": 4,
    }
    timeline.sort(key=lambda e: (e["on"], e.get("at") or "", order.get(e["kind"], 5)))
    return {
        "patient": {
            "id": str(patient.id),
            "clinic_id": str(patient.clinic_id),
            "mrn": patient.mrn,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
        },
        "wounds": wound_items,
        "radiotherapy_courses": course_items,
        "systemic_therapies": [
            {
                "id": str(t.id),
                "agent": t.agent,
                "anti_angiogenic": t.anti_angiogenic,
                "dose": t.dose,
                "dose_unit": t.dose_unit,
                "start_date": t.start_date.isoformat(),
                "stop_date": _iso(t.stop_date),
            }
            for t in therapies
        ],
        "timeline": timeline,
    }
