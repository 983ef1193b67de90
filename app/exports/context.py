"""The context of one batch of wounds, read once and shared by every table.

For each batch of wounds (``dataset.CONTEXT_BATCH_SIZE``, in stream order) a
few ``IN (...)`` queries bounded by the batch read each patient's day zero and
dose curves, each wound's procedures and its assessments' grade overrides, and
(for the wounds table) therapies, topicals and labs. ``load_batch`` gathers
them into a ``Batch``; the row builder (app/exports/rows.py) reads only that.
Everything is keyed by hex id text (see queries.hex_text).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.assessments.models import Assessment, overrides_in_force
from app.assessments.models import GradeOverride as Override
from app.clinical import dose as dosemath
from app.clinical import therapy as tx
from app.exports.doses import DoseCurve, curve
from app.exports.queries import Hex, chunks, fetch, hex_text
from app.patients.models import Patient
from app.photos.models import COLOUR_VALUES, Photo, PhotoColourMeasure
from app.procedures.models import PROCEDURE_DETAILS, Procedure
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
from app.radiotherapy.timing import course_window, timing_columns
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange, TopicalTreatment
from app.wounds.models import Wound

HEMATOLOGIC = ("hemoglobin", "platelets", "neutrophils", "wbc", "lymphocytes")

# A patient's systemic therapy: (agent as typed, anti-angiogenic, schedule).
Therapy = tuple[str, bool, tx.Schedule]


@dataclass(frozen=True)
class PatientInfo:
    """What the export needs of a patient: day zero, first record, birth date, sex."""

    day_zero: date
    day_zero_kind: str
    first_record: date
    birth_date: date
    sex: str


class PatientCache:
    """patient_infos of one batch, reusing what the previous batch read.

    The streams are ordered by patient, so only a patient straddling two
    batches is shared; keeping nothing else holds memory to one batch.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.known: dict[Hex, PatientInfo | None] = {}

    def get(self, patient_ids: set[Hex]) -> dict[Hex, PatientInfo | None]:
        known = {p: self.known[p] for p in patient_ids if p in self.known}
        missing = patient_ids - known.keys()
        if missing:
            found = patient_infos(self.conn, missing)
            for pid in missing:
                known[pid] = found.get(pid)
        self.known = known
        return known


def patient_infos(conn: sa.Connection, patient_ids: set[Hex]) -> dict[Hex, PatientInfo]:
    """Day zero, first record date, birth date and sex of each patient.

    Day zero is the first delivered fraction (any live course of the patient);
    without one, the first record: the earliest onset of the patient's live
    wounds (a wound record is where this service's data on a patient begins).
    The age is taken at the first record: the earlier of those two dates. All
    of the patient's live records count, not only the exported window, so day
    numbers agree between exports.
    """
    out: dict[Hex, PatientInfo] = {}
    for chunk in chunks(patient_ids):
        first_fraction = dict(
            conn.execute(
                sa.select(
                    hex_text(RadiotherapyCourse.patient_id),
                    sa.func.min(FractionDelivery.delivered_on),
                )
                .join(RadiotherapyCourse, RadiotherapyCourse.id == FractionDelivery.course_id)
                .where(
                    RadiotherapyCourse.patient_id.in_(chunk),
                    RadiotherapyCourse.deleted_at.is_(None),
                    FractionDelivery.deleted_at.is_(None),
                )
                .group_by(RadiotherapyCourse.patient_id)
            ).all()
        )
        firsts: dict[Hex, list[date]] = defaultdict(list)
        for pid, onset in fetch(
            conn,
            sa.select(hex_text(Wound.patient_id), sa.func.min(Wound.onset_date))
            .where(Wound.patient_id.in_(chunk), Wound.deleted_at.is_(None))
            .group_by(Wound.patient_id),
        ):
            firsts[pid].append(onset)
        for pid, birth, sex in fetch(
            conn,
            sa.select(hex_text(Patient.id), Patient.birth_date, Patient.sex).where(
                Patient.id.in_(chunk)
            ),
        ):
            fraction = first_fraction.get(pid)
            candidates = [d for d in firsts.get(pid, []) if d is not None]
            first_record = min(candidates + ([fraction] if fraction else []), default=None)
            if first_record is None:  # a patient with no records: not exported anyway
                continue
            out[pid] = PatientInfo(
                day_zero=fraction or first_record,
                day_zero_kind="first_fraction" if fraction else "first_record",
                first_record=first_record,
                birth_date=birth,
                sex=sex,
            )
    return out


def _as_date(value: Any) -> date:
    """A UTC date from a datetime (SQLite MIN() hands back a string)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if hasattr(value, "date"):
        return value.date()  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


def dose_curves(
    conn: sa.Connection, patient_ids: set[Hex]
) -> tuple[dict[Hex, DoseCurve], dict[Hex, list[Hex]]]:
    """Per course: the fraction log, or the planned schedule when nothing is logged
    (dose.planned_fraction_dates: one fraction per weekday). Also each patient's
    course ids. A course whose schedule cannot be placed has no curve."""
    course = RadiotherapyCourse
    curves: dict[Hex, DoseCurve] = {}
    by_patient: dict[Hex, list[Hex]] = defaultdict(list)
    for chunk in chunks(patient_ids):
        live = (course.patient_id.in_(chunk), course.deleted_at.is_(None))
        courses = conn.execute(
            sa.select(hex_text(course.id), hex_text(course.patient_id), course.start_date).where(
                *live
            )
        ).all()
        if not courses:
            continue
        logged: dict[Hex, list[tuple[date, float]]] = defaultdict(list)
        for cid, day, d in fetch(
            conn,
            sa.select(
                hex_text(FractionDelivery.course_id),
                FractionDelivery.delivered_on,
                FractionDelivery.dose_cgy,
            )
            .join(course, course.id == FractionDelivery.course_id)
            .where(*live, FractionDelivery.deleted_at.is_(None)),
        ):
            logged[cid].append((day, d))
        phases: dict[Hex, list[dosemath.Phase]] = defaultdict(list)
        ph = RadiotherapyPhase
        for cid, technique, per_fraction, fractions, start in fetch(
            conn,
            sa.select(
                hex_text(ph.course_id),
                ph.technique,
                ph.dose_per_fraction_cgy,
                ph.fractions,
                ph.start_date,
            )
            .join(course, course.id == ph.course_id)
            .where(*live)
            .order_by(ph.course_id, ph.position),
        ):
            phases[cid].append(dosemath.Phase(technique, per_fraction, fractions, start))
        for cid, pid, start in courses:
            by_patient[pid].append(cid)
            if logged.get(cid):
                curves[cid] = curve(logged[cid], "fraction_log")
            else:
                try:
                    planned = dosemath.planned_fraction_dates(phases.get(cid, []), start)
                except ValueError:
                    continue
                curves[cid] = curve(list(planned), "planned_schedule")
    return curves, by_patient


class DoseLookup:
    """Cumulative dose for a wound: its linked course, else all the patient's courses."""

    def __init__(self, conn: sa.Connection, patient_ids: set[Hex]) -> None:
        self.curves, self.by_patient = dose_curves(conn, patient_ids)

    def curves_for(self, patient_id: Hex, course_id: Hex | None) -> list[DoseCurve]:
        """The dose curves that apply to a wound (empty when no course is known)."""
        ids = [course_id] if course_id else self.by_patient.get(patient_id, [])
        return [self.curves[c] for c in ids if c in self.curves]

    def on(self, patient_id: Hex, course_id: Hex | None, day: date) -> float | None:
        curves = self.curves_for(patient_id, course_id)
        return sum(c.on(day) for c in curves) if curves else None

    def source(self, patient_id: Hex, course_id: Hex | None) -> str | None:
        curves = self.curves_for(patient_id, course_id)
        if not curves:
            return None
        return (
            "fraction_log"
            if all(c.source == "fraction_log" for c in curves)
            else "planned_schedule"
        )


def wound_procedures(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, list[Any]]:
    """Per wound: its live procedures in time order, as (id, wound_id, performed_at,
    kind, debridement_method, debridement_to_bleeding, prp_form, prp_volume_ml,
    prp_activator). One read serves both the procedures table and the
    assessments' "before this visit" counts."""
    p = Procedure
    out: dict[Hex, list[Any]] = defaultdict(list)
    for chunk in chunks(wound_ids):
        rows: Sequence[Any] = fetch(
            conn,
            sa.select(hex_text(p.id), hex_text(p.wound_id), *PROCEDURE_DETAILS)
            .where(p.wound_id.in_(chunk), p.deleted_at.is_(None))
            .order_by(p.wound_id, p.performed_at, p.id),
        )
        for row in rows:
            out[row[1]].append(row)
    return out


def wound_colour_measures(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, list[Any]]:
    """Per wound: the live colour measures of its live photos in time order, as
    (id, wound_id, measured_at, *COLOUR_VALUES, calibration, reference_photo_id)."""
    m = PhotoColourMeasure
    out: dict[Hex, list[Any]] = defaultdict(list)
    for chunk in chunks(wound_ids):
        rows: Sequence[Any] = fetch(
            conn,
            sa.select(
                hex_text(m.id),
                hex_text(m.wound_id),
                m.measured_at,
                *COLOUR_VALUES,
                m.calibration,
                m.reference_photo_id,
            )
            .join(Photo, Photo.id == m.photo_id)
            .where(m.wound_id.in_(chunk), m.deleted_at.is_(None), Photo.deleted_at.is_(None))
            .order_by(m.wound_id, m.measured_at, m.id),
        )
        for row in rows:
            out[row[1]].append(row)
    return out


def effective_overrides(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, dict[str, int]]:
    """Per assessment of the given wounds: the override in force on each scale
    (later ones supersede earlier ones; a withdrawal, value None, leaves the
    derived grade), as {assessment: {scale: value}}."""
    rows = [
        row
        for chunk in chunks(wound_ids)
        for row in fetch(
            conn,
            sa.select(
                Override.created_at,
                hex_text(Override.assessment_id),
                Override.scale,
                Override.value,
            ).where(Override.wound_id.in_(chunk)),
        )
    ]
    rows.sort(key=lambda row: row[0])  # in the order they were recorded
    return overrides_in_force((aid, scale, value, value) for _, aid, scale, value in rows)


def follow_up_ends(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, date]:
    """Per wound: the UTC date of its last live assessment (wounds without one: absent)."""
    out: dict[Hex, date] = {}
    for chunk in chunks(wound_ids):
        for wid, last in fetch(
            conn,
            sa.select(hex_text(Assessment.wound_id), sa.func.max(Assessment.assessed_at))
            .where(Assessment.wound_id.in_(chunk), Assessment.deleted_at.is_(None))
            .group_by(Assessment.wound_id),
        ):
            if last is not None:
                out[wid] = _as_date(last)
    return out


def systemic_schedules(conn: sa.Connection, patient_ids: set[Hex]) -> dict[Hex, list[Therapy]]:
    """Each patient's systemic therapies as (agent as typed, anti-angiogenic, schedule).

    The agent is free text: the row builder exports only a generic name from a
    fixed list (rows.generic_agent)."""
    out: dict[Hex, list[Therapy]] = defaultdict(list)
    for chunk in chunks(patient_ids):
        therapies = conn.execute(
            sa.select(*SystemicTherapy.__table__.c).where(
                SystemicTherapy.patient_id.in_(chunk), SystemicTherapy.deleted_at.is_(None)
            )
        ).all()
        if not therapies:
            continue
        changes: dict[uuid.UUID, list[tx.Change]] = defaultdict(list)
        for ch in fetch(
            conn,
            sa.select(*TherapyChange.__table__.c)
            .where(
                TherapyChange.therapy_id.in_([t.id for t in therapies]),
                TherapyChange.deleted_at.is_(None),
            )
            .order_by(TherapyChange.effective_on, TherapyChange.created_at),
        ):
            changes[ch.therapy_id].append(tx.Change(ch.effective_on, ch.kind, ch.dose))
        for t in therapies:
            anti = t.anti_angiogenic or tx.is_anti_angiogenic(t.agent)
            schedule = tx.Schedule(
                t.start_date, t.stop_date, t.days_on, t.days_off, t.dose, tuple(changes[t.id])
            )
            out[t.patient_id.hex].append((t.agent, anti, schedule))
    return out


def wound_topicals(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, set[str | None]]:
    """Per wound: the categories of its live topical treatments, as stored."""
    out: dict[Hex, set[str | None]] = defaultdict(set)
    for chunk in chunks(wound_ids):
        for wid, category in fetch(
            conn,
            sa.select(hex_text(TopicalTreatment.wound_id), TopicalTreatment.category).where(
                TopicalTreatment.wound_id.in_(chunk), TopicalTreatment.deleted_at.is_(None)
            ),
        ):
            out[wid].add(category)
    return out


def hematologic_labs(
    conn: sa.Connection, patient_ids: set[Hex]
) -> dict[Hex, list[tuple[date, str, int]]]:
    """Per patient: (UTC date taken, test, CTCAE grade) of its graded live
    hemoglobin, platelet, neutrophil, white cell and lymphocyte results."""
    out: dict[Hex, list[tuple[date, str, int]]] = defaultdict(list)
    for chunk in chunks(patient_ids):
        for pid, test, taken, grade in fetch(
            conn,
            sa.select(
                hex_text(LabResult.patient_id),
                LabResult.test,
                LabResult.taken_at,
                LabResult.ctcae_grade,
            ).where(
                LabResult.patient_id.in_(chunk),
                LabResult.deleted_at.is_(None),
                LabResult.test.in_(HEMATOLOGIC),
                LabResult.ctcae_grade.is_not(None),
            ),
        ):
            out[pid].append((taken.date(), test, grade))
    return out


@dataclass
class Batch:
    """The context of one batch of wounds (CONTEXT_BATCH_SIZE, in stream order),
    read once and shared by every table: each patient's day zero and dose
    curves, each wound's procedures and its assessments' grade overrides; for
    the wounds table also therapies, topicals and labs."""

    wound_ids: set[Hex]
    infos: dict[Hex, PatientInfo | None]
    doses: DoseLookup | None
    procedures: dict[Hex, list[Any]]
    overrides: dict[Hex, dict[str, int]]
    # Filled from the assessment stream while it is read (or by load_batch
    # when the assessments are not exported).
    follow_up_ends: dict[Hex, date]
    therapies: dict[Hex, list[Therapy]] = field(default_factory=dict)
    topicals: dict[Hex, set[str | None]] = field(default_factory=dict)
    labs: dict[Hex, list[tuple[date, str, int]]] = field(default_factory=dict)
    # Each live course's (first day, last day) (timing.course_window; None: not known).
    course_windows: dict[Hex, tuple[date | None, date | None]] = field(default_factory=dict)
    colour_measures: dict[Hex, list[Any]] = field(default_factory=dict)


def load_batch(
    conn: sa.Connection, wounds: list[Any], patients: PatientCache, tables: Collection[str]
) -> Batch:
    """Read the context of ``wounds`` (rows of queries.wound_query) that the
    ``tables`` asked for need."""
    wound_ids = {r[0] for r in wounds}
    patient_ids = {r[1] for r in wounds}
    want_wounds, want_assessments = "wounds" in tables, "assessments" in tables
    batch = Batch(
        wound_ids=wound_ids,
        infos=patients.get(patient_ids),
        doses=DoseLookup(conn, patient_ids) if want_wounds or want_assessments else None,
        procedures=(
            wound_procedures(conn, wound_ids) if "procedures" in tables or want_assessments else {}
        ),
        overrides=effective_overrides(conn, wound_ids) if want_assessments else {},
        follow_up_ends={},
    )
    if "colour_measures" in tables:
        batch.colour_measures = wound_colour_measures(conn, wound_ids)
    if want_wounds:
        if not want_assessments:  # else the assessment stream gives them
            batch.follow_up_ends.update(follow_up_ends(conn, wound_ids))
        batch.therapies = systemic_schedules(conn, patient_ids)
        batch.topicals = wound_topicals(conn, wound_ids)
        batch.labs = hematologic_labs(conn, patient_ids)
        batch.course_windows = course_windows(conn, patient_ids)
    return batch


def course_windows(
    conn: sa.Connection, patient_ids: set[Hex]
) -> dict[Hex, tuple[date | None, date | None]]:
    """The first and last day of each live course of the patients, by the rule
    the assessments' acute/late phase uses (radiotherapy.timing.course_window):
    the end is the end date, else the last logged fraction once all are logged."""
    course = RadiotherapyCourse
    out: dict[Hex, tuple[date | None, date | None]] = {}
    for chunk in chunks(patient_ids):
        for row in fetch(
            conn,
            sa.select(hex_text(course.id).label("id"), *timing_columns(course.id)).where(
                course.patient_id.in_(chunk), course.deleted_at.is_(None)
            ),
        ):
            out[row.id] = course_window(row)
    return out
