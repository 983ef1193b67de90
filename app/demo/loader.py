"""The demo's plumbing: fixed ids, the count of what a run created, and the
loader that sends every body through the route's schema and service.

Idempotent by construction: every record has a fixed id (uuid5 of a name), and
a record whose id exists already (a previous run) is returned as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from marshmallow import Schema
from sqlalchemy.orm import Session

T = TypeVar("T")

_NAMESPACE = uuid.UUID("6f1c8e2a-4b7d-5e90-9a3c-2d1e0f4b5a67")


def demo_id(*parts: object) -> uuid.UUID:
    """A stable id for a demo record, so a second run finds the first run's rows."""
    return uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts))


@dataclass
class SeedReport:
    """What one run created (0 everywhere on a repeat run)."""

    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1


class Loader:
    """Creates demo records the way the API does, skipping those a previous run made."""

    def __init__(self, session: Session, report: SeedReport) -> None:
        self.session = session
        self.report = report

    def create(
        self,
        kind: str,
        model: type[T],
        schema: type[Schema],
        body: dict[str, Any],
        service: Callable[[dict[str, Any]], tuple[T, bool]],
    ) -> T:
        """Validate ``body`` with the route's schema and create it with the route's
        service, unless a record with its id exists (a previous run)."""
        existing = self.session.get(model, uuid.UUID(body["id"]))
        if existing is not None:
            return existing
        data = schema().load(body)
        obj, created = service(data)
        if created:
            self.report.count(kind)
        return obj


def weekdays_from(start: date, n: int) -> list[date]:
    """The first ``n`` weekdays from ``start`` on (radiotherapy is given Monday to Friday)."""
    days: list[date] = []
    day = start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def visit_time(day: date, hour: int = 10) -> str:
    """``hour`` o'clock UTC on ``day``; midnight for a visit today, which at
    that hour may still lie ahead: the API refuses a visit in the future, and
    seeding runs at any time of day."""
    if day >= datetime.now(UTC).date():
        hour = 0
    return datetime.combine(day, time(hour, 0), tzinfo=UTC).isoformat()
