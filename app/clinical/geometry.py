"""Wound geometry: areas, traced outlines, Feret diameters and photo calibration.

Plain Python (no numpy): the inputs are small (a traced outline, four marker
corners) and exact, readable arithmetic matters more than speed.

Conventions: points are (x, y) pairs. Outlines are closed implicitly (the last
point joins the first). Image coordinates are pixels of the stored upright
image; measured values are in cm and cm^2.

Judgement calls:

* Repeated consecutive points are allowed and dropped (a double tap in a
  tracing UI, or an explicitly closed ring whose last point repeats the first).
  Repeated non-consecutive points make the outline touch itself and are
  rejected as self-intersection.
* An outline is rejected, with a reason, when it has fewer than 3 distinct
  points, non-finite coordinates, zero area (all points collinear) or crosses
  or touches itself (including an edge that folds back along its neighbour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]
PointsLike = Sequence[Sequence[float]]
Row = tuple[float, float, float]
Homography = tuple[Row, Row, Row]

# Relative tolerance for "zero" areas and collinearity, scaled by the extent of
# the points so that it means the same in pixels and in cm.
_REL_EPS = 1e-12


class GeometryError(ValueError):
    """Input that does not describe a measurable shape; the message says why."""


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeometryError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise GeometryError(f"{what} must be finite, got {value!r}")
    return float(value)


def _points(points: PointsLike) -> list[Point]:
    """Check and convert [[x, y], ...] to a list of float pairs."""
    out: list[Point] = []
    for i, point in enumerate(points):
        if isinstance(point, str) or not isinstance(point, Sequence) or len(point) != 2:
            raise GeometryError(f"point {i} must be a pair [x, y], got {point!r}")
        out.append((_number(point[0], f"point {i} x"), _number(point[1], f"point {i} y")))
    return out


def _dedupe(points: list[Point]) -> list[Point]:
    """Drop repeated consecutive points, including a last point equal to the first."""
    out: list[Point] = []
    for point in points:
        if not out or point != out[-1]:
            out.append(point)
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def _extent(points: list[Point]) -> float:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def _cross(o: Point, a: Point, b: Point) -> float:
    """Twice the signed area of triangle o, a, b (> 0 when counter-clockwise)."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def ellipse_area(length_cm: float, width_cm: float) -> float:
    """Area of the ellipse with axes length x width: pi/4 x L x W (cm^2).

    L x W overstates a true ellipse by 4/pi (about 27%), and ruler measurements
    overstate traced areas by about 41% on average: Rogers LC et al., Digital
    planimetry results in more accurate wound measurements, J Diabetes Sci
    Technol 2010;4:799-802. docs/clinical-reference.md, "Which area is used".
    """
    length = _number(length_cm, "length_cm")
    width = _number(width_cm, "width_cm")
    if length < 0 or width < 0:
        raise GeometryError("length_cm and width_cm must be >= 0")
    return math.pi / 4 * length * width


def polygon_area(points: PointsLike) -> float:
    """Absolute area of a closed polygon by the shoelace (Gauss) formula.

    Source: shoelace formula, A = |sum(x_i y_(i+1) - x_(i+1) y_i)| / 2.
    Coordinates are taken relative to the first vertex, which keeps precision
    for outlines far from the origin (pixels of large photos).
    """
    pts = _points(points)
    if len(pts) < 3:
        return 0.0
    ox, oy = pts[0]
    rel = [(x - ox, y - oy) for x, y in pts]
    terms = [
        rel[i][0] * rel[(i + 1) % len(rel)][1] - rel[(i + 1) % len(rel)][0] * rel[i][1]
        for i in range(len(rel))
    ]
    return abs(math.fsum(terms)) / 2


def polygon_perimeter(points: PointsLike) -> float:
    """Length of the closed polygon boundary, closing edge included.

    Source: Euclidean distance summed over the edges of the closed outline
    (the perimeter used by Gilman's linear healing rate, Gilman 1990).
    """
    pts = _points(points)
    if len(pts) < 2:
        return 0.0
    return math.fsum(math.dist(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts)))


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    """For p collinear with a-b: does p lie within the segment's bounding box?"""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_touch(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Do closed segments p1-p2 and q1-q2 share any point?"""
    d1 = _cross(q1, q2, p1)
    d2 = _cross(q1, q2, p2)
    d3 = _cross(p1, p2, q1)
    d4 = _cross(p1, p2, q2)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    return (
        (d1 == 0 and _on_segment(q1, q2, p1))
        or (d2 == 0 and _on_segment(q1, q2, p2))
        or (d3 == 0 and _on_segment(p1, p2, q1))
        or (d4 == 0 and _on_segment(p1, p2, q2))
    )


def _folds_back(a: Point, b: Point, c: Point) -> bool:
    """Adjacent edges a-b and b-c overlap: collinear and turning back at b."""
    dot = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
    return _cross(a, b, c) == 0 and dot < 0


def _is_simple(pts: list[Point]) -> bool:
    """Simple-polygon test on distinct consecutive points (n >= 3).

    Edges are swept in order of their leftmost x so that only edges whose x
    ranges overlap are compared; the worst case stays O(n^2).
    """
    n = len(pts)
    edges = [(pts[i], pts[(i + 1) % n]) for i in range(n)]
    order = sorted(range(n), key=lambda i: min(edges[i][0][0], edges[i][1][0]))
    for pos, i in enumerate(order):
        (ax, ay), (bx, by) = edges[i]
        x_max = max(ax, bx)
        for j in order[pos + 1 :]:
            (cx, cy), (dx, dy) = edges[j]
            if min(cx, dx) > x_max:
                break
            if max(cy, dy) < min(ay, by) or min(cy, dy) > max(ay, by):
                continue
            lo, hi = min(i, j), max(i, j)
            if hi == lo + 1:
                # Edges lo and hi share vertex hi.
                if _folds_back(pts[lo], pts[hi], pts[(hi + 1) % n]):
                    return False
            elif lo == 0 and hi == n - 1:
                # The closing edge and the first edge share vertex 0.
                if _folds_back(pts[n - 1], pts[0], pts[1]):
                    return False
            elif _segments_touch(*edges[i], *edges[j]):
                return False
    return True


def is_simple_polygon(points: PointsLike) -> bool:
    """True when the closed outline has >= 3 distinct points and no edges cross or touch.

    Source: definition of a simple polygon (Jordan curve made of segments);
    segment tests by orientation signs (Cormen et al., Introduction to
    Algorithms, 33.1). Repeated consecutive points are ignored.
    """
    pts = _dedupe(_points(points))
    return len(pts) >= 3 and _is_simple(pts)


def validate_outline(points: PointsLike) -> tuple[Point, ...]:
    """Check a traced outline and return its distinct vertices.

    Source: simple-polygon requirement of the shoelace area formula (a crossing
    outline has no meaningful area). Raises GeometryError naming the problem:
    malformed or non-finite coordinates, fewer than 3 distinct points, zero
    area (collinear points), or self-intersection. Repeated consecutive points
    are dropped (module docstring).
    """
    pts = _dedupe(_points(points))
    if len(pts) < 3:
        raise GeometryError(f"an outline needs at least 3 distinct points, got {len(pts)}")
    # Collinear first: such an outline also folds back on itself, but "zero area"
    # is the clearer reason. A simple outline that is not collinear has area > 0.
    if _all_collinear(pts):
        raise GeometryError("the outline has zero area (its points are collinear)")
    if not _is_simple(pts):
        raise GeometryError("the outline crosses or touches itself")
    return tuple(pts)


def _all_collinear(pts: list[Point]) -> bool:
    """All points within a relative hair of the line through pts[0] and the farthest point."""
    a = pts[0]
    b = max(pts, key=lambda p: math.dist(a, p))
    span2 = math.dist(a, b) ** 2
    # |cross| / |ab| is the distance from the line; compare it with |ab|.
    return all(abs(_cross(a, b, p)) <= _REL_EPS * span2 for p in pts)


def _convex_hull(pts: list[Point]) -> list[Point]:
    """Convex hull, counter-clockwise, collinear points dropped (Andrew 1979)."""
    unique = sorted(set(pts))
    if len(unique) < 3:
        return unique
    lower: list[Point] = []
    for p in unique:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(unique):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _diameter(hull: list[Point]) -> tuple[Point, Point]:
    """The farthest pair of hull vertices, by rotating calipers (Shamos 1978).

    For each hull edge the vertex farthest from its line is found by advancing a
    second pointer (the distance is unimodal around a convex polygon), and both
    edge ends are compared with it and with its successor (which ties when the
    opposite edge is parallel). O(h) instead of comparing all pairs.
    """
    h = len(hull)
    best, pair = -1.0, (hull[0], hull[1])
    j = 1
    for i in range(h):
        a, b = hull[i], hull[(i + 1) % h]
        while abs(_cross(a, b, hull[(j + 1) % h])) > abs(_cross(a, b, hull[j])):
            j = (j + 1) % h
        for p in (a, b):
            for q in (hull[j], hull[(j + 1) % h]):
                d2 = (q[0] - p[0]) ** 2 + (q[1] - p[1]) ** 2
                if d2 > best:
                    best, pair = d2, (p, q)
    return pair


def feret(points: PointsLike) -> tuple[float, float]:
    """(length, width): maximum Feret diameter and the extent perpendicular to it.

    Source: PUSH 3.0 instructions (greatest length, greatest width perpendicular
    to it); Feret diameter as in ISO 9276-6. The length is the largest distance
    between two vertices (rotating calipers over the convex hull); the width is the
    extent of the shape across the line perpendicular to that axis. For a
    rectangle the length is therefore its diagonal, not its long side.
    """
    hull = _convex_hull(_points(points))
    if len(hull) < 2:
        return (0.0, 0.0)
    (px, py), (qx, qy) = _diameter(hull)
    length = math.hypot(qx - px, qy - py)
    nx, ny = -(qy - py) / length, (qx - px) / length
    across = [nx * (x - px) + ny * (y - py) for x, y in hull]
    return (length, max(across) - min(across))


def _collinear(a: Point, b: Point, c: Point, scale: float) -> bool:
    return abs(_cross(a, b, c)) <= 1e-9 * scale**2


def _check_quad(points: PointsLike, what: str) -> list[Point]:
    pts = _points(points)
    if len(pts) != 4:
        raise GeometryError(f"{what} must be exactly 4 points, got {len(pts)}")
    scale = _extent(pts)
    for skip in range(4):
        a, b, c = (pts[k] for k in range(4) if k != skip)
        if _collinear(a, b, c, scale):
            raise GeometryError(f"{what}: three of the points are collinear (or coincide)")
    return pts


def _normalizer(pts: list[Point]) -> tuple[float, float, float]:
    """Hartley normalisation: centroid to the origin, mean distance sqrt(2)."""
    cx = math.fsum(p[0] for p in pts) / len(pts)
    cy = math.fsum(p[1] for p in pts) / len(pts)
    mean = math.fsum(math.hypot(x - cx, y - cy) for x, y in pts) / len(pts)
    return cx, cy, math.sqrt(2) / mean


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (system known non-singular)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for k in range(col, n + 1):
                m[r][k] -= f * m[col][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - math.fsum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def _matmul(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[math.fsum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def homography_from_points(src: PointsLike, dst: PointsLike) -> Homography:
    """The 3x3 projective map taking 4 src points to 4 dst points.

    Source: direct linear transform with h33 fixed, on Hartley-normalised
    coordinates (Hartley & Zisserman, Multiple View Geometry, 2nd ed., 4.1 and
    4.4.4), solved by Gaussian elimination. The result is scaled so that the
    centroid of src maps with w = 1. GeometryError when either set is not 4
    points with no three collinear.
    """
    s = _check_quad(src, "src")
    d = _check_quad(dst, "dst")
    scx, scy, ss = _normalizer(s)
    dcx, dcy, ds = _normalizer(d)
    a: list[list[float]] = []
    b: list[float] = []
    for (x0, y0), (u0, v0) in zip(s, d, strict=True):
        x, y = (x0 - scx) * ss, (y0 - scy) * ss
        u, v = (u0 - dcx) * ds, (v0 - dcy) * ds
        a.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        b.append(u)
        a.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        b.append(v)
    h = [*_solve(a, b), 1.0]
    normalized = [h[0:3], h[3:6], h[6:9]]
    t_src = [[ss, 0.0, -ss * scx], [0.0, ss, -ss * scy], [0.0, 0.0, 1.0]]
    t_dst_inv = [[1 / ds, 0.0, dcx], [0.0, 1 / ds, dcy], [0.0, 0.0, 1.0]]
    f = _matmul(_matmul(t_dst_inv, normalized), t_src)
    return ((f[0][0], f[0][1], f[0][2]), (f[1][0], f[1][1], f[1][2]), (f[2][0], f[2][1], f[2][2]))


def _check_homography(h: Sequence[Sequence[float]]) -> Homography:
    if len(h) != 3 or any(len(row) != 3 for row in h):
        raise GeometryError("a homography is a 3x3 matrix")
    rows = [
        (
            _number(row[0], "homography entry"),
            _number(row[1], "homography entry"),
            _number(row[2], "homography entry"),
        )
        for row in h
    ]
    return (rows[0], rows[1], rows[2])


def _project(h: Homography, pts: list[Point]) -> tuple[list[Point], list[float]]:
    """Map points through h; also return each point's w (its side of the horizon)."""
    out: list[Point] = []
    ws: list[float] = []
    for i, (x, y) in enumerate(pts):
        w = h[2][0] * x + h[2][1] * y + h[2][2]
        size = abs(h[2][0] * x) + abs(h[2][1] * y) + abs(h[2][2])
        if abs(w) <= 1e-12 * size:
            raise GeometryError(f"point {i} maps to infinity (it lies on the horizon)")
        out.append(
            (
                (h[0][0] * x + h[0][1] * y + h[0][2]) / w,
                (h[1][0] * x + h[1][1] * y + h[1][2]) / w,
            )
        )
        ws.append(w)
    return out, ws


def apply_homography(h: Sequence[Sequence[float]], points: PointsLike) -> tuple[Point, ...]:
    """Map points through a 3x3 homography: (x, y, 1) -> (u w, v w, w) -> (u, v).

    Source: homogeneous-coordinate projective mapping (Hartley & Zisserman, 2.3).
    GeometryError for a malformed matrix or a point that maps to infinity.
    """
    mapped, _ = _project(_check_homography(h), _points(points))
    return tuple(mapped)


def _check_marker(corners_px: PointsLike, marker_size_cm: float) -> tuple[list[Point], float]:
    size = _number(marker_size_cm, "marker_size_cm")
    if size <= 0:
        raise GeometryError(f"marker_size_cm must be > 0, got {marker_size_cm!r}")
    pts = _check_quad(corners_px, "marker corners")
    turns = [_cross(pts[i], pts[(i + 1) % 4], pts[(i + 2) % 4]) for i in range(4)]
    # The image of a square in any perspective view is a convex quadrilateral.
    if not (all(t > 0 for t in turns) or all(t < 0 for t in turns)):
        raise GeometryError("marker corners do not form a convex quadrilateral (order TL,TR,BR,BL)")
    return pts, size


def marker_homography(corners_px: PointsLike, marker_size_cm: float) -> Homography:
    """Homography from image pixels to cm in the plane of a square marker.

    Source: planar homography from four point correspondences (Hartley &
    Zisserman, 4.1). corners_px are the marker's corners in the order top-left,
    top-right, bottom-right, bottom-left; they map to (0, 0), (s, 0), (s, s),
    (0, s) with s = marker_size_cm, so the result measures in cm in the marker
    plane (which is assumed to be the wound's plane).
    """
    pts, size = _check_marker(corners_px, marker_size_cm)
    square = [(0.0, 0.0), (size, 0.0), (size, size), (0.0, size)]
    return homography_from_points(pts, square)


def px_per_cm_from_marker(corners_px: PointsLike, marker_size_cm: float) -> float:
    """Mean side length of the marker in pixels divided by its size in cm.

    Source: scale calibration with a reference object of known size in the
    wound plane (ruler or marker photography). Exact only for a marker viewed
    head-on; marker_homography corrects for perspective.
    """
    pts, size = _check_marker(corners_px, marker_size_cm)
    sides = [math.dist(pts[i], pts[(i + 1) % 4]) for i in range(4)]
    return math.fsum(sides) / 4 / size


@dataclass(frozen=True)
class OutlineMeasurement:
    """Measurements of a traced outline in cm and cm^2."""

    area_cm2: float
    perimeter_cm: float
    length_cm: float
    width_cm: float

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form, as the tracing endpoint returns it."""
        return {
            "area_cm2": self.area_cm2,
            "perimeter_cm": self.perimeter_cm,
            "length_cm": self.length_cm,
            "width_cm": self.width_cm,
        }


def measure_outline(
    points_px: PointsLike,
    *,
    px_per_cm: float | None = None,
    homography: Sequence[Sequence[float]] | None = None,
) -> OutlineMeasurement:
    """Area, perimeter and Feret length/width of a traced outline, in cm.

    Source: shoelace area, Euclidean perimeter and Feret diameters (see the
    functions above) on the outline mapped to cm: through the marker homography
    when there is one (every vertex is mapped, which corrects perspective; a
    projective map keeps straight edges straight), else by dividing pixels by
    px_per_cm. Neither: GeometryError "photo is not calibrated".
    """
    pts = list(validate_outline(points_px))
    if homography is not None:
        cm, ws = _project(_check_homography(homography), pts)
        if not (all(w > 0 for w in ws) or all(w < 0 for w in ws)):
            raise GeometryError("the outline crosses the horizon of the marker plane")
    elif px_per_cm is not None:
        scale = _number(px_per_cm, "px_per_cm")
        if scale <= 0:
            raise GeometryError(f"px_per_cm must be > 0, got {px_per_cm!r}")
        cm = [(x / scale, y / scale) for x, y in pts]
    else:
        raise GeometryError("photo is not calibrated: no marker and no px_per_cm")
    length, width = feret(cm)
    return OutlineMeasurement(
        area_cm2=polygon_area(cm),
        perimeter_cm=polygon_perimeter(cm),
        length_cm=length,
        width_cm=width,
    )
