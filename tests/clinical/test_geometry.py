"""Wound geometry with known answers: areas, outlines, Feret diameters, calibration."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clinical.geometry import (
    GeometryError,
    OutlineMeasurement,
    Point,
    apply_homography,
    ellipse_area,
    feret,
    homography_from_points,
    is_simple_polygon,
    marker_homography,
    measure_outline,
    polygon_area,
    polygon_perimeter,
    px_per_cm_from_marker,
    validate_outline,
)


def rotate(points: list[Point], angle: float, dx: float = 0.0, dy: float = 0.0) -> list[Point]:
    c, s = math.cos(angle), math.sin(angle)
    return [(c * x - s * y + dx, s * x + c * y + dy) for x, y in points]


def regular_polygon(n: int, r: float, cx: float = 0.0, cy: float = 0.0) -> list[Point]:
    return [
        (cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


def rectangle(x: float, y: float, w: float, h: float) -> list[Point]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


BOW_TIE = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0)]

# --- ellipse -------------------------------------------------------------------


def test_ellipse_area_is_pi_over_four_l_w() -> None:
    assert ellipse_area(2, 2) == pytest.approx(math.pi)
    assert ellipse_area(4, 3) == pytest.approx(math.pi * 3)
    # L x W overstates the ellipse by 4/pi (Rogers 2010).
    assert 4 * 3 / ellipse_area(4, 3) == pytest.approx(4 / math.pi)
    assert ellipse_area(0, 3) == 0


@pytest.mark.parametrize(("length", "width"), [(-1, 2), (2, -1), (math.nan, 1), (1, "2")])
def test_ellipse_area_rejects_bad_axes(length: Any, width: Any) -> None:
    with pytest.raises(GeometryError):
        ellipse_area(length, width)


# --- area and perimeter ------------------------------------------------------------


def test_square_area_and_perimeter_either_orientation() -> None:
    square = rectangle(0, 0, 3, 3)
    assert polygon_area(square) == 9
    assert polygon_area(square[::-1]) == 9
    assert polygon_perimeter(square) == 12


def test_rotated_rectangle_far_from_origin() -> None:
    rect = rotate(rectangle(0, 0, 4, 2), math.radians(30), 5000, 3000)
    assert polygon_area(rect) == pytest.approx(8, rel=1e-12)
    assert polygon_perimeter(rect) == pytest.approx(12, rel=1e-12)


def test_circle_as_a_720_gon() -> None:
    r = 3.0
    circle = regular_polygon(720, r, 10, 10)
    assert polygon_area(circle) == pytest.approx(math.pi * r * r, rel=1e-4)
    assert polygon_perimeter(circle) == pytest.approx(2 * math.pi * r, rel=1e-4)
    length, width = feret(circle)
    assert length == pytest.approx(2 * r, rel=1e-12)
    assert width == pytest.approx(2 * r, rel=1e-4)


def test_degenerate_inputs_have_no_area_or_perimeter() -> None:
    assert polygon_area([(0, 0), (1, 1)]) == 0
    assert polygon_perimeter([(0, 0)]) == 0
    assert polygon_perimeter([[0, 0], [3, 4]]) == 10  # there and back


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(0, 0), (1, 0), (1,)], "point 2 must be a pair"),
        ([(0, 0), "xy", (1, 1)], "point 1 must be a pair"),
        ([(0, 0), 5, (1, 1)], "point 1 must be a pair"),
        ([(0, 0), (1, math.inf), (1, 1)], "point 1 y must be finite"),
        ([(0, math.nan), (1, 0), (1, 1)], "point 0 y must be finite"),
        ([(0, 0), (None, 0), (1, 1)], "point 1 x must be a number"),
        ([(0, 0), (True, 0), (1, 1)], "point 1 x must be a number"),
    ],
)
def test_malformed_points_are_rejected_with_the_reason(points: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        polygon_area(points)


# --- outline validation ------------------------------------------------------------


def test_validate_outline_drops_repeated_consecutive_points() -> None:
    ring = [(0, 0), (0, 0), (4, 0), (4, 3), (4, 3), (0, 3), (0, 0)]
    assert validate_outline(ring) == ((0, 0), (4, 0), (4, 3), (0, 3))


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([], "at least 3 distinct points, got 0"),
        ([(1, 1), (1, 1), (1, 1)], "at least 3 distinct points, got 1"),
        ([(0, 0), (5, 5), (0, 0)], "at least 3 distinct points, got 2"),
        ([(0, 0), (1, 1), (2, 2), (3, 3)], "zero area"),
        ([(0, 0), (2, 0), (1, 0)], "zero area"),
        (BOW_TIE, "crosses or touches itself"),
        ([(0, 0), (1, math.nan), (1, 1)], "must be finite"),
    ],
)
def test_validate_outline_rejects_with_a_reason(points: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        validate_outline(points)


@pytest.mark.parametrize(
    ("points", "simple"),
    [
        (rectangle(0, 0, 2, 1), True),
        ([*rectangle(0, 0, 2, 1), (0, 0)], True),  # explicitly closed ring
        ([(0, 0), (1, 0), (2, 0), (2, 2), (0, 2)], True),  # collinear vertex, same direction
        (BOW_TIE, False),
        ([(0, 0), (2, 0), (1, 0)], False),  # folds back on its neighbour at vertex 0
        ([(1, 0), (2, 0), (0, 0)], False),  # folds back at vertex 2
        ([(0, 0), (10, 1), (0, 2), (9, 1)], True),  # chevron: close but not touching
        ([(0, 0), (4, 0), (4, 4), (2, 4), (2, 6), (2, 4), (0, 4)], False),  # spike back
        ([(1, 0), (2, 0), (2, 2), (0, 2), (0, 0), (2, 0)], False),  # closing edge folds back
        # Figure eight touching at a shared vertex (2, 2).
        ([(0, 0), (2, 2), (4, 0), (4, 4), (2, 2), (0, 4)], False),
        # A vertex touching the middle of a non-adjacent edge.
        ([(0, 0), (4, 0), (4, 4), (2, 0.0), (0, 4)], False),
        # A U shape: edges overlap in x but not in y, so they are skipped cheaply.
        ([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)], True),
        # Two separated edges crossing properly.
        ([(0, 0), (6, 0), (6, 1), (1, 1), (1, -1), (0, -1)], False),
        ([(0, 0), (1, 1)], False),
        (regular_polygon(720, 100), True),
    ],
)
def test_is_simple_polygon(points: list[Point], simple: bool) -> None:
    assert is_simple_polygon(points) is simple


def test_collinear_overlap_of_non_adjacent_edges_is_not_simple() -> None:
    # Edges (0,0)-(4,0) and (3,0)-(1,0) lie on one line and overlap.
    points = [(0, 0), (4, 0), (4, 2), (3, 2), (3, 0), (1, 0), (1, 2), (0, 2)]
    assert not is_simple_polygon(points)


# --- Feret ---------------------------------------------------------------------


def test_feret_of_a_square_is_its_diagonal_both_ways() -> None:
    length, width = feret(rectangle(0, 0, 2, 2))
    assert length == pytest.approx(2 * math.sqrt(2))
    assert width == pytest.approx(2 * math.sqrt(2))


def test_feret_of_a_rotated_rectangle() -> None:
    # The greatest length of a 4 x 2 rectangle is its diagonal, sqrt(20); the
    # extent perpendicular to the diagonal is 2 * (4 * 2) / sqrt(20).
    rect = rotate(rectangle(0, 0, 4, 2), math.radians(37), -20, 13)
    length, width = feret(rect)
    assert length == pytest.approx(math.sqrt(20), rel=1e-12)
    assert width == pytest.approx(16 / math.sqrt(20), rel=1e-12)


def test_feret_of_an_ellipse_is_its_axes() -> None:
    ellipse = [
        (5 * math.cos(2 * math.pi * k / 360), 2 * math.sin(2 * math.pi * k / 360))
        for k in range(360)
    ]
    length, width = feret(rotate(ellipse, 1.0, 7, 7))
    assert length == pytest.approx(10, rel=1e-9)
    assert width == pytest.approx(4, rel=1e-3)


def test_feret_of_degenerate_shapes() -> None:
    assert feret([]) == (0.0, 0.0)
    assert feret([(1, 1), (1, 1)]) == (0.0, 0.0)
    assert feret([(0, 0), (3, 4)]) == (5.0, pytest.approx(0.0, abs=1e-12))
    assert feret([(0, 0), (1, 1), (3, 3)]) == pytest.approx((3 * math.sqrt(2), 0.0), abs=1e-12)


# --- homographies and the marker ----------------------------------------------------

# A known perspective map from cm on the skin plane to pixels: a tilted view.
H_TRUE = ((42.0, 6.0, 310.0), (-4.0, 37.0, 220.0), (0.011, 0.017, 1.0))
MARKER_CM = 5.0
MARKER_SQUARE = [(0.0, 0.0), (MARKER_CM, 0.0), (MARKER_CM, MARKER_CM), (0.0, MARKER_CM)]


def test_homography_from_points_recovers_a_known_map() -> None:
    src = [(0.0, 0.0), (10.0, 0.0), (10.0, 8.0), (0.0, 8.0)]
    dst = list(apply_homography(H_TRUE, src))
    h = homography_from_points(src, dst)
    probes = [(3.0, 4.0), (-2.0, 11.0), (7.5, 0.25)]
    for got, want in zip(
        apply_homography(h, probes), apply_homography(H_TRUE, probes), strict=True
    ):
        assert got == pytest.approx(want, rel=1e-9)
    # The centroid of src maps with w = 1.
    assert h[2][0] * 5 + h[2][1] * 4 + h[2][2] == pytest.approx(1.0)


def test_identity_and_affine_homographies() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    doubled = [(2 * x + 1, 2 * y - 1) for x, y in square]
    h = homography_from_points(square, doubled)
    assert apply_homography(h, [(0.5, 0.5)])[0] == pytest.approx((2.0, 0.0))


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ([(0, 0), (1, 0), (1, 1)], MARKER_SQUARE, "src must be exactly 4 points, got 3"),
        ([(0, 0), (1, 0), (2, 0), (0, 1)], MARKER_SQUARE, "src: three of the points"),
        (MARKER_SQUARE, [(0, 0), (1, 1), (2, 2), (0, 1)], "dst: three of the points"),
        (MARKER_SQUARE, [(0, 0)] * 4, "dst: three of the points"),
    ],
)
def test_homography_from_degenerate_points(src: Any, dst: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        homography_from_points(src, dst)


@pytest.mark.parametrize(
    ("h", "message"),
    [
        (((1, 0, 0), (0, 1, 0)), "3x3"),
        (((1, 0, 0), (0, 1), (0, 0, 1)), "3x3"),
        (((1, 0, 0), (0, 1, 0), (0, 0, math.nan)), "finite"),
        (((1, 0, 0), (0, 1, 0), (1, 0, 0)), "point 0 maps to infinity"),
        (((1, 0, 0), (0, 1, 0), (0, 0, 0)), "point 0 maps to infinity"),
    ],
)
def test_apply_homography_rejects_bad_input(h: Any, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        apply_homography(h, [(0, 5)])


def marker_corners_px() -> list[Point]:
    return list(apply_homography(H_TRUE, MARKER_SQUARE))


def test_marker_homography_maps_the_marker_to_its_true_size() -> None:
    h = marker_homography(marker_corners_px(), MARKER_CM)
    for got, want in zip(apply_homography(h, marker_corners_px()), MARKER_SQUARE, strict=True):
        assert got == pytest.approx(want, abs=1e-9)


def test_perspective_marker_recovers_true_areas() -> None:
    h = marker_homography(marker_corners_px(), MARKER_CM)
    # A known 3 x 2 cm rectangle and a known circle on the skin, seen in perspective.
    rect_cm = rectangle(7, 1, 3, 2)
    got = measure_outline(list(apply_homography(H_TRUE, rect_cm)), homography=h)
    assert got.area_cm2 == pytest.approx(6, abs=1e-6)
    assert got.perimeter_cm == pytest.approx(10, abs=1e-6)
    assert got.length_cm == pytest.approx(math.sqrt(13), abs=1e-6)
    circle_cm = regular_polygon(360, 2.0, 9.0, 9.0)
    true_area = polygon_area(circle_cm)
    got_circle = measure_outline(list(apply_homography(H_TRUE, circle_cm)), homography=h)
    assert got_circle.area_cm2 == pytest.approx(true_area, abs=1e-6)
    assert got_circle.length_cm == pytest.approx(4, abs=1e-6)
    # The naive px/cm scale from the same marker is visibly wrong under perspective.
    naive = measure_outline(
        list(apply_homography(H_TRUE, circle_cm)),
        px_per_cm=px_per_cm_from_marker(marker_corners_px(), MARKER_CM),
    )
    assert abs(naive.area_cm2 - true_area) > 0.05 * true_area


def test_homography_wins_over_px_per_cm() -> None:
    h = marker_homography(marker_corners_px(), MARKER_CM)
    px = list(apply_homography(H_TRUE, rectangle(7, 1, 3, 2)))
    assert measure_outline(px, px_per_cm=1.0, homography=h) == measure_outline(px, homography=h)


def test_px_per_cm_from_a_head_on_marker() -> None:
    corners = [(100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)]
    assert px_per_cm_from_marker(corners, 5) == 40
    # Counter-clockwise order (a mirrored image) is still convex and accepted.
    assert px_per_cm_from_marker(corners[::-1], 5) == 40


@pytest.mark.parametrize(
    ("corners", "size", "message"),
    [
        (MARKER_SQUARE, 0, "marker_size_cm must be > 0"),
        (MARKER_SQUARE, -5, "marker_size_cm must be > 0"),
        (MARKER_SQUARE, math.inf, "marker_size_cm must be finite"),
        (MARKER_SQUARE[:3], 5, "exactly 4 points"),
        ([(0, 0), (5, 5), (5, 0), (0, 5)], 5, "convex"),  # TL, BR, TR, BL: a bow tie
        ([(0, 0), (4, 0), (1, 1), (0, 4)], 5, "convex"),  # a dart
    ],
)
def test_marker_rejects_bad_corners(corners: Any, size: float, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        marker_homography(corners, size)
    with pytest.raises(GeometryError, match=message):
        px_per_cm_from_marker(corners, size)


# --- measure_outline --------------------------------------------------------------


def test_measure_outline_with_px_per_cm() -> None:
    square_px = rotate(rectangle(0, 0, 80, 80), 0.3, 1000, 700)
    got = measure_outline(square_px, px_per_cm=40)
    assert got.area_cm2 == pytest.approx(4, rel=1e-12)
    assert got.perimeter_cm == pytest.approx(8, rel=1e-12)
    assert got.length_cm == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    assert got.width_cm == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    assert got.to_dict() == {
        "area_cm2": got.area_cm2,
        "perimeter_cm": got.perimeter_cm,
        "length_cm": got.length_cm,
        "width_cm": got.width_cm,
    }
    assert isinstance(got, OutlineMeasurement)


def test_measure_outline_needs_calibration() -> None:
    with pytest.raises(GeometryError, match="photo is not calibrated"):
        measure_outline(rectangle(0, 0, 10, 10))


@pytest.mark.parametrize(("scale", "message"), [(0, "> 0"), (-3, "> 0"), (math.nan, "finite")])
def test_measure_outline_rejects_bad_scale(scale: float, message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        measure_outline(rectangle(0, 0, 10, 10), px_per_cm=scale)


def test_measure_outline_rejects_bad_outlines_before_measuring() -> None:
    with pytest.raises(GeometryError, match="crosses or touches itself"):
        measure_outline(BOW_TIE, px_per_cm=10)


def test_measure_outline_rejects_an_outline_across_the_horizon() -> None:
    # w = 1 - x / 10: the line x = 10 maps to infinity; this outline straddles it.
    h = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (-0.1, 0.0, 1.0))
    with pytest.raises(GeometryError, match="horizon"):
        measure_outline(rectangle(5, 0, 10, 4), homography=h)
    # Entirely beyond the horizon (all w < 0) is a consistent, mirrored view.
    beyond = measure_outline(rectangle(20, 0, 2, 2), homography=h)
    assert beyond.area_cm2 > 0


# --- properties --------------------------------------------------------------------

star_polygons = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=2 * math.pi, exclude_max=True),
        st.floats(min_value=1, max_value=100),
    ),
    min_size=3,
    max_size=40,
    unique_by=lambda t: t[0],
).map(lambda polar: [(r * math.cos(a), r * math.sin(a)) for a, r in sorted(polar)])


@given(
    polygon=star_polygons,
    angle=st.floats(min_value=-math.pi, max_value=math.pi),
    dx=st.floats(min_value=-1e4, max_value=1e4),
    dy=st.floats(min_value=-1e4, max_value=1e4),
)
def test_area_perimeter_and_feret_are_invariant_under_rotation_and_translation(
    polygon: list[Point], angle: float, dx: float, dy: float
) -> None:
    moved = rotate(polygon, angle, dx, dy)
    scale = 100.0**2
    assert polygon_area(moved) == pytest.approx(polygon_area(polygon), abs=1e-9 * scale)
    assert polygon_perimeter(moved) == pytest.approx(polygon_perimeter(polygon), abs=1e-9 * 100)
    length, width = feret(polygon)
    moved_length, moved_width = feret(moved)
    assert moved_length == pytest.approx(length, abs=1e-9 * 100)
    assert moved_width == pytest.approx(width, abs=1e-6 * 100)


def test_a_thin_but_real_sliver_is_a_valid_outline() -> None:
    sliver = [(0.0, 0.0), (1000.0, 0.0), (500.0, 0.001)]
    assert validate_outline(sliver) == tuple(sliver)
    assert polygon_area(sliver) == pytest.approx(0.5)


def _brute_force_diameter(points: list[Point]) -> float:
    return max(math.dist(p, q) for p in points for q in points)


@given(
    points=st.lists(
        st.tuples(st.integers(-20, 20), st.integers(-20, 20)), min_size=2, max_size=60
    ).map(lambda pts: [(float(x), float(y)) for x, y in pts])
)
def test_feret_length_is_the_largest_vertex_distance_on_grids(points: list[Point]) -> None:
    # Integer grids give many collinear points, parallel hull edges and ties.
    length, width = feret(points)
    assert length == pytest.approx(_brute_force_diameter(points), rel=1e-12)
    assert 0 <= width <= length * (1 + 1e-12)


@given(polygon=star_polygons)
def test_feret_length_is_the_largest_vertex_distance(polygon: list[Point]) -> None:
    assert feret(polygon)[0] == pytest.approx(_brute_force_diameter(polygon), rel=1e-12)
