"""The de-identified research dataset, read in batches.

``export_batches`` produces all four tables in ONE patient-ordered pass: a
streaming wound query drives it, and for each batch of wounds the context
(day zero, dose curves, procedures, overrides, therapy, labs) is read once with
a few ``IN (...)`` queries bounded by the batch and shared by every table,
while the assessment stream (``assessment_query``) is read alongside. Rows
come from the database ``BATCH_SIZE`` / ``CONTEXT_BATCH_SIZE`` at a time,
never all at once, and leave as lists of de-identified row tuples in the
column order of ``TABLES``. Memory is bounded by the batch sizes, not by the
size of the clinic. ``BATCHES`` gives one table at a time (the FHIR writer).

Selection: ``date_from``/``date_to`` select wounds by onset date (inclusive);
each selected wound is exported with its whole follow-up so that healing times
are never truncated by the window. Soft-deleted records are never exported.

No column that can identify a person is ever selected: names, MRN, birth date
(read only to compute the age, never written), notes, free-text preparations,
product names, user ids, photos.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.assessments.models import (
    AREA_METHODS,
    EXUDATE_AMOUNTS,
    EXUDATE_TYPES,
    Assessment,
    overrides_in_force,
)
from app.assessments.models import GradeOverride as Override
from app.clinical import dose as dosemath
from app.clinical import therapy as tx
from app.exports import deid
from app.patients.models import SEXES, Patient
from app.procedures.models import (
    DEBRIDEMENT_METHODS,
    PROCEDURE_DETAILS,
    PROCEDURE_KINDS,
    PRP_ACTIVATORS,
    PRP_FORMS,
    Procedure,
)
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
from app.therapy.models import TOPICAL_CATEGORIES, LabResult, SystemicTherapy, TopicalTreatment
from app.wounds.models import ETIOLOGIES, LATERALITIES, WOUND_STATUSES, Wound

BATCH_SIZE = 5000
# Patient and wound rows each pull in a patient's whole context (dose curves,
# therapies, labs), about as much memory as 5-25 assessment rows: their batches
# are smaller so that every table peaks at about the same memory.
CONTEXT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Column:
    """One exported variable: how it is typed in each format and documented."""

    name: str
    type: str  # REDCap-ish: integer | number | text | yesno | dropdown
    description: str
    units: str = ""
    choices: tuple[str, ...] = ()

    @property
    def choices_text(self) -> str:
        """REDCap "choices" cell: ``value, label | value, label``."""
        if self.type == "yesno":
            return "1, yes | 0, no"
        return " | ".join(f"{c}, {c}" for c in self.choices)


DAY_ZERO_NOTE = (
    "Days are counted from the patient's day zero: the first delivered radiotherapy"
    " fraction, or the patient's first record when no fraction is logged (see"
    " patients.day_zero)."
)

GRADES_0_5 = ("0", "1", "2", "3", "4", "5")

PATIENT_COLUMNS = (
    Column("patient_id", "text", "Pseudonymous patient id (stable for this recipient only)"),
    Column("sex", "dropdown", "Sex as recorded", choices=SEXES),
    Column(
        "age_years",
        "text",
        "Age in completed years at the first record; ages over 89 are reported as 90+",
        units="years",
    ),
    Column(
        "day_zero",
        "dropdown",
        "What day 0 is for this patient: first_fraction = first delivered radiotherapy"
        " fraction; first_record = earliest wound onset (no fraction"
        " logged)",
        choices=("first_fraction", "first_record"),
    ),
)

WOUND_COLUMNS = (
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column(
        "site_class", "dropdown", "Body site mapped to a coarse class", choices=deid.SITE_CLASSES
    ),
    Column("laterality", "dropdown", "Side of the body", choices=LATERALITIES),
    Column("in_skin_fold", "yesno", "Wound lies in a skin fold or crease"),
    Column("etiology", "dropdown", "Wound etiology", choices=ETIOLOGIES),
    Column("status", "dropdown", "Status at export", choices=WOUND_STATUSES),
    Column("onset_day", "integer", "Day of wound onset. " + DAY_ZERO_NOTE, units="days"),
    Column("healed_day", "integer", "Day the wound healed (empty if open)", units="days"),
    Column("days_to_closure", "integer", "healed_day - onset_day", units="days"),
    Column(
        "follow_up_end_day",
        "integer",
        "Healed day, else the day of the last assessment (else onset)",
        units="days",
    ),
    Column(
        "dose_at_onset_cgy",
        "number",
        "Cumulative radiotherapy dose by the end of the onset day (the wound's linked"
        " course, else all the patient's courses); physical dose, no EQD2",
        units="cGy",
    ),
    Column(
        "dose_source",
        "dropdown",
        "Where the dose came from: the fraction log, or the planned schedule (one fraction"
        " per weekday) when no fraction is logged",
        choices=("fraction_log", "planned_schedule"),
    ),
    Column(
        "antiangiogenic_exposure_days",
        "integer",
        "Days on an anti-angiogenic (VEGF/VEGFR-inhibiting) systemic agent from onset to"
        " follow_up_end_day, inclusive, counting each calendar day once",
        units="days",
    ),
    Column(
        "systemic_agents",
        "text",
        "Systemic agents taken during onset..follow-up end, generic names separated by ';'."
        " Names outside the known anti-angiogenic list are reported as other_agent",
    ),
    Column(
        "topical_categories",
        "text",
        "Topical treatment categories used on the wound, separated by ';'",
        choices=TOPICAL_CATEGORIES,
    ),
    Column(
        "worst_anemia_grade",
        "integer",
        "Worst CTCAE v5.0 grade of hemoglobin results during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_platelet_grade",
        "integer",
        "Worst CTCAE v5.0 platelet count decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
    Column(
        "worst_neutrophil_grade",
        "integer",
        "Worst CTCAE v5.0 neutrophil count decreased grade during onset..follow-up end",
        choices=GRADES_0_5,
    ),
)

ASSESSMENT_COLUMNS = (
    Column("assessment_id", "text", "Pseudonymous assessment id"),
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column("visit_day", "integer", "Day of the assessment (UTC date). " + DAY_ZERO_NOTE, "days"),
    Column("days_since_onset", "integer", "visit_day - the wound's onset_day", "days"),
    Column("length_cm", "number", "Greatest head-to-toe length", "cm"),
    Column("width_cm", "number", "Greatest width perpendicular to the length", "cm"),
    Column("depth_cm", "number", "Depth", "cm"),
    Column("area_cm2", "number", "Wound area (traced, measured or ellipse estimate)", "cm2"),
    Column("area_method", "dropdown", "How area_cm2 was obtained", choices=AREA_METHODS),
    Column("exudate_amount", "dropdown", "Exudate amount", choices=EXUDATE_AMOUNTS),
    Column("exudate_type", "dropdown", "Exudate type", choices=EXUDATE_TYPES),
    Column("epithelial_pct", "number", "Epithelial tissue share of the bed", "%"),
    Column("granulation_pct", "number", "Granulation tissue share of the bed", "%"),
    Column("slough_pct", "number", "Slough share of the bed", "%"),
    Column("necrotic_pct", "number", "Necrotic tissue / eschar share of the bed", "%"),
    Column("closed", "yesno", "Wound closed at this visit"),
    Column("pain_score", "integer", "Pain score 0-10", "points"),
    Column("push_area", "integer", "PUSH 3.0 length x width sub-score (0-10)", "points"),
    Column("push_exudate", "integer", "PUSH 3.0 exudate sub-score (0-3)", "points"),
    Column("push_tissue", "integer", "PUSH 3.0 tissue type sub-score (0-4)", "points"),
    Column("push_total", "integer", "PUSH 3.0 total (0-17; NPUAP 1998)", "points"),
    Column("bwat_total", "integer", "Bates-Jensen Wound Assessment Tool total (13-65)", "points"),
    Column(
        "ctcae_grade",
        "integer",
        "CTCAE v5.0 Dermatitis radiation grade in effect: the clinician override in force"
        " (the latest, unless withdrawn), else the derived grade",
        choices=GRADES_0_5,
    ),
    Column(
        "ctcae_grade_derived",
        "integer",
        "CTCAE v5.0 grade derived from the structured findings",
        choices=GRADES_0_5,
    ),
    Column(
        "rtog_grade",
        "integer",
        "RTOG acute skin grade in effect (override, else derived; Cox 1995)",
        choices=GRADES_0_5,
    ),
    Column(
        "rtog_grade_derived", "integer", "RTOG grade derived from the findings", choices=GRADES_0_5
    ),
    Column(
        "debridements_before",
        "integer",
        "Number of debridements of this wound performed before this assessment",
    ),
    Column(
        "prp_before",
        "integer",
        "Number of platelet-rich plasma applications to this wound before this assessment",
    ),
    Column("dose_at_onset_cgy", "number", "Cumulative RT dose at wound onset (see wounds)", "cGy"),
    Column(
        "cumulative_dose_cgy",
        "number",
        "Cumulative RT dose by the end of the visit day (same source as dose_at_onset_cgy)",
        "cGy",
    ),
)

PROCEDURE_COLUMNS = (
    Column("procedure_id", "text", "Pseudonymous procedure id"),
    Column("wound_id", "text", "Pseudonymous wound id"),
    Column("patient_id", "text", "Pseudonymous patient id"),
    Column("day", "integer", "Day performed (UTC date). " + DAY_ZERO_NOTE, "days"),
    Column("days_since_onset", "integer", "day - the wound's onset_day", "days"),
    Column("kind", "dropdown", "Procedure kind", choices=PROCEDURE_KINDS),
    Column("debridement_method", "dropdown", "Debridement method", choices=DEBRIDEMENT_METHODS),
    Column("debridement_to_bleeding", "yesno", "Debrided down to fresh bleeding"),
    Column("prp", "yesno", "Platelet-rich plasma applied (kind prp, or PRP details recorded)"),
    Column("prp_form", "dropdown", "PRP form", choices=PRP_FORMS),
    Column("prp_volume_ml", "number", "PRP volume", "mL"),
    Column("prp_activator", "dropdown", "PRP activator", choices=PRP_ACTIVATORS),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "patients": PATIENT_COLUMNS,
    "wounds": WOUND_COLUMNS,
    "assessments": ASSESSMENT_COLUMNS,
    "procedures": PROCEDURE_COLUMNS,
}

HEMATOLOGIC = ("hemoglobin", "platelets", "neutrophils")


@dataclass(frozen=True)
class Selection:
    """What one export covers and for whom the pseudonyms are made."""

    clinic_id: uuid.UUID
    date_from: date | None
    date_to: date | None
    key: bytes  # deid.pseudonym_key(SECRET_KEY, recipient)


@dataclass(frozen=True)
class PatientInfo:
    day_zero: date
    day_zero_kind: str
    first_record: date
    birth_date: date
    sex: str


# ---------------------------------------------------------------------------
# Ids as hex text
#
# The queries read every id as its 32-digit lowercase hex text (``_hex``).
# Building a uuid.UUID per id in Python was most of the cost of reading a row,
# and the pseudonyms hash the hex form anyway (deid._id_text), so nothing is
# lost. Every lookup in this module is keyed by that text; ids go back to
# uuid.UUID only as bound parameters of the small per-batch context queries
# (``_chunks``), so the indexes are still used.

Hex = str


class _hex_id(FunctionElement[str]):
    """A UUID column read as hex text; see the two renderings below."""

    type = sa.String()
    name = "hex_id"
    inherit_cache = True


@compiles(_hex_id)
def _hex_id_text(element: _hex_id, compiler: Any, **kw: Any) -> str:
    # PostgreSQL (native uuid): the canonical text without its dashes.
    return f"replace(CAST({compiler.process(element.clauses, **kw)} AS VARCHAR), '-', '')"


@compiles(_hex_id, "sqlite")
def _hex_id_sqlite(element: _hex_id, compiler: Any, **kw: Any) -> str:
    # sa.Uuid stores CHAR(32) hex on SQLite already: read it as it is.
    return str(compiler.process(element.clauses, **kw))


def _hex(column: Any) -> sa.ColumnElement[str]:
    """A UUID column as 32-digit lowercase hex text, converted by the database."""
    return _hex_id(column)


def _uuids(ids: list[Hex]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids]


# ---------------------------------------------------------------------------
# Selection queries


def _wound_filter(sel: Selection) -> list[Any]:
    clauses: list[Any] = [
        Wound.clinic_id == sel.clinic_id,
        Wound.deleted_at.is_(None),
        Patient.deleted_at.is_(None),
    ]
    if sel.date_from is not None:
        clauses.append(Wound.onset_date >= sel.date_from)
    if sel.date_to is not None:
        clauses.append(Wound.onset_date <= sel.date_to)
    return clauses


def assessment_query(sel: Selection) -> sa.Select[Any]:
    """The assessment stream: one row per live assessment of a selected wound,
    ordered by patient, wound, then time (the benchmark's floor streams this
    same query). Patient first, so each patient's context (day zero, dose
    curves) is read in one batch, not once per batch holding one of its wounds.

    Ids come as hex text and ``closed`` as 0/1 (REDCap yes/no), both converted
    by the database rather than per row in Python.
    """
    a = Assessment
    return (
        sa.select(
            _hex(a.id).label("id"),
            _hex(a.wound_id).label("wound_id"),
            _hex(Wound.patient_id).label("patient_id"),
            a.assessed_at,
            a.length_cm,
            a.width_cm,
            a.depth_cm,
            a.area_cm2,
            a.area_method,
            a.exudate_amount,
            a.exudate_type,
            a.epithelial_pct,
            a.granulation_pct,
            a.slough_pct,
            a.necrotic_pct,
            sa.cast(a.closed, sa.Integer).label("closed"),
            a.pain_score,
            a.push_area,
            a.push_exudate,
            a.push_tissue,
            a.push_total,
            a.bwat_total,
            a.ctcae_grade,
            a.rtog_grade,
            Wound.onset_date,
            _hex(Wound.radiotherapy_course_id).label("radiotherapy_course_id"),
        )
        .join(Wound, Wound.id == a.wound_id)
        .join(Patient, Patient.id == Wound.patient_id)
        .where(a.deleted_at.is_(None), *_wound_filter(sel))
        .order_by(Wound.patient_id, a.wound_id, a.assessed_at, a.id)
    )


def _wound_query(sel: Selection) -> sa.Select[Any]:
    return (
        sa.select(
            _hex(Wound.id),
            _hex(Wound.patient_id),
            Wound.body_site,
            Wound.laterality,
            Wound.in_skin_fold,
            Wound.etiology,
            Wound.status,
            Wound.onset_date,
            Wound.healed_on,
            _hex(Wound.radiotherapy_course_id),
        )
        .join(Patient, Patient.id == Wound.patient_id)
        .where(*_wound_filter(sel))
        .order_by(Wound.patient_id, Wound.id)
    )


def _procedure_query(sel: Selection) -> sa.Select[Any]:
    p = Procedure
    return (
        sa.select(
            _hex(p.id),
            _hex(p.wound_id),
            _hex(Wound.patient_id),
            *PROCEDURE_DETAILS,
            Wound.onset_date,
        )
        .join(Wound, Wound.id == p.wound_id)
        .join(Patient, Patient.id == Wound.patient_id)
        .where(p.deleted_at.is_(None), *_wound_filter(sel))
        .order_by(Wound.patient_id, p.wound_id, p.performed_at, p.id)
    )


def _patient_query(sel: Selection) -> sa.Select[Any]:
    selected = sa.select(Wound.patient_id).join(Patient, Patient.id == Wound.patient_id)
    selected = selected.where(*_wound_filter(sel))
    return (
        sa.select(_hex(Patient.id))
        .where(Patient.id.in_(selected.scalar_subquery()))
        .order_by(Patient.id)
    )


def counts(conn: sa.Connection, sel: Selection) -> dict[str, int]:
    """Source rows per table, for progress totals (one COUNT each)."""
    out = {}
    for name, stmt in (
        ("patients", _patient_query(sel)),
        ("wounds", _wound_query(sel)),
        ("assessments", assessment_query(sel)),
        ("procedures", _procedure_query(sel)),
    ):
        sub = stmt.order_by(None).subquery()
        out[name] = int(conn.scalar(sa.select(sa.func.count()).select_from(sub)) or 0)
    return out


def _fetch(conn: sa.Connection, stmt: sa.Select[Any]) -> Sequence[sa.Row[Any]]:
    """All rows of a small per-batch context query, fetched at once (iterating a
    result fetches row by row, which costs more than the row itself)."""
    return conn.execute(stmt).all()


def _stream(
    conn: sa.Connection, stmt: sa.Select[Any], size: int | None = None
) -> Generator[list[Any], None, None]:
    """Rows of ``stmt`` in lists of at most ``size`` (default BATCH_SIZE), from a
    streaming cursor."""
    size = size or BATCH_SIZE
    result = conn.execution_options(stream_results=True, yield_per=size).execute(stmt)
    try:
        yield from result.partitions(size)
    finally:
        result.close()


# ---------------------------------------------------------------------------
# Per-batch context (keyed by hex ids)


def _chunks(ids: set[Hex], size: int = 900) -> Iterator[list[uuid.UUID]]:
    """The ids as uuid.UUID parameters, at most ``size`` per IN (...) list."""
    items = sorted(ids)
    for i in range(0, len(items), size):
        yield _uuids(items[i : i + size])


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
    for chunk in _chunks(patient_ids):
        first_fraction = dict(
            conn.execute(
                sa.select(
                    _hex(RadiotherapyCourse.patient_id), sa.func.min(FractionDelivery.delivered_on)
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
        for pid, onset in _fetch(
            conn,
            sa.select(_hex(Wound.patient_id), sa.func.min(Wound.onset_date))
            .where(Wound.patient_id.in_(chunk), Wound.deleted_at.is_(None))
            .group_by(Wound.patient_id),
        ):
            firsts[pid].append(onset)
        for pid, birth, sex in _fetch(
            conn,
            sa.select(_hex(Patient.id), Patient.birth_date, Patient.sex).where(
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


@dataclass
class DoseCurve:
    """Cumulative dose as a step function of the date (see app/clinical/dose.py)."""

    days: list[date]
    cumulative: list[float]
    source: str

    def on(self, day: date) -> float:
        """Dose delivered by the end of ``day``: same rule as dose.cumulative_dose_on."""
        i = bisect.bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0.0


def _curve(points: list[tuple[date, float]], source: str) -> DoseCurve:
    points.sort(key=lambda p: p[0])
    total = 0.0
    days, cums = [], []
    for day, d in points:
        total += d
        days.append(day)
        cums.append(total)
    return DoseCurve(days, cums, source)


@dataclass(frozen=True)
class WoundDose:
    """The cumulative dose of one wound's curves merged into one step function,
    so a visit costs one comparison (after the last fraction) or one bisection.

    ``total`` is None when no curve applies (no course known): the dose is unknown.
    """

    days: list[date]
    cumulative: list[float]
    last_day: date  # on or after it the dose is ``total``
    total: float | None

    def on(self, day: date) -> float | None:
        """Same value as ``sum(c.on(day) for c in curves)`` (None without curves)."""
        if day >= self.last_day:
            return self.total
        i = bisect.bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0.0


def wound_dose(curves: list[DoseCurve]) -> WoundDose:
    """Merge the curves that apply to a wound (evaluated at every step day of any)."""
    if not curves:
        return WoundDose([], [], date.min, None)
    if len(curves) == 1:
        days, cums = curves[0].days, curves[0].cumulative
    else:
        days = sorted({d for c in curves for d in c.days})
        cums = [sum(c.on(d) for c in curves) for d in days]
    if not days:
        return WoundDose([], [], date.min, 0.0)
    return WoundDose(days, cums, days[-1], cums[-1])


def dose_curves(
    conn: sa.Connection, patient_ids: set[Hex]
) -> tuple[dict[Hex, DoseCurve], dict[Hex, list[Hex]]]:
    """Per course: the fraction log, or the planned schedule when nothing is logged
    (dose.planned_fraction_dates: one fraction per weekday). Also each patient's
    course ids. A course whose schedule cannot be placed has no curve."""
    course = RadiotherapyCourse
    curves: dict[Hex, DoseCurve] = {}
    by_patient: dict[Hex, list[Hex]] = defaultdict(list)
    for chunk in _chunks(patient_ids):
        live = (course.patient_id.in_(chunk), course.deleted_at.is_(None))
        courses = conn.execute(
            sa.select(_hex(course.id), _hex(course.patient_id), course.start_date).where(*live)
        ).all()
        if not courses:
            continue
        logged: dict[Hex, list[tuple[date, float]]] = defaultdict(list)
        for cid, day, d in _fetch(
            conn,
            sa.select(
                _hex(FractionDelivery.course_id),
                FractionDelivery.delivered_on,
                FractionDelivery.dose_cgy,
            )
            .join(course, course.id == FractionDelivery.course_id)
            .where(*live, FractionDelivery.deleted_at.is_(None)),
        ):
            logged[cid].append((day, d))
        phases: dict[Hex, list[dosemath.Phase]] = defaultdict(list)
        ph = RadiotherapyPhase
        for cid, technique, per_fraction, fractions, start in _fetch(
            conn,
            sa.select(
                _hex(ph.course_id),
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
                curves[cid] = _curve(logged[cid], "fraction_log")
            else:
                try:
                    planned = dosemath.planned_fraction_dates(phases.get(cid, []), start)
                except ValueError:
                    continue
                curves[cid] = _curve(list(planned), "planned_schedule")
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


def _is_prp(kind: str, prp_form: Any, prp_volume: Any, prp_activator: Any) -> bool:
    return kind == "prp" or any(v is not None for v in (prp_form, prp_volume, prp_activator))


def wound_procedures(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, list[Any]]:
    """Per wound: its live procedures in time order, as (id, wound_id, performed_at,
    kind, debridement_method, debridement_to_bleeding, prp_form, prp_volume_ml,
    prp_activator). One read serves both the procedures table and the
    assessments' "before this visit" counts."""
    p = Procedure
    out: dict[Hex, list[Any]] = defaultdict(list)
    for chunk in _chunks(wound_ids):
        rows: Sequence[Any] = _fetch(
            conn,
            sa.select(_hex(p.id), _hex(p.wound_id), *PROCEDURE_DETAILS)
            .where(p.wound_id.in_(chunk), p.deleted_at.is_(None))
            .order_by(p.wound_id, p.performed_at, p.id),
        )
        for row in rows:
            out[row[1]].append(row)
    return out


def procedure_times(procedures: list[Any]) -> tuple[list[Any], list[Any]]:
    """Sorted times of a wound's debridements and of its PRP applications."""
    debridements = [r[2] for r in procedures if r[3] == "debridement"]
    prp = [r[2] for r in procedures if _is_prp(r[3], r[6], r[7], r[8])]
    return debridements, prp


def effective_overrides(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, dict[str, int]]:
    """Per assessment of the given wounds: the override in force on each scale
    (later ones supersede earlier ones; a withdrawal, value None, leaves the
    derived grade), as {assessment: {scale: value}}."""
    rows = [
        row
        for chunk in _chunks(wound_ids)
        for row in _fetch(
            conn,
            sa.select(
                Override.created_at, _hex(Override.assessment_id), Override.scale, Override.value
            ).where(Override.wound_id.in_(chunk)),
        )
    ]
    rows.sort(key=lambda row: row[0])  # in the order they were recorded
    return overrides_in_force((aid, scale, value, value) for _, aid, scale, value in rows)


# ---------------------------------------------------------------------------
# Tables


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _yesno(value: Any) -> int | None:
    """REDCap yes/no coding: 1 / 0, None when unknown (Parquet turns it into a bool)."""
    return None if value is None else int(bool(value))


def _vocabulary(allowed: tuple[str, ...]) -> dict[str | None, str | None]:
    """deid.one_of as a dict, for ``.get(value, "other")`` in the per-row loop."""
    out: dict[str | None, str | None] = {v: v for v in allowed}
    out[None] = None
    return out


def _follow_up_ends(conn: sa.Connection, wound_ids: set[Hex]) -> dict[Hex, date]:
    out: dict[Hex, date] = {}
    for chunk in _chunks(wound_ids):
        for wid, last in _fetch(
            conn,
            sa.select(_hex(Assessment.wound_id), sa.func.max(Assessment.assessed_at))
            .where(Assessment.wound_id.in_(chunk), Assessment.deleted_at.is_(None))
            .group_by(Assessment.wound_id),
        ):
            if last is not None:
                out[wid] = _as_date(last)
    return out


def _schedules(
    conn: sa.Connection, patient_ids: set[Hex]
) -> dict[Hex, list[tuple[str, bool, tx.Schedule]]]:
    """Each patient's systemic therapies as (generic name, anti-angiogenic, schedule)."""
    out: dict[Hex, list[tuple[str, bool, tx.Schedule]]] = defaultdict(list)
    for chunk in _chunks(patient_ids):
        therapies = conn.execute(
            sa.select(*SystemicTherapy.__table__.c).where(
                SystemicTherapy.patient_id.in_(chunk), SystemicTherapy.deleted_at.is_(None)
            )
        ).all()
        if not therapies:
            continue
        from app.therapy.models import TherapyChange

        changes: dict[uuid.UUID, list[tx.Change]] = defaultdict(list)
        for ch in _fetch(
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
            out[t.patient_id.hex].append((generic_agent(t.agent), anti, schedule))
    return out


def generic_agent(agent: str) -> str:
    """A generic drug name from the known anti-angiogenic list, else "other_agent".

    The agent column is free text; only names on a fixed list are exported so a
    typed comment can never leak through it.
    """
    name = " ".join(agent.strip().lower().split())
    for candidate in (name, name.split(" ")[0], name.split(" ")[0].split("-")[0]):
        if candidate in tx.ANTI_ANGIOGENIC_AGENTS:
            return candidate
    return "other_agent"


def _site_class(cache: dict[str | None, str], site: str | None) -> str:
    """deid.site_class, remembered: body sites repeat ("left breast") across wounds."""
    if len(cache) > 10_000:  # free text can be all different: keep memory bounded
        cache.clear()
    cache[site] = deid.site_class(site)
    return cache[site]


@dataclass
class _Batch:
    """The context of one batch of wounds (CONTEXT_BATCH_SIZE, in stream order),
    read once and shared by every table: each patient's day zero and dose
    curves, each wound's procedures and its assessments' grade overrides."""

    wound_ids: set[Hex]
    infos: dict[Hex, PatientInfo | None]
    doses: DoseLookup | None
    procedures: dict[Hex, list[Any]]
    overrides: dict[Hex, dict[str, int]]
    follow_up_ends: dict[Hex, date]  # filled from the assessment stream when it is read


class _Rows:
    """Turns source rows into de-identified row tuples (in ``TABLES`` column order)."""

    def __init__(self, sel: Selection) -> None:
        pseudonyms = deid.Pseudonymizer(sel.key)
        self.assessment_pseudonyms = pseudonyms.many_for_kind("assessment")
        self.procedure_pseudonym = pseudonyms.for_kind("procedure")
        self.wound_pseudonym = pseudonyms.for_kind("wound")
        self.patient_pseudonym = pseudonyms.for_kind("patient")
        self.site_classes: dict[str | None, str] = {}  # body-site text -> class, bounded

    def patient(self, pid: Hex, info: PatientInfo) -> tuple[Any, ...]:
        return (
            self.patient_pseudonym(pid),
            deid.one_of(info.sex, SEXES, "unknown"),
            deid.age_label(info.birth_date, info.first_record),
            info.day_zero_kind,
        )

    def assessments(
        self,
        rows: list[Any],
        pseudonyms: list[str],
        start: int,
        batch: _Batch,
        out: list[tuple[Any, ...]],
    ) -> int:
        """Append the rows from ``start`` on that belong to ``batch``'s wounds to
        ``out``; return the index of the first row that does not (``len(rows)``
        when all do).

        Rows come ordered by wound, so the per-wound values (pseudonyms, onset
        day, merged dose curve, procedure times) are computed when the wound
        changes; the per-row work is date arithmetic and a few lookups (the
        assessment pseudonyms of the partition come in ``pseudonyms``, made in
        one call).
        """
        area_methods = _AREA_METHODS
        amounts = _EXUDATE_AMOUNTS
        types = _EXUDATE_TYPES
        bisect_left = bisect.bisect_left
        bisect_right = bisect.bisect_right
        wound_ids, infos, doses = batch.wound_ids, batch.infos, batch.doses
        assert doses is not None
        overrides = batch.overrides.get
        ends = batch.follow_up_ends
        append = out.append
        done = len(out)
        current = None
        visit: Any = None
        for a_pseudonym, (
            aid,
            wid,
            pid,
            at,
            length,
            width,
            depth,
            area,
            method,
            amount,
            etype,
            epithelial,
            granulation,
            slough,
            necrotic,
            closed,
            pain,
            push_area,
            push_exudate,
            push_tissue,
            push_total,
            bwat,
            ctcae,
            rtog,
            onset,
            course_id,
        ) in zip(pseudonyms[start:], rows[start:], strict=True):
            if wid != current:
                if current is not None:
                    ends[current] = date.fromordinal(visit)
                if wid not in wound_ids:  # the first row of a later batch
                    current = None
                    break
                current = wid
                info = infos[pid]
                assert info is not None  # a patient with a wound has a first record
                # Days as ordinals (date.toordinal): int arithmetic per row, not
                # a date and a timedelta.
                day_zero = info.day_zero.toordinal()
                onset_day = onset.toordinal() - day_zero
                dose = wound_dose(doses.curves_for(pid, course_id))
                dose_days = [d.toordinal() for d in dose.days]
                dose_cums, dose_last, dose_total = (
                    dose.cumulative,
                    dose.last_day.toordinal(),
                    dose.total,
                )
                dose_onset = dose.on(onset)
                w_pseudonym = self.wound_pseudonym(wid)
                p_pseudonym = self.patient_pseudonym(pid)
                debr, prp = procedure_times(batch.procedures.get(wid, []))
            visit = at.toordinal()  # the ordinal of at.date()
            visit_day = visit - day_zero
            if visit >= dose_last:
                cumulative = dose_total
            else:
                i = bisect_right(dose_days, visit)
                cumulative = dose_cums[i - 1] if i else 0.0
            grades = overrides(aid)
            append(
                (
                    a_pseudonym,
                    w_pseudonym,
                    p_pseudonym,
                    visit_day,
                    visit_day - onset_day,
                    length,
                    width,
                    depth,
                    area,
                    area_methods(method, "other"),
                    amounts(amount, "other"),
                    types(etype, "other"),
                    epithelial,
                    granulation,
                    slough,
                    necrotic,
                    closed,
                    pain,
                    push_area,
                    push_exudate,
                    push_tissue,
                    push_total,
                    bwat,
                    ctcae if grades is None else grades.get("ctcae", ctcae),
                    ctcae,
                    rtog if grades is None else grades.get("rtog", rtog),
                    rtog,
                    bisect_left(debr, at) if debr else 0,
                    bisect_left(prp, at) if prp else 0,
                    dose_onset,
                    cumulative,
                )
            )
        if current is not None:
            ends[current] = date.fromordinal(visit)
        return start + len(out) - done

    def procedures(
        self, wound: Any, info: PatientInfo, procedures: list[Any]
    ) -> list[tuple[Any, ...]]:
        """One wound's procedures; no notes, no preparation text."""
        wid, pid, onset = wound[0], wound[1], wound[7]
        day_zero = info.day_zero
        onset_day = (onset - day_zero).days
        w_pseudonym, p_pseudonym = self.wound_pseudonym(wid), self.patient_pseudonym(pid)
        out = []
        for prid, _, at, kind, method, to_bleed, form, vol, act in procedures:
            day = (at.date() - day_zero).days
            out.append(
                (
                    self.procedure_pseudonym(prid),
                    w_pseudonym,
                    p_pseudonym,
                    day,
                    day - onset_day,
                    _PROCEDURE_KINDS(kind, "other"),
                    _DEBRIDEMENT_METHODS(method, "other"),
                    _yesno(to_bleed),
                    _yesno(_is_prp(kind, form, vol, act)),
                    _PRP_FORMS(form, "other"),
                    _num(vol),
                    _PRP_ACTIVATORS(act, "other"),
                )
            )
        return out

    def wounds(self, conn: sa.Connection, rows: list[Any], batch: _Batch) -> list[tuple[Any, ...]]:
        """One row per wound with healing, dose, therapy and lab context."""
        patient_ids = {r[1] for r in rows}
        wound_ids = batch.wound_ids
        doses = batch.doses
        assert doses is not None
        ends = batch.follow_up_ends
        schedules = _schedules(conn, patient_ids)
        topicals: dict[Hex, set[str]] = defaultdict(set)
        for chunk in _chunks(wound_ids):
            for wid, cat in _fetch(
                conn,
                sa.select(_hex(TopicalTreatment.wound_id), TopicalTreatment.category).where(
                    TopicalTreatment.wound_id.in_(chunk), TopicalTreatment.deleted_at.is_(None)
                ),
            ):
                topicals[wid].add(deid.one_of(cat, TOPICAL_CATEGORIES) or "other")
        labs: dict[Hex, list[tuple[date, str, int]]] = defaultdict(list)
        for chunk in _chunks(patient_ids):
            for pid, test, taken, grade in _fetch(
                conn,
                sa.select(
                    _hex(LabResult.patient_id),
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
                labs[pid].append((taken.date(), test, grade))
        site_classes = self.site_classes
        out = []
        for wid, pid, site, lat, fold, etiology, status, onset, healed, course_id in rows:
            info = batch.infos.get(pid)
            if info is None:
                continue
            end = healed or max(ends.get(wid, onset), onset)
            agents: set[str] = set()
            anti_days: set[date] = set()
            for name, anti, schedule in schedules.get(pid, []):
                days = [
                    onset + timedelta(days=i)
                    for i in range((end - onset).days + 1)
                    if tx.on_drug(schedule, onset + timedelta(days=i))
                ]
                if days:
                    agents.add(name)
                    if anti:
                        anti_days.update(days)
            worst = {t: None for t in HEMATOLOGIC}
            for taken, test, grade in labs.get(pid, []):
                if onset <= taken <= end and (worst[test] is None or grade > worst[test]):
                    worst[test] = grade
            onset_day = (onset - info.day_zero).days
            healed_day = None if healed is None else (healed - info.day_zero).days
            out.append(
                (
                    self.wound_pseudonym(wid),
                    self.patient_pseudonym(pid),
                    site_classes.get(site) or _site_class(site_classes, site),
                    deid.one_of(lat, LATERALITIES, "none"),
                    _yesno(fold),
                    deid.one_of(etiology, ETIOLOGIES),
                    deid.one_of(status, WOUND_STATUSES),
                    onset_day,
                    healed_day,
                    None if healed_day is None else healed_day - onset_day,
                    (end - info.day_zero).days,
                    doses.on(pid, course_id, onset),
                    doses.source(pid, course_id),
                    len(anti_days),
                    ";".join(sorted(agents)),
                    ";".join(sorted(topicals.get(wid, ()))),
                    worst["hemoglobin"],
                    worst["platelets"],
                    worst["neutrophils"],
                )
            )
        return out


_AREA_METHODS = _vocabulary(AREA_METHODS).get
_EXUDATE_AMOUNTS = _vocabulary(EXUDATE_AMOUNTS).get
_EXUDATE_TYPES = _vocabulary(EXUDATE_TYPES).get
_PROCEDURE_KINDS = _vocabulary(PROCEDURE_KINDS).get
_DEBRIDEMENT_METHODS = _vocabulary(DEBRIDEMENT_METHODS).get
_PRP_FORMS = _vocabulary(PRP_FORMS).get
_PRP_ACTIVATORS = _vocabulary(PRP_ACTIVATORS).get


def export_batches(
    conn: sa.Connection, sel: Selection, tables: Collection[str] = tuple(TABLES)
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Every table of the export in ONE patient-ordered pass, as (table, rows) pairs.

    The wound stream drives: for each CONTEXT_BATCH_SIZE wounds (ordered by
    patient, then wound) the patient and wound context is read once and serves
    every table, and the assessment stream (``assessment_query``, the very
    query the benchmark's floor streams; same order) is read alongside up to
    the batch's last wound. Each table's rows come out in the order of its own
    query (patients by id; wounds, assessments and procedures by patient,
    wound, then time), so a writer per table sees what the table-at-a-time
    queries gave. Memory: one wound batch's context plus one partition of
    BATCH_SIZE assessment rows.

    ``tables`` limits the work to what is asked for (FHIR reads one table at a time).
    """
    want_patients, want_wounds = "patients" in tables, "wounds" in tables
    want_assessments, want_procedures = "assessments" in tables, "procedures" in tables
    make = _Rows(sel)
    patients = PatientCache(conn)
    wound_stream = _stream(conn, _wound_query(sel), CONTEXT_BATCH_SIZE)
    assessment_stream = _stream(conn, assessment_query(sel)) if want_assessments else None
    partition: list[Any] = []
    pseudonyms: list[str] = []
    position = 0
    last_patient: Hex | None = None
    try:
        for wounds in wound_stream:
            wound_ids = {r[0] for r in wounds}
            patient_ids = {r[1] for r in wounds}
            batch = _Batch(
                wound_ids=wound_ids,
                infos=patients.get(patient_ids),
                doses=DoseLookup(conn, patient_ids) if want_wounds or want_assessments else None,
                procedures=(
                    wound_procedures(conn, wound_ids) if want_procedures or want_assessments else {}
                ),
                overrides=effective_overrides(conn, wound_ids) if want_assessments else {},
                follow_up_ends={},
            )
            if want_patients:
                rows = []
                for pid in dict.fromkeys(r[1] for r in wounds):
                    info = batch.infos.get(pid)
                    if pid != last_patient and info is not None:
                        rows.append(make.patient(pid, info))
                    last_patient = pid
                yield "patients", rows
            if assessment_stream is not None:
                while True:
                    if position == len(partition):
                        partition = next(assessment_stream, [])
                        position = 0
                        if not partition:
                            break
                        pseudonyms = make.assessment_pseudonyms([r[0] for r in partition])
                    rows = []
                    position = make.assessments(partition, pseudonyms, position, batch, rows)
                    if rows:
                        yield "assessments", rows
                    if position < len(partition):  # the rest belongs to later wounds
                        break
            elif want_wounds:
                batch.follow_up_ends.update(_follow_up_ends(conn, wound_ids))
            if want_wounds:
                yield "wounds", make.wounds(conn, wounds, batch)
            if want_procedures:
                rows = []
                for wound in wounds:
                    info = batch.infos[wound[1]]
                    procedures = batch.procedures.get(wound[0])
                    if procedures:
                        assert info is not None
                        rows += make.procedures(wound, info, procedures)
                yield "procedures", rows
        if position < len(partition) or (
            assessment_stream is not None and next(assessment_stream, None)
        ):
            # Both streams are ordered alike, so this means the orders disagree:
            # fail rather than silently drop assessment rows.
            raise RuntimeError("assessment rows outside the wound stream's order")
    finally:
        wound_stream.close()
        if assessment_stream is not None:
            assessment_stream.close()


def _table_batches(table: str) -> Callable[[sa.Connection, Selection], Iterator[list[Any]]]:
    def batches(conn: sa.Connection, sel: Selection) -> Iterator[list[tuple[Any, ...]]]:
        for _, rows in export_batches(conn, sel, (table,)):
            yield rows

    batches.__name__ = f"{table}_batches"
    batches.__doc__ = f"The {table} table alone, in batches (see export_batches)."
    return batches


# One table at a time (the FHIR writer reads them so).
BATCHES = {table: _table_batches(table) for table in TABLES}
