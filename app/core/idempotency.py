"""Offline-safe creates: a client-chosen id makes every create idempotent.

A phone on a poor connection retries; the same create must never make two
records. The fingerprint of the validated create payload is stored with the
record. Replaying the same create returns the stored record (200); reusing the
id for different content is a 409 carrying the stored record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.core.access import current_user, in_clinic
from app.core.errors import Problem
from app.core.history import to_jsonable

T = TypeVar("T")


def fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(to_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(
    existing: Any, fp: str, dump: Callable[[Any], Any], owned: Callable[[Any], bool] | None
) -> Any:
    user = current_user()
    if not (owned(existing) if owned is not None else in_clinic(user, existing.clinic_id)):
        raise Problem(409, "Conflict", "This id is already used; generate a new UUID.")
    if existing.create_hash == fp:
        return existing
    raise Problem(
        409,
        "Conflict",
        "This id was already used for a record with different content.",
        type_="https://woundtrack.example/problems/id-reused",
        stored=dump(existing),
    )


def _transaction_wrote(session: Session) -> bool:
    """Whether the session's transaction has written anything that a rollback
    would lose. The SQLite driver opens its transaction at the first write (a
    write outside one is committed at once), so no open transaction means
    nothing to lose; on other databases assume there is."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return True
    return bool(connection.connection.driver_connection.in_transaction)  # type: ignore[union-attr]


@contextlib.contextmanager
def undoable(session: Session) -> Iterator[None]:
    """Run writes that may fail (an INSERT losing a race on a unique key) so
    that a failure undoes only them and the request's earlier writes survive.

    A savepoint when the transaction has written something; otherwise a
    rollback of the whole transaction, which then loses nothing (and saves the
    savepoint's two statements). Not a savepoint every time: on SQLite a
    savepoint opened before the first write is the transaction itself, and its
    RELEASE would commit the writes at once, before the request has succeeded.
    What was pending is flushed first.
    """
    session.flush()
    if _transaction_wrote(session):
        with session.begin_nested():
            yield
        return
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def create_once(
    session: Session,
    model: type[T],
    payload: dict[str, Any],
    build: Callable[[uuid.UUID, str], T],
    dump: Callable[[Any], Any],
    *,
    owned: Callable[[Any], bool] | None = None,
) -> tuple[T, bool]:
    """Create the record built by ``build(id, fingerprint)`` unless a replay.

    Returns (record, created). Concurrent replays race on the primary key; the
    loser's insert fails and it returns the winner's row. A stored record is
    shown to a caller of its clinic, or for whom ``owned(record)`` holds when
    given (an export job belongs to whoever requested it); anyone else hears
    only that the id is taken.
    """
    client_id = payload.get("id")
    fp = fingerprint(payload)
    if client_id is not None:
        # Already loaded in this session: a replay, and adding a second object
        # with the same key would not reach the database's primary-key check.
        existing = session.identity_map.get(identity_key(model, client_id))
        if existing is not None:
            return _replay(existing, fp, dump, owned), False
    record_id = client_id or uuid.uuid4()
    # No look-up first: a new id (the usual case) costs only the INSERT, and a
    # replay is the primary-key violation, whose failure undoes only this
    # record (and the audit and history rows its flush added).
    try:
        with undoable(session):
            try:
                obj = build(record_id, fp)
            except Problem:
                # A replay is answered from the stored record even when the
                # resent body is invalid (a reused id must never look new).
                if client_id is not None and session.get(model, client_id) is not None:
                    raise _Replayed() from None
                raise
            session.add(obj)
            session.flush()
    except (IntegrityError, _Replayed):
        existing = session.get(model, record_id, populate_existing=True)
        if existing is None:
            raise
        return _replay(existing, fp, dump, owned), False
    return obj, True


class _Replayed(Exception):
    """The client id is taken: undo the attempt and answer as a replay."""
