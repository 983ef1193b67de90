"""Systemic therapy cycles, holds, dose changes and exposure (app.clinical.therapy)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical.therapy import (
    ANTI_ANGIOGENIC_AGENTS,
    CHANGE_KINDS,
    Change,
    Schedule,
    cycle_number,
    dose_on,
    doses_on,
    exposure_days,
    find_overlap,
    is_anti_angiogenic,
    on_drug,
    on_off_bands,
    overlapping,
    validate_schedule,
)

START = date(2022, 6, 6)  # day 1 of cycle 1


def day(n: int) -> date:
    """Course day n (1-based): day(1) == START."""
    return START + timedelta(days=n - 1)


# Seed case: anlotinib 12 mg daily, 14 days on / 7 days off, open-ended.
ANLOTINIB = Schedule(start_date=START, stop_date=None, days_on=14, days_off=7, dose=12.0)


def test_known_agents_are_anti_angiogenic_case_insensitively() -> None:
    assert "anlotinib" in ANTI_ANGIOGENIC_AGENTS
    assert is_anti_angiogenic("Anlotinib")
    assert is_anti_angiogenic("  PAZOPANIB ")
    assert is_anti_angiogenic("anlotinib hydrochloride")
    assert is_anti_angiogenic("Bevacizumab-awwb")
    assert is_anti_angiogenic("ziv-aflibercept")
    assert not is_anti_angiogenic("doxorubicin")
    assert not is_anti_angiogenic("")
    assert not is_anti_angiogenic("   ")


def test_extra_agents_extend_the_list() -> None:
    assert not is_anti_angiogenic("Endostar")
    assert is_anti_angiogenic("Endostar", extra=[" endostar "])


def test_cycle_boundaries_14_on_7_off() -> None:
    assert cycle_number(ANLOTINIB, day(1)) == 1
    assert on_drug(ANLOTINIB, day(1))
    assert on_drug(ANLOTINIB, day(14))
    assert not on_drug(ANLOTINIB, day(15))
    assert not on_drug(ANLOTINIB, day(21))
    assert cycle_number(ANLOTINIB, day(21)) == 1
    assert on_drug(ANLOTINIB, day(22))
    assert cycle_number(ANLOTINIB, day(22)) == 2
    assert cycle_number(ANLOTINIB, day(43)) == 3  # 42 days = two full 21-day cycles


def test_before_start_is_outside_the_course() -> None:
    before = START - timedelta(days=1)
    assert cycle_number(ANLOTINIB, before) is None
    assert not on_drug(ANLOTINIB, before)
    assert dose_on(ANLOTINIB, before) is None


def test_stop_date_is_the_last_day_inclusive() -> None:
    s = Schedule(START, stop_date=day(10), days_on=14, days_off=7, dose=12.0)
    assert on_drug(s, day(10))
    assert not on_drug(s, day(11))
    assert cycle_number(s, day(11)) is None


def test_continuous_daily_schedule() -> None:
    s = Schedule(START, None, days_on=1, days_off=0, dose=800.0)
    assert all(on_drug(s, day(n)) for n in range(1, 60))
    assert cycle_number(s, day(5)) == 5


def test_dose_change_mid_cycle() -> None:
    # Reduced 12 -> 10 mg on day 8 of cycle 1, the label's first step down.
    s = Schedule(START, None, 14, 7, 12.0, changes=(Change(day(8), "dose_reduced", 10.0),))
    assert dose_on(s, day(7)) == 12.0
    assert dose_on(s, day(8)) == 10.0
    assert dose_on(s, day(15)) is None  # off week
    assert dose_on(s, day(22)) == 10.0  # stays reduced in cycle 2


def test_held_then_resumed() -> None:
    changes = (Change(day(5), "held"), Change(day(26), "resumed"))
    s = Schedule(START, None, 14, 7, 12.0, changes=changes)
    assert on_drug(s, day(4))
    assert not on_drug(s, day(5))
    assert not on_drug(s, day(22))  # an "on" day of cycle 2, but held
    assert on_drug(s, day(26))
    assert cycle_number(s, day(26)) == 2  # the hold does not shift the cycle clock
    assert dose_on(s, day(26)) == 12.0


def test_resumed_at_a_new_dose() -> None:
    changes = (Change(day(5), "held"), Change(day(22), "resumed", 8.0))
    s = Schedule(START, None, 14, 7, 12.0, changes=changes)
    assert dose_on(s, day(4)) == 12.0
    assert dose_on(s, day(22)) == 8.0


def test_stopped_ends_the_course() -> None:
    s = Schedule(START, None, 14, 7, 12.0, changes=(Change(day(10), "stopped"),))
    assert on_drug(s, day(9))
    assert not on_drug(s, day(10))
    assert cycle_number(s, day(10)) is None
    assert not on_drug(s, day(22))


def test_stopped_before_stop_date_wins() -> None:
    s = Schedule(START, day(40), 14, 7, 12.0, changes=(Change(day(10), "stopped"),))
    assert not on_drug(s, day(12))


def test_doses_on_answers_as_dose_on_for_each_day() -> None:
    # Reduced, held, resumed at a new dose, then stopped: every branch of dose_on.
    changes = (
        Change(day(8), "dose_reduced", 10.0),
        Change(day(24), "held"),
        Change(day(30), "resumed", 8.0),
        Change(day(50), "stopped"),
    )
    s = Schedule(START, None, 14, 7, 12.0, changes=changes)
    days = [START + timedelta(days=n) for n in range(-3, 60)]
    assert doses_on(s, days) == [dose_on(s, d) for d in days]
    assert doses_on(s, [day(7), day(8), day(15), day(30)]) == [12.0, 10.0, None, 8.0]
    assert doses_on(s, []) == []


def test_doses_on_checks_the_schedule_once_like_dose_on() -> None:
    bad = Schedule(START, None, 0, 7, 12.0)
    with pytest.raises(ValueError, match="days_on"):
        doses_on(bad, [day(1)])
    with pytest.raises(ValueError, match="days_on"):
        doses_on(bad, [])  # even with no day to answer


def test_exposure_over_ranges() -> None:
    # Full cycle 1 = 14 drug days; cycles 1-2 (42 days) = 28.
    assert exposure_days(ANLOTINIB, day(1), day(21)) == 14
    assert exposure_days(ANLOTINIB, day(1), day(42)) == 28
    # days 10..25: days 10-14 (5) + days 22-25 (4) = 9
    assert exposure_days(ANLOTINIB, day(10), day(25)) == 9
    # window starting before the course: only days 1-3 count
    assert exposure_days(ANLOTINIB, START - timedelta(days=5), day(3)) == 3
    assert exposure_days(ANLOTINIB, day(15), day(15)) == 0


def test_exposure_with_hold() -> None:
    changes = (Change(day(5), "held"), Change(day(26), "resumed"))
    s = Schedule(START, None, 14, 7, 12.0, changes=changes)
    # cycle 1 days 1-4 (4) + cycle 2 days 26-35 (10) = 14
    assert exposure_days(s, day(1), day(42)) == 14


def test_exposure_rejects_reversed_range() -> None:
    with pytest.raises(ValueError, match="end must not be before start"):
        exposure_days(ANLOTINIB, day(5), day(4))


def test_on_off_bands_for_charts() -> None:
    s = Schedule(START, None, 14, 7, 12.0, changes=(Change(day(25), "dose_reduced", 10.0),))
    assert on_off_bands(s, START - timedelta(days=2), day(30)) == [
        (START - timedelta(days=2), START - timedelta(days=1), None),
        (day(1), day(14), 12.0),
        (day(15), day(21), None),
        (day(22), day(24), 12.0),
        (day(25), day(30), 10.0),
    ]
    assert on_off_bands(s, day(3), day(3)) == [(day(3), day(3), 12.0)]


@pytest.mark.parametrize(
    ("schedule", "rule"),
    [
        (Schedule(START, None, 0, 7, 12.0), "days_on must be at least 1"),
        (Schedule(START, None, 14, -1, 12.0), "days_off must be 0 or more"),
        (Schedule(START, None, 14, 7, 0.0), "dose must be a positive number"),
        (Schedule(START, None, 14, 7, float("nan")), "dose must be a positive number"),
        (Schedule(START, day(0), 14, 7, 12.0), "stop_date must not be before start_date"),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(0), "held"),)),
            "is before the start_date",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "paused"),)),
            "unknown change kind 'paused'",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "dose_reduced"),)),
            "dose_reduced change needs a positive dose",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "dose_reduced", -2.0),)),
            "dose_reduced change needs a positive dose",
        ),
        (
            Schedule(
                START, None, 14, 7, 12.0, (Change(day(3), "held"), Change(day(5), "resumed", 0.0))
            ),
            "resumed change needs a positive dose",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "resumed"),)),
            "resumed change without an earlier hold",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "held"), Change(day(5), "held"))),
            "held change while already held",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "stopped"), Change(day(5), "held"))),
            "held change after the schedule was stopped",
        ),
    ],
)
def test_validate_schedule_names_the_rule(schedule: Schedule, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        validate_schedule(schedule)
    with pytest.raises(ValueError, match=rule):
        on_drug(schedule, START)  # the query functions refuse invalid schedules too


def test_valid_schedule_with_every_change_kind() -> None:
    changes = (
        Change(day(30), "stopped"),  # recorded out of order on purpose
        Change(day(3), "dose_reduced", 10.0),
        Change(day(5), "held"),
        Change(day(9), "resumed"),
    )
    s = Schedule(START, day(60), 14, 7, 12.0, changes)
    validate_schedule(s)
    assert set(CHANGE_KINDS) == {c.kind for c in changes}
    assert dose_on(s, day(9)) == 10.0


def test_overlap_of_same_agent_schedules() -> None:
    first = Schedule(START, day(21), 14, 7, 12.0)
    touching = Schedule(day(21), None, 14, 7, 10.0)
    later = Schedule(day(22), None, 14, 7, 10.0)
    assert find_overlap([first, touching]) == (first, touching)
    assert overlapping([first, later]) is False
    assert overlapping([later, first]) is False
    assert find_overlap([first]) is None
    assert find_overlap([]) is None


def test_overlap_with_open_ended_and_stopped_courses() -> None:
    open_ended = Schedule(START, None, 14, 7, 12.0)
    after = Schedule(day(100), None, 14, 7, 12.0)
    assert overlapping([open_ended, after])  # still running when the second starts
    assert overlapping([after, open_ended])
    stopped = Schedule(START, None, 14, 7, 12.0, (Change(day(50), "stopped"),))
    assert not overlapping([stopped, after])


def test_to_dict_is_json_ready() -> None:
    s = Schedule(START, day(42), 14, 7, 12.0, (Change(day(8), "dose_reduced", 10.0),))
    assert s.to_dict() == {
        "start_date": "2022-06-06",
        "stop_date": "2022-07-17",
        "days_on": 14,
        "days_off": 7,
        "dose": 12.0,
        "changes": [{"effective_on": "2022-06-13", "kind": "dose_reduced", "dose": 10.0}],
    }
    assert ANLOTINIB.to_dict()["stop_date"] is None


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (Schedule(START, None, 0, 7, 12.0), "days_on must be at least 1"),
        (Schedule(START, None, 14, -1, 12.0), "days_off must be 0 or more"),
        (Schedule(START, None, 14, 7, -1.0), "dose must be a positive number"),
        (Schedule(START, day(0), 14, 7, 12.0), "stop_date must not be before start_date"),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "paused"),)),
            "unknown change kind 'paused'; expected one of dose_reduced, held, resumed, stopped",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "held"), Change(day(5), "held"))),
            "held change while already held",
        ),
        (
            Schedule(START, None, 14, 7, 12.0, (Change(day(3), "resumed"),)),
            "resumed change without an earlier hold",
        ),
    ],
)
def test_validate_schedule_messages_are_exact(schedule: Schedule, message: str) -> None:
    # app/therapy maps a message to the field and rule it names by its first
    # words, so the whole text is part of the contract.
    with pytest.raises(ValueError) as raised:
        validate_schedule(schedule)
    assert str(raised.value) == message


def test_reversed_window_message_is_exact() -> None:
    with pytest.raises(ValueError) as raised:
        exposure_days(ANLOTINIB, day(5), day(4))
    assert str(raised.value) == "end must not be before start"


def test_validate_schedule_accepts_the_edge_values() -> None:
    # A dose below 1 (e.g. 0.5 mg), a one-day course, a change on day 1, and a
    # hold after a resume: each on the allowed side of its rule.
    validate_schedule(Schedule(START, START, 1, 0, 0.5))
    validate_schedule(Schedule(START, None, 14, 7, 12.0, (Change(START, "held"),)))
    validate_schedule(Schedule(START, None, 14, 7, 1.0, (Change(day(3), "dose_reduced", 0.5),)))
    again = (Change(day(3), "held"), Change(day(5), "resumed"), Change(day(8), "held"))
    validate_schedule(Schedule(START, None, 14, 7, 12.0, again))


def test_overlap_when_the_first_starts_on_the_last_day_of_the_second() -> None:
    earlier = Schedule(START, day(21), 14, 7, 12.0)
    starts_on_its_last_day = Schedule(day(21), None, 14, 7, 10.0)
    assert find_overlap([starts_on_its_last_day, earlier]) == (starts_on_its_last_day, earlier)
