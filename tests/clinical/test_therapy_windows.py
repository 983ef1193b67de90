"""Schedule maths over a window (app.clinical.therapy): last_day, schedule_bands,
on_drug_bands, days_covered, union_exposure_days and cycles_in.

Plain values only. Every boundary is pinned on both sides (the last day on
drug and the first day off, a window starting or ending on a band edge), and
the band functions are held to the day-by-day definitions (on_off_bands,
on_drug) over every window of a grid, so a changed threshold or formula fails
a test.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical.therapy import (
    Change,
    Schedule,
    cycle_number,
    cycles_in,
    days_covered,
    last_day,
    on_drug,
    on_drug_bands,
    on_off_bands,
    schedule_bands,
    union_exposure_days,
)

START = date(2022, 6, 6)  # day 1 of cycle 1


def day(n: int) -> date:
    """Course day n (1-based): day(1) == START, day(0) the day before."""
    return START + timedelta(days=n - 1)


# Seed case: anlotinib 12 mg daily, 14 days on / 7 days off, open-ended.
ANLOTINIB = Schedule(START, None, 14, 7, 12.0)
# Bevacizumab-like: one day on in 21 (days 1, 22, 43, ...).
ONE_IN_21 = Schedule(START, None, 1, 20, 7.5)
DAILY = Schedule(START, None, 1, 0, 500.0)

# Schedules with every kind of change, each change on a cycle edge or mid-band.
VARIED = [
    ANLOTINIB,
    ONE_IN_21,
    DAILY,
    Schedule(START, day(10), 14, 7, 12.0),  # stops mid on-phase
    Schedule(START, day(21), 14, 7, 12.0),  # stops on the last day of cycle 1
    Schedule(START, day(22), 14, 7, 12.0),  # stops on day 1 of cycle 2
    Schedule(START, None, 14, 7, 12.0, (Change(day(8), "dose_reduced", 10.0),)),
    Schedule(START, None, 14, 7, 12.0, (Change(day(22), "dose_reduced", 10.0),)),
    Schedule(START, None, 14, 7, 12.0, (Change(day(5), "held"), Change(day(26), "resumed", 8.0))),
    Schedule(START, None, 14, 7, 12.0, (Change(day(15), "held"), Change(day(22), "resumed"))),
    Schedule(START, None, 14, 7, 12.0, (Change(day(10), "stopped"),)),
    Schedule(START, day(40), 14, 7, 12.0, (Change(day(30), "stopped"),)),
    # Same-day changes apply in the order recorded: held then resumed is on drug.
    Schedule(START, None, 14, 7, 12.0, (Change(day(3), "held"), Change(day(3), "resumed", 6.0))),
    Schedule(START, None, 3, 2, 4.0, (Change(day(4), "dose_reduced", 3.0),)),
]

# Windows from before the course to well after it, both ends on and off edges.
EDGES = [-3, 0, 1, 2, 8, 10, 11, 14, 15, 21, 22, 23, 26, 30, 35, 43, 50]
WINDOWS = [(day(a), day(b)) for a in EDGES for b in EDGES if b >= a]


def _walk_union(schedules: list[Schedule], start: date, end: date) -> int:
    """The exports' day-by-day walk: days on which any schedule is on drug."""
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return sum(1 for d in days if any(on_drug(s, d) for s in schedules))


# --- last_day ------------------------------------------------------------------


def test_last_day_of_open_ended_course_is_none() -> None:
    assert last_day(ANLOTINIB) is None


def test_last_day_is_stop_date_or_the_day_before_stopped() -> None:
    assert last_day(Schedule(START, day(10), 14, 7, 12.0)) == day(10)
    stopped = Schedule(START, None, 14, 7, 12.0, (Change(day(10), "stopped"),))
    assert last_day(stopped) == day(9)


def test_last_day_is_the_earlier_of_stop_date_and_stopped() -> None:
    early_stop = Schedule(START, day(5), 14, 7, 12.0, (Change(day(10), "stopped"),))
    assert last_day(early_stop) == day(5)
    early_change = Schedule(START, day(40), 14, 7, 12.0, (Change(day(10), "stopped"),))
    assert last_day(early_change) == day(9)
    # A stop the day before the change: both say the same last day.
    same = Schedule(START, day(9), 14, 7, 12.0, (Change(day(10), "stopped"),))
    assert last_day(same) == day(9)


# --- schedule_bands --------------------------------------------------------------


def test_schedule_bands_of_the_seed_cycle() -> None:
    assert schedule_bands(ANLOTINIB, day(1), day(21)) == [
        (day(1), day(14), 12.0),
        (day(15), day(21), None),
    ]


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # The last day on drug and the first day off, each alone.
        (14, 14, [(day(14), day(14), 12.0)]),
        (15, 15, [(day(15), day(15), None)]),
        (14, 15, [(day(14), day(14), 12.0), (day(15), day(15), None)]),
        # The last day off and day 1 of cycle 2.
        (21, 22, [(day(21), day(21), None), (day(22), day(22), 12.0)]),
        # A window starting mid off-phase, in a later cycle: 40 is day 19 of cycle 2.
        (40, 50, [(day(40), day(42), None), (day(43), day(50), 12.0)]),
        # The day before the course, then day 1.
        (0, 1, [(day(0), day(0), None), (day(1), day(1), 12.0)]),
        (-3, 0, [(day(-3), day(0), None)]),
    ],
)
def test_schedule_bands_at_band_edges(
    first: int, last: int, expected: list[tuple[date, date, float | None]]
) -> None:
    assert schedule_bands(ANLOTINIB, day(first), day(last)) == expected


def test_schedule_bands_end_the_day_after_the_last_day() -> None:
    s = Schedule(START, day(10), 14, 7, 12.0)
    assert schedule_bands(s, day(1), day(30)) == [
        (day(1), day(10), 12.0),
        (day(11), day(30), None),
    ]
    stopped = Schedule(START, None, 14, 7, 12.0, (Change(day(10), "stopped"),))
    assert schedule_bands(stopped, day(9), day(11)) == [
        (day(9), day(9), 12.0),
        (day(10), day(11), None),
    ]


def test_schedule_bands_change_the_dose_on_the_change_date() -> None:
    s = Schedule(START, None, 14, 7, 12.0, (Change(day(8), "dose_reduced", 10.0),))
    assert schedule_bands(s, day(1), day(23)) == [
        (day(1), day(7), 12.0),
        (day(8), day(14), 10.0),
        (day(15), day(21), None),
        (day(22), day(23), 10.0),
    ]


def test_schedule_bands_follow_holds_and_resumes() -> None:
    s = Schedule(
        START, None, 14, 7, 12.0, (Change(day(5), "held"), Change(day(26), "resumed", 8.0))
    )
    assert schedule_bands(s, day(1), day(36)) == [
        (day(1), day(4), 12.0),
        (day(5), day(25), None),
        (day(26), day(35), 8.0),
        (day(36), day(36), None),
    ]


def test_schedule_bands_of_a_continuous_schedule_are_one_band() -> None:
    assert schedule_bands(DAILY, day(1), day(400)) == [(day(1), day(400), 500.0)]


def test_schedule_bands_of_a_one_day_window() -> None:
    assert schedule_bands(ANLOTINIB, day(3), day(3)) == [(day(3), day(3), 12.0)]
    assert schedule_bands(ONE_IN_21, day(22), day(22)) == [(day(22), day(22), 7.5)]
    assert schedule_bands(ONE_IN_21, day(23), day(23)) == [(day(23), day(23), None)]


@pytest.mark.parametrize("s", VARIED)
def test_schedule_bands_equal_the_day_by_day_bands(s: Schedule) -> None:
    for start, end in WINDOWS:
        assert schedule_bands(s, start, end) == on_off_bands(s, start, end), (start, end)


def test_schedule_bands_check_the_schedule_before_the_window() -> None:
    bad = Schedule(START, None, 14, 7, 12.0, (Change(day(3), "resumed"),))
    with pytest.raises(ValueError, match="resumed change without an earlier hold"):
        schedule_bands(bad, day(5), day(4))
    with pytest.raises(ValueError) as raised:
        schedule_bands(ANLOTINIB, day(5), day(4))
    assert str(raised.value) == "end must not be before start"


# --- on_drug_bands ----------------------------------------------------------------


def test_on_drug_bands_leave_out_the_gaps() -> None:
    assert on_drug_bands(ANLOTINIB, day(0), day(30)) == [(day(1), day(14)), (day(22), day(30))]
    assert on_drug_bands(ANLOTINIB, day(15), day(21)) == []


# --- days_covered -------------------------------------------------------------------


def test_days_covered_of_nothing_is_zero() -> None:
    assert days_covered([]) == 0


def test_days_covered_counts_both_ends() -> None:
    assert days_covered([(day(1), day(1))]) == 1
    assert days_covered([(day(1), day(14))]) == 14


def test_days_covered_counts_an_overlap_once() -> None:
    assert days_covered([(day(1), day(10)), (day(5), day(14))]) == 14
    # Sharing only the edge day.
    assert days_covered([(day(1), day(10)), (day(10), day(14))]) == 14
    # Inside an earlier band: nothing more.
    assert days_covered([(day(1), day(14)), (day(3), day(5))]) == 14
    assert days_covered([(day(1), day(14)), (day(1), day(14))]) == 14


def test_days_covered_of_adjacent_and_separate_bands() -> None:
    assert days_covered([(day(1), day(10)), (day(11), day(14))]) == 14
    assert days_covered([(day(1), day(10)), (day(12), day(14))]) == 13


def test_days_covered_takes_bands_in_any_order() -> None:
    assert days_covered([(day(22), day(35)), (day(5), day(14)), (day(1), day(6))]) == 28


def test_days_covered_after_a_contained_band() -> None:
    # The contained band must not move the counted edge back.
    assert days_covered([(day(1), day(14)), (day(3), day(5)), (day(10), day(20))]) == 20


def test_days_covered_ignores_reversed_bands() -> None:
    assert days_covered([(day(5), day(4))]) == 0
    assert days_covered([(day(5), day(4)), (day(1), day(2))]) == 2
    # A reversed band does not move the counted edge: (4, 4) is still a day.
    assert days_covered([(day(3), day(1)), (day(4), day(4))]) == 1


# --- union_exposure_days ------------------------------------------------------------


def test_union_exposure_of_no_schedules_is_zero() -> None:
    assert union_exposure_days([], day(1), day(30)) == 0


def test_union_exposure_of_an_empty_window_is_zero() -> None:
    assert union_exposure_days([ANLOTINIB], day(5), day(4)) == 0
    # As the day walk: nothing is asked of the schedule when no day is in the window.
    bad = Schedule(START, None, 14, 7, 12.0, (Change(day(3), "resumed"),))
    assert union_exposure_days([bad], day(5), day(4)) == 0
    with pytest.raises(ValueError, match="resumed change without an earlier hold"):
        union_exposure_days([bad], day(5), day(5))


def test_union_exposure_of_one_day() -> None:
    assert union_exposure_days([ANLOTINIB], day(14), day(14)) == 1
    assert union_exposure_days([ANLOTINIB], day(15), day(15)) == 0
    assert union_exposure_days([ANLOTINIB], day(0), day(0)) == 0


def test_union_exposure_counts_a_day_on_two_drugs_once() -> None:
    # Bevacizumab on days 1 and 22 falls on anlotinib days: 14 + 9 = 23, not 25.
    assert union_exposure_days([ANLOTINIB, ONE_IN_21], day(1), day(30)) == 23
    # Started in anlotinib's off week (days 36-42), bevacizumab adds its one day.
    late = Schedule(day(36), None, 1, 20, 7.5)
    assert union_exposure_days([ANLOTINIB, late], day(36), day(42)) == 1


def test_union_exposure_of_an_open_ended_course_runs_to_the_window_end() -> None:
    assert union_exposure_days([ANLOTINIB], day(1), day(420)) == 20 * 14


@pytest.mark.parametrize("pair", [(0, 1), (3, 8), (6, 10), (11, 12), (0, 13)])
def test_union_exposure_equals_the_day_walk(pair: tuple[int, int]) -> None:
    schedules = [VARIED[pair[0]], VARIED[pair[1]]]
    for start, end in WINDOWS:
        assert union_exposure_days(schedules, start, end) == _walk_union(schedules, start, end)


# --- cycles_in -------------------------------------------------------------------


def test_cycles_in_outside_the_course_are_none() -> None:
    assert cycles_in(ANLOTINIB, day(-5), day(0)) == []
    stopped = Schedule(START, day(10), 14, 7, 12.0)
    assert cycles_in(stopped, day(11), day(30)) == []


def test_cycles_in_at_the_course_edges() -> None:
    assert cycles_in(ANLOTINIB, day(-5), day(1)) == [(1, day(1), day(1))]
    stopped = Schedule(START, day(10), 14, 7, 12.0)
    assert cycles_in(stopped, day(10), day(30)) == [(1, day(10), day(10))]
    by_change = Schedule(START, None, 14, 7, 12.0, (Change(day(23), "stopped"),))
    assert cycles_in(by_change, day(1), day(60)) == [(1, day(1), day(21)), (2, day(22), day(22))]


def test_cycles_in_at_a_cycle_edge() -> None:
    assert cycles_in(ANLOTINIB, day(21), day(21)) == [(1, day(21), day(21))]
    assert cycles_in(ANLOTINIB, day(22), day(22)) == [(2, day(22), day(22))]
    assert cycles_in(ANLOTINIB, day(21), day(22)) == [(1, day(21), day(21)), (2, day(22), day(22))]


def test_cycles_in_are_whole_cycles_inside_the_window() -> None:
    assert cycles_in(ANLOTINIB, day(1), day(63)) == [
        (1, day(1), day(21)),
        (2, day(22), day(42)),
        (3, day(43), day(63)),
    ]
    assert cycles_in(DAILY, day(3), day(5)) == [
        (3, day(3), day(3)),
        (4, day(4), day(4)),
        (5, day(5), day(5)),
    ]


def test_cycles_in_number_as_cycle_number() -> None:
    for s in VARIED:
        for start, end in WINDOWS:
            for number, first, last in cycles_in(s, start, end):
                assert cycle_number(s, first) == cycle_number(s, last) == number
                assert start <= first <= last <= end


def test_cycles_in_ignore_holds() -> None:
    held = Schedule(START, None, 14, 7, 12.0, (Change(day(5), "held"),))
    assert cycles_in(held, day(20), day(23)) == [(1, day(20), day(21)), (2, day(22), day(23))]


def test_cycles_in_check_the_schedule() -> None:
    with pytest.raises(ValueError, match="days_on must be at least 1"):
        cycles_in(Schedule(START, None, 0, 7, 12.0), day(1), day(5))
