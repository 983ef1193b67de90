"""Radiotherapy dose: planned total, cumulative dose on a given date, and the
biologically effective dose of a course.

A course is a list of phases (e.g. the seed case: IMRT 400 cGy x 10, then a
stereotactic boost of 700 cGy x 3, 6100 cGy in all). The dose a patient had
received when a wound opened is read from the log of delivered fractions when
one exists, otherwise estimated from the planned schedule.

Physical dose alone does not compare schedules with different doses per
fraction (10 x 4 Gy + 3 x 7 Gy is not 30.5 x 2 Gy to skin). The
linear-quadratic model gives the biologically effective dose and its 2-Gy
equivalent (``biological_dose``):

    BED = sum over fractions of d (1 + d / (alpha/beta))  =  n d (1 + d / (alpha/beta))
    EQD2 = BED / (1 + 2 / (alpha/beta))

with d the dose per fraction in Gy and alpha/beta 10 Gy for acute skin
reactions (early-responding tissue) and 3 Gy for late effects (fibrosis,
telangiectasia). Sources: Fowler JF, The linear-quadratic formula and
progress in fractionated radiotherapy, Br J Radiol 1989;62:679-694; Joiner
MC, van der Kogel AJ (eds), Basic Clinical Radiobiology, 4th ed., 2009,
chapter 8. Overall treatment time (repopulation) is not modelled. The doses
are prescription doses (at the prescription point of the plan), not the dose
the skin received, which depends on beam energy, bolus and geometry; only an
in-vivo measurement says that.

Pure functions, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
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


# --- biologically effective dose ----------------------------------------------

ALPHA_BETA_ACUTE_GY = 10.0
ALPHA_BETA_LATE_GY = 3.0
PRESCRIPTION_NOTE = (
    "prescription dose (at the plan's prescription point), not measured skin dose;"
    " linear-quadratic model, no correction for overall treatment time"
)


def bed_gy(fraction_doses_gy: Iterable[float], alpha_beta_gy: float) -> float:
    """Biologically effective dose, Gy: sum of d (1 + d / (alpha/beta)) over the
    fractions (Fowler 1989). ValueError for a non-positive alpha/beta or a
    negative or non-finite fraction dose."""
    if not math.isfinite(alpha_beta_gy) or alpha_beta_gy <= 0:
        raise ValueError("alpha_beta_gy must be a positive number")
    total = 0.0
    for d in fraction_doses_gy:
        if not math.isfinite(d) or d < 0:
            raise ValueError("fraction doses must be finite numbers >= 0")
        total += d * (1 + d / alpha_beta_gy)
    return total


def eqd2_gy(bed: float, alpha_beta_gy: float) -> float:
    """Equivalent dose in 2-Gy fractions, Gy: BED / (1 + 2 / (alpha/beta))."""
    if not math.isfinite(alpha_beta_gy) or alpha_beta_gy <= 0:
        raise ValueError("alpha_beta_gy must be a positive number")
    return bed / (1 + 2 / alpha_beta_gy)


@dataclass(frozen=True)
class BiologicalDose:
    """Physical dose and its BED/EQD2 for acute (alpha/beta 10) and late
    (alpha/beta 3) effects, rounded to 0.1 Gy as doses are reported."""

    basis: str  # "prescription" (the phases) or "fraction_log" (delivered fractions)
    fractions: int
    physical_gy: float
    bed10_gy: float
    eqd2_10_gy: float
    bed3_gy: float
    eqd2_3_gy: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "basis": self.basis,
            "fractions": self.fractions,
            "physical_gy": self.physical_gy,
            "acute": {
                "alpha_beta_gy": ALPHA_BETA_ACUTE_GY,
                "bed_gy": self.bed10_gy,
                "eqd2_gy": self.eqd2_10_gy,
            },
            "late": {
                "alpha_beta_gy": ALPHA_BETA_LATE_GY,
                "bed_gy": self.bed3_gy,
                "eqd2_gy": self.eqd2_3_gy,
            },
            "note": PRESCRIPTION_NOTE,
        }


def biological_dose(fraction_doses_cgy: Sequence[float], basis: str) -> BiologicalDose:
    """BED and EQD2 (alpha/beta 10 and 3 Gy) of a course given as the dose of
    each fraction in cGy: the planned fractions (``prescription_fractions``) or
    the logged ones, each with its own dose, no schedule assumed.

    Source: Fowler 1989; Joiner & van der Kogel 2009 (module docstring). Seed
    course, 10 x 4 Gy + 3 x 7 Gy: physical 61.0 Gy, BED10 91.7 Gy, EQD2(10)
    76.4 Gy, BED3 163.3 Gy, EQD2(3) 98.0 Gy.
    """
    doses_gy = [d / 100 for d in fraction_doses_cgy]
    bed10 = bed_gy(doses_gy, ALPHA_BETA_ACUTE_GY)
    bed3 = bed_gy(doses_gy, ALPHA_BETA_LATE_GY)
    return BiologicalDose(
        basis=basis,
        fractions=len(doses_gy),
        physical_gy=round(math.fsum(doses_gy), 1),
        bed10_gy=round(bed10, 1),
        eqd2_10_gy=round(eqd2_gy(bed10, ALPHA_BETA_ACUTE_GY), 1),
        bed3_gy=round(bed3, 1),
        eqd2_3_gy=round(eqd2_gy(bed3, ALPHA_BETA_LATE_GY), 1),
    )


def prescription_fractions(phases: Sequence[PlannedPhase]) -> list[float]:
    """The dose of every planned fraction, cGy, phase by phase (n copies of d)."""
    return [float(p.dose_per_fraction_cgy) for p in phases for _ in range(p.fractions)]
