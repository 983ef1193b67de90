"""Evaluate the alert rules for wounds, in the transaction of the write that
changed them, and open or resolve their alerts.

Every clinical decision is app/clinical/alerts.py's; this module loads the
figures (a bounded number of SELECTs for any number of wounds), applies the
decisions and writes the outbox rows of the events.

Two instances evaluating the same change: the unique partial index on
(wound_id, kind) of alerts not resolved lets one INSERT through; the other's
fails inside a savepoint and is dropped. A resolve is a conditional UPDATE
(``resolved_at IS NULL``), so only one instance resolves and announces it.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.alerts import outbox
from app.alerts.models import Alert
from app.assessments.models import Assessment, GradeOverride
from app.clinical import alerts as rules_
from app.clinical.therapy import Change, Schedule, last_day
from app.clinical.trajectory import HEALED
from app.clinics.models import Clinic
from app.core import audit
from app.core.db import typed_null, utcnow
from app.core.timezones import local_date
from app.summaries.statuses import (
    any_closure,
    as_utc,
    overdue_days,
    past_closures,
    statuses_for,
    trajectory_rules,
)
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange
from app.wounds.models import Wound

#: The rules a write to a wound or its assessments can change.
WOUND_KINDS = ("week4_missed", "deteriorating", "recurrence", "grade", "overdue", "infection")
SIGNS = tuple(f"sign_{s}" for s in rules_.INFECTION_SIGNS)

_WOUND = (
    Wound.id,
    Wound.clinic_id,
    Wound.patient_id,
    Wound.status,
    Wound.healed_on,
    Wound.onset_date,
    Wound.deleted_at,
    Wound.closures,
    Clinic.par_threshold_pct,
    Clinic.overdue_assessment_days,
    Clinic.alert_grade_threshold,
    Clinic.alert_lab_grade_threshold,
    Clinic.alert_infection_min_signs,
    Clinic.primary_grade_scale,
    Clinic.timezone,
)


def alert_rules(w: Any) -> rules_.AlertRules:
    """The clinic's thresholds (a row of _WOUND), defaults where it set none."""
    traj = trajectory_rules(w.par_threshold_pct)
    return _alert_rules(
        w.alert_grade_threshold or 3,
        w.alert_lab_grade_threshold or 3,
        w.alert_infection_min_signs or 3,
        overdue_days(w.overdue_assessment_days),
        traj.par_threshold_pct,
        traj.par_week,
    )


@functools.lru_cache(maxsize=64)
def _alert_rules(*thresholds: Any) -> rules_.AlertRules:
    """One AlertRules per set of thresholds (frozen, and one per clinic), built
    and checked once."""
    return rules_.AlertRules(*thresholds)


def enabled() -> bool:
    return bool(current_app.config.get("ALERTS_ENABLED", True))


# --- loading ------------------------------------------------------------------
#
# What a write to wounds needs comes in ONE SELECT for any number of wounds
# (_load_stmt()), built once (expanding ``ids``) and run on the session's
# connection: the ORM's result machinery cost more than the queries themselves
# on an assessment create (tests/bench/bench_alerts.py).

_IDS = sa.bindparam("ids", expanding=True)

# The wounds, their clinic's thresholds and their unresolved alerts (one row per
# alert, or one row with no alert): the lab rule's loader.
_WOUNDS_STMT = (
    sa.select(
        *_WOUND,
        Alert.id.label("alert_id"),
        Alert.kind.label("alert_kind"),
        Alert.figures.label("alert_figures"),
    )
    .join(Clinic, Clinic.id == Wound.clinic_id)
    .outerjoin(Alert, sa.and_(Alert.wound_id == Wound.id, Alert.resolved_at.is_(None)))
    .where(Wound.id.in_(_IDS))
)


# Three parts in one result, told apart by ``part``: each wound with its
# clinic's thresholds (0), its unresolved alerts (1), its assessments in time
# order (2). The first four columns are what statuses_for reads of an
# assessment row (wound id, assessed_at, area, closed), so the rows of part 2
# are its input as they come. Every column is fetched as the driver gives it
# (no type processing, which cost more than the query on the many assessment
# rows): the few rows of parts 0 and 1 are processed by _processors, and
# assessment rows need none (assessed_at is parsed by statuses_for, closed
# read as a truth value, assessment_id only compared by _as_uuid).
_LOAD_PARTS: dict[str, tuple[Any, Any, Any]] = {
    "wound_id": (Wound.id, Alert.wound_id, Assessment.wound_id),
    "assessed_at": (None, None, Assessment.assessed_at),
    "area_cm2": (None, None, Assessment.area_cm2),
    "closed": (None, None, Assessment.closed),
    # The rest of what statuses_for reads of an assessment (the area methods).
    "area_method": (None, None, Assessment.area_method),
    "traced_area_cm2": (None, None, Assessment.traced_area_cm2),
    "measured_area_cm2": (None, None, Assessment.measured_area_cm2),
    "length_cm": (None, None, Assessment.length_cm),
    "width_cm": (None, None, Assessment.width_cm),
    "created_at": (None, None, Assessment.created_at),
    "part": (sa.literal_column("0"), sa.literal_column("1"), sa.literal_column("2")),
    "assessment_id": (None, None, Assessment.id),
    "alert_id": (None, Alert.id, None),
    "alert_kind": (None, Alert.kind, None),
    "alert_figures": (None, Alert.figures, None),
    **{c.key: (c, None, None) for c in _WOUND},
}
_RAW = sa.types.NullType()


def _load_part(i: int) -> list[Any]:
    """The columns of part ``i``: a NULL of the column's type where the part
    has no such column (PostgreSQL cannot match an untyped NULL of two parts
    with the third's type)."""
    columns = []
    for name, parts in _LOAD_PARTS.items():
        column = parts[i]
        if column is None:
            typed = next(p for p in parts if p is not None)
            column = typed_null(typed.type)
        columns.append(sa.type_coerce(column, _RAW).label(name))
    return columns


# Built on first use, not at import: a foreign-key column takes its type from
# the column it refers to (SQLAlchemy 2.1), which is NullType until that model
# is imported, and a NULL cast to NullType does not compile. Not ordered:
# sorting the union cost SQLite more than sorting each wound's few dozen
# assessments in Python (_wounds).
@functools.cache
def _load_stmt() -> sa.CompoundSelect[Any]:
    return sa.union_all(
        sa.select(*_load_part(0))
        .select_from(Wound)
        .join(Clinic, Clinic.id == Wound.clinic_id)
        .where(Wound.id.in_(_IDS)),
        sa.select(*_load_part(1)).where(Alert.wound_id.in_(_IDS), Alert.resolved_at.is_(None)),
        sa.select(*_load_part(2)).where(
            Assessment.wound_id.in_(_IDS), Assessment.deleted_at.is_(None)
        ),
    )


def _in_time_order(row: Any) -> tuple[Any, Any, Any]:
    """Sort key of an assessment row as fetched: the trajectory's total order,
    assessed_at, then creation, then id (SQLite's fixed-width text and hex
    digits sort as the values do)."""
    return row.assessed_at, row.created_at, row.assessment_id


_WOUND_KEYS = tuple(c.key for c in _WOUND)


@functools.cache
def _processors(dialect: sa.Dialect) -> dict[str, Any]:
    """Name -> the result processor of its column type (identity where it has
    none), for the rows of parts 0 and 1 of _load_stmt()."""
    typed: dict[str, Any] = {
        "alert_id": Alert.id.type,
        "alert_figures": Alert.figures.type,
        **{c.key: c.type for c in _WOUND},
    }
    out = {}
    for name, type_ in typed.items():
        # Numbers (floats, integers) come from every driver as they are; a
        # numeric processor would also want the column's type code, unknown here.
        processor = (
            None
            if isinstance(type_, sa.Float | sa.Numeric)
            else type_.dialect_impl(dialect).result_processor(dialect, None)
        )
        out[name] = processor if processor is not None else _same
    return out


def _same(value: Any) -> Any:
    return value


def _wound_row(row: Any, processors: dict[str, Any]) -> SimpleNamespace:
    """A row of part 0: the _WOUND columns as their types give them."""
    return SimpleNamespace(**{k: processors[k](getattr(row, k)) for k in _WOUND_KEYS})


def _as_uuid(raw: Any) -> uuid.UUID:
    """A UUID as fetched without type processing: the driver's UUID
    (PostgreSQL) or SQLite's 32 hex digits."""
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


# A wound's latest assessment: its grades, signs of infection and the
# clinician's latest override on the clinic's primary scale (if any) joined on. The latest override
# row decides (as in overrides_in_force): a value is the grade in force, a
# withdrawal (null value) leaves the derived grade.
_LATEST_STMT = (
    sa.select(
        Assessment.ctcae_grade,
        Assessment.rtog_grade,
        *(getattr(Assessment, s) for s in SIGNS),
        GradeOverride.value.label("override"),
        GradeOverride.created_at.label("override_at"),
    )
    .outerjoin(
        GradeOverride,
        sa.and_(
            GradeOverride.assessment_id == Assessment.id,
            GradeOverride.scale == sa.bindparam("scale"),
        ),
    )
    .where(Assessment.wound_id == sa.bindparam("wound_id"), Assessment.deleted_at.is_(None))
    .order_by(Assessment.assessed_at.desc(), Assessment.id.desc(), GradeOverride.created_at.desc())
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """What evaluation needs of an unresolved alert (resolve and announce it)."""

    id: uuid.UUID
    clinic_id: uuid.UUID
    wound_id: uuid.UUID
    kind: str
    figures: dict[str, Any]


def _lab_wounds(
    session: Session, wound_ids: list[uuid.UUID]
) -> tuple[list[Any], dict[Any, dict[str, ActiveAlert]]]:
    """For the lab rule: (the wound rows, one per wound; wound id -> kind -> its
    unresolved alert)."""
    wounds: dict[Any, Any] = {}
    active: dict[Any, dict[str, ActiveAlert]] = defaultdict(dict)
    for row in session.connection().execute(_WOUNDS_STMT, {"ids": wound_ids}):
        wounds.setdefault(row.id, row)
        if row.alert_id is not None:
            active[row.id][row.alert_kind] = ActiveAlert(
                row.alert_id, row.clinic_id, row.id, row.alert_kind, row.alert_figures
            )
    return list(wounds.values()), active


def _wounds(
    session: Session, wound_ids: list[uuid.UUID]
) -> tuple[list[Any], dict[Any, dict[str, ActiveAlert]], dict[Any, list[Any]]]:
    """(the wound rows, one per wound; wound id -> kind -> its unresolved alert;
    wound id -> its assessment rows in time order), in one SELECT."""
    connection = session.connection()
    processors = _processors(connection.dialect)
    raw: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for row in connection.execute(_load_stmt(), {"ids": wound_ids}).all():
        raw[row.part].append(row)
    by_raw_id = {row.wound_id: _wound_row(row, processors) for row in raw[0]}
    active: dict[Any, dict[str, ActiveAlert]] = defaultdict(dict)
    for row in raw[1]:
        wound, kind = by_raw_id[row.wound_id], row.alert_kind
        active[wound.id][kind] = ActiveAlert(
            processors["alert_id"](row.alert_id),
            wound.clinic_id,
            wound.id,
            kind,
            processors["alert_figures"](row.alert_figures),
        )
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in raw[2]:
        grouped[row.wound_id].append(row)
    series = {
        wound.id: sorted(grouped.get(raw_id, ()), key=_in_time_order)
        for raw_id, wound in by_raw_id.items()
    }
    return list(by_raw_id.values()), active, series


def _latest(session: Session, wound_id: uuid.UUID, scale: str) -> tuple[int | None, dict[str, Any]]:
    """(effective grade on ``scale``, signs of infection) of the wound's latest
    assessment."""
    row = session.connection().execute(_LATEST_STMT, {"wound_id": wound_id, "scale": scale}).first()
    if row is None:
        return None, {}
    derived = row.rtog_grade if scale == "rtog" else row.ctcae_grade
    grade = row.override if row.override_at is not None and row.override is not None else derived
    return grade, {s: getattr(row, f"sign_{s}") for s in rules_.INFECTION_SIGNS}


# --- deciding -----------------------------------------------------------------


def _scale(w: Any) -> str:
    """The clinic's primary grading scale (ctcae unless it chose rtog)."""
    return "rtog" if w.primary_grade_scale == "rtog" else "ctcae"


def wound_decisions(
    w: Any, rows: list[Any], ctcae: int | None, signs: dict[str, Any], today: date
) -> list[rules_.Decision]:
    """The decisions of WOUND_KINDS for one open wound (a row of _WOUND), its
    assessment rows in time order, and its latest assessment's effective CTCAE
    grade and signs of infection; ``today`` is the clinic's calendar day."""
    rules = alert_rules(w)
    # The status, rule and PAR at week 4 of compute_trajectory, fed only the
    # assessments they depend on (as the dashboard does).
    traj = statuses_for(
        rows,
        trajectory_rules(w.par_threshold_pct),
        w.healed_on,
        closures=past_closures(w.closures),
    )
    healed = traj.status == HEALED
    latest = rows[-1] if rows else None
    # A healing the wound was reopened after (Wound.closures) is a closure
    # before every later assessment, as a closed assessment is. Without any
    # closure there is nothing to recur from (the flags are only read then).
    closed = [True] if w.closures else []
    if closed or any_closure(rows):
        closed += [
            bool(r.closed) or r.area_cm2 == 0 for r in rows if r.area_cm2 is not None or r.closed
        ]
    # PAR at week 4 counts only once the checkpoint is due (never read back
    # from an earlier week).
    due = traj.week4_checkpoint.state in ("met", "missed")
    last_on = local_date(as_utc(latest.assessed_at), w.timezone) if latest is not None else None
    return [
        rules_.week4_missed(traj.par_week4_pct if due and not healed else None, rules),
        rules_.deteriorating(traj.status, traj.rule),
        rules_.recurrence(closed, healed),
        rules_.grade(ctcae, rules, _scale(w)),
        rules_.overdue(last_on, w.onset_date, today, rules),
        rules_.infection(signs, rules),
    ]


# --- applying -----------------------------------------------------------------


def open_alert(session: Session, w: Any, decision: rules_.Decision, now: datetime) -> Alert | None:
    """Insert the alert and its outbox rows in a savepoint; None when another
    transaction opened the same alert first (the unique partial index)."""
    try:
        with session.begin_nested():
            alert = Alert(
                clinic_id=w.clinic_id,
                wound_id=w.id,
                patient_id=w.patient_id,
                kind=decision.kind,
                status="open",
                rule=decision.rule,
                figures=decision.figures,
                opened_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(alert)
            session.flush()
            outbox.announce(session, alert, "alert.opened", now)
    except IntegrityError:
        return None
    return alert


def resolve_alert(session: Session, alert: Alert | ActiveAlert, why: str, now: datetime) -> bool:
    """Resolve ``alert`` unless another transaction did; True when this one did."""
    done = session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id, Alert.resolved_at.is_(None))
        .values(status="resolved", resolved_at=now, resolution=why, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(session, "resolve", "alert", alert.id, clinic_id=alert.clinic_id)
    outbox.announce(session, alert, "alert.resolved", now)
    return True


def apply(
    session: Session,
    w: Any,
    decisions: list[rules_.Decision],
    active: Mapping[str, Alert | ActiveAlert],
    now: datetime,
) -> tuple[int, int]:
    """Open, resolve or escalate per decision; (opened, resolved) by this call."""
    opened = resolved = 0
    for decision in decisions:
        current = active.get(decision.kind)
        action = rules_.change(decision, current.figures if current is not None else None)
        if action in ("resolve", "escalate") and current is not None:
            why = "condition cleared" if action == "resolve" else "superseded: grade rose to 4"
            resolved += resolve_alert(session, current, why, now)
        if action in ("open", "escalate"):
            opened += open_alert(session, w, decision, now) is not None
    return opened, resolved


def _gone(w: Any) -> str | None:
    if w.deleted_at is not None:
        return "wound deleted"
    if w.status == "healed" or w.healed_on is not None:
        return "wound healed"
    return None


def _created_latest(created: Any, scale: str) -> tuple[int | None, dict[str, Any]]:
    """_latest of an assessment this transaction created and flushed (no grade
    override yet): its derived grade and signs, already in memory."""
    grade = created.rtog_grade if scale == "rtog" else created.ctcae_grade
    return grade, {s: getattr(created, f"sign_{s}") for s in rules_.INFECTION_SIGNS}


def evaluate_wounds(
    session: Session,
    wound_ids: Iterable[uuid.UUID],
    now: datetime | None = None,
    created: Mapping[Any, Any] | None = None,
) -> None:
    """Evaluate WOUND_KINDS for ``wound_ids`` and apply them; a deleted or healed
    wound has every alert resolved. ``created``: assessment id -> the
    Assessment this transaction created and flushed, with no grade override
    (the caller makes sure): when one is its wound's latest, its grade and
    signs are read from memory instead of from the database."""
    ids = list(set(wound_ids))
    if not ids:
        return
    now = now or utcnow()
    wounds, active, series = _wounds(session, ids)
    for w in wounds:
        gone = _gone(w)
        if gone is not None:
            for alert in active.get(w.id, {}).values():
                resolve_alert(session, alert, gone, now)
            continue
        rows = series[w.id]
        scale = _scale(w)
        ctcae: int | None = None
        signs: dict[str, Any] = {}
        mine = created.get(_as_uuid(rows[-1].assessment_id)) if rows and created else None
        if mine is not None:
            ctcae, signs = _created_latest(mine, scale)
        elif rows:
            ctcae, signs = _latest(session, w.id, scale)
        decisions = wound_decisions(w, rows, ctcae, signs, local_date(now, w.timezone))
        apply(session, w, decisions, active.get(w.id, {}), now)


def _therapy_schedules(session: Session, patient_ids: list[Any]) -> dict[Any, list[Schedule]]:
    courses = list(
        session.execute(
            sa.select(
                SystemicTherapy.id,
                SystemicTherapy.patient_id,
                SystemicTherapy.start_date,
                SystemicTherapy.stop_date,
            ).where(
                SystemicTherapy.patient_id.in_(patient_ids), SystemicTherapy.deleted_at.is_(None)
            )
        )
    )
    stops: dict[Any, list[Change]] = defaultdict(list)
    if courses:
        for therapy_id, effective_on in session.execute(
            sa.select(TherapyChange.therapy_id, TherapyChange.effective_on).where(
                TherapyChange.therapy_id.in_([c.id for c in courses]),
                TherapyChange.kind == "stopped",
                TherapyChange.deleted_at.is_(None),
            )
        ):
            stops[therapy_id].append(Change(effective_on, "stopped"))
    out: dict[Any, list[Schedule]] = defaultdict(list)
    for c in courses:
        out[c.patient_id].append(Schedule(c.start_date, c.stop_date, 1, 0, 1.0, tuple(stops[c.id])))
    return out


def _during(schedules: list[Schedule], on: date) -> bool:
    return any(
        s.start_date <= on and ((end := last_day(s)) is None or on <= end) for s in schedules
    )


def evaluate_labs(
    session: Session, patient_ids: Iterable[uuid.UUID], now: datetime | None = None
) -> None:
    """Evaluate the lab rule for every open wound of ``patient_ids``: the latest
    result of each test, and whether it was taken during systemic therapy."""
    pids = list(set(patient_ids))
    if not pids:
        return
    now = now or utcnow()
    latest: dict[Any, dict[str, tuple[int | None, date]]] = defaultdict(dict)
    for pid, test, grade, taken in session.execute(
        sa.select(LabResult.patient_id, LabResult.test, LabResult.ctcae_grade, LabResult.taken_at)
        .where(
            LabResult.patient_id.in_(pids),
            LabResult.deleted_at.is_(None),
            LabResult.test.in_(rules_.LAB_TESTS),
        )
        .order_by(LabResult.taken_at, LabResult.id)
    ):
        latest[pid][test] = (grade, as_utc(taken).date())
    schedules = _therapy_schedules(session, pids)
    wound_ids = list(
        session.scalars(
            sa.select(Wound.id).where(
                Wound.patient_id.in_(pids), Wound.deleted_at.is_(None), Wound.status == "open"
            )
        )
    )
    if not wound_ids:
        return
    wounds, active = _lab_wounds(session, wound_ids)
    for w in wounds:
        facts = {
            test: (grade, _during(schedules.get(w.patient_id, []), on))
            for test, (grade, on) in latest.get(w.patient_id, {}).items()
        }
        decision = rules_.lab(facts, alert_rules(w))
        apply(session, w, [decision], active.get(w.id, {}), now)
