"""Healing trajectory: PAR, slopes, Gilman, exponential rate, status, projection.

Expected numbers are worked by hand in the comments next to them.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical import trajectory as T
from app.clinical.area_change import rise_pct
from app.clinical.formatting import area_point, fmt, iso_utc
from app.clinical.regression import centred, fast_log_rate
from app.clinical.trajectory import (
    STATUSES,
    Measurement,
    TrajectoryRules,
    compute_trajectory,
    exponential_rate,
    gilman_advance,
    least_squares_slope,
    par_at_day,
    percent_area_reduction,
)

T0 = datetime(2022, 6, 6, 10, tzinfo=UTC)  # a Monday morning


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def series(*pairs: tuple[float, float]) -> list[Measurement]:
    """Measurements from (day, area_cm2) pairs."""
    return [Measurement(at(d), a) for d, a in pairs]


# --- building blocks ---------------------------------------------------------


def test_percent_area_reduction() -> None:
    # (10 - 4) / 10 x 100 = 60
    assert percent_area_reduction(10.0, 4.0) == pytest.approx(60.0)
    # growth: (4 - 5) / 4 x 100 = -25
    assert percent_area_reduction(4.0, 5.0) == pytest.approx(-25.0)
    assert percent_area_reduction(4.0, 0.0) == 100.0
    assert percent_area_reduction(0.0, 1.0) is None


def test_least_squares_slope() -> None:
    # exact line y = 1 + 2x
    assert least_squares_slope([0, 1, 2], [1, 3, 5]) == pytest.approx(2.0)
    # xs 0, 1, 2 (mean 1), ys 1, 1, 4 (mean 2):
    # sxy = (-1)(-1) + (0)(-1) + (1)(2) = 3; sxx = 1 + 0 + 1 = 2 -> slope 1.5
    assert least_squares_slope([0, 1, 2], [1, 1, 4]) == pytest.approx(1.5)
    assert least_squares_slope([3], [1]) is None
    assert least_squares_slope([2, 2], [1, 5]) is None
    # exactly flat data gives exactly 0, not float noise; no x spread still None
    assert least_squares_slope([0, 7, 14], [0.1, 0.1, 0.1]) == 0.0
    assert least_squares_slope([2, 2], [1, 1]) is None
    with pytest.raises(ValueError, match="same length"):
        least_squares_slope([1, 2], [1])


def test_exponential_rate_halving_weekly() -> None:
    # 4 -> 2 -> 1 cm2 at days 0, 7, 14: ln(area) falls ln 2 per 7 days,
    # k = ln 2 / 7 = 0.693147 / 7 = 0.0990210 per day
    k = exponential_rate(series((0, 4.0), (7, 2.0), (14, 1.0)))
    assert k == pytest.approx(math.log(2) / 7)
    assert k == pytest.approx(0.099021, abs=1e-6)


def test_exponential_rate_two_points_is_the_reference_formula() -> None:
    # k = ln(A0 / At) / t = ln(3 / 1.5) / 10 = 0.0693147
    assert exponential_rate(series((0, 3.0), (10, 1.5))) == pytest.approx(0.0693147, abs=1e-6)


def test_exponential_rate_ignores_zero_areas_and_needs_two_points() -> None:
    assert exponential_rate(series((0, 4.0), (7, 2.0), (14, 0.0))) == pytest.approx(math.log(2) / 7)
    assert exponential_rate(series((0, 4.0), (7, 0.0))) is None
    assert exponential_rate(series((0, 4.0), (0, 2.0))) is None  # no time spread
    # growth gives a negative k: 2 -> 4 in 7 days, k = -ln 2 / 7
    assert exponential_rate(series((0, 2.0), (7, 4.0))) == pytest.approx(-math.log(2) / 7)
    assert exponential_rate([]) is None


def test_exponential_rate_counts_days_from_the_first_positive_area() -> None:
    # a 0 cm2 baseline leaves the model; 4 -> 2 -> 1 on days 3, 10, 17 is
    # ln 2 per 7 days from day 3 on: k = ln 2 / 7
    points = series((0, 0.0), (3, 4.0), (10, 2.0), (17, 1.0))
    assert exponential_rate(points) == pytest.approx(math.log(2) / 7)
    assert compute_trajectory(points).k_per_day == 0.09902


def test_gilman_advance() -> None:
    # 2x2 square (A 4, P 8) to 1x1 (A 1, P 4) in 14 days:
    # d = (4 - 1) / ((8 + 4) / 2) = 3 / 6 = 0.5 cm over 2 weeks = 0.25 cm/week
    assert gilman_advance(4.0, 1.0, 8.0, 4.0, 14.0) == pytest.approx(0.25)
    assert gilman_advance(4.0, 1.0, 8.0, 4.0, 0.0) is None
    assert gilman_advance(4.0, 1.0, 0.0, 0.0, 14.0) is None


def test_gilman_advance_over_less_than_a_day_and_small_perimeters() -> None:
    # half a day: d = (4 - 1) / ((8 + 4) / 2) = 0.5 cm in 0.5/7 week = 7 cm/week
    assert gilman_advance(4.0, 1.0, 8.0, 4.0, 0.5) == pytest.approx(7.0)
    # perimeters 1.0 and 0.5 (mean 0.75): d = (0.2 - 0.1) / 0.75 cm in 1 week
    assert gilman_advance(0.2, 0.1, 1.0, 0.5, 7.0) == pytest.approx(0.1 / 0.75)


def test_rise_from_a_zero_area() -> None:
    # growth from nothing is infinite; nothing to nothing is no rise at all
    assert rise_pct(0.0, 0.5) == math.inf
    assert rise_pct(0.0, 0.0) == 0.0
    assert rise_pct(2.0, 2.5) == pytest.approx(25.0)


# --- PAR at a day -------------------------------------------------------------


def test_par_at_day_exact_assessment() -> None:
    # day 28 measured: (10 - 2) / 10 = 80%
    value, note = par_at_day(series((0, 10.0), (14, 6.0), (28, 2.0)), 28)
    assert value == pytest.approx(80.0)
    assert note is None


def test_par_at_day_interpolates_linearly() -> None:
    # days 21 (7) and 35 (4): area at 28 = 7 + (4 - 7) x 7/14 = 5.5 -> PAR 45%
    value, note = par_at_day(series((0, 10.0), (21, 7.0), (35, 4.0)), 28)
    assert value == pytest.approx(45.0)
    assert note is None  # the nearest assessment is 7 days away: inside the window


# --- compute_trajectory: the seed case ----------------------------------------

# 2 x 2 cm ulcer: ellipse pi/4 x 2 x 2 = pi = 3.14 cm2, weekly assessments,
# closed at week 5 after four rounds of debridement + PRP.
SEED_AREAS = (math.pi, 2.4, 1.6, 0.9, 0.3, 0.0)
SEED = [Measurement(at(7 * i), a) for i, a in enumerate(SEED_AREAS)]


def test_seed_case_healed() -> None:
    result = compute_trajectory(SEED, healed_on=date(2022, 7, 11))
    assert result.status == "healed"
    assert result.rule == "wound recorded healed on 2022-07-11"
    # 6 June -> 11 July 2022 = 24 + 11 = 35 days
    assert result.days_to_closure == 35
    assert result.baseline == {"at": "2022-06-06T10:00:00+00:00", "area_cm2": math.pi}
    assert result.latest == {"at": "2022-07-11T10:00:00+00:00", "area_cm2": 0.0}
    assert result.par_pct == 100.0
    # week 4 (day 28) area 0.3: (3.1416 - 0.3) / 3.1416 = 0.90451 -> 90.5%
    assert result.par_week4_pct == 90.5
    assert result.projected_closure_on is None
    assert result.projection_note == "healed: no projection needed"


def test_seed_case_healed_from_measurement_alone() -> None:
    result = compute_trajectory(SEED)
    assert result.status == "healed"
    assert result.rule == "closed at the assessment on 2022-07-11 (area 0 cm2)"
    assert result.days_to_closure == 35


def test_out_of_order_input_gives_the_same_result() -> None:
    shuffled = list(SEED[:5])
    random.Random(4).shuffle(shuffled)
    assert shuffled != SEED[:5]
    assert compute_trajectory(shuffled) == compute_trajectory(SEED[:5])


# --- each status --------------------------------------------------------------


def test_on_track_linear_series() -> None:
    # 10, 8, 6, 4, 2 cm2 weekly: PAR at day 28 = (10 - 2) / 10 = 80%,
    # slope exactly -2 cm2/week; closure 2 / (2/7) = 7 days after day 28 (4 Jul) = 11 Jul
    result = compute_trajectory(series((0, 10), (7, 8), (14, 6), (21, 4), (28, 2)))
    assert result.status == "on_track"
    assert result.par_pct == 80.0
    assert result.par_week4_pct == 80.0
    assert result.weekly_area_change_cm2 == -2.0
    assert result.projected_closure_on == date(2022, 7, 11)
    assert result.days_to_closure is None


def test_on_track_by_interpolated_week_4() -> None:
    # area at 28 = 7 + (4 - 7) x 7/14 = 5.5 -> PAR 45% >= 40
    result = compute_trajectory(series((0, 10), (21, 7), (35, 4)))
    assert result.status == "on_track"
    assert result.par_week4_pct == 45.0
    assert result.par_pct == 60.0  # (10 - 4) / 10
    assert result.projection_note == (
        "only 3 assessment(s); a closure projection needs at least 5 (Cukjati 2001)"
    )


def test_growth_below_margin_is_not_deteriorating() -> None:
    # +9% over baseline at day 7: too early to call stalled, not deteriorating
    result = compute_trajectory(series((0, 10), (7, 10.9)))
    assert result.status == "insufficient_data"


def test_young_wound_needs_a_week_of_follow_up() -> None:
    result = compute_trajectory(series((0, 10), (3, 5)))
    assert result.status == "insufficient_data"
    assert result.rule == (
        "followed for 3 days, less than 4 weeks; a trend needs at least 7 days of follow-up"
    )


def test_five_daily_measurements_are_not_five_weekly_ones() -> None:
    """Cukjati 2001, as the reference puts it: a closure projection is
    unreliable before about 5 weekly measurements. Five on consecutive days
    span four days, not four weeks."""
    daily = series((0, 10), (1, 9), (2, 8), (3, 7), (4, 6))
    result = compute_trajectory(daily)
    assert result.weekly_area_change_cm2 == -7.0  # a steep, clean downward trend
    assert result.projected_closure_on is None
    assert result.projection_note == (
        "5 assessments over 4 days; a closure projection needs them to span at least"
        " 28 days, about 5 weekly measurements (Cukjati 2001)"
    )
    # Four weeks of follow-up is enough: day 28 brings the span to the rule.
    weekly = compute_trajectory(series((0, 10), (1, 9), (2, 8), (3, 7), (28, 5)))
    assert weekly.projected_closure_on is not None
    assert weekly.projection_note is not None and weekly.projection_note.startswith("linear")
    # Just short of it, by a second, is still short.
    almost = [*daily[:4], Measurement(at(28) - timedelta(seconds=1), 5.0)]
    assert compute_trajectory(almost).projected_closure_on is None


def test_gilman_and_k_in_the_trajectory() -> None:
    # 4 cm2 (P 8 cm) -> 2 -> 1 cm2 (P 4 cm) over 14 days: Gilman 0.25 cm/week
    # (see test_gilman_advance); k = ln 2 / 7 = 0.099021 -> 0.09902
    points = [
        Measurement(at(0), 4.0, perimeter_cm=8.0),
        Measurement(at(7), 2.0),
        Measurement(at(14), 1.0, perimeter_cm=4.0),
    ]
    result = compute_trajectory(points)
    assert result.gilman_cm_per_week == 0.25
    assert result.k_per_day == 0.09902
    # without the latest perimeter there is no Gilman figure
    assert compute_trajectory(points[:2]).gilman_cm_per_week is None


def test_times_are_reported_in_utc_and_dates_in_local_time() -> None:
    shanghai = timezone(timedelta(hours=8))
    points = [
        Measurement(datetime(2022, 6, 6, 7, tzinfo=shanghai), 2.0),
        Measurement(datetime(2022, 6, 20, 7, tzinfo=shanghai), 0.0),
    ]
    result = compute_trajectory(points)
    assert result.baseline == {"at": "2022-06-05T23:00:00+00:00", "area_cm2": 2.0}
    assert result.days_to_closure == 14  # local 6 June -> 20 June


# --- validation -----------------------------------------------------------------


def test_measurement_validation() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Measurement(datetime(2022, 6, 6), 1.0)
    with pytest.raises(ValueError, match="area_cm2"):
        Measurement(T0, -1.0)
    with pytest.raises(ValueError, match="area_cm2"):
        Measurement(T0, math.nan)
    with pytest.raises(ValueError, match="perimeter_cm"):
        Measurement(T0, 1.0, perimeter_cm=math.inf)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"par_threshold_pct": 0.0}, "par_threshold_pct must be in (0, 100]"),
        ({"par_threshold_pct": 100.01}, "par_threshold_pct must be in (0, 100]"),
        ({"par_week": 0}, "par_week must be at least 1"),
        ({"week_window_days": -1}, "week_window_days must be 0 or more"),
        ({"deteriorating_margin_pct": -0.1}, "deteriorating_margin_pct must be 0 or more"),
        ({"min_points_for_projection": 1}, "min_points_for_projection must be at least 2"),
        ({"min_days_for_projection": -1}, "min_days_for_projection must be 0 or more"),
        ({"min_days_for_trend": 0}, "min_days_for_trend must be at least 1"),
        ({"max_projection_days": 0}, "max_projection_days must be at least 1"),
        ({"recent_window_days": 0}, "recent_window_days must be at least 1"),
    ],
)
def test_rules_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        TrajectoryRules(**kwargs)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_rules_at_their_edges_are_accepted() -> None:
    edges = TrajectoryRules(
        par_threshold_pct=100.0,
        par_week=1,
        week_window_days=0,
        deteriorating_margin_pct=0.0,
        min_points_for_projection=2,
        min_days_for_projection=0,
        max_projection_days=1,
        min_days_for_trend=1,
        recent_window_days=1,
    )
    assert edges.par_day == 7
    assert TrajectoryRules(par_threshold_pct=0.5).par_threshold_pct == 0.5


# --- properties -------------------------------------------------------------------

areas = st.floats(min_value=0.01, max_value=500.0, allow_nan=False, allow_infinity=False)


@given(area=areas)
def test_par_of_an_unchanged_area_is_zero(area: float) -> None:
    assert percent_area_reduction(area, area) == 0.0


@given(
    area=areas,
    days=st.sets(st.integers(min_value=1, max_value=120), min_size=1, max_size=8).filter(
        lambda ds: max(ds) >= 28
    ),
)
def test_unchanged_series_after_week_4_is_stalled_not_deteriorating(
    area: float, days: set[int]
) -> None:
    points = [Measurement(at(0), area)] + [Measurement(at(d), area) for d in days]
    result = compute_trajectory(points)
    assert result.status == "stalled"
    assert result.par_pct == 0.0
    assert result.par_week4_pct == 0.0
    assert result.week4_checkpoint.to_dict()["state"] == "missed"
    assert result.reasons[0].startswith("over the last 28 days the area did not change")
    assert result.projected_closure_on is None


@given(
    start=areas,
    factors=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=0, max_size=8),
    gaps=st.lists(st.integers(min_value=0, max_value=30), min_size=8, max_size=8),
)
def test_any_series_gets_a_known_status_and_a_rule(
    start: float, factors: list[float], gaps: list[int]
) -> None:
    points = [Measurement(at(0), start)]
    day = 0
    for factor, gap in zip(factors, gaps, strict=False):
        day += gap
        points.append(Measurement(at(day), start * factor))
    result = compute_trajectory(points)
    assert result.status in STATUSES
    assert result.rule
    if result.projected_closure_on is not None:
        assert result.projected_closure_on >= points[-1].at.date()


# --- rounding and formatting -----------------------------------------------------


@given(
    st.one_of(
        st.floats(min_value=0, max_value=400, allow_nan=False),
        st.builds(
            lambda k, eps: k + eps,
            st.integers(min_value=0, max_value=400),
            st.sampled_from([0.0, 1e-9, 4.9e-7, 4.99999e-7, 5e-7, 5.00001e-7, 5.1e-7, 0.999999]),
        ),
    )
)
def test_ceil_days_is_ceil_of_round_to_6_decimals(exact_days: float) -> None:
    # 6972.0000001 from float noise is 6972 days; 6972.000001 is 6973
    assert T._ceil_days(exact_days) == math.ceil(round(exact_days, 6))


def test_ceil_days_examples() -> None:
    assert T._ceil_days(6972.0000001) == 6972
    assert T._ceil_days(6972.000001) == 6973
    assert T._ceil_days(0.0) == 0
    assert T._ceil_days(3e-7) == 0
    assert T._ceil_days(0.5) == 1


def test_huge_rates_use_the_exact_formula() -> None:
    # 4 -> 1 cm2 in one second: k = ln 4 x 86400 = 119775.6 per day, beyond the
    # fast path's limit (its summation noise would show in 5 decimals)
    points = [Measurement(T0, 4.0), Measurement(T0 + timedelta(seconds=1), 1.0)]
    days = [0.0, 1 / 86400]
    assert fast_log_rate(*centred(days), [4.0, 1.0]) is None
    assert exponential_rate(points) == pytest.approx(math.log(4) * 86400, rel=1e-12)
    # an ordinary rate takes the fast path, within 1e-12 of ln 2 / 7
    assert fast_log_rate(*centred([0.0, 7.0, 14.0]), [4.0, 2.0, 1.0]) == pytest.approx(
        math.log(2) / 7, rel=1e-12
    )


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-2e5, max_value=2e5),
        st.builds(lambda k: k / 20, st.integers(min_value=-2_000_100, max_value=2_000_100)),
    )
)
def test_fmt_is_round_to_one_decimal_in_g_format(value: float) -> None:
    # the fast path must print what f"{round(value, 1):g}" prints, halves included
    assert fmt(value) == f"{round(value, 1):g}"


def test_fmt_examples() -> None:
    assert [fmt(v) for v in (40.0, 57.25, 57.35, -0.04, 99999.96, 123456.7)] == [
        "40",
        "57.2",
        "57.4",
        "-0",
        "100000",
        "123457",
    ]


def test_fmt_just_past_the_fast_range() -> None:
    # from 99999.95 on, "g" shows six significant digits: 100000.7 is 100001,
    # and 100001.46 rounds to 100001.5 first, then half to even: 100002
    for value, shown in ((100000.7, "100001"), (100001.46, "100002")):
        assert fmt(value) == shown == f"{round(value, 1):g}"
        assert fmt(-value) == "-" + shown


def test_instants_are_written_in_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server's local zone must not leak in (astimezone() without UTC would use it)
    at = datetime(2022, 6, 6, 10, tzinfo=timezone(timedelta(hours=-7)))
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert iso_utc(at) == "2022-06-06T17:00:00+00:00"
        assert area_point(at, 2.5) == {"at": "2022-06-06T17:00:00+00:00", "area_cm2": 2.5}
        assert Measurement(at, 2.5).to_dict()["at"] == "2022-06-06T17:00:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_values_rounding_to_minus_zero_are_reported_as_zero() -> None:
    # 100 -> 100.004 cm2 over 28 days, perimeter 10 cm: PAR -0.004% (also at
    # week 4, day 28 measured) and Gilman -0.004 / 10 / 4 = -0.0001 cm/week
    # round to -0.0, which the result reports as 0.0
    points = [Measurement(at(0), 100.0, 10.0), Measurement(at(28), 100.004, 10.0)]
    result = compute_trajectory(points)
    assert repr((result.par_pct, result.par_week4_pct, result.gilman_cm_per_week)) == (
        "(0.0, 0.0, 0.0)"
    )


# --- PAR at a day: only from what was measured -----------------------------------


def test_par_at_day_far_apart_assessments_are_still_interpolated() -> None:
    # days 14 (6) and 42 (2): area at 28 = 6 + (2 - 6) x 14/28 = 4 -> PAR 60%
    assert par_at_day(series((0, 10.0), (14, 6.0), (42, 2.0)), 28) == (pytest.approx(60.0), None)


def test_par_at_day_is_never_extrapolated() -> None:
    # day 24 is the latest: nothing on or after day 28, so no value (it used
    # to stand in for week 4)
    assert par_at_day(series((0, 10.0), (24, 7.0)), 28) == (
        None,
        "no assessment on or after day 28 yet",
    )
    assert par_at_day(series((0, 10.0), (14, 7.0)), -10) == (
        None,
        "no assessment on or before day -10 yet",
    )
    assert par_at_day([], 28) == (None, "no assessments")
    assert par_at_day(series((0, 0.0), (28, 1.0)), 28) == (
        None,
        "baseline area is 0 cm2: PAR is undefined",
    )


# --- status: the week-4 checkpoint and the recent change --------------------------

TAIL = " (configurable; Sheehan 2003 / Phillips 2000 adapted)"


def test_a_missed_checkpoint_does_not_stall_a_wound_that_then_heals() -> None:
    """Issue 18, 1: 10 -> 6.5 -> 1.0 cm2 on days 0, 28, 56 is 90% smaller."""
    result = compute_trajectory(series((0, 10), (28, 6.5), (56, 1.0)))
    assert result.status == "on_track"
    # (6.5 - 1) / 6.5 = 84.6% over the last 28 days; the pace of 40% in 28 days is 40%
    assert result.reasons[0] == (
        "over the last 28 days the area fell 84.6% (6.50 cm2 on day 28 -> 1.00 cm2 on day 56);"
        " on track needs a fall of 40% over 28 days (the week-4 threshold as a pace; judgement)"
    )
    # the week-4 miss is named: (10 - 6.5) / 10 = 35%
    assert result.reasons[1] == (
        "week-4 checkpoint missed: PAR 35% at day 28 < 40% threshold" + TAIL + ":"
        " reassess the treatment"
    )
    assert result.rule == "; ".join(result.reasons)
    assert result.week4_checkpoint.to_dict() == {
        "state": "missed",
        "week": 4,
        "day": 28,
        "threshold_pct": 40.0,
        "par_pct": 35.0,
        "from_days": [28.0, 28.0],
        "compared_on": None,
        "note": None,
    }
    assert result.recent_change.to_dict() == {
        "window_days": 28.0,
        "from_day": 28.0,
        "to_day": 56.0,
        "from_area_cm2": 6.5,
        "to_area_cm2": 1.0,
        "change_pct": 84.6,
        "required_pct": 40.0,
        "compared_on": None,
    }
    assert result.par_week4_pct == 35.0
    assert result.par_pct == 90.0


def test_at_week_4_itself_the_recent_change_is_the_checkpoint() -> None:
    # PAR at 28 = (10 - 8) / 10 = 20% < 40%: missed, and the last 28 days fell 20%
    result = compute_trajectory(series((0, 10), (14, 9), (28, 8)))
    assert result.status == "stalled"
    assert result.reasons[0].startswith("over the last 28 days the area fell 20% (10.00 cm2")
    assert result.week4_checkpoint.to_dict()["state"] == "missed"
    # the edge: 10 -> 6 is 40.00000000000001% in floats, 40% exactly in decimal: met
    edge = compute_trajectory(series((0, 10), (28, 6)))
    assert edge.status == "on_track"
    assert edge.week4_checkpoint.to_dict()["state"] == "met"
    assert edge.reasons[1] == "week-4 checkpoint met: PAR 40% at day 28 >= 40% threshold" + TAIL
    # just below it is missed and stalled
    below = compute_trajectory(series((0, 10), (28, 6.001)))
    assert (below.status, below.week4_checkpoint.to_dict()["state"]) == ("stalled", "missed")


def test_a_met_checkpoint_does_not_keep_a_wound_on_track() -> None:
    # PAR at 28 = 60%, then 4 -> 3.8 over the last 28 days: 5% < 40%
    result = compute_trajectory(series((0, 10), (28, 4), (56, 3.8)))
    assert result.status == "stalled"
    assert result.reasons[0].startswith("over the last 28 days the area fell 5% (4.00 cm2")
    assert result.reasons[1] == "week-4 checkpoint met: PAR 60% at day 28 >= 40% threshold" + TAIL
    # 4 -> 2.4 over the same window is 40%: on track
    assert compute_trajectory(series((0, 10), (28, 4), (56, 2.4))).status == "on_track"


def test_growth_is_written_as_growth() -> None:
    """Issue 18, 4: never "fell -7.5%"."""
    # 4.0 -> 4.3 over the last 28 days is 7.5% growth, under the 10% margin
    result = compute_trajectory(series((0, 10), (28, 4), (56, 4.3)))
    assert result.status == "stalled"
    assert "the area grew 7.5% (4.00 cm2 on day 28 -> 4.30 cm2 on day 56)" in result.rule
    assert result.recent_change is not None and result.recent_change.to_dict()["change_pct"] == -7.5
    assert "fell -" not in result.rule
    young = compute_trajectory(series((0, 10), (7, 10.9)))
    assert "the area grew 9% by day 7" in young.rule
    assert "extrapolates to growth of" in young.rule
    assert "fell -" not in young.rule


def test_the_recent_window_is_interpolated_at_its_start() -> None:
    # latest day 42: the window starts on day 14, between day 7 (9) and day 21 (5):
    # area 9 + (5 - 9) x 7/14 = 7 -> 4.2 on day 42: (7 - 4.2) / 7 = 40%
    result = compute_trajectory(series((0, 10), (7, 9), (21, 5), (42, 4.2)))
    assert result.recent_change is not None
    assert result.recent_change.to_dict()["from_day"] == 14.0
    assert result.recent_change.to_dict()["from_area_cm2"] == 7.0
    assert result.recent_change.to_dict()["change_pct"] == 40.0
    assert result.status == "on_track"


def test_a_shorter_window_needs_the_same_pace() -> None:
    # 14-day window: 40% per 28 days is 1 - 0.6^(14/28) = 22.54% per 14 days
    rules = TrajectoryRules(recent_window_days=14)
    # day 28 (6) to day 42 (4.7): (6 - 4.7) / 6 = 21.7% < 22.5%: stalled
    slow = compute_trajectory(series((0, 10), (28, 6), (42, 4.7)), rules=rules)
    assert slow.status == "stalled"
    assert slow.recent_change is not None
    assert slow.recent_change.to_dict()["required_pct"] == 22.5
    assert "on track needs a fall of 22.5% over 14 days" in slow.rule
    # 6 -> 4.6 is 23.3%: on track
    assert compute_trajectory(series((0, 10), (28, 6), (42, 4.6)), rules=rules).status == (
        "on_track"
    )


def test_a_window_longer_than_the_follow_up_reads_the_whole_episode() -> None:
    # a 42-day window on 30 days of follow-up: 30 days, pace 1 - 0.6^(30/28) = 42.15%
    rules = TrajectoryRules(recent_window_days=42)
    result = compute_trajectory(series((0, 10), (30, 5.9)), rules=rules)
    assert result.recent_change is not None
    assert result.recent_change.to_dict()["window_days"] == 30.0
    assert result.recent_change.to_dict()["from_day"] == 0.0
    assert result.recent_change.to_dict()["required_pct"] == 42.1
    assert result.status == "stalled"  # 41% < 42.15%
    assert compute_trajectory(series((0, 10), (30, 5.7)), rules=rules).status == "on_track"


def test_configurable_threshold_changes_the_call() -> None:
    points = series((0, 10), (14, 9), (28, 8))  # PAR at week 4 = 20%
    assert compute_trajectory(points).status == "stalled"
    lenient = compute_trajectory(points, rules=TrajectoryRules(par_threshold_pct=15.0))
    assert lenient.status == "on_track"
    assert "PAR 20% at day 28 >= 15% threshold" in lenient.rule


def test_a_far_interpolation_is_noted() -> None:
    # days 14 (6) and 42 (2): area at 28 = 4 -> PAR 60%; both 14 days away
    result = compute_trajectory(series((0, 10.0), (14, 6.0), (42, 2.0)))
    note = (
        "interpolated between the assessments on day 14 and day 42; the nearer is 14 days"
        " from day 28, beyond the 7-day window"
    )
    assert result.week4_checkpoint.to_dict()["from_days"] == [14.0, 42.0]
    assert result.par_week4_note == note
    assert result.reasons[1].endswith("; " + note)
    # the window is 7 days: 7 days away is inside it
    assert compute_trajectory(series((0, 10), (21, 7), (35, 4))).par_week4_note is None


def test_week_3_is_not_week_4() -> None:
    """Issue 18, 2: day 0 = 4.0 and day 21 = 2.6 cm2 is not "PAR at week 4"."""
    day21 = compute_trajectory(series((0, 4.0), (21, 2.6)))
    day20 = compute_trajectory(series((0, 4.0), (20, 2.6)))
    for result, day in ((day21, 21), (day20, 20)):
        assert result.week4_checkpoint.to_dict()["state"] == "not_yet_due"
        assert result.week4_checkpoint.to_dict()["note"] == (
            f"due on day 28: followed for {day} days so far"
        )
        assert result.par_week4_pct is None
        assert result.status != "stalled"
    # remaining 0.65 -> 0.65^(28/21) = 0.5631 left: a fall of 43.7% by week 4
    assert day21.status == "on_track"
    assert day21.rule == (
        "followed for 21 days, less than 4 weeks; the area fell 35% by day 21, which the"
        " exponential model (Cardinal 2009) extrapolates to a fall of 43.7% by week 4"
        " >= 40% threshold" + TAIL
    )


def test_young_wound_too_early_to_call_stalled() -> None:
    # day 14, 10 -> 9: 0.9^2 = 0.81 -> a fall of 19% by week 4 < 40%: insufficient
    result = compute_trajectory(series((0, 10), (14, 9)))
    assert result.status == "insufficient_data"
    assert result.rule == (
        "followed for 14 days, less than 4 weeks; the area fell 10% by day 14, which the"
        " exponential model (Cardinal 2009) extrapolates to a fall of 19% by week 4"
        " < 40% threshold; too early to call it stalled" + TAIL
    )
    # unchanged: "did not change", "no change"
    flat = compute_trajectory(series((0, 10), (14, 10)))
    assert "the area did not change by day 14" in flat.rule
    assert "extrapolates to no change by week 4" in flat.rule


# --- deteriorating -----------------------------------------------------------------


def test_deteriorating_over_baseline() -> None:
    # (11 - 10) / 10 = 10% >= 10% margin (the edge counts)
    result = compute_trajectory(series((0, 10), (7, 11)))
    assert result.status == "deteriorating"
    assert result.rule == "area 11.00 cm2 is 10% above baseline 10.00 cm2 (>= 10% margin)"
    assert result.reasons == [result.rule]
    assert result.projection_note == "area is rising: no closure projection"
    assert result.par_pct == -10.0
    assert compute_trajectory(series((0, 10), (7, 10.999))).status == "insufficient_data"


def test_deteriorating_over_the_previous_assessment() -> None:
    # 5 -> 5.5 = +10% since the previous, though 45% below baseline
    result = compute_trajectory(series((0, 10), (7, 5), (14, 5.5)))
    assert result.status == "deteriorating"
    assert result.rule == (
        "area rose 10% since the previous assessment (5.00 cm2 -> 5.50 cm2; >= 10% margin)"
    )
    assert compute_trajectory(series((0, 10), (7, 5), (14, 5.499))).status != "deteriorating"


def test_deteriorating_both_ways_lists_both() -> None:
    result = compute_trajectory(series((0, 10), (7, 10), (14, 13)))
    assert result.status == "deteriorating"
    assert result.rule == (
        "area 13.00 cm2 is 30% above baseline 10.00 cm2 (>= 10% margin); area rose 30% since"
        " the previous assessment (10.00 cm2 -> 13.00 cm2; >= 10% margin)"
    )


def test_growth_from_nothing_is_deteriorating_not_a_recurrence() -> None:
    # area 0 before any open area (intact skin) is no closure: the wound opened
    grew = compute_trajectory(series((0, 0), (7, 1.0)))
    assert grew.status == "deteriorating"
    assert grew.rule == ("area 1.00 cm2 is from nothing above baseline 0.00 cm2 (>= 10% margin)")
    assert grew.episode == 1
    assert grew.par_pct is None
    assert grew.week4_checkpoint.to_dict()["state"] == "not_yet_due"
    due = compute_trajectory(series((0, 0), (28, 1.0)))
    assert due.status == "deteriorating"
    assert due.week4_checkpoint.to_dict()["state"] == "not_applicable"
    assert due.par_week4_note == "baseline area is 0 cm2: PAR is undefined"


def test_zero_areas_only_are_healed() -> None:
    still_closed = compute_trajectory(series((0, 0), (7, 0)))
    assert still_closed.status == "healed"
    assert still_closed.rule == "closed at the assessment on 2022-06-06 (area 0 cm2)"
    assert still_closed.days_to_closure == 0


# --- too little data ------------------------------------------------------------------


def test_single_point_and_no_points() -> None:
    one = compute_trajectory(series((0, 3.14)))
    assert one.status == "insufficient_data"
    assert one.rule == "1 assessment(s): a trajectory needs a baseline and at least one follow-up"
    assert one.par_pct is None
    assert one.weekly_area_change_cm2 is None
    assert one.k_per_day is None
    assert one.area_methods is None
    assert one.baseline == one.latest
    assert one.week4_checkpoint.to_dict()["note"] == "due on day 28: followed for 0 days so far"
    none = compute_trajectory([])
    assert none.status == "insufficient_data"
    assert none.rule.startswith("0 assessment(s)")
    assert none.baseline is None
    assert none.latest is None
    assert none.week4_checkpoint.to_dict()["state"] == "not_applicable"
    assert none.par_week4_note == "no measurement in this episode"
    assert none.episodes == [
        {"number": 1, "started_at": None, "closed_on": None, "closed_by": None, "measurements": 0}
    ]
    assert none.episode_starts == ()
    assert none.projection_note == (
        "only 0 assessment(s); a closure projection needs at least 5 (Cukjati 2001)"
    )


# --- healed ------------------------------------------------------------------------


def test_healed_variants() -> None:
    # marked closed with a residual measured area
    closed = [Measurement(at(0), 2.0), Measurement(at(10), 0.1, closed=True)]
    result = compute_trajectory(closed)
    assert result.status == "healed"
    assert result.rule == "closed at the assessment on 2022-06-16 (marked closed)"
    assert result.days_to_closure == 10
    assert result.episodes[0]["closed_by"] == "assessment"
    # closure first seen on day 14 and confirmed on day 21: 14 days
    confirmed = compute_trajectory(series((0, 2), (14, 0), (21, 0)))
    assert (confirmed.days_to_closure, confirmed.episode) == (14, 1)
    assert confirmed.rule == "closed at the assessment on 2022-06-20 (area 0 cm2)"
    # recorded healed with no assessments
    bare = compute_trajectory([], healed_on=date(2022, 7, 1))
    assert (bare.status, bare.days_to_closure, bare.rule) == (
        "healed",
        None,
        "wound recorded healed on 2022-07-01",
    )
    # a healed episode that closed before week 4: no checkpoint
    early = compute_trajectory(series((0, 2), (14, 1), (21, 0)))
    assert early.week4_checkpoint.to_dict()["state"] == "not_applicable"
    assert early.week4_checkpoint.to_dict()["note"] == "the episode closed by day 21, before day 28"


def test_a_recorded_healing_is_the_date_of_closure() -> None:
    # closed at the assessment of 20 June, recorded healed on 22 June
    result = compute_trajectory(series((0, 2), (14, 0)), healed_on=date(2022, 6, 22))
    assert result.rule == "wound recorded healed on 2022-06-22"
    assert result.days_to_closure == 16
    assert result.episodes[0]["closed_by"] == "healed_on"


def test_statuses_constant() -> None:
    assert STATUSES == (
        "healed",
        "on_track",
        "stalled",
        "deteriorating",
        "recurred",
        "insufficient_data",
    )


def test_to_dict_is_json_ready() -> None:
    result = compute_trajectory(series((0, 10), (7, 8), (14, 6), (21, 4), (28, 2)))
    data = result.to_dict()
    assert data["projected_closure_on"] == "2022-07-11"
    assert data["status"] == "on_track"
    assert data["baseline"] == {"at": "2022-06-06T10:00:00+00:00", "area_cm2": 10}
    assert "episode_starts" not in data
    assert data["episodes"][0]["started_at"] == "2022-06-06T10:00:00+00:00"
    assert compute_trajectory([]).to_dict()["projected_closure_on"] is None
    assert Measurement(at(0), 1.5, 4.4).to_dict() == {
        "at": "2022-06-06T10:00:00+00:00",
        "area_cm2": 1.5,
        "perimeter_cm": 4.4,
        "closed": False,
        "method": None,
    }
    rules = TrajectoryRules()
    assert rules.to_dict()["par_threshold_pct"] == 40.0
    assert rules.to_dict()["recent_window_days"] == 28
    assert rules.par_day == 28


# --- projection -----------------------------------------------------------------------


def test_seed_case_at_week_4_is_on_track_and_projected() -> None:
    result = compute_trajectory(SEED[:5])
    assert result.status == "on_track"
    assert result.reasons[1] == (
        "week-4 checkpoint met: PAR 90.5% at day 28 >= 40% threshold" + TAIL
    )
    # least squares over days 0..28 (mean 14; sxx = 196+49+0+49+196 = 490):
    # mean area = (3.14159 + 2.4 + 1.6 + 0.9 + 0.3) / 5 = 1.66832
    # sxy = -14(1.47327) - 7(0.73168) + 0 + 7(-0.76832) + 14(-1.36832)
    #     = -20.62578 - 5.12176 - 5.37824 - 19.15648 = -50.28226
    # slope = -50.28226 / 490 = -0.102617 cm2/day = -0.718 cm2/week
    assert result.weekly_area_change_cm2 == -0.718
    # closure: 0.3 / 0.102617 = 2.92 days -> 3 days after 4 July = 7 July
    assert result.projected_closure_on == date(2022, 7, 7)
    assert result.projection_note is not None
    assert result.projection_note.startswith("linear model")
    assert result.days_to_closure is None


def test_no_projection_without_a_downward_trend() -> None:
    rising_slowly = series((0, 10), (7, 9), (14, 9.5), (21, 9.8), (28, 10.2), (35, 10.5))
    result = compute_trajectory(rising_slowly)
    assert result.status == "stalled"
    assert result.projected_closure_on is None
    assert result.projection_note is not None
    assert result.projection_note.startswith("area trend is not downward (least-squares slope +")
    # No slope at all (every assessment at one time) only arises once the
    # follow-up rule is switched off.
    same_time = compute_trajectory(
        series((0, 3), (0, 3), (0, 3), (0, 3), (0, 3)),
        rules=TrajectoryRules(min_days_for_projection=0),
    )
    assert same_time.projection_note == (
        "area trend is not downward (least-squares slope none): no projection"
    )


def test_no_projection_when_the_trend_is_too_flat() -> None:
    # -0.01 cm2/week: 9.96 / (0.01 / 7) = 6972 days > 365
    points = series((0, 10), (7, 9.99), (14, 9.98), (21, 9.97), (28, 9.96))
    result = compute_trajectory(points)
    assert result.status == "stalled"
    assert result.projected_closure_on is None
    assert result.projection_note == (
        "area trend too flat (least-squares slope -0.010 cm2/week): closure would be more"
        " than 365 days away; no projection"
    )
    longer = compute_trajectory(points, rules=TrajectoryRules(max_projection_days=10000))
    # ceil(6972.0) days after 4 July 2022
    assert longer.projected_closure_on == date(2022, 7, 4) + timedelta(days=6972)
