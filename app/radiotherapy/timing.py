"""When a course began and ended, read alongside another record in one SELECT,
and the signal that it changed.

What the end is, is app/clinical/late_effects.py's ``course_end``: the course's
recorded end date, else its last logged fraction once every planned fraction
is logged. ``timing_columns`` gives the facts that rule needs as correlated
scalar subqueries, so a record that points at a course (a wound) reads them in
its own SELECT; ``course_window`` applies the rule to such a row.

Records built on a course's dates (the acute/late phase of assessments) must
hear when they move: ``timing_changed`` is sent with the course id and the
``session`` after a change to the course's dates, phases or fraction log, or
its deletion or restoration. Radiotherapy sits below the records that listen,
so they subscribe (create_app's cross-layer hooks).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from blinker import Namespace

from app.clinical import late_effects
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase

_events = Namespace()

#: After a change that can move a course's start or end: sent with the course
#: id (a uuid.UUID) and ``session``.
timing_changed = _events.signal("radiotherapy-course-timing-changed")

TIMING_LABELS: tuple[str, ...] = (
    "rt_course_start",
    "rt_course_end_date",
    "rt_last_fraction",
    "rt_fractions_logged",
    "rt_fractions_planned",
)


def timing_columns(course_id: Any) -> tuple[Any, ...]:
    """Labelled scalar subqueries of the course ``course_id`` (a column or value):
    its start, recorded end, last logged fraction, number of logged fractions
    and of planned fractions. A deleted course has no start (and no dates)."""
    course = RadiotherapyCourse
    live = sa.and_(course.id == course_id, course.deleted_at.is_(None))
    logged = (FractionDelivery.course_id == course_id, FractionDelivery.deleted_at.is_(None))
    return (
        sa.select(course.start_date).where(live).scalar_subquery().label(TIMING_LABELS[0]),
        sa.select(course.end_date).where(live).scalar_subquery().label(TIMING_LABELS[1]),
        sa.select(sa.func.max(FractionDelivery.delivered_on))
        .where(*logged)
        .scalar_subquery()
        .label(TIMING_LABELS[2]),
        sa.select(sa.func.count(FractionDelivery.id))
        .where(*logged)
        .scalar_subquery()
        .label(TIMING_LABELS[3]),
        sa.select(sa.func.coalesce(sa.func.sum(RadiotherapyPhase.fractions), 0))
        .where(RadiotherapyPhase.course_id == course_id)
        .scalar_subquery()
        .label(TIMING_LABELS[4]),
    )


def _as_date(value: Any) -> date | None:
    """A date from a subquery (SQLite may hand back MAX() of a date as text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def course_window(row: Any) -> tuple[date | None, date | None]:
    """(first day, last day) of the course a row's timing columns describe;
    (None, None) when it has no live course, the last day None when not known
    (late_effects.course_end)."""
    start = _as_date(row.rt_course_start)
    if start is None:
        return None, None
    end = late_effects.course_end(
        _as_date(row.rt_course_end_date),
        last_logged=_as_date(row.rt_last_fraction),
        logged=int(row.rt_fractions_logged or 0),
        planned=int(row.rt_fractions_planned or 0),
    )
    return start, end
