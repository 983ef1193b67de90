"""Radiotherapy dose on a date, from the fraction log or the plan (app.clinical.dose)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from app.clinical.dose import (
    PRESCRIPTION_NOTE,
    DoseAtDate,
    Fraction,
    Phase,
    bed_gy,
    biological_dose,
    cumulative_dose_on,
    eqd2_gy,
    planned_fraction_dates,
    planned_total_dose,
    prescription_fractions,
)

# Seed case: IMRT 400 cGy x 10 then a stereotactic boost 700 cGy x 3 = 6100 cGy.
IMRT = Phase(technique="imrt", dose_per_fraction_cgy=400.0, fractions=10, start_date=None)
SRT = Phase(technique="srt", dose_per_fraction_cgy=700.0, fractions=3, start_date=None)
SEED_PHASES = (IMRT, SRT)
MONDAY = date(2022, 5, 16)  # a Monday

# Weekday fractions from Mon 16 May: IMRT 16-20 and 23-27 May; SRT 30, 31 May, 1 June.
SEED_DAYS = [
    *(date(2022, 5, d) for d in (16, 17, 18, 19, 20, 23, 24, 25, 26, 27)),
    date(2022, 5, 30),
    date(2022, 5, 31),
    date(2022, 6, 1),
]
SEED_LOG = tuple(
    Fraction(delivered_on=day, dose_cgy=400.0 if i < 10 else 700.0)
    for i, day in enumerate(SEED_DAYS)
)


def test_planned_total_dose_of_seed_case() -> None:
    # 400 x 10 + 700 x 3 = 4000 + 2100 = 6100
    assert planned_total_dose(SEED_PHASES) == 6100.0
    assert planned_total_dose(()) == 0.0


def test_planned_dates_skip_weekends_and_chain_phases() -> None:
    schedule = planned_fraction_dates(SEED_PHASES, MONDAY)
    assert [day for day, _ in schedule] == SEED_DAYS
    assert [dose for _, dose in schedule] == [400.0] * 10 + [700.0] * 3


def test_weekend_start_moves_to_monday() -> None:
    saturday = date(2022, 5, 14)
    phase = Phase("electron", 200.0, 2, start_date=saturday)
    assert [d for d, _ in planned_fraction_dates([phase], None)] == [
        date(2022, 5, 16),
        date(2022, 5, 17),
    ]


def test_explicit_phase_start_leaves_a_gap() -> None:
    boost = Phase("srt", 700.0, 3, start_date=date(2022, 6, 6))
    days = [d for d, _ in planned_fraction_dates([IMRT, boost], MONDAY)]
    assert days[9] == date(2022, 5, 27)
    assert days[10:] == [date(2022, 6, 6), date(2022, 6, 7), date(2022, 6, 8)]


def test_schedule_without_any_start_cannot_be_estimated() -> None:
    with pytest.raises(ValueError, match=r"phase 1 \(imrt\) has no start_date"):
        planned_fraction_dates(SEED_PHASES, None)


def test_seed_case_from_fraction_log_after_13th_fraction() -> None:
    result = cumulative_dose_on(
        date(2022, 6, 1),
        fractions=SEED_LOG,
        phases=SEED_PHASES,
        course_start=MONDAY,
        course_end=date(2022, 6, 1),
    )
    assert result.cumulative_dose_cgy == 6100.0
    assert result.fraction_number == 13
    assert result.source == "fraction_log"
    assert result.during_course is True
    assert result.after_course is False
    assert result.note == "fraction 13 of 13 planned, from the fraction log"


def test_fraction_log_during_course_counts_on_or_before_the_date() -> None:
    # Out-of-order log; by Wed 25 May: 8 IMRT fractions = 3200 cGy
    result = cumulative_dose_on(
        date(2022, 5, 25),
        fractions=tuple(reversed(SEED_LOG)),
        phases=SEED_PHASES,
        course_start=None,
        course_end=None,
    )
    assert (result.cumulative_dose_cgy, result.fraction_number) == (3200.0, 8)
    # start = first logged fraction; all 13 planned are logged, so the end = the last one
    assert result.during_course is True
    assert result.after_course is False


def test_fraction_log_partial_with_unknown_end() -> None:
    result = cumulative_dose_on(
        date(2022, 5, 20),
        fractions=SEED_LOG[:5],
        phases=SEED_PHASES,
        course_start=None,
        course_end=None,
    )
    assert (result.cumulative_dose_cgy, result.fraction_number) == (2000.0, 5)
    assert result.during_course is None
    assert result.after_course is None
    assert result.note is not None
    assert "course start or end unknown" in result.note


def test_fraction_log_after_course_uses_last_logged_fraction_as_end() -> None:
    result = cumulative_dose_on(
        date(2022, 6, 20),
        fractions=SEED_LOG,
        phases=SEED_PHASES,
        course_start=None,
        course_end=None,
    )
    assert result.cumulative_dose_cgy == 6100.0
    assert result.during_course is False
    assert result.after_course is True


def test_fraction_log_before_course_is_zero() -> None:
    result = cumulative_dose_on(
        date(2022, 5, 1),
        fractions=SEED_LOG,
        phases=SEED_PHASES,
        course_start=MONDAY,
        course_end=None,
    )
    assert (result.cumulative_dose_cgy, result.fraction_number) == (0.0, 0)
    assert (result.during_course, result.after_course) == (False, False)


def test_fraction_log_without_a_plan() -> None:
    result = cumulative_dose_on(
        date(2022, 5, 17),
        fractions=SEED_LOG[:2],
        phases=(),
        course_start=None,
        course_end=None,
    )
    assert result.cumulative_dose_cgy == 800.0
    assert result.note is not None
    assert result.note.startswith("2 fractions from the fraction log; no plan recorded")


@pytest.mark.parametrize(
    ("on", "dose", "number", "during", "after"),
    [
        (date(2022, 5, 13), 0.0, 0, False, False),  # Friday before the course
        (date(2022, 5, 16), 400.0, 1, True, False),  # first day
        # Sat 21 May: 5 fractions x 400 = 2000, weekend adds nothing
        (date(2022, 5, 21), 2000.0, 5, True, False),
        # Tue 31 May: 10 x 400 + 2 x 700 = 4000 + 1400 = 5400
        (date(2022, 5, 31), 5400.0, 12, True, False),
        (date(2022, 6, 1), 6100.0, 13, True, False),
        (date(2022, 6, 2), 6100.0, 13, False, True),
    ],
)
def test_planned_schedule_estimate(
    on: date, dose: float, number: int, during: bool, after: bool
) -> None:
    result = cumulative_dose_on(
        on, fractions=(), phases=SEED_PHASES, course_start=MONDAY, course_end=None
    )
    assert result.source == "planned_schedule"
    assert result.cumulative_dose_cgy == dose
    assert result.fraction_number == number
    assert (result.during_course, result.after_course) == (during, after)
    assert result.note is not None
    assert "one fraction per weekday" in result.note
    assert f"fraction {number} of 13" in result.note


def test_planned_schedule_respects_a_recorded_course_end() -> None:
    # The course was recorded as ending later than the plan implies (e.g. a break).
    result = cumulative_dose_on(
        date(2022, 6, 3),
        fractions=(),
        phases=SEED_PHASES,
        course_start=MONDAY,
        course_end=date(2022, 6, 10),
    )
    assert result.during_course is True
    assert result.cumulative_dose_cgy == 6100.0


def test_planned_schedule_with_nothing_planned() -> None:
    result = cumulative_dose_on(
        date(2022, 6, 3), fractions=(), phases=(), course_start=None, course_end=None
    )
    assert (result.cumulative_dose_cgy, result.fraction_number) == (0.0, 0)
    assert (result.during_course, result.after_course) == (None, None)


def test_seed_onset_after_13th_fraction_planned_equals_logged() -> None:
    # The ulcer opened after the 13th fraction; both sources agree on 6100 cGy.
    onset = date(2022, 6, 1) + timedelta(days=3)
    planned = cumulative_dose_on(
        onset, fractions=(), phases=SEED_PHASES, course_start=MONDAY, course_end=None
    )
    logged = cumulative_dose_on(
        onset, fractions=SEED_LOG, phases=SEED_PHASES, course_start=MONDAY, course_end=None
    )
    assert planned.cumulative_dose_cgy == logged.cumulative_dose_cgy == 6100.0
    assert planned.after_course is logged.after_course is True


def test_invalid_phase_and_fraction_values() -> None:
    with pytest.raises(ValueError, match="dose_per_fraction_cgy"):
        Phase("imrt", -1.0, 10, None)
    with pytest.raises(ValueError, match="dose_per_fraction_cgy"):
        Phase("imrt", float("nan"), 10, None)
    with pytest.raises(ValueError, match="fractions"):
        Phase("imrt", 200.0, -1, None)
    with pytest.raises(ValueError, match="dose_cgy"):
        Fraction(date(2022, 5, 16), -200.0)


def test_to_dict_is_json_ready() -> None:
    assert Phase("srt", 700.0, 3, date(2022, 5, 30)).to_dict() == {
        "technique": "srt",
        "dose_per_fraction_cgy": 700.0,
        "fractions": 3,
        "start_date": "2022-05-30",
    }
    assert IMRT.to_dict()["start_date"] is None
    assert SEED_LOG[0].to_dict() == {"delivered_on": "2022-05-16", "dose_cgy": 400.0}
    result = DoseAtDate(date(2022, 6, 1), 6100.0, 13, "fraction_log", True, False, None)
    assert result.to_dict() == {
        "on": "2022-06-01",
        "cumulative_dose_cgy": 6100.0,
        "fraction_number": 13,
        "source": "fraction_log",
        "during_course": True,
        "after_course": False,
        "note": None,
    }


# --- BED / EQD2 (Fowler 1989; Joiner & van der Kogel 2009) ----------------------


def test_seed_course_bed_and_eqd2() -> None:
    """10 x 4 Gy + 3 x 7 Gy. alpha/beta 10: 10*4*(1+0.4) + 3*7*(1+0.7) = 56 + 35.7 =
    91.7 Gy; EQD2 = 91.7 / 1.2 = 76.4 Gy. alpha/beta 3: 40*(1+4/3) + 21*(1+7/3) =
    93.33 + 70 = 163.3 Gy; EQD2 = 163.33 / (5/3) = 98.0 Gy."""
    phases = [Phase("imrt", 400, 10), Phase("srt", 700, 3)]
    got = biological_dose(prescription_fractions(phases), "prescription")
    assert got.fractions == 13 and got.physical_gy == 61.0
    assert (got.bed10_gy, got.eqd2_10_gy) == (91.7, 76.4)
    assert (got.bed3_gy, got.eqd2_3_gy) == (163.3, 98.0)
    assert got.to_dict() == {
        "basis": "prescription",
        "fractions": 13,
        "physical_gy": 61.0,
        "acute": {"alpha_beta_gy": 10.0, "bed_gy": 91.7, "eqd2_gy": 76.4},
        "late": {"alpha_beta_gy": 3.0, "bed_gy": 163.3, "eqd2_gy": 98.0},
        "note": PRESCRIPTION_NOTE,
    }
    assert "not measured skin dose" in PRESCRIPTION_NOTE


def test_two_gray_fractions_are_their_own_eqd2() -> None:
    got = biological_dose([200.0] * 25, "prescription")
    assert got.physical_gy == got.eqd2_10_gy == got.eqd2_3_gy == 50.0
    assert got.bed10_gy == 60.0 and got.bed3_gy == 83.3


def test_formulas_on_plain_values() -> None:
    assert bed_gy([4.0], 10) == pytest.approx(5.6)
    assert bed_gy([2.0, 3.0], 3) == pytest.approx(2 * (1 + 2 / 3) + 3 * (1 + 1))
    assert bed_gy([], 10) == 0.0
    assert eqd2_gy(60.0, 10) == pytest.approx(50.0)
    assert eqd2_gy(10.0, 2) == pytest.approx(5.0)


@pytest.mark.parametrize("alpha_beta", [0.0, -3.0, math.nan, math.inf])
def test_alpha_beta_must_be_positive(alpha_beta: float) -> None:
    with pytest.raises(ValueError, match="alpha_beta_gy"):
        bed_gy([2.0], alpha_beta)
    with pytest.raises(ValueError, match="alpha_beta_gy"):
        eqd2_gy(2.0, alpha_beta)


@pytest.mark.parametrize("dose", [-1.0, math.nan, math.inf])
def test_fraction_doses_must_be_finite_and_non_negative(dose: float) -> None:
    with pytest.raises(ValueError, match="fraction doses"):
        bed_gy([2.0, dose], 10)


def test_a_log_counts_each_fraction_at_its_own_dose() -> None:
    """A logged course is summed fraction by fraction: a boost given as 2 x 7 Gy
    and one 5 Gy fraction is not assumed to follow the plan."""
    logged = [400.0] * 10 + [700.0, 700.0, 500.0]
    got = biological_dose(logged, "fraction_log")
    assert got.basis == "fraction_log" and got.fractions == 13
    assert got.bed10_gy == round(56 + 2 * 11.9 + 5 * 1.5, 1)


def test_alpha_beta_below_one_is_still_a_positive_number() -> None:
    # Prostate-like alpha/beta values below 1 Gy are used; only <= 0 is refused.
    assert bed_gy([2.0], 0.5) == pytest.approx(10.0)
    assert eqd2_gy(10.0, 0.5) == pytest.approx(2.0)


def test_error_messages_in_full() -> None:
    with pytest.raises(ValueError, match=r"^alpha_beta_gy must be a positive number$"):
        bed_gy([2.0], 0)
    with pytest.raises(ValueError, match=r"^alpha_beta_gy must be a positive number$"):
        eqd2_gy(2.0, 0)
    with pytest.raises(ValueError, match=r"^fraction doses must be finite numbers >= 0$"):
        bed_gy([-1.0], 10)


def test_zero_and_small_fraction_doses_count() -> None:
    assert bed_gy([0.0], 10) == 0.0
    assert bed_gy([0.5], 10) == pytest.approx(0.525)


def test_every_figure_is_rounded_to_a_tenth_of_a_gray() -> None:
    """One fraction of 1.43 Gy: each figure differs between 0, 1 and 2 decimals."""
    got = biological_dose([143.0], "prescription")
    assert (got.physical_gy, got.bed10_gy, got.eqd2_10_gy, got.bed3_gy, got.eqd2_3_gy) == (
        1.4,
        1.6,
        1.4,
        2.1,
        1.3,
    )


# --- edges of the validation and of the course's dates (mutation testing) ---------


def test_zero_and_small_doses_and_counts_are_valid() -> None:
    # ">= 0": a phase or fraction of 0 (or under 1 cGy) is not refused.
    assert Phase("imrt", 0.0, 0).fractions == 0
    assert Phase("imrt", 0.5, 1).dose_per_fraction_cgy == 0.5
    assert Fraction(date(2022, 5, 16), 0.0).dose_cgy == 0.0
    assert Fraction(date(2022, 5, 16), 0.5).dose_cgy == 0.5
    assert Fraction(date(2022, 5, 16), 200.0).to_dict()["dose_cgy"] == 200.0


def test_validation_messages_in_full() -> None:
    with pytest.raises(ValueError, match=r"^dose_per_fraction_cgy must be a finite number >= 0$"):
        Phase("imrt", -1.0, 1)
    with pytest.raises(ValueError, match=r"^fractions must be >= 0$"):
        Phase("imrt", 200.0, -1)
    with pytest.raises(ValueError, match=r"^dose_cgy must be a finite number >= 0$"):
        Fraction(date(2022, 5, 16), -1.0)


def test_a_sunday_start_moves_to_monday_not_tuesday() -> None:
    sunday = date(2022, 5, 15)
    got = planned_fraction_dates([Phase("imrt", 200.0, 1)], sunday)
    assert got == [(date(2022, 5, 16), 200.0)]


def test_a_phase_after_a_monday_starts_on_tuesday() -> None:
    phases = [Phase("imrt", 200.0, 1), Phase("srt", 700.0, 1)]
    got = planned_fraction_dates(phases, date(2022, 5, 16))  # a Monday
    assert got == [(date(2022, 5, 16), 200.0), (date(2022, 5, 17), 700.0)]


def test_an_incomplete_log_uses_the_recorded_course_end() -> None:
    result = cumulative_dose_on(
        date(2022, 6, 20),
        fractions=SEED_LOG[:5],
        phases=SEED_PHASES,
        course_start=None,
        course_end=date(2022, 6, 1),
    )
    assert (result.during_course, result.after_course) == (False, True)
    assert result.on == date(2022, 6, 20)


def test_a_complete_log_ends_on_its_last_fraction_not_the_one_before() -> None:
    last = date(2022, 6, 1)  # fraction 13; fraction 12 was on 31 May
    result = cumulative_dose_on(
        last, fractions=SEED_LOG, phases=SEED_PHASES, course_start=None, course_end=None
    )
    assert (result.during_course, result.after_course) == (True, False)


def test_a_complete_log_starts_on_its_first_fraction() -> None:
    result = cumulative_dose_on(
        SEED_DAYS[0], fractions=SEED_LOG, phases=SEED_PHASES, course_start=None, course_end=None
    )
    assert (result.during_course, result.after_course) == (True, False)
    assert result.note == "fraction 1 of 13 planned, from the fraction log"


def test_a_planned_schedule_without_a_course_start_starts_on_its_first_day() -> None:
    phases = [Phase("imrt", 200.0, 3, start_date=MONDAY)]
    first = cumulative_dose_on(
        MONDAY, fractions=[], phases=phases, course_start=None, course_end=None
    )
    assert (first.during_course, first.after_course) == (True, False)
    before = cumulative_dose_on(
        MONDAY - timedelta(days=1), fractions=[], phases=phases, course_start=None, course_end=None
    )
    assert (before.during_course, before.after_course) == (False, False)


def test_notes_are_joined_with_a_semicolon() -> None:
    result = cumulative_dose_on(
        date(2022, 5, 20),
        fractions=SEED_LOG[:5],
        phases=SEED_PHASES,
        course_start=None,
        course_end=None,
    )
    assert result.note == (
        "fraction 5 of 13 planned, from the fraction log; course start or end unknown:"
        " cannot tell whether the date is during or after it"
    )
