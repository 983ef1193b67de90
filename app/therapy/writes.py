"""What the therapy write services share: 422s naming the broken rule, replay
detection and the SQLite write lock."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.errors import Problem, field_error


def rule_error(field: str, message: str, rule: str) -> Problem:
    """A 422 on ``field`` whose message ends with the rule's name, so a client
    can tell the rules apart without parsing the prose."""
    return field_error(field, f"{message} (rule: {rule})")


def replayed(session: Session, model: Any, data: dict[str, Any]) -> bool:
    """Whether this create names a client id already stored (a replay or a 409):
    then the content rules were checked the first time and create_record answers."""
    return data.get("id") is not None and session.get(model, data["id"]) is not None


def lock_on_sqlite(session: Session, record: Any) -> None:
    """Take SQLite's write lock before rules read sibling rows.

    PostgreSQL locks the parent row (SELECT ... FOR UPDATE in get_record). The
    SQLite driver starts a transaction only at the first write, so two requests
    could both read "no overlapping course" and both insert; a no-op UPDATE of the
    parent makes the second wait for the first to commit, then read its row.

    The record was loaded before the lock, with what it loads eagerly (a
    course's changes): the second request re-reads it once it holds the lock,
    or its rules would judge the course as it stood before the first committed.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    model = type(record)
    session.execute(
        sa.update(model).where(model.id == record.id).values(updated_at=model.updated_at),
        execution_options={"synchronize_session": False},
    )
    session.refresh(record)
