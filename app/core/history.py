"""Amendment history: every version of a clinical record is kept.

A ``before_flush`` listener writes a ``RecordVersion`` snapshot for each
changed record whose model declares ``__audit_type__`` (opt out with
``__versioned__ = False``). The snapshot is the record as it stands after the
change, so the list of versions is the full story of the record: who changed
which fields, when, and what they held.

Version 1 (the create) is written when the record is first amended, not when
it is created: until then the record itself holds exactly that version, and
``versions`` reads it from there. Most bedside records are never amended, so
a second full copy of each would only double the writes of every create and
the size of the table. (As SQL:2011 system-versioned tables do, which keep
the current row in the table and only superseded rows in its history.) A
record type with a snapshot extension (data kept in other tables, which can
change without the record) still writes version 1 at once.
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
from sqlalchemy.dialects import postgresql, sqlite
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
        user_id: uuid.UUID = g.user.id
        return user_id
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


def _row(
    record_type: str,
    record_id: uuid.UUID,
    version: int,
    action: str,
    changed: list[str],
    data: dict[str, Any],
    changed_by: uuid.UUID | None,
    changed_at: datetime,
    clinic_id: uuid.UUID | None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "record_type": record_type,
        "record_id": record_id,
        "version": version,
        "action": action,
        "changed_fields": changed,
        "data": data,
        "changed_by": changed_by,
        "changed_at": changed_at,
        "clinic_id": clinic_id,
    }


def _created(record_type: str, mapper: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The version-1 row of a record whose stored columns (as JSON values) are
    ``data``: by its creator, at its creation, naming the fields it recorded."""
    data = {**data, "version": 1}
    changed = sorted(k for k in _tracked_keys(mapper) if data.get(k) is not None)
    return _row(
        record_type,
        uuid.UUID(str(data["id"])),
        1,
        "create",
        changed,
        data,
        data.get("created_by") and uuid.UUID(str(data["created_by"])),
        datetime.fromisoformat(data["created_at"]),
        data.get("clinic_id") and uuid.UUID(str(data["clinic_id"])),
    )


@functools.cache
def _stored_columns(mapper: Any) -> Any:
    """SELECT of a record's stored columns by id, labelled as ``snapshot`` keys."""
    keys = [k for k in _column_keys(mapper) if k != "create_hash"]
    return sa.select(*(mapper.columns[k].label(k) for k in keys)).where(
        mapper.columns["id"] == sa.bindparam("record_id")
    )


def _stored_version_1(session: Session, obj: Any) -> dict[str, Any]:
    """Version 1 of a record about to be amended for the first time, from its
    stored row (before_flush: the database still holds it unchanged)."""
    mapper = sa.inspect(obj).mapper
    row = session.connection().execute(_stored_columns(mapper), {"record_id": obj.id}).one()
    data = {key: to_jsonable(value) for key, value in row._mapping.items()}
    return _created(obj.__audit_type__, mapper, data)


@functools.cache
def _insert_missing(dialect: str) -> Any:
    """INSERT of version-1 rows that skips one already stored (a record created
    before version 1 was written lazily, or an extension type, has it)."""
    table = cast(sa.Table, RecordVersion.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(
        index_elements=["record_type", "record_id", "version"]
    )


def _versioned_type(obj: Any) -> str | None:
    """The record type of an object whose changes keep history, else None."""
    record_type: str | None = getattr(obj, "__audit_type__", None)
    if record_type is None or not getattr(obj, "__versioned__", True):
        return None
    return record_type


def _fields_to_version(
    session: Session, obj: Any, is_new: bool, has_extension: bool, extra: dict[str, Any]
) -> list[str] | None:
    """The fields this flush changes on ``obj``, or None when it writes no version:
    a new record without a snapshot extension (version 1 is the record itself
    until it is amended), or a loaded one with nothing changed."""
    if is_new:
        return sorted({*_changed_fields(obj), *extra}) if has_extension else None
    if not session.is_modified(obj, include_collections=False):
        return None
    return sorted({*_changed_fields(obj), *extra}) or None


def _version_and_action(obj: Any, changed: list[str], is_new: bool) -> tuple[int, str]:
    """The version number this flush writes, and what happened to the record."""
    if is_new:
        return 1, "create"
    version = (obj.version or 1) + 1
    if "deleted_at" in changed:
        return version, "delete" if obj.deleted_at is not None else "restore"
    return version, "update"


def _version_data(obj: Any, version: int, extra: dict[str, Any], extension: Any) -> dict[str, Any]:
    """What the version stores: the record's columns, what was amended beside
    it, and what its snapshot extension adds."""
    data = snapshot(obj)
    data.update(extra)
    data["version"] = version
    if extension is not None:
        data.update(extension(obj))
    return data


@event.listens_for(Session, "before_flush")
def _write_versions(session: Session, flush_context: Any, instances: Any) -> None:
    user_id = _current_user_id()
    extras: dict[Any, dict[str, Any]] = session.info.pop(_EXTRA, {})
    rows = []
    first_versions = []
    for obj in list(session.new) + list(session.dirty):
        record_type = _versioned_type(obj)
        if record_type is None:
            continue
        extension = _EXTENSIONS.get(record_type)
        is_new = obj in session.new
        extra = extras.get(obj, {})
        changed = _fields_to_version(session, obj, is_new, extension is not None, extra)
        if changed is None:
            continue
        if obj.id is None:
            obj.id = new_id()
        version, action = _version_and_action(obj, changed, is_new)
        if version == 2 and extension is None:
            first_versions.append(_stored_version_1(session, obj))
        if hasattr(obj, "updated_by") and not is_new:
            obj.updated_by = user_id
        rows.append(
            _row(
                record_type,
                obj.id,
                version,
                action,
                changed,
                _version_data(obj, version, extra, extension),
                user_id,
                utcnow(),
                getattr(obj, "clinic_id", None),
            )
        )
    if not rows:
        return  # a first amendment always adds a row too
    # In the flush's transaction (and savepoint): a version commits or rolls
    # back with the write it records.
    connection = session.connection()
    if first_versions:
        connection.execute(_insert_missing(connection.dialect.name), first_versions)
    connection.execute(_INSERT, rows)


def versions(session: Session, obj: Any) -> list[RecordVersion]:
    """Every version of ``obj``, oldest first; version 1 read from the record
    itself while it has never been amended."""
    stored = history_of(session, obj.__audit_type__, obj.id)
    if stored or obj.version > 1:
        return stored
    mapper = sa.inspect(obj).mapper
    return [RecordVersion(**_created(obj.__audit_type__, mapper, snapshot(obj)))]


def history_of(session: Session, record_type: str, record_id: uuid.UUID) -> list[RecordVersion]:
    stmt = (
        sa.select(RecordVersion)
        .where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version)
    )
    return list(session.scalars(stmt))
