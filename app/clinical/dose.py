"""Radiotherapy dose: planned total and cumulative dose on a given date.

A course is a list of phases (e.g. the seed case: IMRT 400 cGy x 10, then a
stereotactic boost of 700 cGy x 3, 6100 cGy in all). The dose a patient had
received when a wound opened is read from the log of delivered fractions when
one exists, otherwise estimated from the planned schedule.

Pure functions, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

DoseSource = Literal["fraction_log", "planned_schedule"]


@dataclass(frozen=True)
class Phase:
    """One phase of a radiotherapy course: ``fractions`` x ``dose_per_fraction_cgy``.

    ``start_date`` is the date of the phase's first fraction; None means the phase
    follows the previous one (or the course start) without a gap.
    """

    technique: str
    dose_per_fraction_cgy: float
    fractions: int
    start_date: date | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.dose_per_fraction_cgy) or self.dose_per_fraction_cgy < 0:
            raise ValueError("dose_per_fraction_cgy must be a finite number >= 0")
        if self.fractions < 0:
            raise ValueError("fractions must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "technique": self.technique,
            "dose_per_fraction_cgy": self.dose_per_fraction_cgy,
            "fractions": self.fractions,
            "start_date": self.start_date.isoformat() if self.start_date else None,
        }


@dataclass(frozen=True)
class Fraction:
    """A delivered fraction, as logged by the radiotherapy department."""

    delivered_on: date
    dose_cgy: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.dose_cgy) or self.dose_cgy < 0:
            raise ValueError("dose_cgy must be a finite number >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"delivered_on": self.delivered_on.isoformat(), "dose_cgy": self.dose_cgy}


@dataclass(frozen=True)
class DoseAtDate:
    """Cumulative dose received by the end of ``on``, and where the figure came from.

    ``during_course`` / ``after_course`` are None when the course dates needed to
    tell are unknown; ``note`` explains estimates and unknowns.
    """

    on: date
    cumulative_dose_cgy: float
    fraction_number: int
    source: DoseSource
    during_course: bool | None
    after_course: bool | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "on": self.on.isoformat(),
            "cumulative_dose_cgy": self.cumulative_dose_cgy,
            "fraction_number": self.fraction_number,
            "source": self.source,
            "during_course": self.during_course,
            "after_course": self.after_course,
            "note": self.note,
        }


class PlannedPhase(Protocol):
    """What the planned total reads of a phase: a Phase, or a stored phase row."""

    @property
    def dose_per_fraction_cgy(self) -> float: ...

    @property
    def fractions(self) -> int: ...


def planned_total_dose(phases: Sequence[PlannedPhase]) -> float:
    """Total prescribed dose in cGy: sum of dose per fraction x fractions over phases.

    Source: the prescription itself (ICRU Report 50/62 convention of reporting
    dose per fraction and number of fractions). Seed case: 400 x 10 + 700 x 3 = 6100.
    """
    return float(sum(p.dose_per_fraction_cgy * p.fractions for p in phases))


def _next_weekday(day: date) -> date:
    """``day`` itself when Monday-Friday, else the following Monday."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def planned_fraction_dates(
    phases: Sequence[Phase], course_start: date | None
) -> list[tuple[date, float]]:
    """Expected (date, dose) of every planned fraction: one per weekday, no holidays.

    Conventional external-beam radiotherapy is delivered once daily, five days a
    week (ICRU; the seed report: "once a day, five times a week"). A phase starts
    on its own start_date, or on the weekday after the previous phase's last
    fraction, the first phase on course_start; a start on a weekend moves to the
    Monday. Raises ValueError when a phase's start cannot be determined.
    """
    result: list[tuple[date, float]] = []
    previous_last: date | None = None
    for index, phase in enumerate(phases):
        if phase.start_date is not None:
            day = _next_weekday(phase.start_date)
        elif previous_last is not None:
            day = _next_weekday(previous_last + timedelta(days=1))
        elif index == 0 and course_start is not None:
            day = _next_weekday(course_start)
        else:
            raise ValueError(
                f"cannot estimate the schedule: phase {index + 1} ({phase.technique}) has no"
                " start_date and no earlier phase or course start to follow"
            )
        for _ in range(phase.fractions):
            result.append((day, phase.dose_per_fraction_cgy))
            previous_last = day
            day = _next_weekday(day + timedelta(days=1))
    return result


def _course_position(
    on: date, start: date | None, end: date | None
) -> tuple[bool | None, bool | None]:
    """(during_course, after_course) for ``on`` given the course's first and last day."""
    if start is not None and on < start:
        return False, False
    if end is not None and on > end:
        return False, True
    if start is not None and end is not None:
        return True, False
    return None, None


def cumulative_dose_on(
    on: date,
    *,
    fractions: Sequence[Fraction],
    phases: Sequence[Phase],
    course_start: date | None,
    course_end: date | None,
) -> DoseAtDate:
    """Cumulative radiotherapy dose (cGy) delivered by the end of ``on``.

    From the fraction log when it has entries: count and sum the fractions
    delivered on or before ``on`` (source "fraction_log"). Otherwise estimate from
    the planned phases assuming one fraction per weekday, Monday to Friday, no
    holidays (see planned_fraction_dates; source "planned_schedule", said in note).
    Dose is reported as prescribed (physical dose, no EQD2/BED conversion).

    The course runs from course_start (else the first logged or planned fraction)
    to course_end (else the last planned fraction, or for a log the last logged
    fraction once as many fractions as planned are logged); when an end cannot be
    known, during_course and after_course are None for dates after the start.
    Seed case: IMRT 400 x 10 then SRT 700 x 3 -> 6100 cGy, fraction 13 of 13.
    Raises ValueError when there is no log and the schedule cannot be placed.
    """
    planned_count = sum(p.fractions for p in phases)
    notes: list[str] = []
    source: DoseSource
    start: date | None
    end: date | None
    if fractions:
        source = "fraction_log"
        delivered = sorted(fractions, key=lambda f: f.delivered_on)
        upto = [f for f in delivered if f.delivered_on <= on]
        dose = float(sum(f.dose_cgy for f in upto))
        number = len(upto)
        start = course_start or delivered[0].delivered_on
        end = course_end
        if end is None and planned_count and len(delivered) >= planned_count:
            end = delivered[-1].delivered_on
        if planned_count:
            notes.append(f"fraction {number} of {planned_count} planned, from the fraction log")
        else:
            notes.append(f"{number} fractions from the fraction log; no plan recorded")
    else:
        source = "planned_schedule"
        schedule = planned_fraction_dates(phases, course_start)
        upto_planned = [dose for day, dose in schedule if day <= on]
        dose = float(sum(upto_planned))
        number = len(upto_planned)
        start = course_start or (schedule[0][0] if schedule else None)
        end = course_end or (schedule[-1][0] if schedule else None)
        notes.append(
            f"estimated from the planned schedule (no fractions logged), assuming one fraction"
            f" per weekday Mon-Fri without holidays: fraction {number} of {planned_count}"
        )
    during, after = _course_position(on, start, end)
    if during is None:
        notes.append(
            "course start or end unknown: cannot tell whether the date is during or after it"
        )
    return DoseAtDate(
        on=on,
        cumulative_dose_cgy=dose,
        fraction_number=number,
        source=source,
        during_course=during,
        after_course=after,
        note="; ".join(notes),
    )
