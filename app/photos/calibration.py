"""Scale calibration of wound photos with a printed ArUco marker (no Flask here).

A nurse places a printed DICT_4X4_50 marker (id 0, produced by
:func:`marker_pdf`) flat on the skin next to the wound. :func:`detect_marker`
finds it and returns the scale (pixels per cm) and a homography from image
pixels to centimetres in the marker's plane, so an outline traced on the
photo can be measured even when the camera was not held square to the skin.

Limits, stated plainly: the homography is exact only for points in the
marker's plane; skin curving away from the marker (e.g. in a fold) is
measured with some error. Lens distortion is not corrected.

OpenCV reference: cv2.aruco.ArucoDetector(dictionary, parameters).detectMarkers
(OpenCV >= 4.7 object API; the same in 5.x). Corners come back clockwise from
the marker's own top-left corner.

OpenCV and numpy are imported inside the functions that use them, not at the
top: together they add about 45 MB to every process that imports this module
(the upload route does, for every photo), and only marker detection, the
homography and the printable marker need them: a process that serves no
upload never loads them.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeAlias

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    import cv2
    import numpy as np
    import numpy.typing as npt

MARKER_DICTIONARY: Final = 0
"""cv2.aruco.DICT_4X4_50, as a literal so that importing this module does not
load OpenCV (tests/photos/test_calibration.py checks the two agree)."""
MARKER_ID: Final = 0
DEFAULT_MARKER_SIZE_CM: Final = 2.0
"""Edge of the printed marker's black square when nobody says otherwise: the
size GET /api/v1/calibration-marker prints by default, and the size a photo
is calibrated with when neither the upload nor the clinic gives one."""
_MARKER_CELLS: Final = 6  # 4x4 data bits plus a one-cell black border on each side
_CM_PER_INCH: Final = 2.54

ImageInput: TypeAlias = "str | os.PathLike[str] | Image.Image | npt.NDArray[np.uint8]"


@dataclass
class MarkerDetection:
    """Result of :func:`detect_marker`.

    ``corners_px``: the marker's outer corners in image pixels, in the marker's
    own TL, TR, BR, BL order (clockwise). ``homography``: 3x3 matrix (row-major
    nested lists) mapping homogeneous image pixels to centimetres in the marker
    plane, origin at the marker's top-left corner. ``reason`` says why nothing
    was found (None when found).
    """

    found: bool
    marker_id: int | None = None
    corners_px: list[list[float]] = field(default_factory=list)
    px_per_cm: float | None = None
    homography: list[list[float]] | None = None
    reason: str | None = None


def _gray(image: ImageInput) -> npt.NDArray[np.uint8]:
    import cv2  # lazy: see the module docstring
    import numpy as np

    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            return np.ascontiguousarray(image, dtype=np.uint8)
        # RGB (as from Pillow/numpy), not OpenCV's BGR
        rgb = np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)
        return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    with Image.open(image) as img:
        return np.asarray(img.convert("L"), dtype=np.uint8)


def _detector() -> cv2.aruco.ArucoDetector:
    import cv2  # lazy: see the module docstring

    params = cv2.aruco.DetectorParameters()
    # sub-pixel corners: the scale of every measurement hangs on these four points
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    dictionary = cv2.aruco.getPredefinedDictionary(MARKER_DICTIONARY)
    return cv2.aruco.ArucoDetector(dictionary, params)


def detect_marker(image: ImageInput, marker_size_cm: float) -> MarkerDetection:
    """Find the calibration marker and derive the photo's scale.

    ``image``: a path, a PIL image or an RGB/grey numpy array (upright, as
    stored). ``marker_size_cm``: side of the printed marker's black square.
    Marker id 0 is preferred; otherwise the largest DICT_4X4_50 marker is used.
    ``px_per_cm`` is the mean of the four side lengths divided by the size
    (an average over a tilted marker; the homography is the exact mapping).
    """
    import cv2  # lazy: see the module docstring
    import numpy as np

    if not marker_size_cm > 0:
        raise ValueError("marker_size_cm must be positive")
    gray = _gray(image)
    corners, ids, _rejected = _detector().detectMarkers(gray)
    if ids is None or len(ids) == 0:
        return MarkerDetection(
            found=False,
            reason=(
                "No calibration marker (ArUco DICT_4X4_50) was found. Place the printed "
                "marker flat next to the wound, fully in view and in focus, or set the "
                "scale manually."
            ),
        )
    found = [
        (int(i), np.asarray(c, dtype=np.float64).reshape(4, 2))
        for i, c in zip(ids.ravel(), corners, strict=True)
    ]
    preferred = [f for f in found if f[0] == MARKER_ID] or found
    marker_id, quad = max(preferred, key=lambda f: abs(cv2.contourArea(f[1].astype(np.float32))))
    return _detection(marker_id, quad, marker_size_cm)


def _detection(
    marker_id: int, quad: npt.NDArray[np.float64], marker_size_cm: float
) -> MarkerDetection:
    """Scale and homography from the marker's four corners (TL, TR, BR, BL)."""
    import cv2  # lazy: see the module docstring
    import numpy as np

    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    s = float(marker_size_cm)
    target = np.array([[0, 0], [s, 0], [s, s], [0, s]], dtype=np.float32)
    homography = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return MarkerDetection(
        found=True,
        marker_id=marker_id,
        corners_px=quad.tolist(),
        px_per_cm=float(sides.mean() / s),
        homography=homography.tolist(),
    )


def detect_marker_two_pass(
    full: Image.Image, marker_size_cm: float, preview: Image.Image | None = None
) -> MarkerDetection:
    """:func:`detect_marker` on a large photo at a fraction of the cost.

    Searching a 12-megapixel frame costs about as much as decoding it, so the
    marker is first found on ``preview`` (a downscaled copy of ``full``, e.g.
    the 1600 px derivative; made here when not given), then detected again in
    a full-resolution crop around it, so the corners (and every measurement
    that hangs on them) keep full-resolution sub-pixel precision. A marker too
    small to be seen in the preview is reported as not found.
    """
    import numpy as np  # lazy: see the module docstring

    if not marker_size_cm > 0:
        raise ValueError("marker_size_cm must be positive")
    if preview is None:
        preview = full.copy()
        preview.thumbnail((1600, 1600))
    coarse = detect_marker(preview, marker_size_cm)
    scale = full.width / preview.width
    if not coarse.found or scale <= 1.01:
        return coarse  # nothing found, or the preview is the full image
    quad = np.asarray(coarse.corners_px, dtype=np.float64) * scale
    side = float(np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1).max())
    margin = max(32.0, side * 0.5)  # the detector needs a white quiet zone round the marker
    x0 = max(0, int(quad[:, 0].min() - margin))
    y0 = max(0, int(quad[:, 1].min() - margin))
    x1 = min(full.width, int(quad[:, 0].max() + margin) + 1)
    y1 = min(full.height, int(quad[:, 1].max() + margin) + 1)
    fine = detect_marker(full.crop((x0, y0, x1, y1)), marker_size_cm)
    if not fine.found or fine.marker_id != coarse.marker_id:
        # the preview's corners, scaled up, are still a usable calibration
        return _detection(coarse.marker_id or 0, quad, marker_size_cm)
    refined = np.asarray(fine.corners_px, dtype=np.float64) + np.array([x0, y0], dtype=np.float64)
    return _detection(fine.marker_id or 0, refined, marker_size_cm)


# --- printable marker ------------------------------------------------------


def _label_image(size_cm: float, dpi: float) -> Image.Image:
    """Marker id 0 at exactly ``size_cm`` (at ``dpi``), white quiet zone and caption."""
    import cv2  # lazy: see the module docstring

    px_per_cm = dpi / _CM_PER_INCH
    side = round(size_cm * px_per_cm)
    marker = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(MARKER_DICTIONARY), MARKER_ID, side, borderBits=1
    )
    # quiet zone of two cells all round: detection needs white around the black square
    quiet = max(1, round(2 * side / _MARKER_CELLS))
    font_px = max(10, round(0.28 * px_per_cm))
    font = ImageFont.load_default(size=font_px)
    caption = [
        f"Wound scale marker: black square = {size_cm:g} cm",
        "Print at 100% / actual size; check with a ruler.",
    ]
    text_w = max(round(font.getlength(line)) for line in caption)
    width = max(side + 2 * quiet, text_w + 2 * quiet)
    height = side + 2 * quiet + len(caption) * round(font_px * 1.3) + quiet // 2
    label = Image.new("L", (width, height), 255)
    label.paste(Image.fromarray(marker), ((width - side) // 2, quiet))
    draw = ImageDraw.Draw(label)
    y = side + quiet + quiet // 2
    for line in caption:
        draw.text((quiet, y), line, fill=0, font=font)
        y += round(font_px * 1.3)
    # a thin cut line around the label, outside the quiet zone
    draw.rectangle((0, 0, width - 1, height - 1), outline=160)
    return label


def _exact_dpi(size_cm: float, dpi: float) -> float:
    """The DPI at which the rounded marker side prints at exactly ``size_cm``."""
    side = round(size_cm * dpi / _CM_PER_INCH)
    return side / size_cm * _CM_PER_INCH


def marker_png(size_cm: float = DEFAULT_MARKER_SIZE_CM, dpi: int = 300) -> bytes:
    """PNG of the calibration marker whose black square prints at ``size_cm``.

    The file carries its resolution (pHYs), adjusted by well under 1% so that
    the whole-pixel marker side is exactly ``size_cm`` at that resolution.
    """
    if not size_cm > 0 or not dpi > 0:
        raise ValueError("size_cm and dpi must be positive")
    exact = _exact_dpi(size_cm, dpi)
    buf = io.BytesIO()
    _label_image(size_cm, dpi).save(buf, "PNG", dpi=(exact, exact))
    return buf.getvalue()


_A4_CM: Final = (21.0, 29.7)


def marker_page(size_cm: float = DEFAULT_MARKER_SIZE_CM, dpi: int = 300) -> Image.Image:
    """An A4 page image (at the exact DPI) with the marker label at the top left.

    A full page, not a label-sized one, so print dialogs have no reason to
    "fit to page" and enlarge the marker.
    """
    exact = _exact_dpi(size_cm, dpi)
    page = Image.new(
        "L", (round(_A4_CM[0] / _CM_PER_INCH * exact), round(_A4_CM[1] / _CM_PER_INCH * exact)), 255
    )
    margin = round(1.5 / _CM_PER_INCH * exact)
    page.paste(_label_image(size_cm, dpi), (margin, margin))
    return page


def marker_pdf(size_cm: float = DEFAULT_MARKER_SIZE_CM) -> bytes:
    """One-page A4 PDF with the marker at true size (``size_cm`` black square)."""
    if not size_cm > 0:
        raise ValueError("size_cm must be positive")
    dpi = 300
    buf = io.BytesIO()
    # Pillow sizes the PDF page as pixels / resolution inches, so the marker's
    # pixel side maps to exactly size_cm on paper. Bilevel ("1") is stored
    # losslessly (CCITT G4); greyscale would be JPEG-compressed, blurring edges.
    page = marker_page(size_cm, dpi).convert("1", dither=Image.Dither.NONE)
    page.save(buf, "PDF", resolution=_exact_dpi(size_cm, dpi))
    return buf.getvalue()
