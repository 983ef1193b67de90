"""Tests for app.photos.calibration with synthetic photos of known geometry."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from app.clinical.geometry import apply_homography
from app.photos.calibration import (
    detect_marker,
    marker_page,
    marker_pdf,
    marker_png,
)

PX_PER_CM = 40.0
MARKER_CM = 2.0
# a 3 cm x 2 cm wound-like rectangle, corners in pixels of the face-on photo
RECT_PX = np.array([[700, 500], [820, 500], [820, 580], [700, 580]], dtype=np.float64)
RECT_AREA_CM2 = 6.0


def test_marker_dictionary_literal_is_opencvs_4x4_50() -> None:
    # the module keeps the constant as a literal so importing it does not load OpenCV
    from app.photos.calibration import MARKER_DICTIONARY

    assert cv2.aruco.DICT_4X4_50 == MARKER_DICTIONARY


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def scene(tmp_path: Path, rotate_marker: int = 0) -> tuple[Path, np.ndarray]:
    """A face-on JPEG: skin-coloured background, marker at 40 px/cm, red rectangle."""
    img = np.full((1200, 1600, 3), (214, 170, 150), dtype=np.uint8)  # RGB
    side = round(MARKER_CM * PX_PER_CM)
    marker = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 0, side, borderBits=1
    )
    marker = np.rot90(marker, rotate_marker)
    quiet = side // 3
    y0, x0 = 300, 300
    img[y0 - quiet : y0 + side + quiet, x0 - quiet : x0 + side + quiet] = 255
    img[y0 : y0 + side, x0 : x0 + side] = marker[:, :, None]
    cv2.fillPoly(img, [RECT_PX.astype(np.int32)], (150, 30, 40))
    path = tmp_path / "wound.jpg"
    Image.fromarray(img).save(path, quality=90)
    return path, RECT_PX


def tilt_homography(width: int, height: int, degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Homography of a camera rotated about the horizontal axis, shifted into view."""
    f = 1.2 * width
    k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    a = math.radians(degrees)
    r = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    h = k @ r @ np.linalg.inv(k)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    warped = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h).reshape(-1, 2)
    lo = warped.min(axis=0)
    shift = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]])
    size = np.ceil(warped.max(axis=0) - lo).astype(int)
    return shift @ h, (int(size[0]), int(size[1]))


def measured_area(detection_h: list[list[float]], outline_px: np.ndarray) -> float:
    return shoelace(np.asarray(apply_homography(detection_h, outline_px.tolist())))


@pytest.mark.parametrize("rotate_marker", [0, 1])
def test_face_on_area_within_2_percent(tmp_path: Path, rotate_marker: int) -> None:
    path, outline = scene(tmp_path, rotate_marker)
    det = detect_marker(path, MARKER_CM)
    assert det.found and det.marker_id == 0 and det.reason is None
    assert det.px_per_cm == pytest.approx(PX_PER_CM, rel=0.02)
    assert len(det.corners_px) == 4
    assert det.homography is not None
    # the marker's own corners map to the marker square in cm
    square = apply_homography(det.homography, det.corners_px)
    assert np.allclose(square, [[0, 0], [2, 0], [2, 2], [0, 2]], atol=1e-6)
    assert measured_area(det.homography, outline) == pytest.approx(RECT_AREA_CM2, rel=0.02)


def test_tilted_30_degrees_area_within_5_percent(tmp_path: Path) -> None:
    path, outline = scene(tmp_path)
    face_on = np.asarray(Image.open(path).convert("RGB"))
    h, size = tilt_homography(face_on.shape[1], face_on.shape[0], 30)
    tilted = cv2.warpPerspective(face_on, h, size, borderValue=(214, 170, 150))
    tilted_outline = cv2.perspectiveTransform(outline.reshape(-1, 1, 2), h).reshape(-1, 2)
    # the naive reading (pixel area / px_per_cm^2) is now visibly wrong ...
    det = detect_marker(tilted, MARKER_CM)
    assert det.found and det.homography is not None and det.px_per_cm
    naive = shoelace(tilted_outline) / det.px_per_cm**2
    assert abs(naive - RECT_AREA_CM2) / RECT_AREA_CM2 > 0.05
    # ... while the homography recovers the true area
    assert measured_area(det.homography, tilted_outline) == pytest.approx(RECT_AREA_CM2, rel=0.05)


def test_input_types_agree(tmp_path: Path) -> None:
    path, _ = scene(tmp_path)
    pil = Image.open(path)
    pil.load()
    results = [detect_marker(x, MARKER_CM) for x in (path, str(path), pil, np.asarray(pil))]
    assert all(r.found for r in results)
    for r in results[1:]:
        assert np.allclose(r.corners_px, results[0].corners_px, atol=0.5)


def test_no_marker_gives_reason() -> None:
    blank = np.full((400, 600, 3), 200, dtype=np.uint8)
    det = detect_marker(blank, MARKER_CM)
    assert not det.found
    assert det.homography is None and det.px_per_cm is None
    assert det.reason and "marker" in det.reason


def test_marker_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        detect_marker(np.zeros((10, 10), dtype=np.uint8), 0)


@pytest.mark.parametrize(("size_cm", "dpi"), [(2.0, 300), (5.0, 600), (1.5, 300)])
def test_marker_png_prints_at_true_size(size_cm: float, dpi: int) -> None:
    png = marker_png(size_cm, dpi)
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        file_dpi = img.info["dpi"][0]
        assert file_dpi == pytest.approx(dpi, rel=0.01)
        det = detect_marker(img, size_cm)
    assert det.found and det.marker_id == 0 and det.px_per_cm
    # black square side in pixels / file resolution = the requested size on paper
    printed_cm = det.px_per_cm * size_cm / file_dpi * 2.54
    assert printed_cm == pytest.approx(size_cm, rel=0.005)


def test_marker_pdf_is_an_a4_page_with_the_marker_at_true_size() -> None:
    pdf = marker_pdf(2.0)
    assert pdf.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", pdf)
    assert box is not None
    width_cm, height_cm = (float(v) / 72 * 2.54 for v in box.groups())
    assert width_cm == pytest.approx(21.0, abs=0.05)
    assert height_cm == pytest.approx(29.7, abs=0.05)
    # the page raster embedded in the PDF (same function), measured at the PDF's scale
    page = marker_page(2.0, 300)
    pixels_per_cm = page.width / width_cm
    det = detect_marker(page, 2.0)
    assert det.found and det.px_per_cm
    assert det.px_per_cm / pixels_per_cm == pytest.approx(1.0, rel=0.005)
    assert f"/Width {page.width}".encode() in pdf


def test_two_pass_detection_matches_full_resolution(tmp_path: Path) -> None:
    """The marker found on a 1600 px preview and refined in a full-size crop
    has the corners a full-resolution search finds."""
    from app.photos.calibration import detect_marker_two_pass

    path, _ = scene(tmp_path)
    small = Image.open(path).convert("RGB")
    big = small.resize((small.width * 2, small.height * 2), Image.Resampling.LANCZOS)
    preview = big.copy()
    preview.thumbnail((1600, 1600))
    full = detect_marker(big, MARKER_CM)
    fast = detect_marker_two_pass(big, MARKER_CM, preview=preview)
    assert full.found and fast.found
    assert np.allclose(fast.corners_px, full.corners_px, atol=0.5)
    assert fast.px_per_cm == pytest.approx(2 * PX_PER_CM, rel=0.01)
    # nothing in the preview: not found, with the reason
    blank = Image.new("RGB", (3200, 2400), (200, 160, 150))
    miss = detect_marker_two_pass(blank, MARKER_CM)
    assert not miss.found and miss.reason
