"""Keyset pagination: the one way every list endpoint pages.

Pages are cut on a tuple of sort columns ending with the primary key, so a row
inserted while a client is paging never shifts or repeats what it has seen. The
cursor is opaque to clients (base64 JSON of the last row's sort values).

With ``updated_since`` the list becomes a delta feed: ordered by (updated_at, id),
including soft-deleted rows, which the schemas render as tombstones.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.errors import Problem, field_error


def encode_cursor(values: Sequence[Any]) -> str:
    """The opaque cursor of a page's last sort values (JSON numbers and strings):
    base64 of their JSON list, without padding. Every list pages with this."""
    raw = json.dumps(list(values))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int | None = None) -> list[Any]:
    """The values ``encode_cursor`` put in ``cursor`` (``length`` of them when
    given); a 422 naming the cursor when it is not one this service gave out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or (length is not None and len(raw) != length):
            raise ValueError
        return raw
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_cursor() from exc


def bad_cursor() -> Problem:
    """The 422 for a cursor this service did not give out (or not for this list)."""
    return field_error("cursor", "is not a cursor this list gave out; start again without it")


def _encode(values: list[Any]) -> str:
    return encode_cursor(
        [v.isoformat() if isinstance(v, datetime | date) else str(v) for v in values]
    )


def _decode(cursor: str, columns: list[Any]) -> list[Any]:
    raw = decode_cursor(cursor, len(columns))
    try:
        out: list[Any] = []
        for value, col in zip(raw, columns, strict=True):
            ptype = col.type.python_type
            if ptype is datetime:
                out.append(datetime.fromisoformat(value))
            elif ptype is date:
                out.append(date.fromisoformat(value))
            elif ptype is uuid.UUID:
                out.append(uuid.UUID(value))
            else:
                out.append(ptype(value))
        return out
    except (ValueError, TypeError) as exc:
        raise bad_cursor() from exc


def paginate(
    session: Session,
    stmt: sa.Select[Any],
    model: Any,
    *,
    limit: int,
    cursor: str | None = None,
    updated_since: datetime | None = None,
    order_by: tuple[Any, ...] | None = None,
) -> dict[str, Any]:
    """Return ``{"items": [...], "next_cursor": str | None}``.

    ``stmt`` must select ``model`` with the caller's scope applied and must NOT
    filter out deleted rows: this function does that unless it is a delta feed.
    """
    if updated_since is not None:
        columns = [model.updated_at, model.id]
        stmt = stmt.where(model.updated_at >= updated_since)
    else:
        columns = [*(order_by or (model.created_at,)), model.id]
        if hasattr(model, "deleted_at"):
            stmt = stmt.where(model.deleted_at.is_(None))
    if cursor:
        values = _decode(cursor, columns)
        stmt = stmt.where(sa.tuple_(*columns) > sa.tuple_(*values))
    rows = list(session.scalars(stmt.order_by(*columns).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, c.key) for c in columns])
    return {"items": rows, "next_cursor": next_cursor}


def paginate_args(
    session: Session,
    stmt: sa.Select[Any],
    model: Any,
    args: dict[str, Any],
    *,
    order_by: tuple[Any, ...],
) -> dict[str, Any]:
    """``paginate`` with a list endpoint's parsed ListArgsSchema arguments."""
    return paginate(
        session,
        stmt,
        model,
        limit=args["limit"],
        cursor=args.get("cursor"),
        updated_since=args.get("updated_since"),
        order_by=order_by,
    )
