"""The life cycle every clinical record shares: create once, amend with a
precondition, soft-delete, restore, and read its history.

Domain services call these with their own validation around them, so each
behaviour of the contract (offline-safe ids, If-Match, tombstones, history)
lives in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

from flask import current_app
from sqlalchemy.orm import Session

from app.core.access import audit_list, current_user, get_columns, get_record
from app.core.db import utcnow
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.history import RecordVersion, versions
from app.core.idempotency import create_once
from app.core.pagination import paginate_args

T = TypeVar("T")


def create_record(
    session: Session,
    model: type[T],
    payload: dict[str, Any],
    dump: Callable[[Any], Any],
    *,
    derive: Callable[[T], object] | None = None,
    **server_fields: Any,
) -> tuple[T, bool]:
    """Create ``model`` from a validated payload (plus server-owned fields such
    as clinic_id and parent ids). Returns (record, created).

    ``derive(record)``, when given, completes the new record before its first
    flush (column defaults it needs, values computed from its fields), so
    version 1 already carries them. It may raise a Problem; it is not run for a
    replay, and what it sets is not part of the fingerprint (that covers what
    the client sent, and the parents)."""
    user = current_user()
    fields = {k: v for k, v in payload.items() if k != "id"}

    def build(record_id: uuid.UUID, fp: str) -> T:
        obj: T = cast(Any, model)(
            id=record_id,
            create_hash=fp,
            created_by=user.id,
            updated_by=user.id,
            **fields,
            **server_fields,
        )
        if derive is not None:
            derive(obj)
        return obj

    fingerprinted = {**payload, **{k: v for k, v in server_fields.items() if k.endswith("_id")}}
    return create_once(session, model, fingerprinted, build, dump)


def amend(
    session: Session,
    obj: Any,
    changes: dict[str, Any],
    dump: Callable[[Any], Any],
    *,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    derive: Callable[[Any], object] | None = None,
) -> Any:
    """Apply a PATCH after checking If-Match. History is written by the flush hook.

    Hooks, for records with more than plain fields:
    - ``prepare(changes)`` returns the column values to set. It runs after the
      If-Match check, so a stale client hears 412 before any rule of the body
      (a 422), and before anything is set.
    - ``derive(obj)`` recomputes derived columns from the amended record before
      the flush, so the new version carries inputs and derived values together.
    """
    require_if_match(obj, dump)
    if prepare is not None:
        changes = prepare(changes)
    for key, value in changes.items():
        setattr(obj, key, value)
    if derive is not None:
        derive(obj)
    session.flush()
    return obj


def soft_delete(session: Session, obj: Any, dump: Callable[[Any], Any]) -> Any:
    require_if_match(obj, dump)
    obj.deleted_at = utcnow()
    session.flush()
    return obj


def restore(session: Session, model: type[T], record_id: uuid.UUID) -> T:
    obj: Any = get_record(session, model, record_id, "record:restore", include_deleted=True)
    if obj.deleted_at is None:
        raise Problem(409, "Conflict", "This record is not deleted.")
    obj.deleted_at = None
    session.flush()
    restored: T = obj
    return restored


def history(session: Session, obj: Any) -> list[RecordVersion]:
    return versions(session, obj)


def load_parent(
    session: Session,
    model: type[T],
    parent_id: uuid.UUID,
    field: str | None = None,
    *,
    columns: tuple[Any, ...] = (),
) -> T:
    """Load a parent record for a create/list; a parent in a body that the caller
    cannot see is a 422 on that field (path parents answer 404). With
    ``columns``, only those (a row, see access.get_columns)."""
    try:
        if columns:
            return cast(T, get_columns(session, model, parent_id, columns))
        return get_record(session, model, parent_id, audit_read=False)
    except Problem as exc:
        if field is not None and exc.status == 404:
            raise field_error(field, "refers to no record you can see") from exc
        raise


def not_in_future(field: str, value: date | datetime | None) -> None:
    """Refuse device timestamps beyond the tolerated clock skew."""
    if value is None:
        return
    skew = timedelta(seconds=current_app.config["CLOCK_SKEW_SECONDS"])
    now = datetime.now(UTC)
    if isinstance(value, datetime):
        if value > now + skew:
            raise field_error(field, "is in the future; check the device clock")
    elif value > (now + skew).date():
        raise field_error(field, "is in the future")


def list_page(
    session: Session,
    stmt: Any,
    model: Any,
    args: dict[str, Any],
    *,
    order_by: tuple[Any, ...],
    parent: Any = None,
) -> dict[str, Any]:
    """One page of a list endpoint (the ListArgsSchema arguments), with the list
    read audited against its parent record (or the clinic-wide list)."""
    page = paginate_args(session, stmt, model, args, order_by=order_by)
    audit_list(
        session,
        model.__audit_type__,
        parent.id if parent is not None else None,
        parent.clinic_id if parent is not None else args.get("clinic_id"),
        len(page["items"]),
    )
    return page
