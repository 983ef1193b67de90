"""Typed declarative base, column types and the mixins every record shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def app_db() -> Any:
    """The running app's Flask-SQLAlchemy extension (``app.extensions.db``).

    Found through the current app, as the storage is: app.extensions builds on
    core (the declarative base, the error-aware Api), so core does not import it.
    """
    return current_app.extensions["sqlalchemy"]


def contains(column: Any, text: str) -> Any:
    """``column`` contains ``text``, case-insensitively (ILIKE '%text%'), with
    LIKE's wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


class typed_null(sa.sql.expression.ColumnElement[Any]):
    """NULL of a column's type, for a part of a UNION without that column.

    PostgreSQL needs the CAST to match the parts' types; SQLite does not, and
    evaluates a CAST again on every row (on a wide UNION of many rows, a good
    part of the query's cost).
    """

    inherit_cache = True
    # What the statement cache keys on: the type (a compiled statement is reused).
    _traverse_internals = [("type", sa.sql.visitors.InternalTraversal.dp_type)]

    def __init__(self, type_: Any) -> None:
        self.type = sa.types.to_instance(type_)


@compiles(typed_null)
def _typed_null(element: typed_null, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(sa.cast(sa.null(), element.type), **kw))


@compiles(typed_null, "sqlite")
def _typed_null_sqlite(element: typed_null, compiler: Any, **kw: Any) -> str:
    return "NULL"


_NAIVE_EPOCH = datetime(1970, 1, 1)
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def naive_as_utc(value: datetime) -> datetime:
    """A naive datetime read as UTC: value.replace(tzinfo=UTC), the same value.

    datetime.replace parses its keyword arguments and costs about a microsecond,
    several times this arithmetic; every datetime read from SQLite goes through
    here (thousands per dashboard request).
    """
    return _UTC_EPOCH + (value - _NAIVE_EPOCH)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime that is always UTC in and out.

    SQLite has no timezone type and hands back naive values; PostgreSQL stores
    timestamptz. This makes both behave the same for the rest of the code.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return naive_as_utc(value)
        return value.astimezone(UTC)


class UUIDText(TypeDecorator[str]):
    """A UUID column read as its canonical text, for read-only listings that
    only print their ids: ``sa.type_coerce(Model.id, UUIDText())``.

    The Uuid type builds a uuid.UUID per value (pure Python, about 2 us) that
    str() turns back into text; on a wound's series that costs more than the
    query. SQLite keeps UUIDs as 32 hex digits, PostgreSQL's driver gives
    uuid.UUID objects.
    """

    impl = sa.String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return str(value)


# Constraint names are fixed so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            uuid.UUID: sa.Uuid(),
            dict[str, Any]: sa.JSON(),
            list[Any]: sa.JSON(),
            str: sa.String(255),
        },
    )


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecordMixin(TimestampMixin):
    """What every clinical record carries.

    - ``clinic_id`` is denormalised onto every record so one filter scopes any
      query to the caller's clinics (app/core/access.py).
    - ``version`` is SQLAlchemy's version counter: it is the ETag, and an UPDATE
      that races another one fails instead of overwriting it.
    - ``deleted_at`` is the soft-delete marker; nothing is hard-deleted.
    - ``create_hash`` fingerprints the create request, so a replayed offline
      create can be told apart from a different one reusing the id.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    updated_by: Mapped[uuid.UUID | None]
    create_hash: Mapped[str | None] = mapped_column(sa.String(64))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
