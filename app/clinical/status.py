"""The status of a wound's current healing episode, and the reasons for it.

First match wins (docs/clinical-reference.md, "Status"):
1. healed: the episode ended in a closure (a recorded healing, or an
   assessment that found the wound closed or measured 0 cm2).
2. recurred / insufficient_data: fewer than two measurements in the episode
   (recurred when an earlier episode closed).
3. deteriorating: area >= deteriorating_margin_pct above the baseline, or
   above the previous assessment; growth from 0 counts.
4. Checkpoint due (an assessment on or after day 28): on_track when the area
   fell over the last recent_window_days at least at the pace of the week-4
   threshold, else stalled; the checkpoint (met or missed) is a reason of its
   own.
5. Younger: insufficient_data before min_days_for_trend days; otherwise PAR
   so far is extrapolated to week 4 with the exponential model (Cardinal
   2009): on_track when that meets the threshold, else insufficient_data (too
   early to call it stalled). In a recurrence: recurred.

A recurrence in an irradiated field adds a prompt for clinical review:
ulceration after radiotherapy can be recurrent tumour, told apart only by
biopsy (Debnam 2008, AJNR 29:558); judgement to prompt it on every recurrence.
Pure functions, standard library only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.clinical.area_change import rise_pct
from app.clinical.area_methods import Comparison, compare, describe
from app.clinical.episodes import BY_ASSESSMENT, Episode
from app.clinical.formatting import change_noun, change_words, fmt, fmt_area
from app.clinical.measurement import Measurement
from app.clinical.progress import MET, MISSED, Checkpoint, RecentChange, meets, recent_change
from app.clinical.trajectory_rules import (
    DETERIORATING,
    HEALED,
    INSUFFICIENT_DATA,
    ON_TRACK,
    PAR_SOURCE,
    RECURRED,
    STALLED,
    TrajectoryRules,
)

IRRADIATED_REVIEW = (
    "the wound lies in an irradiated field: a recurrence there warrants clinical review,"
    " e.g. a biopsy to exclude tumour recurrence (judgement; Debnam 2008)"
)


@dataclass(slots=True)
class Course:
    """The current healing episode as compute_trajectory reads it (a value).

    ``points`` (in order), ``days`` from the first and ``areas`` in use: the
    episode's measurements. ``everything``: all measurements in order;
    ``episodes``: all episodes, or None for a single open episode (no closure
    anywhere). ``par_areas``: the baseline and latest areas on one method
    (None below two measurements); ``par_comparison``: how, when they were not
    both by the same method.
    """

    points: list[Measurement]
    days: list[float]
    areas: list[float]
    everything: list[Measurement]
    episodes: list[Episode] | None
    par_areas: tuple[float, float] | None
    par_comparison: Comparison | None
    checkpoint: Checkpoint
    irradiated: bool
    rules: TrajectoryRules

    @property
    def episode(self) -> Episode | None:
        return None if self.episodes is None else self.episodes[-1]


Verdict = tuple[str, list[str], int | None, RecentChange | None]


def judge(c: Course) -> Verdict:
    """(status, reasons, days_to_closure, recent change): steps 1 to 5 of the
    module docstring; the reason that decided comes first."""
    episode = c.episode
    n = len(c.points)
    recurrence: list[str] = []
    if episode is not None:  # a closure somewhere (else one open episode)
        if episode.closed_on is not None:
            return (
                HEALED,
                [_healed(c, episode), *_recurrence(c)],
                _days_to(c, episode.closed_on),
                None,
            )
        if n and c.points[-1].gone:  # zero areas only: never open in this episode
            return HEALED, [_zero_run(c)], 0, None
        recurrence = _recurrence(c)
        if recurrence and c.irradiated:
            recurrence.append(IRRADIATED_REVIEW)
    if n < 2:
        if recurrence:
            return RECURRED, recurrence, None, None
        return (
            INSUFFICIENT_DATA,
            [f"{n} assessment(s): a trajectory needs a baseline and at least one follow-up"],
            None,
            None,
        )
    mixed = c.par_comparison and describe(c.par_comparison, "PAR")
    methods = [mixed] if mixed else []
    deteriorating = _deterioration(c)
    if deteriorating is not None:
        return DETERIORATING, [deteriorating, *recurrence, *methods], None, None
    if c.days[-1] >= c.rules.par_day:
        return _by_recent_change(c, recurrence, methods)
    status, reason = _young(c)
    if recurrence:
        return RECURRED, _join(recurrence, [reason], methods), None, None
    return status, _join([reason], methods), None, None


def _join(*groups: Sequence[str | None]) -> list[str]:
    """The reasons of every group in order, None left out."""
    return [reason for group in groups for reason in group if reason is not None]


def _days_to(c: Course, closed_on: date) -> int | None:
    """Days from the episode's first measurement to the closure (None without one)."""
    if not c.points:
        return None
    return (closed_on - c.points[0].at.date()).days


def _healed(c: Course, episode: Episode) -> str:
    assert episode.closed_on is not None
    if episode.closed_by != BY_ASSESSMENT:
        return f"wound recorded healed on {episode.closed_on.isoformat()}"
    assert episode.closure is not None
    closure = c.everything[episode.closure]
    how = "marked closed" if closure.closed else "area 0 cm2"
    return f"closed at the assessment on {episode.closed_on.isoformat()} ({how})"


def _zero_run(c: Course) -> str:
    # Every measurement of an open episode ending at 0 cm2 is 0 cm2: after an
    # open area, an area of 0 would have ended the episode (a closure).
    return f"closed at the assessment on {c.points[0].at.date().isoformat()} (area 0 cm2)"


def _recurrence(c: Course) -> list[str]:
    """Why the current episode is a recurrence (when the previous closed and
    when it reopened); [] for a first episode."""
    if c.episodes is None or len(c.episodes) < 2:
        return []
    previous, current = c.episodes[-2], c.episodes[-1]
    assert previous.closed_on is not None  # only a closure ends an episode
    if previous.closed_by == BY_ASSESSMENT:
        assert previous.closure is not None
        closure = c.everything[previous.closure]
        how = "an assessment found it closed" if closure.closed else "an assessment measured 0 cm2"
    else:
        how = "recorded healed"
    if current.start < current.stop:
        first = c.everything[current.start]
        reopened = (
            f"reopened on {first.at.date().isoformat()}"
            f" (open area {fmt_area(first.area_cm2)} at the assessment)"
        )
    else:
        reopened = "the wound record was reopened (no measurement since)"
    return [
        f"episode {current.number}: the wound closed on {previous.closed_on.isoformat()}"
        f" ({how}); {reopened}"
    ]


def _deterioration(c: Course) -> str | None:
    """Why the episode is deteriorating, or None (at least two measurements)."""
    points, areas = c.points, c.areas
    baseline, previous, latest = areas[0], areas[-2], areas[-1]
    if points[0].method != points[-1].method or points[-2].method != points[-1].method:
        baseline, latest = compare((points[0], points[-1])).areas
        previous, latest_vs_previous = compare((points[-2], points[-1])).areas
    else:
        latest_vs_previous = latest
    if latest <= baseline and latest_vs_previous <= previous:  # the usual case
        return None
    margin = c.rules.deteriorating_margin_pct
    reasons = []
    if latest > baseline:
        over_baseline = rise_pct(baseline, latest)
        if meets(over_baseline, margin):
            reasons.append(
                f"area {fmt_area(latest)} is {_growth(over_baseline)} above baseline"
                f" {fmt_area(baseline)} (>= {fmt(margin)}% margin)"
            )
    # With two assessments the previous one is the baseline: already judged above.
    if len(areas) > 2 and latest_vs_previous > previous:
        over_previous = rise_pct(previous, latest_vs_previous)
        if meets(over_previous, margin):
            reasons.append(
                f"area rose {_growth(over_previous)} since the previous assessment"
                f" ({fmt_area(previous)} -> {fmt_area(latest_vs_previous)};"
                f" >= {fmt(margin)}% margin)"
            )
    return "; ".join(reasons) or None


def _growth(pct: float) -> str:
    return "from nothing" if math.isinf(pct) else f"{fmt(pct)}%"


def _checkpoint_reason(cp: Checkpoint) -> str:
    """The week-4 checkpoint in words, once it is due (met or missed: the
    baseline of an open episode that is not deteriorating is above 0)."""
    assert cp.state in (MET, MISSED) and cp.par_pct is not None
    head, tail = _threshold_words(cp.week, cp.day, cp.threshold_pct, cp.state == MET)
    note = f"; {cp.note}" if cp.note else ""
    return f"{head}{fmt(cp.par_pct)}{tail}{note}"


@functools.lru_cache(maxsize=256)
def _threshold_words(week: int, day: int, threshold_pct: float, met: bool) -> tuple[str, str]:
    """The words of a checkpoint reason before and after its PAR, the same for
    most wounds of a clinic: written once."""
    head = f"week-{week} checkpoint {'met' if met else 'missed'}: PAR "
    if met:
        return head, f"% at day {day} >= {fmt(threshold_pct)}% threshold ({PAR_SOURCE})"
    return head, (
        f"% at day {day} < {fmt(threshold_pct)}% threshold ({PAR_SOURCE}): reassess the treatment"
    )


def _by_recent_change(c: Course, recurrence: list[str], methods: Sequence[str | None]) -> Verdict:
    """Step 4: on track or stalled by the change over the recent window."""
    rules = c.rules
    recent = recent_change(
        c.points,
        c.days,
        window_days=rules.recent_window_days,
        par_day=rules.par_day,
        threshold_pct=rules.par_threshold_pct,
    )
    window, needs = _pace_words(recent.window_days, recent.required_pct, rules.par_week)
    reason = (
        f"over the last {window} days the area {change_words(recent.change_pct)}"
        f" ({fmt_area(recent.from_area_cm2)} on day {fmt(recent.from_day)} ->"
        f" {fmt_area(recent.to_area_cm2)} on day {fmt(recent.to_day)}); {needs}"
    )
    status = ON_TRACK if recent.on_track else STALLED
    reasons = [reason, _checkpoint_reason(c.checkpoint)]
    compared, lately = c.checkpoint.comparison, recent.comparison
    if recurrence or methods or compared or lately:
        reasons = _join(
            reasons,
            recurrence,
            methods,
            [describe(compared, f"the week-{rules.par_week} checkpoint")] if compared else [],
            [describe(lately, "the recent change")] if lately else [],
        )
    return status, reasons, None, recent


@functools.lru_cache(maxsize=256)
def _pace_words(window_days: float, required_pct: float, week: int) -> tuple[str, str]:
    """(the window in days, what on track needs over it), as written in the
    reason: the same for most wounds of a clinic (its window and threshold), so
    written once."""
    window = fmt(window_days)
    return window, (
        f"on track needs a fall of {fmt(required_pct)}% over {window} days"
        f" (the week-{week} threshold as a pace; judgement)"
    )


def _young(c: Course) -> tuple[str, str]:
    """Step 5: (status, reason) before the checkpoint is due."""
    rules = c.rules
    latest_day = c.days[-1]
    week = rules.par_week
    young = f"followed for {fmt(latest_day)} days, less than {week} weeks"
    if latest_day < rules.min_days_for_trend:
        return INSUFFICIENT_DATA, (
            f"{young}; a trend needs at least {rules.min_days_for_trend} days of follow-up"
        )
    # Extrapolate with the exponential model (Cardinal 2009): the fraction of area
    # left at day t, At/A0, becomes (At/A0)^(28/t) at day 28. Unlike a straight
    # line this does not overstate later progress from a fast start.
    assert c.par_areas is not None  # two measurements or more
    baseline, latest = c.par_areas
    remaining = latest / baseline  # baseline > 0: growth from 0 is deteriorating
    projected = (1.0 - remaining ** (rules.par_day / latest_day)) * 100.0
    so_far = (1.0 - remaining) * 100.0
    threshold = rules.par_threshold_pct
    trend = (
        f"{young}; the area {change_words(so_far)} by day {fmt(latest_day)}, which the"
        f" exponential model (Cardinal 2009) extrapolates to {change_noun(projected)}"
        f" by week {week}"
    )
    if meets(projected, threshold):
        return ON_TRACK, f"{trend} >= {fmt(threshold)}% threshold ({PAR_SOURCE})"
    return INSUFFICIENT_DATA, (
        f"{trend} < {fmt(threshold)}% threshold; too early to call it stalled ({PAR_SOURCE})"
    )
