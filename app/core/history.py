"""Amendment history: every version of a clinical record is kept.

A ``before_flush`` listener writes a ``RecordVersion`` snapshot for each new
or changed record whose model declares ``__audit_type__`` (opt out with
``__versioned__ = False``). The snapshot is
the record as it stands after the change, so the list of versions is the full
story of the record: who changed which fields, when, and what they held.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base, new_id, utcnow

# Bookkeeping columns that change on every write and say nothing clinical.
_QUIET = {"updated_at", "version", "create_hash", "updated_by"}
_EXTRA = "history_extra_changes"


class RecordVersion(Base):
    __tablename__ = "record_versions"
    __table_args__ = (sa.UniqueConstraint("record_type", "record_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_type: Mapped[str] = mapped_column(sa.String(40))
    record_id: Mapped[uuid.UUID]
    version: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(20))
    changed_fields: Mapped[list[Any]]
    data: Mapped[dict[str, Any]]
    changed_by: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    clinic_id: Mapped[uuid.UUID | None]


@event.listens_for(RecordVersion, "before_update")
@event.listens_for(RecordVersion, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: RecordVersion) -> None:
    raise RuntimeError("record history cannot be changed or deleted")


# Types JSON holds as they are. Answered before the isinstance chain below,
# which every snapshot and create fingerprint would walk for some 50 values.
_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


@functools.cache
def _column_keys(mapper: Any) -> tuple[str, ...]:
    """The mapper's column attributes, in mapper order (computed once per model)."""
    return tuple(attr.key for attr in mapper.column_attrs)


@functools.cache
def _tracked_keys(mapper: Any) -> frozenset[str]:
    """The columns whose changes a version names (not the bookkeeping ones)."""
    return frozenset(_column_keys(mapper)) - _QUIET


def snapshot(obj: Any) -> dict[str, Any]:
    state = sa.inspect(obj)
    loaded = state.dict
    # A loaded value is read from the instance dict, as the attribute would
    # return it; anything else goes through the attribute (default or load).
    return {
        key: to_jsonable(loaded[key] if key in loaded else getattr(obj, key))
        for key in _column_keys(state.mapper)
        if key != "create_hash"
    }


def _changed_fields(obj: Any) -> list[str]:
    state = sa.inspect(obj)
    tracked = _tracked_keys(state.mapper)
    values = state.dict
    changed = []
    # Only an attribute with an entry in committed_state (set since the record
    # was created or loaded) can have a change; for a column that entry is its
    # loaded value (or none yet), and the change is what
    # state.get_history(key).has_changes() would answer: the value was removed,
    # or differs from the loaded one by the column type's comparison.
    for key, loaded in state.committed_state.items():
        if key in tracked and (
            key not in values or state.manager[key].impl.is_equal(values[key], loaded) is not True
        ):
            changed.append(key)
    return sorted(changed)


def mark_changed(session: Session, obj: Any, field: str, value: Any = None) -> None:
    """Amend a record through something stored beside it (a grade override, a
    therapy change): its version and updated_at move, so ETags and delta sync
    see the change, and its history gets a version naming ``field`` (with
    ``value`` in that version's data)."""
    session.info.setdefault(_EXTRA, {}).setdefault(obj, {})[field] = to_jsonable(value)
    obj.updated_at = utcnow()


def _current_user_id() -> uuid.UUID | None:
    if has_request_context() and getattr(g, "user", None) is not None:
        return g.user.id
    return None


# Core INSERT of the history table: versions are never read back through the
# session that writes them, so they skip the unit of work (identity map,
# per-object bookkeeping), which cost more than the statement itself.
_INSERT = sa.insert(cast(sa.Table, RecordVersion.__table__))

# Data a record keeps in other tables (a course's phases), added to each of its
# versions: record type -> function(record) -> keys for the snapshot.
_EXTENSIONS: dict[str, Callable[[Any], dict[str, Any]]] = {}


def snapshot_extension(
    record_type: str,
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Register ``fn(record) -> dict`` whose keys every version of ``record_type``
    records beside the record's own columns (read when the version is written)."""

    def register(fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        _EXTENSIONS[record_type] = fn
        return fn

    return register


@event.listens_for(Session, "before_flush")
def _write_versions(session: Session, flush_context: Any, instances: Any) -> None:
    user_id = _current_user_id()
    extras: dict[Any, dict[str, Any]] = session.info.pop(_EXTRA, {})
    rows = []
    for obj in list(session.new) + list(session.dirty):
        record_type = getattr(obj, "__audit_type__", None)
        if record_type is None or not getattr(obj, "__versioned__", True):
            continue
        is_new = obj in session.new
        if not is_new and not session.is_modified(obj, include_collections=False):
            continue
        extra = extras.get(obj, {})
        changed = sorted({*_changed_fields(obj), *extra})
        if not is_new and not changed:
            continue
        if obj.id is None:
            obj.id = new_id()
        if is_new:
            version, action = 1, "create"
        else:
            version = (obj.version or 1) + 1
            action = "update"
            if "deleted_at" in changed:
                action = "delete" if obj.deleted_at is not None else "restore"
        if hasattr(obj, "updated_by") and not is_new:
            obj.updated_by = user_id
        data = snapshot(obj)
        data.update(extra)
        data["version"] = version
        extension = _EXTENSIONS.get(record_type)
        if extension is not None:
            data.update(extension(obj))
        rows.append(
            {
                "id": new_id(),
                "record_type": record_type,
                "record_id": obj.id,
                "version": version,
                "action": action,
                "changed_fields": changed,
                "data": data,
                "changed_by": user_id,
                "changed_at": utcnow(),
                "clinic_id": getattr(obj, "clinic_id", None),
            }
        )
    if rows:
        # In the flush's transaction (and savepoint): a version commits or
        # rolls back with the write it records.
        session.connection().execute(_INSERT, rows)


def history_of(session: Session, record_type: str, record_id: uuid.UUID) -> list[RecordVersion]:
    stmt = (
        sa.select(RecordVersion)
        .where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version)
    )
    return list(session.scalars(stmt))
