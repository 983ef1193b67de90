"""ETags from the version column, and the If-Match precondition for writes.

Two clients may pass the If-Match check at the same moment with the same
ETag. Only one write can succeed: the other's flush fails on the database (the
history row of the next version exists already, or the versioned UPDATE finds
no row). That client is told what it would have heard a moment later, a 412
with the stored record: each checked record is registered with
``errors.on_conflict``, and the handler of those database errors reads it
again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import request
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import Problem, on_conflict


def etag_of(obj: Any) -> str:
    return f'"v{obj.version}"'


def etag_header(obj: Any) -> dict[str, str]:
    return {"ETag": etag_of(obj)}


def require_if_match(obj: Any, dump: Callable[[Any], Any] | None = None) -> None:
    """Refuse a write unless the client proves it saw the current version.

    428 when If-Match is missing; 412 when it names an older version, with the
    current version (and record, when ``dump`` is given) in the problem body so
    the app can show the conflict.
    """
    header = request.headers.get("If-Match")
    if not header:
        raise Problem(
            428,
            "Precondition Required",
            "Send If-Match with the ETag from your last GET of this record.",
            current_version=obj.version,
            etag=etag_of(obj),
        )
    if header.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if etag_of(obj) not in tags:
        raise _precondition_failed(obj, dump)
    on_conflict(functools.partial(_moved_on, obj, obj.version, dump))


def _precondition_failed(obj: Any, dump: Callable[[Any], Any] | None) -> Problem:
    extra: dict[str, Any] = {"current_version": obj.version, "etag": etag_of(obj)}
    if dump is not None:
        extra["current"] = dump(obj)
    return Problem(
        412,
        "Precondition Failed",
        "The record changed since you read it; review the current version and retry.",
        headers={"ETag": etag_of(obj)},
        **extra,
    )


def _moved_on(obj: Any, seen: int, dump: Callable[[Any], Any] | None) -> Problem | None:
    """The 412 for ``obj`` if its stored version is no longer ``seen``."""
    session = sa.orm.object_session(obj)
    if session is None:
        return None
    try:
        session.rollback()  # the failed write's transaction; usually done already
        current = session.get(type(obj), sa.inspect(obj).identity, populate_existing=True)
    except SQLAlchemyError:
        return None
    if current is None or current.version == seen:
        return None
    return _precondition_failed(current, dump)
