"""Healing trajectory of a wound from its area measurements.

Measures (see docs/clinical-reference.md, "Healing trajectory"):
- Percent area reduction, PAR = (A0 - At) / A0 x 100; its value at week 4 is the
  best-studied early predictor of healing: diabetic foot ulcers, midpoint 53%
  between healers and non-healers (Sheehan 2003, Diabetes Care 26:1879); venous
  leg ulcers, >= 40% by week 3 (Phillips 2000). Nothing is established for
  radiation wounds, so the threshold and week are configurable (default 40% at
  week 4). It is reported as a checkpoint (met, missed, not yet due:
  app/clinical/progress.py); the current status follows the change over the
  latest weeks (app/clinical/status.py).
- Gilman's linear advance of the wound margin, d = (A0 - At) / ((P0 + Pt) / 2),
  in cm, per week (Gilman 1990); needs perimeters from traced photos.
- Exponential model At = A0 e^(-kt), followed by 72% of venous ulcers
  (Cardinal 2009); k fitted by least squares on ln(area).
- Closure is projected only from >= 5 measurements spanning >= 4 weeks (about
  five weekly measurements; Cukjati 2001).

A wound that closed and opened again has several healing episodes
(app/clinical/episodes.py); every measure reads the current one, with time in
days from its first assessment (the baseline). Areas taken by different methods
are compared on one method (app/clinical/area_methods.py). Measurements are
read in one total order (app/clinical/measurement.py). The fits are in
app/clinical/regression.py, PAR and Gilman in app/clinical/area_change.py.
Pure functions, standard library only.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from app.clinical.area_change import gilman_advance as gilman_advance  # re-export
from app.clinical.area_change import percent_area_reduction as percent_area_reduction  # re-export
from app.clinical.area_methods import Comparison, compare
from app.clinical.episodes import Episode, closure_dates, split_episodes
from app.clinical.formatting import area_point, fmt, fmt_area, iso_utc
from app.clinical.measurement import CLOSURE_MARK, Measurement, days_from, order_key, timeline
from app.clinical.progress import Checkpoint, RecentChange, checkpoint
from app.clinical.progress import par_at_day as _par_at_day
from app.clinical.regression import centred, fast_log_rate, fit_slope
from app.clinical.regression import least_squares_slope as least_squares_slope  # re-export
from app.clinical.status import Course, judge
from app.clinical.trajectory_rules import (
    DETERIORATING,
    HEALED,
    INSUFFICIENT_DATA,
    ON_TRACK,
    RECURRED,
    STALLED,
    STATUSES,
    TrajectoryRules,
)

__all__ = [
    "DETERIORATING",
    "HEALED",
    "INSUFFICIENT_DATA",
    "ON_TRACK",
    "RECURRED",
    "STALLED",
    "STATUSES",
    "Measurement",
    "Trajectory",
    "TrajectoryRules",
    "compute_trajectory",
    "exponential_rate",
    "gilman_advance",
    "least_squares_slope",
    "par_at_day",
    "percent_area_reduction",
]

_DEFAULT_RULES = TrajectoryRules()


@dataclass(frozen=True)
class Trajectory:
    """The trajectory summary of one wound (see compute_trajectory).

    ``week4_checkpoint`` and ``recent_change`` are kept as computed (their
    to_dict gives the JSON form, rounded), so a caller that needs only the
    checkpoint's state does not pay for the rest. ``episode_starts``: (episode
    number, ``seq`` of its first measurement) for each episode with one, so a
    caller can number its own rows; not part of to_dict.
    """

    status: str
    rule: str
    reasons: list[str]
    baseline: dict[str, Any] | None
    latest: dict[str, Any] | None
    par_pct: float | None
    par_week4_pct: float | None
    par_week4_note: str | None
    week4_checkpoint: Checkpoint
    recent_change: RecentChange | None
    area_methods: dict[str, Any] | None
    weekly_area_change_cm2: float | None
    gilman_cm_per_week: float | None
    k_per_day: float | None
    projected_closure_on: date | None
    projection_note: str | None
    days_to_closure: int | None
    episode: int
    episodes: list[dict[str, Any]]
    episode_starts: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings), a deep copy."""
        result = {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in fields(self)
            if f.name != "episode_starts"
        }
        result["week4_checkpoint"] = self.week4_checkpoint.to_dict()
        if self.recent_change is not None:
            result["recent_change"] = self.recent_change.to_dict()
        if self.projected_closure_on is not None:
            result["projected_closure_on"] = self.projected_closure_on.isoformat()
        return result


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
        slope = fit_slope(days_from(kept), [math.log(m.area_cm2) for m in kept], None)
    return None if slope is None else -slope


def exponential_rate(points: Sequence[Measurement]) -> float | None:
    """Rate k (per day) of the exponential model At = A0 e^(-kt) (Cardinal 2009).

    Fitted by least squares on ln(area) against days, over the measurements with
    a positive area (ln 0 is undefined; a closed wound has left the model), all
    of them: not one episode. Positive k means shrinking, negative k growth.
    None with fewer than two positive-area measurements at distinct times. For
    two points this is k = ln(A0/At) / t, the reference formula.
    """
    ordered = sorted(points, key=order_key)
    if not ordered:
        return None
    days = days_from(ordered)
    return _exponential_fit(ordered, days, [m.area_cm2 for m in ordered], centred(days))


def par_at_day(points: Sequence[Measurement], day: float) -> tuple[float | None, str | None]:
    """PAR on ``day`` (days after the first assessment) and a note when there is none.

    The area on ``day`` is interpolated linearly between the assessments on
    either side, or read from one on the day (PAR as in Sheehan 2003, read at
    week 4 for day 28); areas of different methods are compared on one method
    where they have one in common. None with a note when no assessment lies
    on or after ``day`` yet (never extrapolated), or when the baseline area is 0.
    """
    ordered, days = timeline(list(points))
    return _par_at_day(ordered, days, day)


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


def _episodes_out(
    everything: list[Measurement],
    episodes: list[Episode] | None,
    n: int,
    base_point: dict[str, Any] | None,
) -> tuple[int, list[dict[str, Any]], tuple[tuple[int, int], ...]]:
    """(current episode number, the episodes as JSON-ready dicts, and (number,
    seq of its first measurement) for each). ``episodes`` None: one open
    episode of ``n`` measurements starting at ``base_point``."""
    if episodes is None:
        first = None if base_point is None else base_point["at"]
        listed = [
            {
                "number": 1,
                "started_at": first,
                "closed_on": None,
                "closed_by": None,
                "measurements": n,
            }
        ]
        return 1, listed, () if first is None else ((1, everything[0].seq),)
    out = []
    starts = []
    for e in episodes:
        start = everything[e.start] if e.start < e.stop else None
        out.append(
            {
                "number": e.number,
                "started_at": None if start is None else iso_utc(start.at),
                "closed_on": None if e.closed_on is None else e.closed_on.isoformat(),
                "closed_by": e.closed_by,
                "measurements": e.stop - e.start,
            }
        )
        if start is not None:
            starts.append((e.number, start.seq))
    return episodes[-1].number, out, tuple(starts)


def _current_episode(
    everything: list[Measurement],
    days: list[float],
    healed_on: date | None,
    past_closures: Sequence[date],
) -> tuple[list[Measurement], list[float], list[float], list[Episode] | None]:
    """The current episode's measurements, their days from its first and their
    areas, and every episode (None when there is no closure: one open episode,
    all the measurements)."""
    # Areas in use, CLOSURE_MARK at a closure: one pass reads them and tells
    # whether the series has a closure at all (then episodes are split).
    areas = [m.open_area for m in everything]
    closures = closure_dates(healed_on, past_closures) if healed_on or past_closures else []
    if not closures and CLOSURE_MARK not in areas:
        return everything, days, areas, None
    episodes = split_episodes(everything, closures)
    current = episodes[-1]
    ordered = everything[current.start : current.stop]
    days = days_from(ordered) if ordered else []
    return ordered, days, [m.area_cm2 for m in ordered], episodes


_Measures = tuple[
    float | None,  # area slope per day
    float | None,  # k
    tuple[float, float] | None,  # baseline and latest areas on one method
    Comparison | None,  # how they were compared, when not both by one method
    float | None,  # PAR
    dict[str, Any] | None,  # area_methods
    float | None,  # Gilman's advance
]


def _measures(ordered: list[Measurement], days: list[float], areas: list[float]) -> _Measures:
    """The fits, PAR (baseline and latest compared on one method) and Gilman's
    advance of an episode's measurements."""
    slope = k = par_areas = c = par_pct = methods = gilman = None
    if len(ordered) >= 2:
        # The x side of the area fit serves the ln(area) fit too when no area
        # is 0 (both fit against the same days).
        centred_days = centred(days)
        slope = fit_slope(days, areas, centred_days)
        k = _exponential_fit(ordered, days, areas, centred_days)
        first, last = ordered[0], ordered[-1]
        if first.method == last.method:  # the usual case: no comparison to build
            par_areas, compared_on = (areas[0], areas[-1]), first.method
        else:
            c = compare((first, last))
            par_areas, compared_on = (c.areas[0], c.areas[1]), c.method
        par_pct = percent_area_reduction(*par_areas)
        methods = {
            "baseline": first.method,
            "latest": last.method,
            "compared_on": compared_on,
            "mixed": c is not None and c.mixed,
        }
    if ordered:
        p0, pt = ordered[0].perimeter_cm, ordered[-1].perimeter_cm
        if p0 is not None and pt is not None:
            gilman = gilman_advance(areas[0], areas[-1], p0, pt, days[-1])
    return slope, k, par_areas, c, par_pct, methods, gilman


def compute_trajectory(
    points: Sequence[Measurement],
    *,
    healed_on: date | None = None,
    past_closures: Sequence[date] = (),
    irradiated: bool = False,
    rules: TrajectoryRules = _DEFAULT_RULES,
) -> Trajectory:
    """Summarise a wound's healing trajectory: the status and the reasons for it.

    Points may come in any order; measurements at one instant are read in
    ``seq`` order (measurement.order_key). ``healed_on``: the wound's recorded
    healing; ``past_closures``: earlier recorded healings the wound was reopened
    after; ``irradiated``: the wound lies in an irradiated field (a recurrence
    there prompts a review). The current healing episode (episodes.py) is
    judged (status.py: healed, recurred or insufficient_data below two
    measurements, deteriorating, then on_track or stalled by the recent change
    once the week-4 checkpoint is due, else by the trend so far); ``rule`` is
    the reasons joined, the first decided. Projection: _projection.
    """
    everything, days = timeline(list(points))
    ordered, days, areas, episodes = _current_episode(everything, days, healed_on, past_closures)
    n = len(ordered)
    slope_per_day, k, par_areas, par_c, par_pct, methods, gilman = _measures(ordered, days, areas)
    cp = checkpoint(
        ordered,
        days,
        week=rules.par_week,
        threshold_pct=rules.par_threshold_pct,
        window_days=rules.week_window_days,
        closed=episodes is not None and episodes[-1].closed_on is not None,
    )
    course = Course(
        ordered, days, areas, everything, episodes, par_areas, par_c, cp, irradiated, rules
    )
    status, reasons, days_to_closure, recent = judge(course)
    projected, projection_note = _projection(ordered, status, slope_per_day, rules)
    base_point = area_point(ordered[0].at, areas[0]) if n else None
    episode, listed, starts = _episodes_out(everything, episodes, n, base_point)

    # Trajectory is frozen: its generated __init__ sets each field through
    # object.__setattr__, which on a short series costs as much as the maths.
    # Filling the instance dict gives the same object (no __post_init__).
    result = object.__new__(Trajectory)
    result.__dict__.update(
        status=status,
        rule="; ".join(reasons),
        reasons=reasons,
        baseline=base_point,
        latest=area_point(ordered[-1].at, areas[-1]) if n else None,
        # None stays None; + 0.0 reports -0.0 as 0.0 (inline: this runs per wound)
        par_pct=None if par_pct is None else round(par_pct, 1) + 0.0,
        par_week4_pct=None if cp.par_pct is None else round(cp.par_pct, 1) + 0.0,
        par_week4_note=cp.note,
        week4_checkpoint=cp,
        recent_change=recent,
        area_methods=methods,
        weekly_area_change_cm2=None if slope_per_day is None else round(slope_per_day * 7, 3) + 0.0,
        gilman_cm_per_week=None if gilman is None else round(gilman, 3) + 0.0,
        k_per_day=None if k is None else round(k, 5) + 0.0,
        projected_closure_on=projected,
        projection_note=projection_note,
        days_to_closure=days_to_closure,
        episode=episode,
        episodes=listed,
        episode_starts=starts,
    )
    return result
