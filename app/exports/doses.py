"""Cumulative radiotherapy dose as step functions of the date: pure arithmetic.

The context reader (app/exports/context.py) builds one ``DoseCurve`` per course
from its fraction log or planned schedule; the row builder merges a wound's
curves into one ``WoundDose`` and evaluates it at each visit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date


@dataclass
class DoseCurve:
    """Cumulative dose as a step function of the date (see app/clinical/dose.py)."""

    days: list[date]
    cumulative: list[float]
    source: str

    def on(self, day: date) -> float:
        """Dose delivered by the end of ``day``: same rule as dose.cumulative_dose_on."""
        i = bisect.bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0.0


def curve(points: list[tuple[date, float]], source: str) -> DoseCurve:
    """The curve of (day, dose) points, in any order (``points`` is sorted in place)."""
    points.sort(key=lambda p: p[0])
    total = 0.0
    days, cums = [], []
    for day, d in points:
        total += d
        days.append(day)
        cums.append(total)
    return DoseCurve(days, cums, source)


@dataclass(frozen=True)
class WoundDose:
    """The cumulative dose of one wound's curves merged into one step function,
    so a visit costs one comparison (after the last fraction) or one bisection.

    ``total`` is None when no curve applies (no course known): the dose is unknown.
    """

    days: list[date]
    cumulative: list[float]
    last_day: date  # on or after it the dose is ``total``
    total: float | None

    def on(self, day: date) -> float | None:
        """Same value as ``sum(c.on(day) for c in curves)`` (None without curves)."""
        if day >= self.last_day:
            return self.total
        i = bisect.bisect_right(self.days, day)
        return self.cumulative[i - 1] if i else 0.0


def wound_dose(curves: list[DoseCurve]) -> WoundDose:
    """Merge the curves that apply to a wound (evaluated at every step day of any)."""
    if not curves:
        return WoundDose([], [], date.min, None)
    if len(curves) == 1:
        days, cums = curves[0].days, curves[0].cumulative
    else:
        days = sorted({d for c in curves for d in c.days})
        cums = [sum(c.on(d) for c in curves) for d in days]
    if not days:
        return WoundDose([], [], date.min, 0.0)
    return WoundDose(days, cums, days[-1], cums[-1])
