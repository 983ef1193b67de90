"""One delta feed of a clinic's records, for a device coming back online.

Every record type a device keeps (patients, wounds, assessments, procedures,
photos' metadata; more join with ``register_source``) in one stream, oldest
change first, ordered by ``(updated_at, type, id)``. A record changed twice
between two reads appears once, as it stands; a soft-deleted one as its
tombstone ``{id, deleted: true, version, updated_at}`` (RecordSchema). Each
record is rendered by the schema of its own GET route, and the read is
audited as that record type's clinic-wide list is.

A page costs one query per record type (plus what a type's schema loads per
page, e.g. an assessment's grade overrides, selected in one IN query): the
number of statements does not grow with the clinic. Each query starts at the
cursor on the ``(clinic_id, updated_at)`` index, reads at most ``limit + 1``
rows, and the types are merged here.

The cursor is the position of the last item read (the pagination helper's
encoding). On the last page it is moved back to ``SYNC_FEED_OVERLAP_SECONDS``
before now, when it is later than that: a change is stamped when it is
flushed and seen when it commits, so a write that committed a moment after
the page was read, stamped a moment before its end, is sent next time
instead of being skipped. Items of that window may then come twice; a
device applies each by (type, id, version), which makes a repeat harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.assessments.schemas import AssessmentSchema
from app.core.access import audit_list, require, scoped
from app.core.db import utcnow
from app.core.pagination import bad_cursor, decode_cursor, encode_cursor
from app.patients.models import Patient
from app.patients.schemas import PatientSchema
from app.photos.models import Photo
from app.photos.schemas import PhotoSchema
from app.procedures.models import Procedure
from app.procedures.schemas import ProcedureSchema
from app.wounds.models import Wound
from app.wounds.schemas import WoundSchema

_NIL = uuid.UUID(int=0)


@dataclass(frozen=True)
class FeedSource:
    """A record type of the feed: its name in the feed (``type``), its model
    (with ``id``, ``clinic_id``, ``updated_at`` and ``deleted_at``) and how one
    record is rendered (the dump of its GET route's schema)."""

    type: str
    model: Any
    dump: Callable[[Any], Any]


_SOURCES: dict[str, FeedSource] = {}


def register_source(source: FeedSource) -> None:
    """Add a record type to the feed (alerts, when they exist, join here).
    A package above this one registers in create_app's cross-layer hooks."""
    if source.type in _SOURCES and _SOURCES[source.type] != source:
        raise ValueError(f"feed type {source.type!r} is registered already")
    _SOURCES[source.type] = source


def feed_types() -> list[str]:
    return sorted(_SOURCES)


for _source in (
    FeedSource("patient", Patient, PatientSchema().dump),
    FeedSource("wound", Wound, WoundSchema().dump),
    FeedSource("assessment", Assessment, AssessmentSchema().dump),
    FeedSource("procedure", Procedure, ProcedureSchema().dump),
    FeedSource("photo", Photo, PhotoSchema().dump),
):
    register_source(_source)


class Position(NamedTuple):
    """Where an item sits in the feed; the feed is sorted by these, in order."""

    updated_at: datetime
    type: str
    id: uuid.UUID


def encode_position(position: Position) -> str:
    return encode_cursor([position.updated_at.isoformat(), position.type, str(position.id)])


def decode_position(cursor: str) -> Position:
    """The position a cursor of this feed holds; 422 for anything else."""
    at, kind, record_id = decode_cursor(cursor, 3)
    try:
        if not isinstance(at, str) or not isinstance(kind, str) or not isinstance(record_id, str):
            raise ValueError
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError
        return Position(moment, kind, uuid.UUID(record_id))
    except (ValueError, OverflowError) as exc:
        raise bad_cursor() from exc


def _after(source: FeedSource, start: Position | None) -> Any:
    """The rows of ``source`` placed after ``start``. Within one type the type
    part of the position is fixed, so the rule reduces to (updated_at, id),
    written with ``updated_at >= ...`` first so the index range applies."""
    if start is None:
        return sa.true()
    model = source.model
    if source.type > start.type:
        return model.updated_at >= start.updated_at
    if source.type < start.type:
        return model.updated_at > start.updated_at
    return sa.and_(
        model.updated_at >= start.updated_at,
        sa.or_(model.updated_at > start.updated_at, model.id > start.id),
    )


def _rows(
    session: Session, source: FeedSource, clinic_id: uuid.UUID, start: Position | None, limit: int
) -> list[Any]:
    model = source.model
    stmt = (
        scoped(model, include_deleted=True, clinic_id=clinic_id)
        .where(model.clinic_id == clinic_id, _after(source, start))
        .order_by(model.updated_at, model.id)
        .limit(limit + 1)
    )
    return list(session.scalars(stmt))


def _caught_up(last: Position | None) -> Position:
    """The cursor of the last page: where it ended, or the overlap window's
    start when that is earlier (see the module docstring)."""
    overlap = timedelta(seconds=current_app.config["SYNC_FEED_OVERLAP_SECONDS"])
    horizon = Position(utcnow() - overlap, "", _NIL)
    return horizon if last is None or horizon < last else last


def read_feed(
    session: Session, clinic_id: uuid.UUID, cursor: str | None, limit: int
) -> dict[str, Any]:
    """``{items: [{type, record}], next_cursor, has_more}`` after ``cursor``
    (from the beginning without one)."""
    require("clinical:read", clinic_id)
    start = decode_position(cursor) if cursor else None
    found: list[tuple[Position, FeedSource, Any]] = []
    for name in feed_types():
        source = _SOURCES[name]
        found += [
            (Position(obj.updated_at, name, obj.id), source, obj)
            for obj in _rows(session, source, clinic_id, start, limit)
        ]
    found.sort(key=lambda item: item[0])
    has_more = len(found) > limit
    page = found[:limit]
    counts: dict[str, int] = {}
    for _, source, _obj in page:
        counts[source.type] = counts.get(source.type, 0) + 1
    for name, count in sorted(counts.items()):
        audit_list(session, name, None, clinic_id, count)
    last = page[-1][0] if page else start
    position = last if has_more and last is not None else _caught_up(last)
    return {
        "items": [{"type": source.type, "record": source.dump(obj)} for _, source, obj in page],
        "next_cursor": encode_position(position),
        "has_more": has_more,
    }
