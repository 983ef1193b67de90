"""Systemic therapy schedules: cycles, days on drug, dose in force, exposure.

Oral targeted agents are often taken in intermittent cycles, e.g. anlotinib
12 mg once daily on days 1-14 of a 21-day cycle (2 weeks on, 1 week off; the
seed case, and the anlotinib label / ALTER0203 trial schedule). Anti-angiogenic
agents matter for wounds because VEGF inhibition impairs wound healing (labels of
bevacizumab and the VEGFR tyrosine kinase inhibitors carry wound-healing
warnings), so the service flags them and shows the days on drug beside the
wound's trajectory.

Conventions (judgement calls, stated once here):
- Cycles run on the calendar from start_date (day 1 of cycle 1); a hold does not
  shift the cycle clock. A restart on a new day 1 is a new schedule.
- stop_date is the last day of the course (inclusive). A change's effective_on is
  the first day it applies: "held" and "stopped" mean no drug from that day,
  "resumed" means drug again from that day (at a new dose when one is given).

Pure functions, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Agents whose labelled mechanism includes inhibition of VEGF / VEGFR signalling
# (FDA, EMA or NMPA labels). Lowercase generic names; salts and biosimilar
# suffixes are matched by is_anti_angiogenic.
ANTI_ANGIOGENIC_AGENTS: frozenset[str] = frozenset(
    {
        "aflibercept",
        "ziv-aflibercept",
        "anlotinib",
        "apatinib",
        "axitinib",
        "bevacizumab",
        "cabozantinib",
        "famitinib",
        "fruquintinib",
        "lenvatinib",
        "nintedanib",
        "pazopanib",
        "ponatinib",
        "ramucirumab",
        "regorafenib",
        "sorafenib",
        "sunitinib",
        "surufatinib",
        "tivozanib",
        "vandetanib",
    }
)

CHANGE_KINDS: tuple[str, ...] = ("dose_reduced", "held", "resumed", "stopped")


def is_anti_angiogenic(agent: str, extra: Iterable[str] = ()) -> bool:
    """Whether ``agent`` is a known anti-angiogenic (VEGF/VEGFR-inhibiting) drug.

    Case-insensitive; matches the whole name or its first word / hyphen part, so
    "Anlotinib hydrochloride" and "bevacizumab-awwb" (a biosimilar) count.
    ``extra`` adds clinic-specific names. Source: the agents' labelled mechanism
    (VEGF/VEGFR inhibition; e.g. anlotinib NMPA label, bevacizumab FDA label).
    """
    known = ANTI_ANGIOGENIC_AGENTS | {name.strip().lower() for name in extra}
    name = " ".join(agent.strip().lower().split())
    if not name:
        return False
    first_word = name.split(" ")[0]
    return bool({name, first_word, first_word.split("-")[0]} & known)


@dataclass(frozen=True)
class Change:
    """A change to a schedule from ``effective_on`` (see the module conventions)."""

    effective_on: date
    kind: str
    dose: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"effective_on": self.effective_on.isoformat(), "kind": self.kind, "dose": self.dose}


@dataclass(frozen=True)
class Schedule:
    """An intermittent regimen: ``dose`` daily for ``days_on`` days, then ``days_off``."""

    start_date: date
    stop_date: date | None
    days_on: int
    days_off: int
    dose: float
    changes: tuple[Change, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "start_date": self.start_date.isoformat(),
            "stop_date": self.stop_date.isoformat() if self.stop_date else None,
            "days_on": self.days_on,
            "days_off": self.days_off,
            "dose": self.dose,
            "changes": [c.to_dict() for c in self.changes],
        }


def _sorted_changes(s: Schedule) -> list[Change]:
    """Changes in date order; same-day changes keep the order they were recorded in."""
    return sorted(s.changes, key=lambda c: c.effective_on)


def validate_schedule(s: Schedule) -> None:  # noqa: C901 - one branch per documented rule, in order
    """Raise ValueError naming the first rule ``s`` breaks.

    Rules: days_on >= 1; days_off >= 0; dose > 0 (finite); stop_date >= start_date;
    every change has a known kind and is not before start_date; dose_reduced (and
    resumed, when it names a dose) needs a positive dose; no hold while already held;
    resumed only after a hold; nothing after stopped. These are consistency rules
    of the record, not clinical guidance.
    """
    if s.days_on < 1:
        raise ValueError("days_on must be at least 1")
    if s.days_off < 0:
        raise ValueError("days_off must be 0 or more")
    if not math.isfinite(s.dose) or s.dose <= 0:
        raise ValueError("dose must be a positive number")
    if s.stop_date is not None and s.stop_date < s.start_date:
        raise ValueError("stop_date must not be before start_date")
    held = False
    stopped = False
    for change in _sorted_changes(s):
        if change.kind not in CHANGE_KINDS:
            raise ValueError(
                f"unknown change kind {change.kind!r}; expected one of {', '.join(CHANGE_KINDS)}"
            )
        if change.effective_on < s.start_date:
            raise ValueError(
                f"{change.kind} change on {change.effective_on.isoformat()} is before the"
                f" start_date {s.start_date.isoformat()}"
            )
        if stopped:
            raise ValueError(f"{change.kind} change after the schedule was stopped")
        needs_dose = change.kind == "dose_reduced" or (
            change.kind == "resumed" and change.dose is not None
        )
        if needs_dose and (
            change.dose is None or not math.isfinite(change.dose) or change.dose <= 0
        ):
            raise ValueError(f"{change.kind} change needs a positive dose")
        if change.kind == "held":
            if held:
                raise ValueError("held change while already held")
            held = True
        elif change.kind == "resumed":
            if not held:
                raise ValueError("resumed change without an earlier hold")
            held = False
        elif change.kind == "stopped":
            stopped = True


def last_day(s: Schedule) -> date | None:
    """Last day of the course (inclusive): stop_date, or the day before a
    'stopped' change, whichever comes first; None for an open-ended course."""
    ends = [c.effective_on - timedelta(days=1) for c in s.changes if c.kind == "stopped"]
    if s.stop_date is not None:
        ends.append(s.stop_date)
    return min(ends) if ends else None


def _in_course(s: Schedule, on: date) -> bool:
    last = last_day(s)
    return s.start_date <= on and (last is None or on <= last)


def cycle_number(s: Schedule, on: date) -> int | None:
    """1-based cycle containing ``on``; None outside the course.

    Cycle length is days_on + days_off, day 1 of cycle 1 is start_date (calendar
    cycles; holds do not shift them). Seed case, 14 on / 7 off: days 1-21 are
    cycle 1, day 22 starts cycle 2.
    """
    validate_schedule(s)
    if not _in_course(s, on):
        return None
    return (on - s.start_date).days // (s.days_on + s.days_off) + 1


def _held_on(changes: Sequence[Change], on: date) -> bool:
    """Whether the latest hold/resume change in force on ``on`` is a hold
    (``changes`` in date order, as _sorted_changes)."""
    held = False
    for change in changes:
        if change.effective_on > on:
            break
        if change.kind == "held":
            held = True
        elif change.kind == "resumed":
            held = False
    return held


def _on_drug(s: Schedule, changes: Sequence[Change], last: date | None, on: date) -> bool:
    """on_drug for a schedule already validated, its changes sorted and its last day known."""
    if on < s.start_date or (last is not None and on > last):
        return False
    day_in_cycle = (on - s.start_date).days % (s.days_on + s.days_off)
    return day_in_cycle < s.days_on and not _held_on(changes, on)


def _dose_on(s: Schedule, changes: Sequence[Change], last: date | None, on: date) -> float | None:
    """dose_on for a schedule already validated, its changes sorted and its last day known."""
    if not _on_drug(s, changes, last, on):
        return None
    dose = s.dose
    for change in changes:
        if change.effective_on > on:
            break
        if change.dose is not None and change.kind in ("dose_reduced", "resumed"):
            dose = change.dose
    return dose


def on_drug(s: Schedule, on: date) -> bool:
    """Whether the patient takes the drug on ``on``.

    True inside the course (start_date to stop_date / stopped), on days 1..days_on
    of the cycle, and not held by a change in force. Schedule as prescribed,
    e.g. anlotinib 14 days on / 7 off: day 14 on, day 15 off, day 22 on.
    """
    validate_schedule(s)
    return _on_drug(s, _sorted_changes(s), last_day(s), on)


def dose_on(s: Schedule, on: date) -> float | None:
    """Dose taken on ``on``: the starting dose, replaced by each dose_reduced (or
    resumed-with-dose) change in force; None when not on drug that day.

    Source: the prescription and its recorded changes (dose reductions for
    toxicity, as in the anlotinib label's 12 -> 10 -> 8 mg steps).
    """
    validate_schedule(s)
    return _dose_on(s, _sorted_changes(s), last_day(s), on)


def doses_on(s: Schedule, days: Iterable[date]) -> list[float | None]:
    """``[dose_on(s, day) for day in days]``, checking the schedule once.

    For callers asking about many days of one schedule (e.g. the on-drug bands
    over a wound's healing period): the same answers as dose_on (same source),
    without validating the schedule and sorting its changes again for each day.
    ValueError as validate_schedule.
    """
    validate_schedule(s)
    changes = _sorted_changes(s)
    last = last_day(s)
    return [_dose_on(s, changes, last, day) for day in days]


def _days(start: date, end: date) -> Iterable[date]:
    if end < start:
        raise ValueError("end must not be before start")
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def exposure_days(s: Schedule, start: date, end: date) -> int:
    """Number of days on drug in [start, end], both inclusive (see on_drug).

    Exposure in drug-days, the usual measure of dose intensity in the window
    before and during a wound. Raises ValueError when end < start.
    """
    return sum(1 for day in _days(start, end) if on_drug(s, day))


def on_off_bands(s: Schedule, start: date, end: date) -> list[tuple[date, date, float | None]]:
    """Contiguous bands covering [start, end] for charts: (band_start, band_end, dose).

    Every day falls in exactly one band; consecutive days with the same dose_on
    share a band, and off-drug days (including outside the course) have dose None.
    Derived from on_drug / dose_on. Raises ValueError when end < start.
    """
    bands: list[tuple[date, date, float | None]] = []
    for day in _days(start, end):
        dose = dose_on(s, day)
        if bands and bands[-1][2] == dose:
            bands[-1] = (bands[-1][0], day, dose)
        else:
            bands.append((day, day, dose))
    return bands


def find_overlap(schedules: Sequence[Schedule]) -> tuple[Schedule, Schedule] | None:
    """The first pair of schedules whose courses overlap in time, or None.

    The caller passes schedules of one agent: the same agent twice at once is a
    recording error (a dose change belongs in a Change, not a second schedule).
    A course without stop_date or 'stopped' change is open-ended.
    """
    for i, first in enumerate(schedules):
        first_end = last_day(first)
        for second in schedules[i + 1 :]:
            second_end = last_day(second)
            starts_before_second_ends = second_end is None or first.start_date <= second_end
            ends_after_second_starts = first_end is None or second.start_date <= first_end
            if starts_before_second_ends and ends_after_second_starts:
                return first, second
    return None


def overlapping(schedules: Sequence[Schedule]) -> bool:
    """Whether any two of ``schedules`` (one agent's) overlap in time; see find_overlap."""
    return find_overlap(schedules) is not None


def schedule_bands(s: Schedule, start: date, end: date) -> list[tuple[date, date, float | None]]:
    """``on_off_bands(s, start, end)``, without walking every day.

    dose_on is constant between the days where the schedule can change: the
    course's first day and the day after its last, each cycle's first day and
    first day off, and each change's date. So dose_on is asked only on those
    days (and on ``start``), and each answer covers the days up to the next one:
    the same bands (same source as dose_on) for a fraction of the work over a
    healing period of months. ValueError as on_off_bands (invalid schedule,
    checked first; end < start).
    """
    validate_schedule(s)
    if end < start:
        raise ValueError("end must not be before start")
    one = timedelta(days=1)
    edges = {start, s.start_date, *(c.effective_on for c in s.changes)}
    last = last_day(s)
    if last is not None:
        edges.add(last + one)
    length = s.days_on + s.days_off
    # The first cycle start on or before ``start`` (the course start when later).
    cycle = s.start_date + timedelta(days=max(0, (start - s.start_date).days // length) * length)
    while cycle <= end:
        edges.add(cycle)
        edges.add(cycle + timedelta(days=s.days_on))
        cycle += timedelta(days=length)
    days = sorted(d for d in edges if start <= d <= end)
    changes = _sorted_changes(s)
    bands: list[tuple[date, date, float | None]] = []
    for i, day in enumerate(days):
        dose = _dose_on(s, changes, last, day)
        until = days[i + 1] - one if i + 1 < len(days) else end
        if bands and bands[-1][2] == dose:
            bands[-1] = (bands[-1][0], until, dose)
        else:
            bands.append((day, until, dose))
    return bands


def days_covered(bands: Iterable[tuple[date, date]]) -> int:
    """Calendar days in the union of inclusive (first day, last day) bands.

    A day inside several bands counts once (two anti-angiogenic agents taken on
    the same day are one day of exposure); a band whose last day is before its
    first covers nothing. Bands may come in any order.
    """
    days = 0
    counted_to: date | None = None  # the last day already counted
    for first, last in sorted(bands):
        if counted_to is not None and first <= counted_to:
            first = counted_to + timedelta(days=1)
        if last >= first:
            days += (last - first).days + 1
            counted_to = last
    return days


def on_drug_bands(s: Schedule, start: date, end: date) -> list[tuple[date, date]]:
    """The bands of [start, end] on which ``s`` is on drug (see on_drug), as
    inclusive (first day, last day) pairs in date order: schedule_bands without
    the off-drug gaps and the doses. ValueError as schedule_bands."""
    return [(b0, b1) for b0, b1, dose in schedule_bands(s, start, end) if dose is not None]


def union_exposure_days(schedules: Iterable[Schedule], start: date, end: date) -> int:
    """Calendar days in [start, end] (both inclusive) on which at least one of
    ``schedules`` is on drug (see on_drug); a day on two drugs counts once.

    The count of ``{day for day in window if any(on_drug(s, day) for s in
    schedules)}`` from the on-drug bands, without walking the days. An empty
    window (end < start) or no schedules has 0 days. ValueError for an invalid
    schedule when the window is not empty (as on_drug).
    """
    if end < start:
        return 0
    return days_covered(band for s in schedules for band in on_drug_bands(s, start, end))


def cycles_in(s: Schedule, start: date, end: date) -> list[tuple[int, date, date]]:
    """The cycles of ``s`` touching [start, end], as (number, first day, last day),
    each clipped to the window and to the course (start_date to last_day).

    Numbers as cycle_number (calendar cycles of days_on + days_off from
    start_date; holds do not shift them). Empty when the window and the course
    do not meet. ValueError as validate_schedule.
    """
    validate_schedule(s)
    last = last_day(s)
    lo = max(start, s.start_date)
    hi = end if last is None else min(end, last)
    if hi < lo:
        return []
    length = s.days_on + s.days_off
    out: list[tuple[int, date, date]] = []
    number = (lo - s.start_date).days // length + 1
    cycle_start = s.start_date + timedelta(days=(number - 1) * length)
    while cycle_start <= hi:
        cycle_end = cycle_start + timedelta(days=length - 1)
        out.append((number, max(cycle_start, lo), min(cycle_end, hi)))
        number += 1
        cycle_start += timedelta(days=length)
    return out
