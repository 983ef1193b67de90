"""Healing trajectory of a wound from its area measurements.

Measures (see docs/clinical-reference.md, "Healing trajectory"):
- Percent area reduction, PAR = (A0 - At) / A0 x 100; its value at week 4 is the
  best-studied early predictor of healing: diabetic foot ulcers, midpoint 53%
  between healers and non-healers (Sheehan 2003, Diabetes Care 26:1879); venous
  leg ulcers, >= 40% by week 3 (Phillips 2000). Nothing is established for
  radiation wounds, so the threshold and week are configurable (default 40% at
  week 4) and the rule applied is named in the result.
- Gilman's linear advance of the wound margin, d = (A0 - At) / ((P0 + Pt) / 2),
  in cm, per week (Gilman 1990); needs perimeters from traced photos.
- Exponential model At = A0 e^(-kt), followed by 72% of venous ulcers
  (Cardinal 2009); k fitted by least squares on ln(area).
- Closure is projected only from >= 5 measurements spanning >= 4 weeks (about
  five weekly measurements; Cukjati 2001).

Time is measured in days from the first assessment (the baseline). The measures
are computed in app/clinical/area_change.py (PAR, Gilman) and
app/clinical/regression.py (the least-squares fits); this module reads them
into a status and the rule applied. Pure functions, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any

from app.clinical.area_change import bracketing, interpolate_area, par_on_day, rise_pct
from app.clinical.area_change import gilman_advance as gilman_advance  # re-export
from app.clinical.area_change import percent_area_reduction as percent_area_reduction  # re-export
from app.clinical.formatting import area_point, fmt, fmt_area, iso_utc
from app.clinical.regression import centred, fast_log_rate, fit_slope
from app.clinical.regression import least_squares_slope as least_squares_slope  # re-export

HEALED = "healed"
ON_TRACK = "on_track"
STALLED = "stalled"
DETERIORATING = "deteriorating"
INSUFFICIENT_DATA = "insufficient_data"
STATUSES: tuple[str, ...] = (HEALED, ON_TRACK, STALLED, DETERIORATING, INSUFFICIENT_DATA)

_PAR_SOURCE = "configurable; Sheehan 2003 / Phillips 2000 adapted"
_INSTANT = attrgetter("epoch_us")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _require_finite_non_negative(name: str, value: float) -> None:
    # One chained comparison: NaN fails both sides, infinity the right one.
    if not 0 <= value < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class Measurement:
    """One area measurement of a wound.

    ``at`` must be timezone-aware. ``area_cm2`` is the traced area when there is
    one, else the ellipse estimate pi/4 x L x W (clinical-reference.md).
    ``closed`` marks an assessment that found the wound closed/resurfaced.
    ``epoch_us`` is derived: the instant of ``at`` in whole microseconds since
    the Unix epoch.
    """

    at: datetime
    area_cm2: float
    perimeter_cm: float | None = None
    closed: bool = False
    # Exact (datetimes have microsecond resolution). The trajectory needs the
    # days between every pair of neighbours; from integers that is a subtraction,
    # where datetime arithmetic builds a timedelta per measurement (about half
    # the cost of a whole 20-point trajectory). Computed once, with the checks.
    epoch_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        at = self.at
        # UTC (what the database gives) first: utcoffset() is a call into the tzinfo
        if at.tzinfo is not UTC and at.utcoffset() is None:
            raise ValueError("Measurement.at must be timezone-aware")
        object.__setattr__(self, "epoch_us", (at - _EPOCH) // _ONE_US)
        _require_finite_non_negative("area_cm2", self.area_cm2)
        if self.perimeter_cm is not None:
            _require_finite_non_negative("perimeter_cm", self.perimeter_cm)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``at`` in UTC, ISO 8601)."""
        return {
            "at": iso_utc(self.at),
            "area_cm2": self.area_cm2,
            "perimeter_cm": self.perimeter_cm,
            "closed": self.closed,
        }


@dataclass(frozen=True)
class TrajectoryRules:
    """Thresholds for compute_trajectory; every default and its source.

    - par_threshold_pct 40.0 and par_week 4: PAR at week 4 of at least 40% means
      on track. Adapted from Sheehan 2003 (4-week PAR, DFU midpoint 53%) and
      Phillips 2000 (>= 40% by week 3, venous ulcers); no threshold is published
      for radiation wounds, so this is configurable.
    - week_window_days 7: when PAR at week 4 cannot be interpolated (no
      assessment after day 28 yet), an assessment within 7 days of day 28 may
      stand in for it; it is also the distance beyond which an interpolation is
      flagged as resting on far-apart assessments. One week is the usual
      assessment interval (judgement).
    - deteriorating_margin_pct 10.0: area at least 10% above baseline, or at
      least 10% above the previous assessment, is deteriorating. Judgement: it
      exceeds the typical repeat-measurement error of ruler/tracing methods
      (around 5-10%), so noise alone rarely triggers it.
    - min_points_for_projection 5 and min_days_for_projection 28: closure
      projections are unreliable before about five weekly measurements
      (Cukjati 2001); five weekly measurements span four weeks, so five taken
      on consecutive days do not count as them.
    - max_projection_days 365: a closure date more than a year past the latest
      assessment is not given: extrapolating weeks of data that far means
      nothing (judgement); the note says the trend is too flat instead.
    - min_days_for_trend 7: before week 4, a trend is read only after at least
      one week of follow-up (judgement: one assessment interval).
    - stall_window_days 28 and stall_min_reduction_pct 10.0 (stall rule): a
      wound that met the week-4 threshold but whose area fell less than 10% over
      the last 28 days, once that window lies wholly after week 4, is stalled.
      Judgement, not a published rule: it re-applies the week-4 idea (a month
      without progress) to later follow-up.
    """

    par_threshold_pct: float = 40.0
    par_week: int = 4
    week_window_days: int = 7
    deteriorating_margin_pct: float = 10.0
    min_points_for_projection: int = 5
    min_days_for_projection: int = 28
    max_projection_days: int = 365
    min_days_for_trend: int = 7
    stall_window_days: int = 28
    stall_min_reduction_pct: float = 10.0

    def __post_init__(self) -> None:  # noqa: C901 - one range check per setting
        if not 0 < self.par_threshold_pct <= 100:
            raise ValueError("par_threshold_pct must be in (0, 100]")
        if self.par_week < 1:
            raise ValueError("par_week must be at least 1")
        if self.week_window_days < 0:
            raise ValueError("week_window_days must be 0 or more")
        if self.deteriorating_margin_pct < 0:
            raise ValueError("deteriorating_margin_pct must be 0 or more")
        if self.min_points_for_projection < 2:
            raise ValueError("min_points_for_projection must be at least 2")
        if self.min_days_for_projection < 0:
            raise ValueError("min_days_for_projection must be 0 or more")
        if self.max_projection_days < 1:
            raise ValueError("max_projection_days must be at least 1")
        if self.min_days_for_trend < 1:
            raise ValueError("min_days_for_trend must be at least 1")
        if self.stall_window_days < 1:
            raise ValueError("stall_window_days must be at least 1")
        if self.stall_min_reduction_pct < 0:
            raise ValueError("stall_min_reduction_pct must be 0 or more")

    @property
    def par_day(self) -> int:
        """The day PAR is judged on (par_week x 7)."""
        return self.par_week * 7

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Trajectory:
    """The trajectory summary of one wound (see compute_trajectory)."""

    status: str
    rule: str
    baseline: dict[str, Any] | None
    latest: dict[str, Any] | None
    par_pct: float | None
    par_week4_pct: float | None
    par_week4_note: str | None
    weekly_area_change_cm2: float | None
    gilman_cm_per_week: float | None
    k_per_day: float | None
    projected_closure_on: date | None
    projection_note: str | None
    days_to_closure: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        result = asdict(self)
        if self.projected_closure_on is not None:
            result["projected_closure_on"] = self.projected_closure_on.isoformat()
        return result


def _sorted(points: Sequence[Measurement]) -> list[Measurement]:
    return sorted(points, key=_INSTANT)


def _timeline(points: Sequence[Measurement]) -> tuple[list[Measurement], list[float]]:
    """The points in time order, and the days from the first (the baseline) to each."""
    ordered = list(points)
    if not ordered:
        return ordered, []
    days = _days(ordered)
    # Days grow with time (never the other way), so days that never decrease
    # mean the points came in time order, as stored assessments usually do, and
    # the sort can be skipped: the sort is stable, so it would keep points at
    # the same time in input order anyway. (Equal days are equal times: at
    # microsecond resolution distinct times give distinct days within a century
    # of the baseline.) sorted() on floats is a C loop, several times faster
    # than comparing the neighbours pairwise.
    if sorted(days) != days:
        ordered.sort(key=_INSTANT)
        days = _days(ordered)
    return ordered, days


def _days(ordered: list[Measurement]) -> list[float]:
    """Days (fractional) from the first point to each point.

    Bit for bit (m.at - first.at) / timedelta(days=1): the microseconds between
    them divided by 86,400,000,000, rounded once (an integer below 2**53
    divided by a float is that same single division).
    """
    origin = ordered[0].epoch_us
    return [(m.epoch_us - origin) / 86_400_000_000.0 for m in ordered]


def _exponential_fit(
    ordered: list[Measurement],
    days: list[float],
    areas: list[float],
    centred_days: tuple[list[float], float],
) -> float | None:
    """exponential_rate of sorted points whose days from the baseline, areas and
    centred(days) are known."""
    try:  # the usual case: every area is positive and in the model (log 0 raises)
        fast = fast_log_rate(*centred_days, areas)
        if fast is not None:
            return fast
        slope = fit_slope(days, list(map(math.log, areas)), centred_days)
    except ValueError:  # ln 0: the positive areas, days from the first of them
        kept = [m for m in ordered if m.area_cm2 > 0]
        if len(kept) < 2:
            return None
        slope = fit_slope(_days(kept), [math.log(m.area_cm2) for m in kept], None)
    return None if slope is None else -slope


def exponential_rate(points: Sequence[Measurement]) -> float | None:
    """Rate k (per day) of the exponential model At = A0 e^(-kt) (Cardinal 2009).

    Fitted by least squares on ln(area) against days, over the measurements with
    a positive area (ln 0 is undefined; a closed wound has left the model).
    Positive k means shrinking, negative k growth. None with fewer than two
    positive-area measurements at distinct times. For two points this is
    k = ln(A0/At) / t, the reference formula.
    """
    ordered = _sorted(points)
    if not ordered:
        return None
    days = _days(ordered)
    return _exponential_fit(ordered, days, [m.area_cm2 for m in ordered], centred(days))


def par_at_day(
    points: Sequence[Measurement], day: float, *, window_days: float = 7.0
) -> tuple[float | None, str | None]:
    """PAR on ``day`` (days after the first assessment) and a note on how it was got.

    The area on ``day`` is interpolated linearly between the assessments on
    either side (PAR as in Sheehan 2003, read at week 4 for day 28). When the
    nearer of them is more than ``window_days`` away, the value is returned with
    a note saying so. When there is no assessment on one side, an assessment
    within ``window_days`` of the day stands in (said in the note); otherwise
    the value is None with a note. None also when the baseline area is 0.
    """
    ordered = _sorted(points)
    if not ordered:
        return None, "no assessments"
    return par_on_day(_days(ordered), [m.area_cm2 for m in ordered], day, window_days)


def _deterioration(areas: list[float], rules: TrajectoryRules) -> str | None:
    """Reason the wound is deteriorating (areas in time order), or None."""
    baseline, previous, latest = areas[0], areas[-2], areas[-1]
    if latest <= baseline and latest <= previous:  # the usual case: not growing
        return None
    margin = rules.deteriorating_margin_pct
    reasons = []
    # round(): 1.1 over 1.0 is 10.000000000000009%, which must count as 10%
    if latest > baseline:
        over_baseline = rise_pct(baseline, latest)
        if round(over_baseline, 9) >= margin:
            reasons.append(
                f"area {fmt_area(latest)} is {_growth(over_baseline)} above baseline"
                f" {fmt_area(baseline)} (>= {fmt(margin)}% margin)"
            )
    # With two assessments the previous one is the baseline: already judged above.
    if len(areas) > 2 and latest > previous:
        over_previous = rise_pct(previous, latest)
        if round(over_previous, 9) >= margin:
            reasons.append(
                f"area rose {_growth(over_previous)} since the previous assessment"
                f" ({fmt_area(previous)} -> {fmt_area(latest)}; >= {fmt(margin)}% margin)"
            )
    return "; ".join(reasons) or None


def _growth(pct: float) -> str:
    return "from nothing" if math.isinf(pct) else f"{fmt(pct)}%"


def _healed(ordered: list[Measurement], healed_on: date | None) -> tuple[str, int | None] | None:
    """(rule, days_to_closure) when the wound is healed, else None."""
    baseline = ordered[0] if ordered else None
    if healed_on is not None:
        rule = f"wound recorded healed on {healed_on.isoformat()}"
        if baseline is None:
            return rule, None
        days = (healed_on - baseline.at.date()).days
        if days < 0:
            return rule + " (before the first assessment: days to closure not computed)", None
        return rule, days
    if not ordered or not (ordered[-1].closed or ordered[-1].area_cm2 == 0):
        return None
    # Closure was first observed at the start of the trailing run of closed assessments.
    closure = ordered[-1]
    for m in reversed(ordered):
        if not (m.closed or m.area_cm2 == 0):
            break
        closure = m
    assert baseline is not None  # ordered is not empty here
    how = "marked closed" if closure.closed else "area 0 cm2"
    return (
        f"closed at the assessment on {closure.at.date().isoformat()} ({how})",
        (closure.at.date() - baseline.at.date()).days,
    )


def _judge(
    ordered: list[Measurement],
    days: list[float],
    areas: list[float],
    healed_on: date | None,
    par_week4: float | None,
    par_week4_note: str | None,
    rules: TrajectoryRules,
) -> tuple[str, str, int | None]:
    """(status, rule, days_to_closure): steps 1 to 5 of compute_trajectory, first
    match wins. ``ordered``, ``days`` (from the baseline) and ``areas`` are in
    time order."""
    healed = _healed(ordered, healed_on)
    if healed is not None:
        return HEALED, *healed
    n = len(ordered)
    if n < 2:
        rule = f"{n} assessment(s): a trajectory needs a baseline and at least one follow-up"
        return INSUFFICIENT_DATA, rule, None
    return *_status(days, areas, par_week4, par_week4_note, rules), None


def _status(
    days: list[float],
    areas: list[float],
    par_week4: float | None,
    par_week4_note: str | None,
    rules: TrajectoryRules,
) -> tuple[str, str]:
    """(status, rule) for an open wound with at least two assessments.

    ``days`` (from the baseline) and ``areas`` are in time order.
    """
    deteriorating = _deterioration(areas, rules)
    if deteriorating is not None:
        return DETERIORATING, deteriorating
    latest_day = days[-1]
    threshold = rules.par_threshold_pct
    week = rules.par_week
    if par_week4 is not None:
        head = f"PAR at week {week} = {fmt(par_week4)}%"
        tail = f" ({_PAR_SOURCE})" + (f"; {par_week4_note}" if par_week4_note else "")
        if par_week4 < threshold:
            return STALLED, f"{head} < {fmt(threshold)}% threshold{tail}"
        stall = _recent_stall(days, areas, rules)
        if stall is not None:
            return STALLED, f"{head} met the {fmt(threshold)}% threshold, but {stall}"
        return ON_TRACK, f"{head} >= {fmt(threshold)}% threshold{tail}"
    # Younger than par_week: nothing near day 28 yet.
    young = f"followed for {fmt(latest_day)} days, less than {week} weeks"
    if latest_day < rules.min_days_for_trend:
        return INSUFFICIENT_DATA, (
            f"{young}; a trend needs at least {rules.min_days_for_trend} days of follow-up"
        )
    # Extrapolate with the exponential model (Cardinal 2009): the fraction of area
    # left at day t, At/A0, becomes (At/A0)^(28/t) at day 28. Unlike a straight
    # line this does not overstate later progress from a fast start.
    remaining = areas[-1] / areas[0]
    projected = (1.0 - remaining ** (rules.par_day / latest_day)) * 100.0
    so_far = (1.0 - remaining) * 100.0
    trend = (
        f"{young}; PAR so far {fmt(so_far)}% at day {fmt(latest_day)} extrapolates"
        f" (exponential model, Cardinal 2009) to {fmt(projected)}% at week {week}"
    )
    if projected >= threshold:
        return ON_TRACK, f"{trend} >= {fmt(threshold)}% threshold ({_PAR_SOURCE})"
    return INSUFFICIENT_DATA, (
        f"{trend} < {fmt(threshold)}% threshold; too early to call it stalled ({_PAR_SOURCE})"
    )


def _recent_stall(days: list[float], areas: list[float], rules: TrajectoryRules) -> str | None:
    """Why a wound past week 4 has stopped progressing (stall rule), or None."""
    window_start = days[-1] - rules.stall_window_days
    if window_start < rules.par_day:
        return None
    bracket = bracketing(days, window_start)
    assert bracket is not None  # window_start lies within [0, latest_day]
    then = interpolate_area(days, areas, *bracket, window_start)
    reduction = percent_area_reduction(then, areas[-1])
    minimum = rules.stall_min_reduction_pct
    if reduction is not None and reduction >= minimum:
        return None
    shown = "it reopened from 0 cm2" if reduction is None else f"fell {fmt(reduction)}%"
    return (
        f"over the last {rules.stall_window_days} days the area {shown}"
        f" (< {fmt(minimum)}%; stall rule, clinical judgement, configurable)"
    )


def _projection(
    ordered: list[Measurement], status: str, slope_per_day: float | None, rules: TrajectoryRules
) -> tuple[date | None, str]:
    """Projected closure date and a note saying how, or why not."""
    if status == HEALED:
        return None, "healed: no projection needed"
    if status == DETERIORATING:
        return None, "area is rising: no closure projection"
    if len(ordered) < rules.min_points_for_projection:
        return None, (
            f"only {len(ordered)} assessment(s); a closure projection needs at least"
            f" {rules.min_points_for_projection} (Cukjati 2001)"
        )
    followed = (ordered[-1].epoch_us - ordered[0].epoch_us) / 86_400_000_000.0
    if followed < rules.min_days_for_projection:
        return None, (
            f"{len(ordered)} assessments over {fmt(followed)} days; a closure projection"
            f" needs them to span at least {rules.min_days_for_projection} days, about"
            f" {rules.min_points_for_projection} weekly measurements (Cukjati 2001)"
        )
    if slope_per_day is None or slope_per_day >= 0:
        shown = "none" if slope_per_day is None else f"{slope_per_day * 7:+.3f} cm2/week"
        return None, f"area trend is not downward (least-squares slope {shown}): no projection"
    latest = ordered[-1]
    exact_days = latest.area_cm2 / -slope_per_day
    if exact_days > rules.max_projection_days:
        return None, (
            f"area trend too flat (least-squares slope {slope_per_day * 7:.3f} cm2/week):"
            f" closure would be more than {rules.max_projection_days} days away; no projection"
        )
    days = _ceil_days(exact_days)
    # fromordinal: the same date as date + timedelta(days=days), without
    # building a timedelta (this runs for most open wounds)
    return date.fromordinal(latest.at.date().toordinal() + days), (
        f"linear model: the least-squares slope {slope_per_day * 7:.3f} cm2/week applied to"
        f" the latest area {fmt_area(latest.area_cm2)} closes it in {days} days"
        " (the exponential model is not used for the date: it never reaches 0)"
    )


def _ceil_days(exact_days: float) -> int:
    """math.ceil(round(exact_days, 6)) for exact_days >= 0: 6972.0000001 from float
    noise is 6972 days.

    Without round(), which is slow: round(x, 6) falls to the integer k below x
    exactly when x - k < 0.0000005 (x - k is exact for x >= k >= 1, and x itself
    for k = 0). The float 5e-7 is the nearest double below 0.0000005, so no double
    lies between them and ``<= 5e-7`` is ``< 0.0000005``.
    """
    up = math.ceil(exact_days)
    below = up - 1  # -1 for 0, where exact_days - below is 1: up (0) is kept
    return below if exact_days - below <= 5e-7 else up


def compute_trajectory(
    points: Sequence[Measurement],
    *,
    healed_on: date | None = None,
    rules: TrajectoryRules = TrajectoryRules(),
) -> Trajectory:
    """Summarise a wound's healing trajectory; the status and the rule applied.

    Points may come in any order. Status, first match wins:
    1. healed: ``healed_on`` given, or the latest assessment is closed or has area
       0; days_to_closure from the first assessment's date to healed_on (or to
       the first assessment of the closing run).
    2. insufficient_data: fewer than two assessments.
    3. deteriorating: area >= deteriorating_margin_pct above baseline, or (with
       three or more assessments) above the previous one; growth from 0 counts.
    4. with PAR at week 4 (par_at_day, day par_week x 7): stalled when below
       par_threshold_pct (Sheehan 2003 / Phillips 2000 adapted, default 40%),
       or when the stall rule finds no progress over the last stall_window_days;
       otherwise on_track.
    5. younger than par_week (no assessment near day 28): insufficient_data
       before min_days_for_trend days; otherwise PAR so far is extrapolated to
       day 28 with the exponential model (Cardinal 2009): on_track when that
       meets the threshold, else insufficient_data (too early to call stalled).
    Projection (not for healed/deteriorating wounds): only with at least
    min_points_for_projection assessments spanning min_days_for_projection
    days (about five weekly measurements, Cukjati 2001) and a downward
    least-squares area slope; linear, from the latest area at that slope, and
    not beyond max_projection_days.
    """
    ordered, days = _timeline(points)
    baseline = ordered[0] if ordered else None
    latest = ordered[-1] if ordered else None

    par_pct = par_week4 = gilman = k = slope_per_day = None
    par_week4_note: str | None = "no assessments"
    # Days from the baseline and areas, in time order: computed once, shared by
    # every measure below (the slopes, PAR, the stall rule, Gilman).
    areas = [m.area_cm2 for m in ordered]
    if baseline is not None and latest is not None:
        par_week4, par_week4_note = par_on_day(days, areas, rules.par_day, rules.week_window_days)
        if len(ordered) >= 2:
            # The x side of the area fit serves the ln(area) fit too when no
            # area is 0 (both fit against the same days).
            centred_days = centred(days)
            slope_per_day = fit_slope(days, areas, centred_days)
            k = _exponential_fit(ordered, days, areas, centred_days)
            par_pct = percent_area_reduction(areas[0], areas[-1])
        if baseline.perimeter_cm is not None and latest.perimeter_cm is not None:
            gilman = gilman_advance(
                areas[0], areas[-1], baseline.perimeter_cm, latest.perimeter_cm, days[-1]
            )

    status, rule, days_to_closure = _judge(
        ordered, days, areas, healed_on, par_week4, par_week4_note, rules
    )
    projected, projection_note = _projection(ordered, status, slope_per_day, rules)

    # Trajectory is frozen: its generated __init__ sets each field through
    # object.__setattr__, which on a short series costs as much as the maths.
    # Filling the instance dict gives the same object (no __post_init__).
    result = object.__new__(Trajectory)
    result.__dict__.update(
        status=status,
        rule=rule,
        baseline=None if baseline is None else area_point(baseline.at, areas[0]),
        latest=None if latest is None else area_point(latest.at, areas[-1]),
        # None stays None; + 0.0 reports -0.0 as 0.0 (inline: this runs per wound)
        par_pct=None if par_pct is None else round(par_pct, 1) + 0.0,
        par_week4_pct=None if par_week4 is None else round(par_week4, 1) + 0.0,
        par_week4_note=par_week4_note,
        weekly_area_change_cm2=None if slope_per_day is None else round(slope_per_day * 7, 3) + 0.0,
        gilman_cm_per_week=None if gilman is None else round(gilman, 3) + 0.0,
        k_per_day=None if k is None else round(k, 5) + 0.0,
        projected_closure_on=projected,
        projection_note=projection_note,
        days_to_closure=days_to_closure,
    )
    return result
