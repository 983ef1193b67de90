"""The export's queries: what is selected, streamed and counted.

Selection: ``date_from``/``date_to`` select wounds by onset date (inclusive);
each selected wound is exported with its whole follow-up so that healing times
are never truncated by the window. Soft-deleted records are never exported.

No column that can identify a person is ever selected: names, MRN, birth date
(read only to compute the age, never written), notes, free-text preparations,
product names, user ids, photos.

The per-batch context queries (day zero, dose, procedures, therapy, labs) are
in app/exports/context.py; both use the helpers here (``hex_text``,
``chunks``, ``fetch``, ``stream``).
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.functions import FunctionElement

from app.assessments.models import Assessment
from app.patients.models import Patient
from app.photos.models import Photo, PhotoColourMeasure
from app.procedures.models import PROCEDURE_DETAILS, Procedure
from app.wounds.models import Wound


@dataclass(frozen=True)
class Selection:
    """What one export covers and for whom the pseudonyms are made."""

    clinic_id: uuid.UUID
    date_from: date | None
    date_to: date | None
    key: bytes  # deid.pseudonym_key(SECRET_KEY, recipient)


# ---------------------------------------------------------------------------
# Ids as hex text
#
# The queries read every id as its 32-digit lowercase hex text (``hex_text``).
# Building a uuid.UUID per id in Python was most of the cost of reading a row,
# and the pseudonyms hash the hex form anyway (deid._id_text), so nothing is
# lost. Every lookup of the export is keyed by that text; ids go back to
# uuid.UUID only as bound parameters of the small per-batch context queries
# (``chunks``), so the indexes are still used.

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


def hex_text(column: Any) -> sa.ColumnElement[str]:
    """A UUID column as 32-digit lowercase hex text, converted by the database."""
    return _hex_id(column)


def _uuids(ids: list[Hex]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids]


def chunks(ids: set[Hex], size: int = 900) -> Iterator[list[uuid.UUID]]:
    """The ids as uuid.UUID parameters, at most ``size`` per IN (...) list."""
    items = sorted(ids)
    for i in range(0, len(items), size):
        yield _uuids(items[i : i + size])


def fetch(
    conn: sa.Connection, stmt: sa.Select[*tuple[Any, ...]]
) -> Sequence[sa.Row[*tuple[Any, ...]]]:
    """All rows of a small per-batch context query, fetched at once (iterating a
    result fetches row by row, which costs more than the row itself)."""
    return conn.execute(stmt).all()


def stream(
    conn: sa.Connection, stmt: sa.Select[*tuple[Any, ...]], size: int
) -> Generator[list[Any], None, None]:
    """Rows of ``stmt`` in lists of at most ``size``, from a streaming cursor."""
    result = conn.execution_options(stream_results=True, yield_per=size).execute(stmt)
    try:
        # partitions() hands back lists; typed as sequences of rows.
        yield from cast(Iterator[list[Any]], result.partitions(size))
    finally:
        result.close()


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


_a = Assessment

# The assessment stream's columns, in row order, named once: the query
# selects them (``assessment_query``) and the row builder finds each one by its
# name (``ASSESSMENT_POSITION``), so the two cannot drift apart. Ids come as
# hex text and ``closed`` as 0/1 (REDCap yes/no), both converted by the
# database rather than per row in Python.
ASSESSMENT_SOURCE: tuple[tuple[str, sa.ColumnElement[Any] | QueryableAttribute[Any]], ...] = (
    ("id", hex_text(_a.id)),
    ("wound_id", hex_text(_a.wound_id)),
    ("patient_id", hex_text(Wound.patient_id)),
    ("assessed_at", _a.assessed_at),
    ("length_cm", _a.length_cm),
    ("width_cm", _a.width_cm),
    ("depth_cm", _a.depth_cm),
    ("area_cm2", _a.area_cm2),
    ("area_method", _a.area_method),
    ("exudate_amount", _a.exudate_amount),
    ("exudate_type", _a.exudate_type),
    ("epithelial_pct", _a.epithelial_pct),
    ("granulation_pct", _a.granulation_pct),
    ("slough_pct", _a.slough_pct),
    ("necrotic_pct", _a.necrotic_pct),
    ("closed", sa.cast(_a.closed, sa.Integer)),
    ("pain_score", _a.pain_score),
    ("itch_nrs", _a.itch_nrs),
    ("burning_nrs", _a.burning_nrs),
    ("pro_skin_reaction", _a.pro_skin_reaction),
    ("push_area", _a.push_area),
    ("push_exudate", _a.push_exudate),
    ("push_tissue", _a.push_tissue),
    ("push_total", _a.push_total),
    ("bwat_total", _a.bwat_total),
    ("ctcae_grade", _a.ctcae_grade),
    ("rtog_grade", _a.rtog_grade),
    ("ctcae_skin_ulceration_grade", _a.ctcae_ulcer_grade),
    ("radiation_phase", _a.rt_phase),
    ("days_after_rt_end", _a.days_after_rt),
    ("rtog_late_grade", _a.rtog_late_grade),
    ("onset_date", Wound.onset_date),
    ("radiotherapy_course_id", hex_text(Wound.radiotherapy_course_id)),
)
ASSESSMENT_POSITION = {name: i for i, (name, _) in enumerate(ASSESSMENT_SOURCE)}


def assessment_query(sel: Selection) -> sa.Select[*tuple[Any, ...]]:
    """The assessment stream: one row per live assessment of a selected wound,
    with the columns of ``ASSESSMENT_SOURCE``, ordered by patient, wound, then
    time (the benchmark's floor streams this same query). Patient first, so
    each patient's context (day zero, dose curves) is read in one batch, not
    once per batch holding one of its wounds.
    """
    return (
        sa.select(*(column.label(name) for name, column in ASSESSMENT_SOURCE))
        .join(Wound, Wound.id == _a.wound_id)
        .join(Patient, Patient.id == Wound.patient_id)
        .where(_a.deleted_at.is_(None), *_wound_filter(sel))
        .order_by(Wound.patient_id, _a.wound_id, _a.assessed_at, _a.id)
    )


def wound_query(sel: Selection) -> sa.Select[*tuple[Any, ...]]:
    """The wound stream, which drives the export: the selected live wounds,
    ordered by patient, then wound."""
    return (
        sa.select(
            hex_text(Wound.id),
            hex_text(Wound.patient_id),
            Wound.body_site,
            Wound.laterality,
            Wound.in_skin_fold,
            Wound.etiology,
            Wound.status,
            Wound.onset_date,
            Wound.healed_on,
            hex_text(Wound.radiotherapy_course_id),
            Wound.closures,
        )
        .join(Patient, Patient.id == Wound.patient_id)
        .where(*_wound_filter(sel))
        .order_by(Wound.patient_id, Wound.id)
    )


def _procedure_query(sel: Selection) -> sa.Select[*tuple[Any, ...]]:
    p = Procedure
    return (
        sa.select(
            hex_text(p.id),
            hex_text(p.wound_id),
            hex_text(Wound.patient_id),
            *PROCEDURE_DETAILS,
            Wound.onset_date,
        )
        .join(Wound, Wound.id == p.wound_id)
        .join(Patient, Patient.id == Wound.patient_id)
        .where(p.deleted_at.is_(None), *_wound_filter(sel))
        .order_by(Wound.patient_id, p.wound_id, p.performed_at, p.id)
    )


def _colour_query(sel: Selection) -> sa.Select[*tuple[Any, ...]]:
    m = PhotoColourMeasure
    return (
        sa.select(m.id)
        .join(Photo, Photo.id == m.photo_id)
        .join(Wound, Wound.id == m.wound_id)
        .join(Patient, Patient.id == Wound.patient_id)
        .where(m.deleted_at.is_(None), Photo.deleted_at.is_(None), *_wound_filter(sel))
    )


def _patient_query(sel: Selection) -> sa.Select[*tuple[Any, ...]]:
    selected = sa.select(Wound.patient_id).join(Patient, Patient.id == Wound.patient_id)
    selected = selected.where(*_wound_filter(sel))
    return (
        sa.select(hex_text(Patient.id))
        .where(Patient.id.in_(selected.scalar_subquery()))
        .order_by(Patient.id)
    )


def counts(conn: sa.Connection, sel: Selection) -> dict[str, int]:
    """Source rows per table, for progress totals (one COUNT each)."""
    out = {}
    for name, stmt in (
        ("patients", _patient_query(sel)),
        ("wounds", wound_query(sel)),
        ("assessments", assessment_query(sel)),
        ("procedures", _procedure_query(sel)),
        ("colour_measures", _colour_query(sel)),
    ):
        sub = stmt.order_by(None).subquery()
        out[name] = int(conn.scalar(sa.select(sa.func.count()).select_from(sub)) or 0)
    return out
