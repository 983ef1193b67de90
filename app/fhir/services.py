"""Reading the record as FHIR: search (a page of merged sources) and read.

Every query starts from ``access.scoped`` (role, clinic isolation, soft
deletes), then narrows to the patient of a patient-scoped SMART token, then
applies the search. Pages are cut by keyset on (time, source, id), with the
opaque cursor of app/core/pagination.py, so a row added while a client pages
neither shifts nor repeats what it has seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import Session

from app.core import access, audit
from app.core.pagination import decode_cursor, encode_cursor
from app.fhir import search as fs
from app.fhir.registry import BY_TYPE, for_id
from app.fhir.sources import Source


@dataclass
class Page:
    resources: list[dict[str, Any]]
    total: int
    next_cursor: str | None


def _base(source: Source) -> Any:
    """The scoped SELECT of a source: the caller's clinics, live rows, the
    SMART patient if the token is patient-scoped, the source's own rows."""
    stmt = access.scoped(source.model).add_columns(*source.extra)
    for target, on, outer in source.joins:
        stmt = stmt.join(target, on, isouter=outer)
    patient_id = getattr(g, "fhir_patient_id", None)
    if patient_id is not None:
        stmt = stmt.where(source.patient == patient_id)
    if source.where is not None:
        stmt = stmt.where(source.where())
    return stmt


def _after(source: Source, index: int, cursor: list[Any]) -> Any:
    """Rows of source ``index`` that come after the cursor (time, source, id)."""
    at = datetime.fromisoformat(cursor[0])
    last_index, last_id = cursor[1], uuid.UUID(cursor[2])
    time, rid = source.time, source.model.id
    if index < last_index:
        return time > at
    if index > last_index:
        return time >= at
    return sa.or_(time > at, sa.and_(time == at, rid > last_id))


def _cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    values = decode_cursor(cursor, 3)
    try:
        datetime.fromisoformat(values[0])
        uuid.UUID(values[2])
        int(values[1])
    except (TypeError, ValueError) as exc:
        raise fs.SearchError("_cursor is not one this server gave out") from exc
    return values


def search(session: Session, resource_type: str, query: fs.Query) -> Page:
    """One page of ``resource_type`` matching ``query``, and the total."""
    sources = BY_TYPE[resource_type]
    total = 0
    rows: list[tuple[Any, int, str, Source, Any]] = []
    after = _cursor(query.cursor)
    for index, source in enumerate(sources):
        stmt = _base(source).where(*fs.clauses(source, query))
        total += session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
        if query.summary_count:
            continue
        if after is not None:
            stmt = stmt.where(_after(source, index, after))
        stmt = stmt.order_by(source.time, source.model.id).limit(query.count + 1)
        for row in session.execute(stmt):
            record = row[0]
            when = getattr(record, source.time.key)
            rows.append((when, index, record.id.hex, source, row))
    rows.sort(key=lambda item: item[:3])
    page, more = rows[: query.count], len(rows) > query.count
    next_cursor = None
    if more and page:
        when, index, _, _, row = page[-1]
        next_cursor = encode_cursor([when.isoformat(), index, str(row[0].id)])
    resources = [source.build(row) for _, _, _, source, row in page]
    _audit_search(session, resource_type, query, len(resources))
    return Page(resources, total, next_cursor)


def _audit_search(session: Session, resource_type: str, query: fs.Query, count: int) -> None:
    patient = next((v for n, v in query.params if n == "patient"), None)
    access.audit_list(
        session,
        f"fhir_{resource_type.lower()}",
        parent_id=patient.removeprefix("Patient/") if patient else None,
        count=count,
    )


def read(session: Session, resource_type: str, resource_id: str) -> dict[str, Any] | None:
    """One resource by id, audited as a read of its record; None if the caller
    may not see it or it does not exist."""
    found = for_id(resource_type, resource_id)
    if found is None:
        return None
    source, record_id = found
    try:
        rid = uuid.UUID(record_id)
    except ValueError:
        return None
    row = session.execute(_base(source).where(source.model.id == rid)).first()
    if row is None:
        return None
    record = row[0]
    record_type = getattr(source.model, "__audit_type__", source.model.__name__.lower())
    audit.record(session, "read", record_type, record.id, clinic_id=record.clinic_id)
    return source.build(row)
