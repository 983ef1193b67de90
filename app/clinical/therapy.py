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


def validate_schedule(s: Schedule) -> None:
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


def _last_day(s: Schedule) -> date | None:
    """Last day of the course: stop_date, or the day before a 'stopped' change."""
    ends = [c.effective_on - timedelta(days=1) for c in s.changes if c.kind == "stopped"]
    if s.stop_date is not None:
        ends.append(s.stop_date)
    return min(ends) if ends else None


def _in_course(s: Schedule, on: date) -> bool:
    last = _last_day(s)
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
    return _on_drug(s, _sorted_changes(s), _last_day(s), on)


def dose_on(s: Schedule, on: date) -> float | None:
    """Dose taken on ``on``: the starting dose, replaced by each dose_reduced (or
    resumed-with-dose) change in force; None when not on drug that day.

    Source: the prescription and its recorded changes (dose reductions for
    toxicity, as in the anlotinib label's 12 -> 10 -> 8 mg steps).
    """
    validate_schedule(s)
    return _dose_on(s, _sorted_changes(s), _last_day(s), on)


def doses_on(s: Schedule, days: Iterable[date]) -> list[float | None]:
    """``[dose_on(s, day) for day in days]``, checking the schedule once.

    For callers asking about many days of one schedule (e.g. the on-drug bands
    over a wound's healing period): the same answers as dose_on (same source),
    without validating the schedule and sorting its changes again for each day.
    ValueError as validate_schedule.
    """
    validate_schedule(s)
    changes = _sorted_changes(s)
    last = _last_day(s)
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
        first_end = _last_day(first)
        for second in schedules[i + 1 :]:
            second_end = _last_day(second)
            starts_before_second_ends = second_end is None or first.start_date <= second_end
            ends_after_second_starts = first_end is None or second.start_date <= first_end
            if starts_before_second_ends and ends_after_second_starts:
                return first, second
    return None


def overlapping(schedules: Sequence[Schedule]) -> bool:
    """Whether any two of ``schedules`` (one agent's) overlap in time; see find_overlap."""
    return find_overlap(schedules) is not None
