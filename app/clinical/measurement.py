"""One area measurement of a wound, and the order measurements are read in.

A measurement carries how its area was obtained (``method``: traced outline,
area measured at the bedside, or the ellipse estimate pi/4 x L x W; see
docs/clinical-reference.md, "Which area is used") and the areas the other
methods gave at the same assessment, so that two measurements can be compared
on one method (app/clinical/area_methods.py).

Order: by instant, then by ``seq`` (the caller's creation order), then by the
content itself, so that measurements taken at the same instant are read in
one order whatever order they come in. Judgement: of two assessments at one
instant, the one recorded later is taken as the later reading. Pure, standard
library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import le
from typing import Any

from app.clinical.formatting import iso_utc

# The methods an area can come from, in order of preference when two
# measurements must be compared on one of them: a traced outline is the most
# accurate, an ellipse estimate from a ruler the least (Rogers 2010).
AREA_METHODS: tuple[str, ...] = ("traced", "measured", "ellipse")

# A closure in the series of open areas: see Measurement.open_area.
CLOSURE_MARK = -1.0

US_PER_DAY = 86_400_000_000.0

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _require_finite_non_negative(name: str, value: float) -> None:
    # One chained comparison: NaN fails both sides, infinity the right one.
    if not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_other_areas(method: str | None, other_areas: tuple[tuple[str, float], ...]) -> None:
    for other, other_area in other_areas:
        _require_method("other_areas method", other)
        if other == method:
            raise ValueError(f"other_areas repeats the method in use ({other})")
        _require_finite_non_negative("other_areas area", other_area)


def _require_method(name: str, method: str | None) -> None:
    if method is not None and method not in AREA_METHODS:
        raise ValueError(f"{name} must be one of {', '.join(AREA_METHODS)}, got {method!r}")


@dataclass(frozen=True, init=False)
class Measurement:
    """One area measurement of a wound.

    - ``at`` must be timezone-aware; ``area_cm2`` is the area in use.
    - ``closed`` marks an assessment that found the wound closed/resurfaced.
    - ``method``: how ``area_cm2`` was obtained (traced, measured, ellipse),
      None when unknown. ``other_areas``: (method, area) pairs the other
      methods gave at the same assessment (e.g. the ellipse estimate of a
      traced wound whose length and width were also recorded).
    - ``seq``: the caller's creation order; it orders measurements taken at the
      same instant (the later created is the later reading).

    Derived: ``epoch_us``, the instant in whole microseconds since the Unix
    epoch; ``instant``, the same as a float (exact from 1685 to 2255, where
    the integer is below 2**53, so differences of instants are exact too);
    ``open_area``, ``area_cm2`` while the wound is open and CLOSURE_MARK for a
    closed assessment or an area of 0, which lets a series be checked for
    closures in the same pass that reads its areas.
    """

    at: datetime
    area_cm2: float
    perimeter_cm: float | None = None
    closed: bool = False
    method: str | None = None
    other_areas: tuple[tuple[str, float], ...] = ()
    seq: int = 0
    epoch_us: int = field(default=0, repr=False, compare=False)
    instant: float = field(default=0.0, repr=False, compare=False)
    open_area: float = field(default=0.0, repr=False, compare=False)

    def __init__(
        self,
        at: datetime,
        area_cm2: float,
        perimeter_cm: float | None = None,
        closed: bool = False,
        method: str | None = None,
        other_areas: tuple[tuple[str, float], ...] = (),
        seq: int = 0,
    ) -> None:
        # Written out (init=False) rather than generated: a frozen dataclass
        # sets each field through object.__setattr__, and the dashboard builds
        # thousands of measurements per request. Filling the instance dict at
        # once gives the same object.
        # UTC (what the database gives) first: utcoffset() is a call into the tzinfo
        if at.tzinfo is not UTC and at.utcoffset() is None:
            raise ValueError("Measurement.at must be timezone-aware")
        # One chained comparison: NaN fails both sides, infinity the right one.
        if not 0 <= area_cm2 < math.inf:
            _require_finite_non_negative("area_cm2", area_cm2)  # raises
        if perimeter_cm is not None:
            _require_finite_non_negative("perimeter_cm", perimeter_cm)
        if method is not None and method not in AREA_METHODS:
            _require_method("method", method)  # raises
        if other_areas:
            _check_other_areas(method, other_areas)
        epoch_us = (at - _EPOCH) // _ONE_US
        self.__dict__.update(
            at=at,
            area_cm2=area_cm2,
            perimeter_cm=perimeter_cm,
            closed=closed,
            method=method,
            other_areas=other_areas,
            seq=seq,
            epoch_us=epoch_us,
            instant=float(epoch_us),
            open_area=CLOSURE_MARK if closed or area_cm2 == 0 else area_cm2,
        )

    @property
    def gone(self) -> bool:
        """A closure: the assessment found the wound closed, or its area is 0."""
        return self.open_area == CLOSURE_MARK

    def area_by(self, method: str | None) -> float | None:
        """The area ``method`` gave at this assessment, or None when it gave none."""
        if method == self.method:
            return self.area_cm2
        for other, area in self.other_areas:
            if other == method:
                return area
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``at`` in UTC, ISO 8601)."""
        return {
            "at": iso_utc(self.at),
            "area_cm2": self.area_cm2,
            "perimeter_cm": self.perimeter_cm,
            "closed": self.closed,
            "method": self.method,
        }


def order_key(m: Measurement) -> tuple[Any, ...]:
    """The total order of measurements: instant, ``seq``, then content (closed
    last, then area, method, perimeter and the other areas), so equal instants
    never leave the order to the input."""
    return (
        m.epoch_us,
        m.seq,
        m.closed,
        m.area_cm2,
        m.method or "",
        -1.0 if m.perimeter_cm is None else m.perimeter_cm,
        m.other_areas,
    )


def days_from(ordered: list[Measurement]) -> list[float]:
    """Days (fractional) from the first point to each point.

    Bit for bit (m.at - first.at) / timedelta(days=1): the microseconds between
    them (exact, see Measurement.instant) divided by 86,400,000,000, rounded
    once.
    """
    origin = ordered[0].instant
    # The literal, not US_PER_DAY: a constant is read faster than a global.
    return [(m.instant - origin) / 86_400_000_000.0 for m in ordered]


def timeline(points: list[Measurement]) -> tuple[list[Measurement], list[float]]:
    """The points in total order (order_key) and the days from the first to each.

    ``points`` is sorted in place when needed. Days grow with time, so days
    that strictly increase mean the points came in time order with no two at
    one instant (as stored assessments usually do), and the sort is skipped.
    (Equal days are equal instants: at microsecond resolution distinct instants
    give distinct days within a century of the first.) One C loop compares
    each day with the one before (map over operator.le), several times faster
    than a Python loop and than sorting and a set together.
    """
    if not points:
        return points, []
    days = days_from(points)
    if any(map(le, islice(days, 1, None), days)):  # out of order, or a tie
        points.sort(key=order_key)
        days = days_from(points)
    return points, days
