"""Measurements: their area method, their total order, and PAR on one method."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from app.clinical.area_methods import Comparison, compare, describe
from app.clinical.formatting import change_noun, change_words
from app.clinical.measurement import Measurement, order_key, timeline
from app.clinical.trajectory import compute_trajectory

T0 = datetime(2022, 6, 6, 10, tzinfo=UTC)


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def traced(day: float, area: float, ellipse: float | None = None) -> Measurement:
    others = () if ellipse is None else (("ellipse", ellipse),)
    return Measurement(at(day), area, method="traced", other_areas=others)


def ellipse(day: float, area: float) -> Measurement:
    return Measurement(at(day), area, method="ellipse")


# --- Measurement ------------------------------------------------------------------


def test_measurement_methods_are_checked() -> None:
    with pytest.raises(ValueError, match="method must be one of traced, measured, ellipse"):
        Measurement(T0, 1.0, method="guess")
    with pytest.raises(ValueError, match="other_areas method"):
        Measurement(T0, 1.0, method="traced", other_areas=(("guess", 1.0),))
    with pytest.raises(ValueError, match="repeats the method in use"):
        Measurement(T0, 1.0, method="traced", other_areas=(("traced", 1.0),))
    with pytest.raises(ValueError, match="other_areas area"):
        Measurement(T0, 1.0, method="traced", other_areas=(("ellipse", math.nan),))


def test_area_by_method() -> None:
    m = Measurement(T0, 3.0, method="traced", other_areas=(("measured", 3.2), ("ellipse", 3.5)))
    assert [m.area_by(x) for x in ("traced", "measured", "ellipse")] == [3.0, 3.2, 3.5]
    assert Measurement(T0, 3.0, method="ellipse").area_by("traced") is None


def test_closures_are_marked() -> None:
    assert Measurement(T0, 2.0).open_area == 2.0
    assert Measurement(T0, 2.0).gone is False
    assert Measurement(T0, 0.0).gone is True
    assert Measurement(T0, 0.3, closed=True).open_area == -1.0
    assert Measurement(T0, 2.0).instant == float(Measurement(T0, 2.0).epoch_us)


# --- order ----------------------------------------------------------------------------


def test_equal_instants_are_ordered_by_seq_then_content() -> None:
    late = Measurement(T0, 1.0, seq=2)
    early = Measurement(T0, 5.0, seq=1)
    ordered, days = timeline([late, early])
    assert ordered == [early, late]
    assert days == [0.0, 0.0]
    # with the same seq, by content: open before closed, then by area
    a, b, c = Measurement(T0, 0.5, closed=True), Measurement(T0, 2.0), Measurement(T0, 1.0)
    assert timeline([a, b, c])[0] == [c, b, a]
    assert sorted([a, b, c], key=order_key) == [c, b, a]
    # a sorted series without ties is kept as it came
    points = [Measurement(at(d), 1.0) for d in (0, 1, 2)]
    assert timeline(points) == (points, [0.0, 1.0, 2.0])
    assert timeline([]) == ([], [])


def test_ties_give_one_answer_whatever_the_input_order() -> None:
    """Issue 18, 5: two assessments at the same instant, in both orders."""
    first = Measurement(at(28), 9.0, seq=3)  # recorded first
    second = Measurement(at(28), 5.0, seq=4)  # recorded later: the later reading
    base = [Measurement(at(0), 10.0, seq=1), Measurement(at(14), 9.5, seq=2)]
    one = compute_trajectory([*base, first, second])
    other = compute_trajectory([*base, second, first])
    assert one == other
    assert one.to_dict() == other.to_dict()
    # the later reading is the latest: (10 - 5) / 10 = 50%
    assert one.par_pct == 50.0
    assert one.latest == {"at": "2022-07-04T10:00:00+00:00", "area_cm2": 5.0}
    # the checkpoint reads the last of the two on day 28
    assert one.par_week4_pct == 50.0
    # and any order of a longer series gives the same answer
    points = [*base, first, second, Measurement(at(35), 4.0, seq=5)]
    expected = compute_trajectory(points).to_dict()
    rng = random.Random(18)
    for _ in range(20):
        rng.shuffle(points)
        assert compute_trajectory(points).to_dict() == expected


# --- comparing on one method --------------------------------------------------------


def test_one_method_needs_no_comparison() -> None:
    c = compare([ellipse(0, 4.0), ellipse(7, 3.0)])
    assert c == Comparison([4.0, 3.0], "ellipse", ("ellipse", "ellipse"), False)
    assert describe(c, "PAR") is None


def test_par_is_computed_on_the_method_both_have() -> None:
    """Issue 18, 6: an ellipse baseline and a traced latest area."""
    # baseline ellipse 4.0; latest traced 2.0 with a ruler ellipse of 2.5:
    # on the ellipse (4.0 -> 2.5) PAR is 37.5%, not the 50% of mixing methods
    points = [ellipse(0, 4.0), traced(14, 2.0, ellipse=2.5)]
    result = compute_trajectory(points)
    assert result.par_pct == 37.5
    assert result.area_methods == {
        "baseline": "ellipse",
        "latest": "traced",
        "compared_on": "ellipse",
        "mixed": True,
    }
    assert result.reasons[-1] == (
        "PAR compares areas taken by different methods (ellipse -> traced): computed on the"
        " ellipse area of each"
    )
    # the latest area shown is still the area in use
    assert result.latest == {"at": "2022-06-20T10:00:00+00:00", "area_cm2": 2.0}


def test_without_a_common_method_the_answer_says_so() -> None:
    points = [ellipse(0, 4.0), traced(14, 2.0)]
    result = compute_trajectory(points)
    assert result.par_pct == 50.0
    assert result.area_methods is not None
    assert result.area_methods["compared_on"] is None
    assert result.area_methods["mixed"] is True
    assert result.reasons[-1] == (
        "PAR compares areas taken by different methods (ellipse -> traced) with no method"
        " common to them: the change includes the difference between the methods"
    )


def test_the_most_accurate_common_method_is_used() -> None:
    both = Measurement(at(0), 4.0, method="measured", other_areas=(("ellipse", 5.0),))
    latest = Measurement(
        at(7), 3.0, method="traced", other_areas=(("measured", 3.5), ("ellipse", 4.5))
    )
    c = compare([both, latest])
    assert (c.method, c.areas, c.mixed) == ("measured", [4.0, 3.5], True)


def test_a_closure_is_zero_by_any_method() -> None:
    closed = Measurement(at(14), 0.0, method="measured")
    c = compare([ellipse(0, 4.0), closed])
    assert (c.areas, c.method, c.mixed) == ([4.0, 0.0], "ellipse", False)
    assert describe(c, "PAR") is None
    # among mixed open areas, the closure is 0 on the common method
    c = compare([ellipse(0, 4.0), traced(7, 2.0, ellipse=2.5), closed])
    assert (c.areas, c.method) == ([4.0, 2.5, 0.0], "ellipse")
    # unknown methods and no open area at all
    assert compare([Measurement(T0, 0.0), closed]).method is None


def test_an_ellipse_of_zero_at_an_open_wound_is_no_measurement() -> None:
    # a length of 0 gives an ellipse of 0: not comparable with an open area
    c = compare([ellipse(0, 4.0), traced(7, 2.0, ellipse=0.0)])
    assert (c.method, c.areas) == (None, [4.0, 2.0])


def test_deterioration_compares_like_with_like() -> None:
    # traced 10 (ruler ellipse 12), then ellipse 11.5: 15% "growth" in use, but on
    # the ellipse 12 -> 11.5 is smaller
    points = [traced(0, 10.0, ellipse=12.0), ellipse(7, 11.5)]
    assert compute_trajectory(points).status != "deteriorating"
    # and the other way: ellipse 10 -> traced 9.5 (ruler ellipse 11.5) grew 15%
    grew = compute_trajectory([ellipse(0, 10.0), traced(7, 9.5, ellipse=11.5)])
    assert grew.status == "deteriorating"
    assert grew.reasons[0] == "area 11.50 cm2 is 15% above baseline 10.00 cm2 (>= 10% margin)"
    # over the previous assessment too
    prev = compute_trajectory([ellipse(0, 20.0), ellipse(7, 10.0), traced(14, 9.5, ellipse=11.5)])
    assert prev.reasons[0] == (
        "area rose 15% since the previous assessment (10.00 cm2 -> 11.50 cm2; >= 10% margin)"
    )


def test_checkpoint_and_recent_change_compare_like_with_like() -> None:
    # ellipse until day 21, traced (with a ruler ellipse) from day 35
    points = [
        ellipse(0, 10.0),
        ellipse(21, 7.0),
        traced(35, 3.0, ellipse=4.0),
        traced(56, 1.0, ellipse=1.6),
    ]
    result = compute_trajectory(points)
    # week 4 on the ellipse: 7 + (4 - 7) x 7/14 = 5.5 -> 45%
    assert result.week4_checkpoint.to_dict()["par_pct"] == 45.0
    assert result.week4_checkpoint.to_dict()["compared_on"] == "ellipse"
    # last 28 days from day 28 (ellipse 5.5) to day 56 (traced 1.0, ellipse 1.6)
    assert result.recent_change is not None
    assert result.recent_change.to_dict()["compared_on"] == "ellipse"
    assert result.recent_change.to_dict()["from_area_cm2"] == 5.5
    assert result.recent_change.to_dict()["to_area_cm2"] == 1.6
    assert "the week-4 checkpoint compares areas taken by different methods" in result.rule
    assert "the recent change compares areas taken by different methods" in result.rule


def test_change_words() -> None:
    assert change_words(5.0) == "fell 5%"
    assert change_words(-7.5) == "grew 7.5%"
    assert change_words(0.04) == "did not change"
    assert change_words(-0.04) == "did not change"
    assert change_noun(51.0) == "a fall of 51%"
    assert change_noun(-19.0) == "growth of 19%"
    assert change_noun(0.0) == "no change"
