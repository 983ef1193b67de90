"""Least-squares fits on float series: the slopes behind a healing trajectory.

- The weekly area change is the ordinary least-squares slope of area against
  days (clinical-reference.md, "Healing trajectory").
- The exponential model At = A0 e^(-kt), followed by 72% of venous ulcers
  (Cardinal 2009), has its rate k fitted by least squares on ln(area).

Every result here is kept to the bit (see the comments): the trajectory rounds
them for display and a last-bit difference could flip a halfway case. Pure
functions, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat
from operator import mul, sub

LN2 = math.log(2.0)

# |k| from which the fast rate is not used (per day; a wound that halves in
# about a minute): k is reported to 5 decimals, and beyond about 1e4 the
# float noise of a different summation order would show in them.
FAST_K_LIMIT = 1e4


def centred(xs: list[float]) -> tuple[list[float], float]:
    """(x - mean x for each x, sum of their squares): the x side of a least-squares fit.

    Computed once when several series are fitted against the same xs (the
    area and ln(area) fits of one trajectory).
    """
    mean_x = sum(xs) / len(xs)
    dx = [x - mean_x for x in xs]
    # The area slope is kept to the bit of the plain centred formula: the weekly
    # change is rounded to 3 decimals and the projection rounds closure days,
    # so a last-bit difference could flip a halfway case (simple data, such as
    # half days and round areas, hits exact halves, -2.1875 cm2/week). The
    # product is the correctly rounded square (x ** 2 goes through the C
    # library's pow, which is not always).
    return dx, sum(map(mul, dx, dx))


def fit_slope(
    xs: list[float], ys: list[float], centred_xs: tuple[list[float], float] | None
) -> float | None:
    """least_squares_slope on lists of equal length; reuses ``centred_xs``
    (centred(xs)) when given."""
    n = len(xs)
    if n < 2:
        return None
    y0 = ys[0]
    # ys[1] first: it settles the usual, not flat, case without a generator
    if ys[1] == y0 and all(y == y0 for y in ys):
        # Exactly flat; the general formula can leave float noise such as -1e-17.
        x0 = xs[0]
        return 0.0 if any(x != x0 for x in xs) else None
    dx, sxx = centred(xs) if centred_xs is None else centred_xs
    if sxx == 0:
        return None
    mean_y = sum(ys) / n
    sxy: float = sum(map(mul, dx, map(sub, ys, repeat(mean_y))))
    return sxy / sxx


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Ordinary least-squares slope of ys on xs; None with < 2 points or no x spread.

    Used for the weekly area change (slope of area against time) and, on
    ln(area), for the exponential rate (Cardinal 2009). Raises ValueError when
    the sequences differ in length.
    """
    if len(xs) != len(ys):
        raise ValueError("xs and ys must have the same length")
    return fit_slope(list(xs), list(ys), None)


def fast_log_rate(dx: list[float], sxx: float, areas: list[float]) -> float | None:
    """Rate k of the exponential model (Cardinal 2009) from the centred days
    ``dx`` (sum of squares ``sxx``) and positive areas, or None when the exact
    formula (-fit_slope of ln(area)) must be used.

    log2, not ln: math.log2 takes one argument and is about twice as fast as
    math.log, which parses an optional base; ln a = log2 a x ln 2, so the slope
    is scaled by ln 2 once. The y side is not centred: sum(dx (y - mean y)) is
    sum(dx y) - mean y sum(dx) in exact arithmetic, one pass instead of two.
    Within 1e-12 relative of the centred formula; k has no exact halfway values
    at 5 decimals (logs are irrational), so the rounded k is the same. Raises
    ValueError on an area of 0 (log 0).
    """
    logs = list(map(math.log2, areas))
    y0 = logs[0]
    if sxx == 0 or (logs[1] == y0 and all(y == y0 for y in logs)):
        return None  # no spread or flat: the exact formula's special cases
    n = len(logs)
    sxy = sum(map(mul, dx, logs)) - sum(logs) / n * sum(dx)
    k = -sxy / sxx * LN2
    return k if abs(k) < FAST_K_LIMIT else None
