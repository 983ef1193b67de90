"""app/clinical/colour.py against published test data and colour-science."""

from __future__ import annotations

import math
import random

import colour
import numpy as np
import pytest

from app.clinical.colour import (
    D65_WHITE,
    ColourError,
    delta_e_2000,
    erythema_index,
    ita_category,
    ita_degrees,
    linear_rgb_to_lab,
    linear_rgb_to_xyz,
    srgb_to_linear,
    xyz_to_lab,
)

# Sharma, Wu & Dalal 2005 (Color Res Appl 30:21), Table 1: pairs and their
# CIEDE2000 difference, chosen to exercise every hue branch.
SHARMA_2005 = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, -1.0, 2.0), (50.0, 0.0, 0.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0010), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0012), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_2005)
def test_delta_e_2000_matches_sharma_table(lab1, lab2, expected):
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    # Symmetric, as the formula is.
    assert delta_e_2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)


def test_delta_e_2000_agrees_with_colour_science_on_random_pairs():
    rng = random.Random(24)
    for _ in range(300):
        lab1 = (rng.uniform(0, 100), rng.uniform(-90, 90), rng.uniform(-90, 90))
        lab2 = (rng.uniform(0, 100), rng.uniform(-90, 90), rng.uniform(-90, 90))
        expected = float(colour.delta_E(np.array(lab1), np.array(lab2), method="CIE 2000"))
        assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("lab1", "lab2"),
    [
        # On the axes: hue 180 (a* < 0, b* = 0), hue 90 (a* = 0, b* = 1) and
        # chroma products of exactly 1 with hues exactly 180 degrees apart.
        ((50.0, -10.0, 0.0), (55.0, 5.0, 3.0)),
        ((50.0, 0.0, 1.0), (50.0, 3.0, 0.0)),
        ((50.0, 0.0, 2.0), (50.0, 0.0, -0.5)),
        ((40.0, 0.0, -0.5), (45.0, 0.0, 2.0)),
    ],
)
def test_delta_e_2000_on_hue_edge_cases_agrees_with_colour_science(lab1, lab2):
    expected = float(colour.delta_E(np.array(lab1), np.array(lab2), method="CIE 2000"))
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-9)


def test_delta_e_2000_of_a_colour_with_itself_is_zero():
    assert delta_e_2000((55.0, 20.0, 15.0), (55.0, 20.0, 15.0)) == 0.0


@pytest.mark.parametrize(
    ("encoded", "linear"),
    [(0.0, 0.0), (0.04045, 0.04045 / 12.92), (0.5, 0.21404114), (1.0, 1.0), (0.04046, None)],
)
def test_srgb_to_linear_both_segments(encoded, linear):
    expected = linear if linear is not None else float(colour.cctf_decoding(encoded))
    assert srgb_to_linear(encoded) == pytest.approx(expected, rel=1e-7)


def test_srgb_to_linear_agrees_with_colour_science_on_every_8_bit_value():
    values = np.arange(256) / 255
    expected = colour.cctf_decoding(values)
    ours = [srgb_to_linear(float(v)) for v in values]
    assert np.allclose(ours, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("value", [-0.001, 1.001])
def test_srgb_to_linear_refuses_values_outside_the_unit_range(value):
    with pytest.raises(ColourError, match="within"):
        srgb_to_linear(value)


def test_white_is_the_d65_white_and_l_100():
    assert linear_rgb_to_xyz((1.0, 1.0, 1.0)) == pytest.approx(D65_WHITE, abs=1e-12)
    assert linear_rgb_to_lab((1.0, 1.0, 1.0)) == pytest.approx((100.0, 0.0, 0.0), abs=1e-9)


def test_black_is_l_0():
    assert linear_rgb_to_lab((0.0, 0.0, 0.0)) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_lab_agrees_with_colour_science_including_very_dark_colours():
    rng = random.Random(7)
    samples = [(0.001, 0.002, 0.0005), (0.0, 0.004, 0.0)]
    samples += [(rng.random(), rng.random(), rng.random()) for _ in range(200)]
    for rgb in samples:
        xyz = colour.RGB_to_XYZ(np.array(rgb), "sRGB")
        expected = colour.XYZ_to_Lab(xyz, colour.XYZ_to_xy(np.array(D65_WHITE)))
        # The 4-decimal IEC matrix and colour-science's derived one differ in
        # the 4th decimal: a few hundredths of a CIELAB unit at most.
        assert linear_rgb_to_lab(rgb) == pytest.approx(tuple(expected), abs=0.03)


def test_lab_known_value_mid_grey():
    # 18 % grey (linear 0.18 on every channel): L* = 116 * 0.18^(1/3) - 16.
    lab = linear_rgb_to_lab((0.18, 0.18, 0.18))
    assert lab[0] == pytest.approx(116 * 0.18 ** (1 / 3) - 16, abs=1e-9)
    assert lab[1:] == pytest.approx((0.0, 0.0), abs=1e-9)


def test_xyz_to_lab_is_relative_to_the_white():
    # Tristimulus values on a 0-100 scale with a white on the same scale.
    scaled = xyz_to_lab((20.0, 30.0, 40.0), white=tuple(100 * v for v in D65_WHITE))
    assert scaled == pytest.approx(xyz_to_lab((0.2, 0.3, 0.4)), abs=1e-9)


def test_xyz_to_lab_toe_is_linear():
    # Below (6/29)^3 the CIE formula is linear: L* = 903.3 Y (Y = 0.001 -> 0.9033).
    assert xyz_to_lab((0.00095, 0.001, 0.00109))[0] == pytest.approx(0.903296, abs=1e-5)


def test_ita_formula_and_sign():
    assert ita_degrees(60.0, 10.0) == pytest.approx(math.degrees(math.atan(1.0)))
    assert ita_degrees(50.0, 15.0) == 0.0
    assert ita_degrees(40.0, 10.0) == pytest.approx(-45.0)
    assert ita_degrees(70.0, 0.0) is None
    assert ita_degrees(70.0, -1.0) is None
    assert ita_degrees(70.0, 1e-9) == pytest.approx(90.0, abs=1e-6)


@pytest.mark.parametrize(
    ("ita", "category"),
    [
        (None, None),
        (60.0, "very light"),
        (55.0, "light"),
        (41.0, "intermediate"),
        (28.0, "tan"),
        (10.0, "brown"),
        (-30.0, "dark"),
        (-45.0, "dark"),
        (55.01, "very light"),
        (41.01, "light"),
        (28.01, "intermediate"),
        (10.01, "tan"),
        (-29.99, "brown"),
    ],
)
def test_ita_categories_of_del_bino(ita, category):
    assert ita_category(ita) == category


def test_erythema_index_is_100_log10_red_over_green():
    assert erythema_index(0.5, 0.25) == pytest.approx(100 * math.log10(2))
    assert erythema_index(0.3, 0.3) == 0.0
    # Redder skin (less green reflected) has a higher index.
    assert erythema_index(0.5, 0.2) > erythema_index(0.5, 0.3)


@pytest.mark.parametrize(("red", "green"), [(0.0, 0.3), (0.3, 0.0), (-0.1, 0.3)])
def test_erythema_index_needs_positive_reflectances(red, green):
    with pytest.raises(ColourError, match=r"^the erythema index needs red and green"):
        erythema_index(red, green)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((1.0, 2.0), r"^expected three components, got 2$"),
        ((1.0, 2.0, 3.0, 4.0), r"^expected three components, got 4$"),
        ((1.0, math.nan, 0.0), r"^colour components must be finite numbers$"),
        ((1.0, 0.0, math.inf), r"^colour components must be finite numbers$"),
    ],
)
def test_triples_are_checked(bad, message):
    with pytest.raises(ColourError, match=message):
        linear_rgb_to_lab(bad)
