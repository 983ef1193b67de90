"""How much a wound's area changed: PAR, Gilman's advance, the area on a given day.

See docs/clinical-reference.md, "Healing trajectory":
- Percent area reduction, PAR = (A0 - At) / A0 x 100; read at week 4 it is the
  best-studied early predictor of healing (Sheehan 2003, Diabetes Care 26:1879;
  Phillips 2000).
- Gilman's linear advance of the wound margin, d = (A0 - At) / ((P0 + Pt) / 2),
  in cm, per week (Gilman 1990).

Assessments are given as days from the baseline (the first assessment), sorted,
and their areas. Pure functions, standard library only.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right


def percent_area_reduction(a0: float, at: float) -> float | None:
    """PAR = (A0 - At) / A0 x 100, in percent; None when A0 is 0 (undefined).

    Negative when the wound grew. Source: clinical-reference.md; used as the
    week-4 predictor by Sheehan 2003 and Phillips 2000.
    """
    if a0 == 0:
        return None
    return (a0 - at) / a0 * 100.0


def gilman_advance(
    a0_cm2: float, at_cm2: float, p0_cm: float, pt_cm: float, elapsed_days: float
) -> float | None:
    """Gilman's linear advance of the margin, in cm per week (Gilman 1990).

    d = (A0 - At) / ((P0 + Pt) / 2) cm, divided by the elapsed weeks. None when
    no time has elapsed or both perimeters are 0. Positive means the margin
    moved inwards (healing).
    """
    mean_perimeter = (p0_cm + pt_cm) / 2
    if elapsed_days <= 0 or mean_perimeter <= 0:
        return None
    return (a0_cm2 - at_cm2) / mean_perimeter / (elapsed_days / 7.0)


def bracketing(days: list[float], day: float) -> tuple[int, int] | None:
    """Indices of the last assessment on or before ``day`` and the first on or
    after it (``days`` sorted); None when the day is outside the assessments."""
    before = bisect_right(days, day) - 1
    after = bisect_left(days, day)
    if before < 0 or after == len(days):
        return None
    return before, after


def interpolate(d0: float, d1: float, a0: float, a1: float, day: float) -> float:
    """Area on ``day``, linear between area ``a0`` on day ``d0`` and ``a1`` on
    day ``d1`` (``a0`` when the two days are the same)."""
    if d1 == d0:
        return a0
    return a0 + (a1 - a0) * (day - d0) / (d1 - d0)


def rise_pct(earlier: float, later: float) -> float:
    """Percent change from earlier to later; infinite growth from a zero area."""
    if earlier == 0:
        return math.inf if later > 0 else 0.0
    return (later - earlier) / earlier * 100.0
