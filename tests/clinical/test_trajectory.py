"""Healing trajectory: PAR, slopes, Gilman, exponential rate, status, projection.

Expected numbers are worked by hand in the comments next to them.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.clinical import trajectory as T
from app.clinical.area_change import rise_pct
from app.clinical.formatting import area_point, fmt, fmt_area, iso_utc
from app.clinical.regression import centred, fast_log_rate, fit_slope
from app.clinical.trajectory import (
    STATUSES,
    Measurement,
    Trajectory,
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


def test_par_at_day_says_when_assessments_are_far() -> None:
    # days 14 (6) and 42 (2): area at 28 = 6 + (2 - 6) x 14/28 = 4 -> PAR 60%
    value, note = par_at_day(series((0, 10.0), (14, 6.0), (42, 2.0)), 28)
    assert value == pytest.approx(60.0)
    assert note == (
        "interpolated between the assessments on day 14 and day 42; the nearest is 14 days"
        " from day 28, beyond the 7-day window"
    )


def test_par_at_day_uses_a_near_assessment_when_nothing_comes_after() -> None:
    # latest on day 24 (4 days before 28): PAR (10 - 7) / 10 = 30% stands in
    value, note = par_at_day(series((0, 10.0), (24, 7.0)), 28)
    assert value == pytest.approx(30.0)
    assert note == (
        "no assessment after day 28; the assessment on day 24 (4 days away, within the"
        " 7-day window) is used"
    )


def test_par_at_day_none_when_too_early() -> None:
    value, note = par_at_day(series((0, 10.0), (14, 7.0)), 28)
    assert value is None
    assert note == (
        "no assessment after day 28 yet; the nearest is on day 14, 14 days away"
        " (beyond the 7-day window)"
    )


def test_par_at_day_before_the_first_assessment() -> None:
    points = series((0, 10.0), (14, 7.0))
    value, note = par_at_day(points, -10)
    assert value is None
    assert note is not None
    assert note.startswith("no assessment before day -10 yet")
    # within the window the baseline itself stands in: PAR 0
    value, note = par_at_day(points, -3)
    assert value == 0.0
    assert note is not None


def test_par_at_day_custom_window_and_degenerate_input() -> None:
    value, _ = par_at_day(series((0, 10.0), (24, 7.0)), 28, window_days=3)
    assert value is None
    assert par_at_day([], 28) == (None, "no assessments")
    assert par_at_day(series((0, 0.0), (28, 1.0)), 28) == (
        None,
        "baseline area is 0 cm2: PAR is undefined",
    )


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


def test_seed_case_at_week_4_is_on_track_and_projected() -> None:
    result = compute_trajectory(SEED[:5])
    assert result.status == "on_track"
    assert result.rule == (
        "PAR at week 4 = 90.5% >= 40% threshold"
        " (configurable; Sheehan 2003 / Phillips 2000 adapted)"
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


def test_stalled_below_threshold_at_week_4() -> None:
    # PAR at 28 = (10 - 8) / 10 = 20% < 40%
    result = compute_trajectory(series((0, 10), (14, 9), (28, 8), (35, 8)))
    assert result.status == "stalled"
    assert result.rule == (
        "PAR at week 4 = 20% < 40% threshold (configurable; Sheehan 2003 / Phillips 2000 adapted)"
    )


def test_stalled_rule_mentions_a_week_4_note() -> None:
    # only a day-24 assessment near week 4: PAR 30% taken from it, and said
    result = compute_trajectory(series((0, 10), (24, 7)))
    assert result.status == "stalled"
    assert "no assessment after day 28; the assessment on day 24" in result.rule


def test_configurable_threshold_changes_the_call() -> None:
    points = series((0, 10), (14, 9), (28, 8))  # PAR at week 4 = 20%
    assert compute_trajectory(points).status == "stalled"
    lenient = TrajectoryRules(par_threshold_pct=15.0)
    result = compute_trajectory(points, rules=lenient)
    assert result.status == "on_track"
    assert "20% >= 15% threshold" in result.rule


def test_stall_rule_after_week_4() -> None:
    # PAR at 28 = 60%, but from day 28 (4.0) to day 56 (3.8): (4 - 3.8) / 4 = 5% < 10%
    result = compute_trajectory(series((0, 10), (28, 4), (56, 3.8)))
    assert result.status == "stalled"
    assert result.rule == (
        "PAR at week 4 = 60% met the 40% threshold, but over the last 28 days the area fell"
        " 5% (< 10%; stall rule, clinical judgement, configurable)"
    )
    # 4 -> 3 over the same window is 25%: still on track
    assert compute_trajectory(series((0, 10), (28, 4), (56, 3))).status == "on_track"
    # before the window lies after week 4 (latest day 49 < 28 + 28), no stall call
    assert compute_trajectory(series((0, 10), (28, 4), (49, 3.9))).status == "on_track"


def test_stall_rule_when_the_wound_reopened() -> None:
    # closed (0) on day 35, reopened to 0.5 by day 50, still 0.5 on day 63;
    # the 28-day window starts on day 35 at 0 cm2
    result = compute_trajectory(series((0, 10), (28, 2.5), (35, 0), (50, 0.5), (63, 0.5)))
    assert result.status == "stalled"
    assert "it reopened from 0 cm2" in result.rule


def test_deteriorating_over_baseline() -> None:
    # (11 - 10) / 10 = 10% >= 10% margin (the edge counts)
    result = compute_trajectory(series((0, 10), (7, 11)))
    assert result.status == "deteriorating"
    assert result.rule == "area 11.00 cm2 is 10% above baseline 10.00 cm2 (>= 10% margin)"
    assert result.projection_note == "area is rising: no closure projection"
    assert result.par_pct == -10.0


def test_deteriorating_over_the_previous_assessment() -> None:
    # 5 -> 5.5 = +10% since the previous, though 45% below baseline
    result = compute_trajectory(series((0, 10), (7, 5), (14, 5.5)))
    assert result.status == "deteriorating"
    assert result.rule == (
        "area rose 10% since the previous assessment (5.00 cm2 -> 5.50 cm2; >= 10% margin)"
    )


def test_deteriorating_both_ways_lists_both() -> None:
    result = compute_trajectory(series((0, 10), (7, 10), (14, 13)))
    assert result.status == "deteriorating"
    assert "above baseline" in result.rule
    assert "since the previous assessment" in result.rule


def test_growth_below_margin_is_not_deteriorating() -> None:
    # +9% over baseline at day 7: too early to call stalled, not deteriorating
    result = compute_trajectory(series((0, 10), (7, 10.9)))
    assert result.status == "insufficient_data"


def test_young_wound_on_track_by_exponential_extrapolation() -> None:
    # day 14, 10 -> 7: remaining 0.7; at day 28: 0.7^(28/14) = 0.49 -> PAR 51% >= 40%
    result = compute_trajectory(series((0, 10), (14, 7)))
    assert result.status == "on_track"
    assert result.par_week4_pct is None
    assert result.rule == (
        "followed for 14 days, less than 4 weeks; PAR so far 30% at day 14 extrapolates"
        " (exponential model, Cardinal 2009) to 51% at week 4 >= 40% threshold"
        " (configurable; Sheehan 2003 / Phillips 2000 adapted)"
    )


def test_young_wound_too_early_to_call_stalled() -> None:
    # day 14, 10 -> 9: 0.9^2 = 0.81 -> 19% at week 4 < 40%: insufficient, not stalled
    result = compute_trajectory(series((0, 10), (14, 9)))
    assert result.status == "insufficient_data"
    assert "19% at week 4 < 40% threshold; too early to call it stalled" in result.rule


def test_young_wound_needs_a_week_of_follow_up() -> None:
    result = compute_trajectory(series((0, 10), (3, 5)))
    assert result.status == "insufficient_data"
    assert result.rule == (
        "followed for 3 days, less than 4 weeks; a trend needs at least 7 days of follow-up"
    )


def test_single_point_and_no_points() -> None:
    one = compute_trajectory(series((0, 3.14)))
    assert one.status == "insufficient_data"
    assert one.rule == "1 assessment(s): a trajectory needs a baseline and at least one follow-up"
    assert one.par_pct is None
    assert one.weekly_area_change_cm2 is None
    assert one.k_per_day is None
    assert one.baseline == one.latest
    none = compute_trajectory([])
    assert none.status == "insufficient_data"
    assert none.baseline is None
    assert none.latest is None
    assert none.par_week4_note == "no assessments"
    assert none.projection_note is not None


def test_zero_baseline() -> None:
    grew = compute_trajectory(series((0, 0), (7, 1.0)))
    assert grew.status == "deteriorating"
    assert "from nothing" in grew.rule
    assert grew.par_pct is None
    assert grew.par_week4_note == "baseline area is 0 cm2: PAR is undefined"
    still_closed = compute_trajectory(series((0, 0), (7, 0)))
    assert still_closed.status == "healed"
    assert still_closed.days_to_closure == 0


def test_healed_variants() -> None:
    # marked closed with a residual measured area
    closed = [Measurement(at(0), 2.0), Measurement(at(10), 0.1, closed=True)]
    result = compute_trajectory(closed)
    assert result.status == "healed"
    assert result.rule == "closed at the assessment on 2022-06-16 (marked closed)"
    assert result.days_to_closure == 10
    # closure first seen on day 14 and confirmed on day 21: 14 days
    assert compute_trajectory(series((0, 2), (14, 0), (21, 0))).days_to_closure == 14
    # recorded healed with no assessments
    bare = compute_trajectory([], healed_on=date(2022, 7, 1))
    assert (bare.status, bare.days_to_closure) == ("healed", None)
    # recorded healed before the first assessment: no negative count
    odd = compute_trajectory(series((0, 2)), healed_on=date(2022, 6, 1))
    assert odd.days_to_closure is None
    assert "before the first assessment" in odd.rule


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


def test_to_dict_is_json_ready() -> None:
    result = compute_trajectory(series((0, 10), (7, 8), (14, 6), (21, 4), (28, 2)))
    data = result.to_dict()
    assert data["projected_closure_on"] == "2022-07-11"
    assert data["status"] == "on_track"
    assert data["baseline"] == {"at": "2022-06-06T10:00:00+00:00", "area_cm2": 10}
    assert compute_trajectory([]).to_dict()["projected_closure_on"] is None
    assert Measurement(at(0), 1.5, 4.4).to_dict() == {
        "at": "2022-06-06T10:00:00+00:00",
        "area_cm2": 1.5,
        "perimeter_cm": 4.4,
        "closed": False,
    }
    rules = TrajectoryRules()
    assert rules.to_dict()["par_threshold_pct"] == 40.0
    assert rules.par_day == 28


def test_statuses_constant() -> None:
    assert STATUSES == ("healed", "on_track", "stalled", "deteriorating", "insufficient_data")


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
    ("kwargs", "rule"),
    [
        ({"par_threshold_pct": 0.0}, "par_threshold_pct"),
        ({"par_threshold_pct": 101.0}, "par_threshold_pct"),
        ({"par_week": 0}, "par_week"),
        ({"week_window_days": -1}, "week_window_days"),
        ({"deteriorating_margin_pct": -5.0}, "deteriorating_margin_pct"),
        ({"min_points_for_projection": 1}, "min_points_for_projection"),
        ({"min_days_for_projection": -1}, "min_days_for_projection"),
        ({"min_days_for_trend": 0}, "min_days_for_trend"),
        ({"max_projection_days": 0}, "max_projection_days"),
        ({"stall_window_days": 0}, "stall_window_days"),
        ({"stall_min_reduction_pct": -1.0}, "stall_min_reduction_pct"),
    ],
)
def test_rules_validation(kwargs: dict[str, float], rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        TrajectoryRules(**kwargs)  # type: ignore[arg-type]


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


# --- equivalence with the straightforward algorithm -------------------------------
#
# compute_trajectory is written for speed (one sort, days computed once, the
# least-squares slopes from plain sums in one pass each). The reference below is
# the plain algorithm it replaced, one measure at a time with centred sums: the
# two must give the same output after the rounding Trajectory applies (strings
# included), and unrounded values within 1e-9 relative. It reuses the unchanged
# string and rule helpers (formatting.fmt and fmt_area, area_change.rise_pct,
# the module's _growth, _healed, _projection).


def _ref_day(m: Measurement, baseline: Measurement) -> float:
    return (m.at - baseline.at) / timedelta(days=1)


def _ref_slope(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    if all(y == ys[0] for y in ys):
        return 0.0 if any(x != xs[0] for x in xs) else None
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) * (x - mean_x) for x in xs)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx


def _ref_k(ordered: list[Measurement]) -> float | None:
    positive = [m for m in ordered if m.area_cm2 > 0]
    if len(positive) < 2:
        return None
    slope = _ref_slope(
        [_ref_day(m, positive[0]) for m in positive], [math.log(m.area_cm2) for m in positive]
    )
    return None if slope is None else -slope


def _ref_area_at(timed: list[tuple[float, Measurement]], day: float) -> float | None:
    before = [(d, m) for d, m in timed if d <= day]
    after = [(d, m) for d, m in timed if d >= day]
    if not before or not after:
        return None
    (d0, m0), (d1, m1) = before[-1], after[0]
    if d1 == d0:
        return m0.area_cm2
    return m0.area_cm2 + (m1.area_cm2 - m0.area_cm2) * (day - d0) / (d1 - d0)


def _ref_par_at(
    ordered: list[Measurement], day: float, window: float
) -> tuple[float | None, str | None]:
    if not ordered:
        return None, "no assessments"
    baseline = ordered[0]
    if baseline.area_cm2 == 0:
        return None, "baseline area is 0 cm2: PAR is undefined"
    timed = [(_ref_day(m, baseline), m) for m in ordered]
    area = _ref_area_at(timed, day)
    if area is not None:
        below = max(d for d, _ in timed if d <= day)
        above = min(d for d, _ in timed if d >= day)
        gap = min(day - below, above - day)
        note = None
        if gap > window:
            note = (
                f"interpolated between the assessments on day {fmt(below)} and day"
                f" {fmt(above)}; the nearest is {fmt(gap)} days from day {fmt(day)},"
                f" beyond the {fmt(window)}-day window"
            )
        return percent_area_reduction(baseline.area_cm2, area), note
    side, (nearest_day, nearest) = (
        ("after", timed[-1]) if timed[-1][0] < day else ("before", timed[0])
    )
    distance = abs(nearest_day - day)
    if distance <= window:
        return percent_area_reduction(baseline.area_cm2, nearest.area_cm2), (
            f"no assessment {side} day {fmt(day)}; the assessment on day"
            f" {fmt(nearest_day)} ({fmt(distance)} days away, within the"
            f" {fmt(window)}-day window) is used"
        )
    return None, (
        f"no assessment {side} day {fmt(day)} yet; the nearest is on day"
        f" {fmt(nearest_day)}, {fmt(distance)} days away (beyond the"
        f" {fmt(window)}-day window)"
    )


def _ref_status(
    ordered: list[Measurement], par4: float | None, note: str | None, rules: TrajectoryRules
) -> tuple[str, str]:
    margin = rules.deteriorating_margin_pct
    a0, prev, last = ordered[0].area_cm2, ordered[-2].area_cm2, ordered[-1].area_cm2
    reasons = []
    over_baseline = rise_pct(a0, last)
    if last > a0 and round(over_baseline, 9) >= margin:
        reasons.append(
            f"area {fmt_area(last)} is {T._growth(over_baseline)} above baseline"
            f" {fmt_area(a0)} (>= {fmt(margin)}% margin)"
        )
    over_previous = rise_pct(prev, last)
    if len(ordered) > 2 and last > prev and round(over_previous, 9) >= margin:
        reasons.append(
            f"area rose {T._growth(over_previous)} since the previous assessment"
            f" ({fmt_area(prev)} -> {fmt_area(last)}; >= {fmt(margin)}% margin)"
        )
    if reasons:
        return "deteriorating", "; ".join(reasons)
    latest_day = _ref_day(ordered[-1], ordered[0])
    threshold, week = rules.par_threshold_pct, rules.par_week
    if par4 is not None:
        head = f"PAR at week {week} = {fmt(par4)}%"
        tail = f" ({T._PAR_SOURCE})" + (f"; {note}" if note else "")
        if par4 < threshold:
            return "stalled", f"{head} < {fmt(threshold)}% threshold{tail}"
        window_start = latest_day - rules.stall_window_days
        if window_start >= rules.par_day:
            timed = [(_ref_day(m, ordered[0]), m) for m in ordered]
            then = _ref_area_at(timed, window_start)
            assert then is not None
            reduction = percent_area_reduction(then, last)
            minimum = rules.stall_min_reduction_pct
            if reduction is None or reduction < minimum:
                shown = "it reopened from 0 cm2" if reduction is None else f"fell {fmt(reduction)}%"
                return "stalled", (
                    f"{head} met the {fmt(threshold)}% threshold, but over the last"
                    f" {rules.stall_window_days} days the area {shown} (< {fmt(minimum)}%;"
                    " stall rule, clinical judgement, configurable)"
                )
        return "on_track", f"{head} >= {fmt(threshold)}% threshold{tail}"
    young = f"followed for {fmt(latest_day)} days, less than {week} weeks"
    if latest_day < rules.min_days_for_trend:
        return "insufficient_data", (
            f"{young}; a trend needs at least {rules.min_days_for_trend} days of follow-up"
        )
    remaining = last / a0
    projected = (1.0 - remaining ** (rules.par_day / latest_day)) * 100.0
    trend = (
        f"{young}; PAR so far {fmt((1.0 - remaining) * 100.0)}% at day"
        f" {fmt(latest_day)} extrapolates (exponential model, Cardinal 2009) to"
        f" {fmt(projected)}% at week {week}"
    )
    if projected >= threshold:
        return "on_track", f"{trend} >= {fmt(threshold)}% threshold ({T._PAR_SOURCE})"
    return "insufficient_data", (
        f"{trend} < {fmt(threshold)}% threshold; too early to call it stalled ({T._PAR_SOURCE})"
    )


def _ref_round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits) + 0.0


def _ref_trajectory(
    points: list[Measurement], healed_on: date | None, rules: TrajectoryRules
) -> Trajectory:
    ordered = sorted(points, key=lambda m: m.at)
    first = ordered[0] if ordered else None
    last = ordered[-1] if ordered else None
    par_pct = par4 = weekly = gilman = k = slope = None
    par4_note: str | None = "no assessments"
    if first is not None and last is not None:
        par4, par4_note = _ref_par_at(ordered, rules.par_day, rules.week_window_days)
        k = _ref_k(ordered)
        slope = _ref_slope([_ref_day(m, first) for m in ordered], [m.area_cm2 for m in ordered])
        if len(ordered) >= 2:
            par_pct = percent_area_reduction(first.area_cm2, last.area_cm2)
        if slope is not None:
            weekly = slope * 7
        if first.perimeter_cm is not None and last.perimeter_cm is not None:
            gilman = gilman_advance(
                first.area_cm2,
                last.area_cm2,
                first.perimeter_cm,
                last.perimeter_cm,
                _ref_day(last, first),
            )
    healed = T._healed(ordered, healed_on)
    days_to_closure = None
    if healed is not None:
        status = "healed"
        rule, days_to_closure = healed
    elif len(ordered) < 2:
        status = "insufficient_data"
        rule = (
            f"{len(ordered)} assessment(s): a trajectory needs a baseline and at least"
            " one follow-up"
        )
    else:
        status, rule = _ref_status(ordered, par4, par4_note, rules)
    projected, projection_note = T._projection(ordered, status, slope, rules)

    def point(m: Measurement | None) -> dict[str, object] | None:
        return (
            None if m is None else {"at": m.at.astimezone(UTC).isoformat(), "area_cm2": m.area_cm2}
        )

    return Trajectory(
        status=status,
        rule=rule,
        baseline=point(first),
        latest=point(last),
        par_pct=_ref_round(par_pct, 1),
        par_week4_pct=_ref_round(par4, 1),
        par_week4_note=par4_note,
        weekly_area_change_cm2=_ref_round(weekly, 3),
        gilman_cm_per_week=_ref_round(gilman, 3),
        k_per_day=_ref_round(k, 5),
        projected_closure_on=projected,
        projection_note=projection_note,
        days_to_closure=days_to_closure,
    )


# Offsets in seconds: whole days and half days as assessments usually come,
# arbitrary seconds and microseconds for float rounding; repeats (same time)
# and zero areas on purpose; some points in another time zone.
_offsets = st.one_of(
    st.integers(min_value=0, max_value=120).map(lambda d: d * 43200),
    st.integers(min_value=0, max_value=120 * 86400),
    st.floats(min_value=0, max_value=120 * 86400, allow_nan=False),
)
_areas = st.one_of(st.just(0.0), st.sampled_from([1, 2.5, 10]), areas)
_points = st.lists(
    st.tuples(
        _offsets,
        _areas,
        st.one_of(st.none(), st.floats(min_value=0, max_value=40)),
        st.sampled_from([False, False, False, True]),  # closed
        st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]),
    ),
    max_size=25,
)
_rules = st.builds(
    TrajectoryRules,
    par_threshold_pct=st.sampled_from([40.0, 15.0, 90.0]),
    par_week=st.sampled_from([1, 4, 6]),
    week_window_days=st.sampled_from([0, 3, 7]),
    deteriorating_margin_pct=st.sampled_from([0.0, 10.0]),
    min_points_for_projection=st.sampled_from([2, 5]),
    min_days_for_projection=st.sampled_from([0, 28]),
    max_projection_days=st.sampled_from([30, 365]),
    stall_window_days=st.sampled_from([7, 28]),
)


@settings(max_examples=400, deadline=None)
@given(
    raw=_points,
    rules=_rules,
    healed_on=st.one_of(st.none(), st.dates(date(2022, 5, 1), date(2022, 12, 1))),
    shuffle=st.randoms(use_true_random=False),
)
def test_same_results_as_the_straightforward_algorithm(
    raw: list[tuple[float, float, float | None, bool, timezone]],
    rules: TrajectoryRules,
    healed_on: date | None,
    shuffle: random.Random,
) -> None:
    points = [
        Measurement((T0 + timedelta(seconds=s)).astimezone(tz), a, p, c) for s, a, p, c, tz in raw
    ]
    shuffle.shuffle(points)
    expected = _ref_trajectory(points, healed_on, rules)
    result = compute_trajectory(points, healed_on=healed_on, rules=rules)
    # the output, rounded as Trajectory reports it, exactly (repr: 0.0 is not -0.0)
    assert result.to_dict() == expected.to_dict()
    assert repr(result.to_dict()) == repr(expected.to_dict())
    # the unrounded values, within 1e-9 relative
    ordered = sorted(points, key=lambda m: m.at)
    day = rules.par_day + 0.5
    value, note = par_at_day(points, day, window_days=3)
    ref_value, ref_note = _ref_par_at(ordered, day, 3)
    assert note == ref_note
    assert _close(value, ref_value)
    assert _close(exponential_rate(points), _ref_k(ordered))
    if len(ordered) >= 2:
        days = [_ref_day(m, ordered[0]) for m in ordered]
        areas = [m.area_cm2 for m in ordered]
        # the area slope is kept to the bit (its rounding must match)
        assert repr(fit_slope(days, areas, None)) == repr(_ref_slope(days, areas))
    xs = [float(s) for s, *_ in raw]
    ys = [a for _, a, *_ in raw]
    assert _close(least_squares_slope(xs, ys), _ref_slope(xs, ys))


def _close(value: float | None, expected: float | None) -> bool:
    """Both None, or equal within 1e-9 relative (1e-12 absolute around 0)."""
    if expected is None:
        return value is None
    return value == pytest.approx(expected, rel=1e-9, abs=1e-12)


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
