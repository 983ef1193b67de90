"""Progress within a healing episode: the week-4 checkpoint and the recent change.

- **Week-4 checkpoint.** PAR at week 4 is the best-studied early predictor of
  healing (Sheehan 2003: diabetic foot ulcers, midpoint 53%; Phillips 2000:
  venous leg ulcers, >= 40% by week 3). It is a checkpoint: a wound that
  misses it should have its treatment reassessed. It is read only from what
  was measured: an assessment on day 28, or the area interpolated linearly
  between the assessments either side of day 28. Before an assessment on or
  after day 28 exists it is not yet due (never extrapolated back from an
  earlier day).
- **Recent change.** The current status follows the latest weeks, not week 4
  alone: PAR over the last ``window`` days (28 by default; the area at the
  window's start interpolated). On track needs the pace of the week-4
  threshold over that window. Under the exponential model of healing
  (Cardinal 2009) a fraction 1 - T of the area left after par_day days is
  (1 - T) ^ (w / par_day) after w days, so the window needs
  1 - (1 - T) ^ (w / par_day); for w = par_day that is T itself. Judgement:
  the published thresholds are for the first four weeks; applying the same
  pace to any four weeks is this service's choice, and it is configurable.

Days count from the episode's first assessment. Areas are compared on one
method where the assessments read have one in common (area_methods.compare).
Pure functions, standard library only.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.clinical.area_change import bracketing, interpolate, percent_area_reduction
from app.clinical.area_methods import Comparison, compare
from app.clinical.formatting import fmt
from app.clinical.measurement import Measurement

MET = "met"
MISSED = "missed"
NOT_YET_DUE = "not_yet_due"
NOT_APPLICABLE = "not_applicable"
CHECKPOINT_STATES: tuple[str, ...] = (MET, MISSED, NOT_YET_DUE, NOT_APPLICABLE)


def _rounded(value: float | None, digits: int) -> float | None:
    # + 0.0 reports -0.0 as 0.0
    return None if value is None else round(value, digits) + 0.0


def meets(pct: float, threshold: float) -> bool:
    """pct >= threshold, to 9 decimals: (10 - 6) / 10 x 100 is
    40.00000000000001 and 1.1 over 1.0 is 10.000000000000009%; a value that
    equals the threshold in decimal must count as reaching it either way."""
    return round(pct, 9) >= threshold


@dataclass(slots=True)
class Checkpoint:
    """The week-``week`` checkpoint of an episode (a value: not changed once made).

    ``state``: met, missed, not_yet_due (no assessment on or after ``day``
    yet) or not_applicable (``note`` says why). ``par_pct``: PAR on ``day``
    when due. ``from_days``: the days of the assessments it was read from
    (the same day twice when one was on ``day``). ``compared_on``: the area
    method of the areas read (baseline, before, after); ``comparison``: how
    they were compared, when they were not all by one method.
    """

    state: str
    week: int
    day: int
    threshold_pct: float
    par_pct: float | None = None
    from_days: tuple[float, float] | None = None
    note: str | None = None
    compared_on: str | None = None
    comparison: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (PAR to 1 decimal, days to 2)."""
        return {
            "state": self.state,
            "week": self.week,
            "day": self.day,
            "threshold_pct": self.threshold_pct,
            "par_pct": _rounded(self.par_pct, 1),
            "from_days": None if self.from_days is None else [round(d, 2) for d in self.from_days],
            "compared_on": self.compared_on,
            "note": self.note,
        }


def checkpoint(
    points: Sequence[Measurement],
    days: list[float],
    *,
    week: int,
    threshold_pct: float,
    window_days: float,
    closed: bool,
) -> Checkpoint:
    """The week-``week`` checkpoint of an episode's ``points`` (in order, days
    from the first). ``closed``: the episode has ended in a closure.

    Due once an assessment on or after day 7 x week exists: PAR on that day,
    interpolated between the assessments either side (or read from one on the
    day). A note says when the nearer of them is more than ``window_days``
    away. Met when PAR >= ``threshold_pct``.
    """
    day = week * 7
    if not points:
        return Checkpoint(NOT_APPLICABLE, week, day, threshold_pct, note=_NO_MEASUREMENT)
    latest_day = days[-1]
    if latest_day < day:
        if closed:
            note = f"the episode closed by day {fmt(latest_day)}, before day {day}"
            return Checkpoint(NOT_APPLICABLE, week, day, threshold_pct, note=note)
        note = f"due on day {day}: followed for {fmt(latest_day)} days so far"
        return Checkpoint(NOT_YET_DUE, week, day, threshold_pct, note=note)
    # bracketing(days, day), inline: day lies within [0, latest_day]
    before = bisect_right(days, day) - 1
    after = bisect_left(days, day)
    a0, a_before, a_after, method, c = _on_one_method(points[0], points[before], points[after])
    if a0 == 0:
        note = "baseline area is 0 cm2: PAR is undefined"
        return Checkpoint(NOT_APPLICABLE, week, day, threshold_pct, note=note)
    below, above = days[before], days[after]
    par = (a0 - interpolate(below, above, a_before, a_after, day)) / a0 * 100.0
    gap = min(day - below, above - day)
    far: str | None = None
    if gap > window_days:
        far = (
            f"interpolated between the assessments on day {fmt(below)} and day {fmt(above)};"
            f" the nearer is {fmt(gap)} days from day {day}, beyond the"
            f" {fmt(window_days)}-day window"
        )
    state = MET if round(par, 9) >= threshold_pct else MISSED  # meets(), inline
    return Checkpoint(state, week, day, threshold_pct, par, (below, above), far, method, c)


def _on_one_method(
    x: Measurement, y: Measurement, z: Measurement
) -> tuple[float, float, float, str | None, Comparison | None]:
    """The three areas on one method, the method, and the comparison when the
    areas in use were not all by it: area_methods.compare, without building a
    comparison in the usual case of one method throughout."""
    method = x.method
    if y.method == method and z.method == method:
        return x.area_cm2, y.area_cm2, z.area_cm2, method, None
    c = compare((x, y, z))
    a, b, d = c.areas
    return a, b, d, c.method, c


_NO_MEASUREMENT = "no measurement in this episode"


def pace_pct(threshold_pct: float, window_days: float, par_day: float) -> float:
    """The reduction over ``window_days`` at the pace of ``threshold_pct`` per
    ``par_day`` days, under the exponential model (module docstring)."""
    if window_days == par_day:
        return threshold_pct
    return (1.0 - math.pow(1.0 - threshold_pct / 100.0, window_days / par_day)) * 100.0


@dataclass(slots=True)
class RecentChange:
    """PAR over the last ``window_days`` of an episode: from the area on
    ``from_day`` (interpolated) to the latest, on ``to_day``.

    ``required_pct``: the reduction on track needs over the window (pace_pct).
    """

    window_days: float
    from_day: float
    to_day: float
    from_area_cm2: float
    to_area_cm2: float
    change_pct: float
    required_pct: float
    compared_on: str | None
    comparison: Comparison | None = None

    @property
    def on_track(self) -> bool:
        return meets(self.change_pct, self.required_pct)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (days and percents to 1 decimal, areas to 2)."""
        return {
            "window_days": round(float(self.window_days), 1),
            "from_day": round(self.from_day, 1),
            "to_day": round(self.to_day, 1),
            "from_area_cm2": round(self.from_area_cm2, 2),
            "to_area_cm2": round(self.to_area_cm2, 2),
            "change_pct": round(self.change_pct, 1) + 0.0,
            "required_pct": round(self.required_pct, 1),
            "compared_on": self.compared_on,
        }


def recent_change(
    points: Sequence[Measurement],
    days: list[float],
    *,
    window_days: float,
    par_day: float,
    threshold_pct: float,
) -> RecentChange:
    """The change over the last ``window_days`` (at most the whole episode) of
    an open episode's ``points`` (in order, at least two, days from the first;
    areas above 0, as an open episode has)."""
    latest_day = days[-1]
    window = min(window_days, latest_day)
    start = latest_day - window
    bracket = bracketing(days, start)
    assert bracket is not None  # start lies within [0, latest_day]
    before, after = bracket
    a_before, a_after, latest, method, c = _on_one_method(points[before], points[after], points[-1])
    then = interpolate(days[before], days[after], a_before, a_after, start)
    change = percent_area_reduction(then, latest)
    assert change is not None  # then > 0
    required = pace_pct(threshold_pct, window, par_day)
    return RecentChange(window, start, latest_day, then, latest, change, required, method, c)


def par_at_day(
    points: Sequence[Measurement], days: list[float], day: float
) -> tuple[float | None, str | None]:
    """PAR on ``day`` (days from the first point), interpolated between the
    assessments either side; None and a note when no assessment lies on or
    after it yet (never extrapolated), or when the baseline area is 0."""
    if not points:
        return None, "no assessments"
    bracket = bracketing(days, day)
    if bracket is None:
        side = "on or after" if days[-1] < day else "on or before"
        return None, f"no assessment {side} day {fmt(day)} yet"
    before, after = bracket
    c = compare([points[0], points[before], points[after]])
    a0, a_before, a_after = c.areas
    if a0 == 0:
        return None, "baseline area is 0 cm2: PAR is undefined"
    return percent_area_reduction(
        a0, interpolate(days[before], days[after], a_before, a_after, day)
    ), None
