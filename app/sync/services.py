"""Sync services: the batch and the feed, as the routes call them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.sync import batch as batches
from app.sync.feed import read_feed


def batch(session: Session, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the batch (app/sync/batch.py) and answer each request's response.

    The batch request itself writes nothing: its transaction (the token
    lookup's, which may have touched the token's idle clock) is ended first,
    so the sub-requests, each in a transaction of its own, never wait on a
    lock it holds (SQLite has one writer; PostgreSQL locks the token's row).
    A sub-request's own token lookup touches the clock as it would alone.
    """
    session.rollback()
    return [result.as_dict() for result in batches.run_batch(requests)]


def feed(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    return read_feed(session, args["clinic_id"], args.get("cursor"), args["limit"])
