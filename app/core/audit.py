"""The audit trail: one hook for every read and write of patient data.

- Writes are recorded by a ``before_flush`` listener for every model that
  declares ``__audit_type__``: create, update, delete (soft) and restore.
- Reads are recorded by app/core/access.py when it loads a record or a list,
  so a route cannot read patient data without leaving a trace.
- Sign-ins and refused attempts are recorded with ``record_now``, in their
  own transaction, because the request that triggers them rolls back.

An audit row holds who, role, what, which record (by id), when (UTC), from
where and the request id; never names, MRNs or free text.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, new_id, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_clinic_at", "clinic_id", "at"),
        sa.Index("ix_audit_events_record", "record_type", "record_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[uuid.UUID | None]
    role: Mapped[str | None] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(40))
    record_type: Mapped[str | None] = mapped_column(sa.String(40))
    record_id: Mapped[str | None] = mapped_column(sa.String(64))
    clinic_id: Mapped[uuid.UUID | None]
    client_addr: Mapped[str | None] = mapped_column(sa.String(64))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(20), default="success")
    details: Mapped[dict[str, Any] | None]


class ImmutableAuditError(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise ImmutableAuditError("audit events cannot be changed or deleted")


# Append-only tables: no UPDATE or DELETE statement may target them through the
# ORM. The database refuses them as well, from any client (triggers, migration 0012).
IMMUTABLE_TABLES = frozenset({"audit_events", "record_versions"})


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: Any) -> None:
    """The row-level hooks above do not see ``session.execute(update(...))`` or
    ``delete(...)``; refuse those statements here."""
    if not (state.is_update or state.is_delete):
        return
    if any(m.local_table.name in IMMUTABLE_TABLES for m in state.all_mappers):
        raise ImmutableAuditError("audit events and record history cannot be changed or deleted")


# Core INSERT of the audit table: audit rows are never read back through the
# session that writes them, so they skip the unit of work (identity map, per-object
# bookkeeping), which cost more than the statement itself.
_INSERT = sa.insert(cast(sa.Table, AuditEvent.__table__))


def _actor() -> dict[str, Any]:
    if not has_request_context():
        return {"user_id": None, "role": "system", "client_addr": None, "request_id": None}
    user = getattr(g, "user", None)
    return {
        "user_id": user.id if user is not None else None,
        "role": user.role if user is not None else None,
        "client_addr": (request.remote_addr or "")[:64] or None,
        "request_id": getattr(g, "request_id", None),
    }


def event_row(
    action: str,
    record_type: str | None = None,
    record_id: Any = None,
    *,
    clinic_id: uuid.UUID | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    user: Any = None,
) -> dict[str, Any]:
    """The column values of one audit event (every column, defaults applied)."""
    actor = _actor()
    if user is not None:
        actor["user_id"], actor["role"] = user.id, user.role
    return {
        "id": new_id(),
        "at": utcnow(),
        "action": action,
        "record_type": record_type,
        "record_id": str(record_id) if record_id is not None else None,
        "clinic_id": clinic_id,
        "outcome": outcome,
        "details": details,
        **actor,
    }


def build_event(
    action: str,
    record_type: str | None = None,
    record_id: Any = None,
    **kw: Any,
) -> AuditEvent:
    return AuditEvent(**event_row(action, record_type, record_id, **kw))


def record(
    session: Session, action: str, record_type: str | None, record_id: Any, **kw: Any
) -> None:
    """Add an audit event to the current unit of work (it commits with the request)."""
    session.add(build_event(action, record_type, record_id, **kw))


def record_now(
    engine: sa.Engine, action: str, record_type: str | None = None, record_id: Any = None, **kw: Any
) -> None:
    """Write an audit event in its own transaction, surviving the request's rollback."""
    with engine.begin() as conn:
        conn.execute(_INSERT, event_row(action, record_type, record_id, **kw))


def _write_action(session: Session, obj: Any) -> str | None:
    if obj in session.new:
        return "create"
    state = sa.inspect(obj)
    hist = state.attrs.deleted_at.history if hasattr(obj, "deleted_at") else None
    if hist is not None and hist.has_changes():
        return "delete" if obj.deleted_at is not None else "restore"
    return "update" if session.is_modified(obj, include_collections=False) else None


@event.listens_for(Session, "before_flush")
def _audit_writes(session: Session, flush_context: Any, instances: Any) -> None:
    rows = []
    for obj in list(session.new) + list(session.dirty):
        record_type = getattr(obj, "__audit_type__", None)
        if record_type is None:
            continue
        action = _write_action(session, obj)
        if action is None:
            continue
        if obj.id is None:
            obj.id = new_id()
        rows.append(
            event_row(action, record_type, obj.id, clinic_id=getattr(obj, "clinic_id", None))
        )
    if rows:
        # In the flush's transaction (and savepoint): they commit or roll back
        # with the writes they describe.
        session.connection().execute(_INSERT, rows)
