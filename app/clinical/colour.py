"""Skin colour from photos: sRGB to CIELAB, ITA, erythema index, delta E 2000.

Plain Python (no numpy): each formula is applied to a handful of values (the
mean colour of a region, the 24 patches of a colour card), so readable scalar
arithmetic matters more than speed. The photo service averages pixels in
linear RGB and hands the means to these functions.

Conventions: RGB values are in [0, 1]; "linear" means the sRGB primaries with
the transfer function removed. CIELAB is relative to the D65 white (the sRGB
white point), so no chromatic adaptation is needed between the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Triple = tuple[float, float, float]

# IEC 61966-2-1:1999 (sRGB), section 5.2: linear RGB -> CIE XYZ, D65 white.
_SRGB_TO_XYZ: tuple[Triple, Triple, Triple] = (
    (0.4124, 0.3576, 0.1805),
    (0.2126, 0.7152, 0.0722),
    (0.0193, 0.1192, 0.9505),
)
# The D65 white of that matrix (the sum of each row), Y = 1.
D65_WHITE: Triple = (0.9505, 1.0, 1.089)

# CIE 15:2004, 8.2.1: the cube-root segment of f(t) and its linear toe.
_LAB_EPSILON = (6 / 29) ** 3
_LAB_KAPPA = (29 / 6) ** 2 / 3

# Individual typology angle categories (Del Bino et al. 2006, Pigment Cell Res
# 19:606): lower bounds in degrees, lightest first.
ITA_CATEGORIES: tuple[tuple[float, str], ...] = (
    (55.0, "very light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)

# What erythema_index computes, as the API and the exports state it.
ERYTHEMA_INDEX_METHOD = {
    "name": "Diffey log-reflectance erythema index",
    "formula": "EI = 100 x log10(R / G), R and G the linear red and green reflectances",
    "source": "Diffey BL, Oliver RI, Farr PM. Br J Dermatol 1984;111:663-672",
}


class ColourError(ValueError):
    """A value outside the domain of a colour formula."""


def srgb_to_linear(value: float) -> float:
    """Remove the sRGB transfer function from one channel value in [0, 1].

    Source: IEC 61966-2-1:1999, section 5.2 (linear segment below 0.04045,
    power 2.4 above it).
    """
    if not 0.0 <= value <= 1.0:
        raise ColourError(f"an sRGB channel value must be within [0, 1], got {value}")
    if value <= 0.04045:
        return value / 12.92
    linear: float = ((value + 0.055) / 1.055) ** 2.4
    return linear


def linear_rgb_to_xyz(rgb: Sequence[float]) -> Triple:
    """Linear sRGB -> CIE XYZ (D65, Y of the white = 1). IEC 61966-2-1:1999, 5.2."""
    r, g, b = _triple(rgb)
    x, y, z = (row[0] * r + row[1] * g + row[2] * b for row in _SRGB_TO_XYZ)
    return (x, y, z)


def _f(t: float) -> float:
    if t > _LAB_EPSILON:
        root: float = t ** (1 / 3)
        return root
    return _LAB_KAPPA * t + 4 / 29


def xyz_to_lab(xyz: Sequence[float], white: Sequence[float] = D65_WHITE) -> Triple:
    """CIE XYZ -> CIELAB L*, a*, b* against ``white``.

    Source: CIE 15:2004 Colorimetry, 3rd ed., section 8.2.1 (including the
    linear segment for very dark colours).
    """
    x, y, z = _triple(xyz)
    xn, yn, zn = _triple(white)
    fx, fy, fz = _f(x / xn), _f(y / yn), _f(z / zn)
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def linear_rgb_to_lab(rgb: Sequence[float]) -> Triple:
    """Linear sRGB -> CIELAB (D65): the two steps above."""
    return xyz_to_lab(linear_rgb_to_xyz(rgb))


def ita_degrees(lightness: float, b_star: float) -> float | None:
    """Individual typology angle, ITA = arctan((L* - 50) / b*) x 180 / pi.

    Source: Chardon A, Cretois I, Hourseau C. Skin colour typology and
    suntanning pathways. Int J Cosmet Sci 1991;13:191-208. Defined for skin,
    whose b* is positive; None when b* <= 0 (the region is not skin-coloured).
    """
    if b_star <= 0:
        return None
    return math.degrees(math.atan((lightness - 50) / b_star))


def ita_category(ita: float | None) -> str | None:
    """Skin colour category of an ITA (Del Bino et al. 2006, Pigment Cell Res
    19:606-614): very light > 55, light 41-55, intermediate 28-41, tan 10-28,
    brown -30 to 10, dark below -30 degrees."""
    if ita is None:
        return None
    for lower, name in ITA_CATEGORIES:
        if ita > lower:
            return name
    return "dark"


def erythema_index(red: float, green: float) -> float:
    """Erythema index EI = 100 x (log10(1/G) - log10(1/R)) = 100 x log10(R/G).

    Source: Diffey BL, Oliver RI, Farr PM. A portable instrument for
    quantifying erythema induced by ultraviolet radiation. Br J Dermatol
    1984;111:663-672 (reflectance in the green, absorbed by haemoglobin, and
    the red, which is not). Here R and G are the linear red and green
    reflectances of the region (colour-corrected when a card was found).
    """
    if red <= 0 or green <= 0:
        raise ColourError("the erythema index needs red and green reflectances above 0")
    return 100 * math.log10(red / green)


def _hue(b: float, a: float) -> float:
    if a == 0 and b == 0:
        return 0.0
    return math.degrees(math.atan2(b, a)) % 360


def _mean_hue(h1: float, h2: float, c_product: float) -> float:
    if c_product == 0:
        return h1 + h2
    if abs(h1 - h2) <= 180:
        return (h1 + h2) / 2
    if h1 + h2 < 360:
        return (h1 + h2 + 360) / 2
    return (h1 + h2 - 360) / 2


def _hue_difference(h1: float, h2: float, c_product: float) -> float:
    if c_product == 0:
        return 0.0
    dh = h2 - h1
    if dh > 180:
        return dh - 360
    if dh < -180:
        return dh + 360
    return dh


def delta_e_2000(lab1: Sequence[float], lab2: Sequence[float]) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1).

    Source: CIE 142-2001, Improvement to industrial colour-difference
    evaluation; implemented as in Sharma G, Wu W, Dalal EN. The CIEDE2000
    color-difference formula: implementation notes, supplementary test data,
    and mathematical observations. Color Res Appl 2005;30:21-30 (equations
    1-22, with its test data in tests/clinical/test_colour.py).
    """
    l1, a1, b1 = _triple(lab1)
    l2, a2, b2 = _triple(lab2)
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = _hue(b1, a1p), _hue(b2, a2p)
    c_product = c1p * c2p
    dl = l2 - l1
    dc = c2p - c1p
    dh = 2 * math.sqrt(c_product) * math.sin(math.radians(_hue_difference(h1p, h2p, c_product) / 2))
    l_bar = (l1 + l2) / 2
    cp_bar = (c1p + c2p) / 2
    hp_bar = _mean_hue(h1p, h2p, c_product)
    t = (
        1
        - 0.17 * math.cos(math.radians(hp_bar - 30))
        + 0.24 * math.cos(math.radians(2 * hp_bar))
        + 0.32 * math.cos(math.radians(3 * hp_bar + 6))
        - 0.20 * math.cos(math.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * math.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh / s_h) ** 2 + r_t * (dc / s_c) * (dh / s_h)
    )


def _triple(values: Sequence[float]) -> Triple:
    if len(values) != 3:
        raise ColourError(f"expected three components, got {len(values)}")
    a, b, c = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (a, b, c)):
        raise ColourError("colour components must be finite numbers")
    return (a, b, c)
