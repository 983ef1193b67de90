"""Least-squares fits (app/clinical/regression.py): the contracts the
trajectory's bit-exact results rest on.

The slopes themselves are checked through the trajectory in test_trajectory.py;
these pin the special cases and the fast rate's algebra directly.
"""

from __future__ import annotations

import math

import pytest

from app.clinical.regression import centred, fast_log_rate, fit_slope, least_squares_slope


def test_flat_data_is_exactly_zero_where_the_formula_leaves_noise() -> None:
    # xs 0, 1, 2.5: the mean of three 0.1s is not exactly 0.1, and the centred
    # formula gives about 1e-33, not 0; the flat case must return 0.0 itself
    xs, ys = [0.0, 1.0, 2.5], [0.1, 0.1, 0.1]
    assert repr(least_squares_slope(xs, ys)) == "0.0"
    assert repr(fit_slope(xs, ys, centred(xs))) == "0.0"
    # flat with no x spread stays None
    assert fit_slope([2.0, 2.0, 2.0], ys, None) is None


def test_fit_slope_reuses_the_centred_xs() -> None:
    # xs 0, 1, 2 (mean 1), ys 1, 1, 4 (mean 2): sxy 3, sxx 2 -> slope 1.5
    xs, ys = [0.0, 1.0, 2.0], [1.0, 1.0, 4.0]
    assert fit_slope(xs, ys, centred(xs)) == 1.5
    assert fit_slope(xs, ys, None) == 1.5
    assert centred(xs) == ([-1.0, 0.0, 1.0], 2.0)


def test_fast_rate_leaves_flat_areas_to_the_exact_formula() -> None:
    # flat ln(area): the exact formula's special case (k 0 exactly), not the fast sums
    assert fast_log_rate(*centred([0.0, 1.0, 2.5]), [0.1, 0.1, 0.1]) is None
    assert fast_log_rate(*centred([0.0, 7.0, 14.0]), [3.0, 3.0, 3.0]) is None
    # no day spread
    assert fast_log_rate(*centred([5.0, 5.0]), [4.0, 1.0]) is None


def test_fast_rate_when_only_the_first_two_areas_are_equal() -> None:
    # 4, 4, 1 cm2 at days 0, 7, 14: not flat, so the fast path answers:
    # ln(area) slope = sum(dx ln a) / sxx = (-7 ln 4 + 0 + 7 ln 1) / 98 = -ln 4 / 14
    k = fast_log_rate(*centred([0.0, 7.0, 14.0]), [4.0, 4.0, 1.0])
    assert k == pytest.approx(math.log(4) / 14, rel=1e-12)


def test_fast_rate_applies_the_mean_correction_of_the_y_side() -> None:
    # The y side is not centred: sum(dx (y - mean y)) = sum(dx y) - mean y sum(dx).
    # Centred days sum to (about) 0, which hides that term; shifting every dx by
    # a constant keeps sum(dx (y - mean y)), so the rate must not change.
    dx, sxx = centred([0.0, 7.0, 14.0])
    areas = [4.0, 2.0, 1.0]
    expected = math.log(2) / 7
    assert fast_log_rate(dx, sxx, areas) == pytest.approx(expected, rel=1e-12)
    shifted = [d + 100.0 for d in dx]
    assert fast_log_rate(shifted, sxx, areas) == pytest.approx(expected, rel=1e-12)
