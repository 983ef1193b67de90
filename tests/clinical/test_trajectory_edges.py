"""Edges of the trajectory rules: each test pins one boundary, rounding or
branch that a plausible slip in the code would move (found by mutation
testing). Expected numbers are worked in the comments."""

from __future__ import annotations

import copy
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from app.clinical import trajectory as T
from app.clinical.area_methods import compare, describe
from app.clinical.episodes import Episode, split_episodes
from app.clinical.formatting import change_noun, change_words
from app.clinical.measurement import Measurement, timeline
from app.clinical.progress import RecentChange, checkpoint, par_at_day
from app.clinical.trajectory import TrajectoryRules, compute_trajectory, exponential_rate

T0 = datetime(2022, 6, 6, 10, tzinfo=UTC)


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def on(day: int) -> date:
    return at(day).date()


def series(*pairs: tuple[float, float], method: str | None = None) -> list[Measurement]:
    return [Measurement(at(d), a, method=method) for d, a in pairs]


def ellipse(day: float, area: float) -> Measurement:
    return Measurement(at(day), area, method="ellipse")


def traced(day: float, area: float, ell: float | None = None) -> Measurement:
    others = () if ell is None else (("ellipse", ell),)
    return Measurement(at(day), area, method="traced", other_areas=others)


# --- the checkpoint as the answer writes it ------------------------------------------


def test_checkpoint_answers_in_every_state() -> None:
    base = {"week": 4, "day": 28, "threshold_pct": 40.0, "par_pct": None, "from_days": None}
    young = compute_trajectory(series((0, 10), (14, 8))).to_dict()["week4_checkpoint"]
    assert young == {
        **base,
        "state": "not_yet_due",
        "compared_on": None,
        "note": "due on day 28: followed for 14 days so far",
    }
    empty = compute_trajectory([]).to_dict()["week4_checkpoint"]
    assert empty == {
        **base,
        "state": "not_applicable",
        "compared_on": None,
        "note": "no measurement in this episode",
    }
    early = compute_trajectory(series((0, 2), (14, 0))).to_dict()["week4_checkpoint"]
    assert early == {
        **base,
        "state": "not_applicable",
        "compared_on": None,
        "note": "the episode closed by day 14, before day 28",
    }
    zero = compute_trajectory(series((0, 0), (28, 1))).to_dict()["week4_checkpoint"]
    assert zero == {
        **base,
        "state": "not_applicable",
        "compared_on": None,
        "note": "baseline area is 0 cm2: PAR is undefined",
    }


def test_checkpoint_rounding_and_days() -> None:
    # quarter days: 21.25 (7.0) and 35.75 (4.123): area at 28 = 7 - 2.877 x 6.75/14.5
    # = 5.6607 -> PAR 43.39% shown 43.4; days shown to 2 decimals
    points = [*series((0, 10)), *series((21.25, 7.0), (35.75, 4.123))]
    cp = compute_trajectory(points).to_dict()["week4_checkpoint"]
    assert cp["from_days"] == [21.25, 35.75]
    assert cp["par_pct"] == 43.4
    # three decimals of a day are cut to two
    odd = [*series((0, 10)), Measurement(at(21.123), 7.0), Measurement(at(35.5), 4.0)]
    assert compute_trajectory(odd).to_dict()["week4_checkpoint"]["from_days"] == [21.12, 35.5]


def test_checkpoint_gap_is_the_nearer_side() -> None:
    # day 27 is 1 day from 28 (day 60 is 32): no note
    assert compute_trajectory(series((0, 10), (27, 8), (60, 5))).par_week4_note is None
    # day 30 is 2 days from 28 (day 0 is 28): no note
    assert compute_trajectory(series((0, 10), (30, 6))).par_week4_note is None


def test_checkpoint_met_to_nine_decimals() -> None:
    # (10 - 6.00000000002) / 10 = 39.9999999998%: 40% to 9 decimals, met
    result = compute_trajectory(series((0, 10), (28, 6.00000000002)))
    assert result.week4_checkpoint.state == "met"
    assert result.status == "on_track"  # the recent change, the same 28 days
    assert compute_trajectory(series((0, 10), (28, 6.0000001))).status == "stalled"


def test_checkpoint_of_one_method_builds_no_comparison() -> None:
    result = compute_trajectory(series((0, 10), (28, 6), (56, 3), method="ellipse"))
    assert result.week4_checkpoint.compared_on == "ellipse"
    assert result.week4_checkpoint.comparison is None
    assert result.recent_change is not None
    assert result.recent_change.compared_on == "ellipse"
    assert result.recent_change.comparison is None


def test_checkpoint_needs_to_know_whether_the_episode_closed() -> None:
    points = series((0, 10), (14, 8))
    days = [0.0, 14.0]
    kw = {"week": 4, "threshold_pct": 40.0, "window_days": 7}
    assert checkpoint(points, days, closed=False, **kw).state == "not_yet_due"
    assert checkpoint(points, days, closed=True, **kw).state == "not_applicable"


def test_par_at_day_with_a_single_assessment() -> None:
    assert par_at_day(series((0, 10)), [0.0], 28) == (None, "no assessment on or after day 28 yet")


# --- the recent change as the answer writes it -----------------------------------------


def test_recent_change_rounding() -> None:
    # latest on day 56.25: window from day 28.25, between 21 (6.789) and 35 (4.123):
    # 6.789 - 2.666 x 7.25/14 = 5.4084 -> 1.234 on day 56.25: 77.2%
    points = series((0, 10), (21, 6.789), (35, 4.123), (56.25, 1.234))
    recent = compute_trajectory(points).to_dict()["recent_change"]
    assert recent == {
        "window_days": 28.0,
        "from_day": 28.2,  # 28.25, half to even
        "to_day": 56.2,
        "from_area_cm2": 5.41,
        "to_area_cm2": 1.23,
        "change_pct": 77.2,
        "required_pct": 40.0,
        "compared_on": None,
    }
    # a window longer than the follow-up: 30.25 days, 1 - 0.6^(30.25/28) = 42.4%
    rules = TrajectoryRules(recent_window_days=42)
    longer = compute_trajectory(series((0, 10), (30.25, 5)), rules=rules)
    assert longer.to_dict()["recent_change"]["window_days"] == 30.2
    assert longer.to_dict()["recent_change"]["required_pct"] == 42.4


def test_recent_change_reports_no_minus_zero() -> None:
    # 4 -> 4.0004 over 28 days: -0.01% growth, -0.0 rounded, reported 0.0
    change = RecentChange(28, 28, 56, 4.0, 4.0004, -0.01, 40.0, None)
    assert repr(change.to_dict()["change_pct"]) == "0.0"
    points = [Measurement(at(0), 100.0), Measurement(at(28), 100.004)]
    assert repr(compute_trajectory(points).to_dict()["week4_checkpoint"]["par_pct"]) == "0.0"


# --- deteriorating, compared like with like ----------------------------------------------


def test_deteriorating_compares_baseline_and_previous_each_on_one_method() -> None:
    # baseline traced 10 (ruler 12), then ellipses 11.5 and 11.6: in use 11.6 is 16%
    # above 10; on the ellipse 11.6 is below 12, and 0.9% above 11.5
    assert compute_trajectory([traced(0, 10, 12), ellipse(7, 11.5), ellipse(14, 11.6)]).status != (
        "deteriorating"
    )
    # the same with two traced assessments first
    four = [traced(0, 10, 12), traced(7, 9, 11), ellipse(14, 11.2), ellipse(21, 11.3)]
    assert compute_trajectory(four).status != "deteriorating"
    # previous traced 6 (ruler 7), latest ellipse 7.2: 20% in use, 2.9% on the ellipse
    assert compute_trajectory([ellipse(0, 10), traced(7, 6, 7), ellipse(14, 7.2)]).status != (
        "deteriorating"
    )
    # ellipse 10, 8, then traced 10.5 (ruler 11.5): 15% above baseline on the ellipse
    result = compute_trajectory([ellipse(0, 10), ellipse(7, 8), traced(14, 10.5, 11.5)])
    assert result.reasons[0] == (
        "area 11.50 cm2 is 15% above baseline 10.00 cm2 (>= 10% margin); area rose 43.8% since"
        " the previous assessment (8.00 cm2 -> 11.50 cm2; >= 10% margin)"
    )


def test_a_zero_margin_counts_only_real_growth() -> None:
    rules = TrajectoryRules(deteriorating_margin_pct=0.0)
    # back to the baseline after a dip: growth over the previous only
    back = compute_trajectory(series((0, 10), (7, 9), (14, 10)), rules=rules)
    assert back.reasons[0] == (
        "area rose 11.1% since the previous assessment (9.00 cm2 -> 10.00 cm2; >= 0% margin)"
    )
    # the same as the previous: growth over the baseline only
    same = compute_trajectory(series((0, 10), (7, 11), (14, 11)), rules=rules)
    assert same.reasons[0] == "area 11.00 cm2 is 10% above baseline 10.00 cm2 (>= 0% margin)"


# --- reasons ---------------------------------------------------------------------------------


def test_every_young_reason_is_kept() -> None:
    # young, mixed methods: the trend first, then the methods
    result = compute_trajectory([ellipse(0, 4.0), traced(14, 2.0, 2.5)])
    assert result.reasons[0].startswith("followed for 14 days, less than 4 weeks")
    assert result.reasons[1].startswith("PAR compares areas taken by different methods")
    # the same in a recurrence
    again = compute_trajectory(
        [ellipse(0, 4.0), ellipse(7, 0), ellipse(20, 4.0), traced(34, 2.0, 2.5)]
    )
    assert again.status == "recurred"
    assert [r.split(":")[0].split(" (")[0] for r in again.reasons] == [
        "episode 2",
        "followed for 14 days, less than 4 weeks; the area fell 37.5% by day 14, which the"
        " exponential model",
        "PAR compares areas taken by different methods",
    ]


def test_a_young_trend_reads_the_latest_day() -> None:
    result = compute_trajectory(series((0, 10), (7, 9), (21, 7)))
    assert result.rule.startswith("followed for 21 days, less than 4 weeks; the area fell 30%")


def test_a_mixed_checkpoint_alone_is_said() -> None:
    # baseline and latest by ellipse; the traced day 21 is read only by the checkpoint
    points = [ellipse(0, 10), traced(21, 7, 7.5), ellipse(35, 4), ellipse(70, 2)]
    result = compute_trajectory(points)
    assert result.area_methods is not None and result.area_methods["mixed"] is False
    assert result.reasons[-1] == (
        "the week-4 checkpoint compares areas taken by different methods (ellipse -> traced ->"
        " ellipse): computed on the ellipse area of each"
    )


def test_a_mixed_par_is_said_once_due() -> None:
    points = [ellipse(0, 10), ellipse(28, 6), traced(56, 2, 2.5)]
    result = compute_trajectory(points)
    assert "PAR compares areas taken by different methods (ellipse -> traced)" in result.rule


def test_the_recurrence_reason_names_the_latest_closure() -> None:
    points = [
        *series((0, 10), (7, 0)),  # episode 1, closed on day 7
        *series((14, 5), (21, 0)),  # episode 2, closed on day 21
        *series((30, 3), (37, 2.9)),  # episode 3
    ]
    result = compute_trajectory(points)
    assert result.episode == 3
    assert result.reasons[0] == (
        "episode 3: the wound closed on 2022-06-27 (an assessment measured 0 cm2); reopened"
        " on 2022-07-06 (open area 3.00 cm2 at the assessment)"
    )


def test_unknown_methods_are_named() -> None:
    c = compare([Measurement(T0, 4.0), traced(7, 2.0)])
    assert describe(c, "PAR") == (
        "PAR compares areas taken by different methods (unknown -> traced) with no method"
        " common to them: the change includes the difference between the methods"
    )


def test_a_small_area_by_another_method_counts() -> None:
    c = compare([ellipse(0, 4.0), traced(7, 0.4, 0.5)])
    assert (c.method, c.areas) == ("ellipse", [4.0, 0.5])


def test_change_words_below_one_percent() -> None:
    assert change_words(0.5) == "fell 0.5%"
    assert change_noun(0.5) == "a fall of 0.5%"


# --- episodes ---------------------------------------------------------------------------------


def test_a_zero_area_after_a_reopening_is_no_closure() -> None:
    assert split_episodes(series((0, 4), (14, 0), (21, 2)), [(on(10), False)]) == [
        Episode(1, 0, 1, on(10), "earlier_healing", reopened=True),
        Episode(2, 1, 3),
    ]


def test_two_healings_before_one_measurement() -> None:
    assert split_episodes(series((0, 4), (30, 2)), [(on(10), False), (on(20), True)]) == [
        Episode(1, 0, 1, on(10), "earlier_healing", reopened=True),
        Episode(2, 1, 1, on(20), "healed_on"),
        Episode(3, 1, 2),
    ]


def test_episode_starts_of_one_open_episode() -> None:
    points = [Measurement(at(0), 4.0, seq=7), Measurement(at(7), 3.0, seq=8)]
    assert compute_trajectory(points).episode_starts == ((1, 7),)


# --- measurements and their order -------------------------------------------------------------


def test_measurement_messages() -> None:
    cases = [
        ((datetime(2022, 6, 6), 1.0), {}, "Measurement.at must be timezone-aware"),
        ((T0, -1.0), {}, "area_cm2 must be a finite number >= 0, got -1.0"),
        ((T0, 1.0), {"perimeter_cm": -2.0}, "perimeter_cm must be a finite number >= 0, got -2.0"),
        (
            (T0, 1.0),
            {"method": "traced", "other_areas": (("guess", 1.0),)},
            "other_areas method must be one of traced, measured, ellipse, got 'guess'",
        ),
        (
            (T0, 1.0),
            {"method": "traced", "other_areas": (("ellipse", -1.0),)},
            "other_areas area must be a finite number >= 0, got -1.0",
        ),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError) as raised:
            Measurement(*args, **kwargs)  # type: ignore[arg-type]
        assert str(raised.value) == message
    plain = Measurement(T0, 1.0)
    assert isinstance(plain.epoch_us, int)
    assert (plain.perimeter_cm, plain.closed, plain.method, plain.other_areas, plain.seq) == (
        None,
        False,
        None,
        (),
        0,
    )


def test_ties_are_ordered_by_method_and_perimeter_too() -> None:
    unknown, by_ellipse, by_trace = (
        Measurement(T0, 1.0),
        Measurement(T0, 1.0, method="ellipse"),
        Measurement(T0, 1.0, method="traced"),
    )
    for points in ([by_trace, unknown, by_ellipse], [by_ellipse, by_trace, unknown]):
        assert timeline(list(points))[0] == [unknown, by_ellipse, by_trace]
    none, small, large = (
        Measurement(T0, 1.0),
        Measurement(T0, 1.0, perimeter_cm=0.5),
        Measurement(T0, 1.0, perimeter_cm=3.0),
    )
    for points in ([large, small, none], [small, none, large]):
        assert timeline(list(points))[0] == [none, small, large]


# --- projection, fits and rounding ---------------------------------------------------------------


def test_projection_notes_in_full() -> None:
    linear = compute_trajectory(series((0, 10), (7, 8), (14, 6), (21, 4), (28, 2)))
    assert linear.projection_note == (
        "linear model: the least-squares slope -2.000 cm2/week applied to the latest area"
        " 2.00 cm2 closes it in 7 days (the exponential model is not used for the date: it"
        " never reaches 0)"
    )
    # 10, 9, 9.5, 9.8, 10.2, 10.5 on days 0..35 (means 17.5 and 9.8333): sxy = 22.4,
    # sxx = 857.5, slope 0.026122 cm2/day, +0.183 a week
    rising = compute_trajectory(
        series((0, 10), (7, 9), (14, 9.5), (21, 9.8), (28, 10.2), (35, 10.5))
    )
    assert rising.projection_note == (
        "area trend is not downward (least-squares slope +0.183 cm2/week): no projection"
    )


def test_a_projection_exactly_at_the_limit_is_given() -> None:
    # -1 cm2 a day to 2 cm2: closes in exactly 2 days, the limit
    points = series((0, 30), (7, 23), (14, 16), (21, 9), (28, 2))
    result = compute_trajectory(points, rules=TrajectoryRules(max_projection_days=2))
    assert result.projected_closure_on == on(30)


def test_ceil_days_at_the_half_millionth() -> None:
    assert T._ceil_days(5e-7) == 0 == math.ceil(round(5e-7, 6))


def test_exponential_rate_keeps_areas_below_one() -> None:
    # 0.8 -> 0.4 in 7 days, then closed: k = ln 2 / 7
    rate = exponential_rate(series((0, 0.8), (7, 0.4), (14, 0)))
    assert rate == pytest.approx(math.log(2) / 7)


def test_fits_report_no_minus_zero() -> None:
    # 100 -> 99.9999 over 28 days: -0.0000357 cm2/day, -0.00025 a week: -0.0 at 3 decimals
    shrinking = compute_trajectory(series((0, 100), (28, 99.9999)))
    assert repr(shrinking.weekly_area_change_cm2) == "0.0"
    # 100 -> 100.0001: k = -3.6e-8 a day: -0.0 at 5 decimals
    growing = compute_trajectory(series((0, 100), (28, 100.0001)))
    assert repr(growing.k_per_day) == "0.0"


def test_to_dict_is_a_deep_copy_with_the_objects_as_json() -> None:
    result = compute_trajectory(series((0, 10), (28, 6.5), (56, 1.0)))
    data = result.to_dict()
    assert data["week4_checkpoint"] == result.week4_checkpoint.to_dict()
    assert result.recent_change is not None
    assert data["recent_change"] == result.recent_change.to_dict()
    before = copy.deepcopy(result.episodes)
    data["episodes"][0]["measurements"] = 99
    data["reasons"].append("changed")
    assert result.episodes == before
    assert "changed" not in result.reasons
    young = compute_trajectory(series((0, 10), (14, 8))).to_dict()
    assert young["recent_change"] is None
