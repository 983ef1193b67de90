"""A wound outline proposed from one tap on a photo (no Flask here).

The nurse taps inside the wound (optionally drags a box round it); this
module proposes the wound's edge as a polygon in pixels of the stored upright
image, for the nurse to accept or correct. It is classical and local: no model,
no weights, nothing downloaded.

1. A working copy, longest side at most ``WORK_SIDE`` px, is cleaned: a
   morphological closing removes thin dark lines (hair), a median filter the
   sensor noise.
2. Extent: every pixel is placed on the colour axis from the surrounding skin
   (the image's median colour) to the colour under the tap; the connected
   region on the wound's side of the midpoint, after a morphological opening,
   gives the first guess of the wound and, unless a box was sent, the box.
3. GrabCut (Rother, Kolmogorov & Blake 2004, ACM TOG 23:309) on a crop round
   that box: outside the box is skin, the tap is wound, the first guess is
   "probably wound", the rest "probably skin".
4. When GrabCut gives nothing usable (no region at the tap, a speck, the
   whole box, or a region the colour of the skin round it), the random
   walker (Grady 2006, IEEE TPAMI 28:1768, as implemented by scikit-image)
   segments the same crop from the tap and the outside of the box.
5. A small wound at working scale is refined on the full-resolution crop:
   GrabCut again, free only in a band round the upscaled edge.
6. The edge is simplified (Douglas & Peucker 1973, Cartographica 10:112;
   ``cv2.approxPolyDP``) to at most ``MAX_POINTS`` vertices and checked to be
   a simple polygon.

Accuracy was measured on generated photos only (tests/photos/test_outline.py);
on real photos it still needs clinical validation. OpenCV, numpy and
scikit-image are imported inside the functions, as in calibration.py, so a
server process pays for them only once someone asks for an outline.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from PIL import Image

from app.clinical.geometry import is_simple_polygon

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Mask = npt.NDArray[np.uint8]

WORK_SIDE: Final = 1000
"""Longest side of the working copy; GrabCut's cost grows with the pixel count."""
REFINE_BELOW: Final = 150
"""A wound whose equivalent radius is under this many working pixels is
refined at full resolution (half a working pixel is then more than 0.3 % of
its radius)."""
REFINE_SIDE: Final = 600
"""Longest side of the crop the refinement works on."""
MAX_POINTS: Final = 150
MIN_CONTRAST: Final = 3.0
"""Colour difference (CIE76 delta E) below which a region is not told apart
from the skin round it: about the smallest difference seen side by side."""
MIN_AREA_PX: Final = 30
"""A region smaller than this (working pixels) is a speck, not a wound."""
_SEED_RADIUS: Final = 3
_ITERATIONS: Final = 4
_RNG_SEED: Final = 0x5EED


class NoOutline(Exception):
    """No wound edge could be found round the tap; the message says why."""


@dataclass(frozen=True)
class Outline:
    """A proposed outline: ``points`` [[x, y], ...] in pixels of the full image,
    and the ``method`` that found it ("grabcut" or "random_walker")."""

    points: list[list[float]]
    method: str


@dataclass(frozen=True)
class _Crop:
    """A region of the working image: offset and size in working pixels."""

    x0: int
    y0: int
    x1: int
    y1: int


def propose(
    image: Image.Image | npt.NDArray[np.uint8],
    seed: tuple[float, float],
    box: tuple[float, float, float, float] | None = None,
) -> Outline:
    """The outline of the wound under ``seed`` (x, y in pixels of ``image``,
    a Pillow image or an RGB array).

    ``box`` (x0, y0, x1, y1), when given, bounds the wound. Raises NoOutline
    when neither method finds a plausible region round the tap.
    """
    import cv2
    import numpy as np

    full = image if isinstance(image, np.ndarray) else np.asarray(image.convert("RGB"))
    height, width = full.shape[:2]
    scale = min(1.0, WORK_SIDE / max(width, height))
    work = full
    if scale < 1:
        size = (round(width * scale), round(height * scale))
        work = cv2.resize(full, size, interpolation=cv2.INTER_AREA)
    smooth = _cleaned(work, 5)
    sx = min(work.shape[1] - 1, int(seed[0] * scale))
    sy = min(work.shape[0] - 1, int(seed[1] * scale))
    guess = _first_guess(smooth, (sx, sy))
    if box is not None:
        rect = _Crop(
            max(0, int(box[0] * scale)),
            max(0, int(box[1] * scale)),
            min(work.shape[1], int(np.ceil(box[2] * scale))),
            min(work.shape[0], int(np.ceil(box[3] * scale))),
        )
    else:
        rect = _box_round(guess, (sx, sy), work.shape[:2])
    crop = _grown(rect, 0.3, work.shape[:2])
    method = "grabcut"
    mask = _grabcut(smooth, crop, rect, guess, (sx, sy))
    if _degenerate(mask, smooth, rect, crop, (sx, sy)):
        method = "random_walker"
        mask = _random_walker(smooth, crop, rect, (sx, sy))
        if _degenerate(mask, smooth, rect, crop, (sx, sy)):
            raise NoOutline(
                "No wound edge was found round this point. Tap nearer the middle of the "
                "wound, draw a box round it, or trace it by hand."
            )
    # pixel i of a mask of resolution `factor` at full-resolution offset o
    # has its centre at o + (i + 0.5) / factor - 0.5 in the full image
    origin, factor = (crop.x0 / scale, crop.y0 / scale), scale
    radius = float(np.sqrt(np.count_nonzero(mask) / np.pi))
    if scale < 1 and radius < REFINE_BELOW:
        refined = _refine(full, mask, crop, scale, (seed[0], seed[1]))
        if refined is not None:
            mask, origin, factor = refined
    return Outline(points=_polygon(mask, origin, factor, (width, height)), method=method)


def _cleaned(rgb: Mask, hair_px: int) -> Mask:
    """Hair and noise removed: a morphological closing wipes out dark lines
    narrower than ``hair_px`` (the DullRazor idea: Lee et al. 1997, Comput Biol
    Med 27:533), then a median filter the sensor noise."""
    import cv2
    import numpy as np

    size = hair_px | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(np.ascontiguousarray(rgb), cv2.MORPH_CLOSE, kernel)
    return np.asarray(cv2.medianBlur(closed, 5), dtype=np.uint8)


def _first_guess(smooth: Mask, seed: tuple[int, int]) -> Mask:
    """The region on the wound's side of the skin-to-tap colour axis that holds the tap."""
    import cv2
    import numpy as np

    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32)
    x, y = seed
    r = _SEED_RADIUS
    patch = lab[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, 3)
    wound = np.median(patch, axis=0)
    skin = np.median(lab.reshape(-1, 3)[:: max(1, lab.size // 3 // 200_000)], axis=0)
    axis = wound - skin
    norm = float(axis @ axis)
    empty = np.zeros(smooth.shape[:2], np.uint8)
    if norm < 4.0:  # the tap is the colour of the skin: no guess, GrabCut alone
        cv2.circle(empty, seed, r, 1, -1)
        return empty
    along = ((lab - skin) @ axis) / norm
    region = (along > 0.5).astype(np.uint8)
    region = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _, labels = cv2.connectedComponents(region, connectivity=4)
    label = labels[y, x]
    if label == 0:  # the tap landed on a thin gap: take the nearest region
        window = labels[max(0, y - 3 * r) : y + 3 * r + 1, max(0, x - 3 * r) : x + 3 * r + 1]
        found = window[window > 0]
        if found.size == 0:
            cv2.circle(empty, seed, r, 1, -1)
            return empty
        label = int(np.bincount(found).argmax())
    return (labels == label).astype(np.uint8)


def _box_round(guess: Mask, seed: tuple[int, int], shape: tuple[int, ...]) -> _Crop:
    """The first guess's bounding box with a margin, never smaller than 24 px."""
    import cv2

    x, y, w, h = cv2.boundingRect(guess)
    if w == 0:
        x, y, w, h = seed[0], seed[1], 1, 1
    side = max(w, h)
    margin = max(12, int(0.25 * side))
    return _Crop(
        max(0, x - margin),
        max(0, y - margin),
        min(shape[1], x + w + margin),
        min(shape[0], y + h + margin),
    )


def _grown(rect: _Crop, fraction: float, shape: tuple[int, ...]) -> _Crop:
    """``rect`` grown on every side by ``fraction`` of its longer side (at least 8 px)."""
    margin = max(8, int(fraction * max(rect.x1 - rect.x0, rect.y1 - rect.y0)))
    return _Crop(
        max(0, rect.x0 - margin),
        max(0, rect.y0 - margin),
        min(shape[1], rect.x1 + margin),
        min(shape[0], rect.y1 + margin),
    )


def _initial_mask(crop: _Crop, rect: _Crop, guess: Mask, seed: tuple[int, int]) -> Mask:
    """GrabCut's labels on the crop: skin outside the box, wound at the tap."""
    import cv2
    import numpy as np

    mask = np.full((crop.y1 - crop.y0, crop.x1 - crop.x0), cv2.GC_BGD, np.uint8)
    inner = (
        slice(rect.y0 - crop.y0, rect.y1 - crop.y0),
        slice(rect.x0 - crop.x0, rect.x1 - crop.x0),
    )
    mask[inner] = cv2.GC_PR_BGD
    mine = guess[crop.y0 : crop.y1, crop.x0 : crop.x1].astype(bool)
    inside = np.zeros_like(mine)
    inside[inner] = True
    mask[mine & inside] = cv2.GC_PR_FGD
    cv2.circle(mask, (seed[0] - crop.x0, seed[1] - crop.y0), _SEED_RADIUS, cv2.GC_FGD, -1)
    return mask


def _grabcut(smooth: Mask, crop: _Crop, rect: _Crop, guess: Mask, seed: tuple[int, int]) -> Mask:
    import cv2
    import numpy as np

    mask = _initial_mask(crop, rect, guess, seed)
    if not (mask == cv2.GC_BGD).any():
        # the box is the whole image: GrabCut still needs some skin to learn from
        mask[[0, -1], :] = cv2.GC_BGD
        mask[:, [0, -1]] = cv2.GC_BGD
    image = np.ascontiguousarray(smooth[crop.y0 : crop.y1, crop.x0 : crop.x1])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        _seeded(cv2)
        cv2.grabCut(image, mask, None, bgd, fgd, _ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # e.g. too few pixels of one kind to fit a colour model
        return np.zeros(mask.shape, np.uint8)
    found = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    return _holding(found, (seed[0] - crop.x0, seed[1] - crop.y0))


def _seeded(cv2: Any) -> None:
    """Seed OpenCV's random generator before a GrabCut: it starts its colour
    models with k-means from that generator, whose state is whatever earlier
    OpenCV calls in this thread left. Seeded, the same tap on the same photo
    proposes the same outline every time."""
    cv2.setRNGSeed(_RNG_SEED)


def _random_walker(smooth: Mask, crop: _Crop, rect: _Crop, seed: tuple[int, int]) -> Mask:
    """The random walker on the crop (at most 400 px a side, for its cost)."""
    import cv2
    import numpy as np
    from skimage.segmentation import random_walker

    image = smooth[crop.y0 : crop.y1, crop.x0 : crop.x1]
    h, w = image.shape[:2]
    shrink = min(1.0, 400 / max(h, w))
    small = cv2.resize(image, (max(1, round(w * shrink)), max(1, round(h * shrink))))
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float64)
    labels = np.zeros(small.shape[:2], np.int32)
    scaled = _Crop(
        int((rect.x0 - crop.x0) * shrink),
        int((rect.y0 - crop.y0) * shrink),
        int(np.ceil((rect.x1 - crop.x0) * shrink)),
        int(np.ceil((rect.y1 - crop.y0) * shrink)),
    )
    labels[:] = 2
    labels[scaled.y0 : scaled.y1, scaled.x0 : scaled.x1] = 0
    if not (labels == 2).any():
        labels[[0, -1], :] = 2
        labels[:, [0, -1]] = 2
    tap = (
        min(small.shape[1] - 1, int((seed[0] - crop.x0) * shrink)),
        min(small.shape[0] - 1, int((seed[1] - crop.y0) * shrink)),
    )
    cv2.circle(labels, tap, max(1, int(_SEED_RADIUS * shrink)), 1, -1)
    with warnings.catch_warnings():
        # at this tolerance a probability may stray a little outside [0, 1];
        # only which label is likelier matters here
        warnings.filterwarnings("ignore", "The probability range", UserWarning)
        result = random_walker(lab, labels, beta=130, mode="cg_j", channel_axis=-1, tol=1e-3)
    found = cv2.resize((result == 1).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return _holding(found, (seed[0] - crop.x0, seed[1] - crop.y0))


def _holding(found: Mask, seed: tuple[int, int]) -> Mask:
    """The connected region of ``found`` that holds ``seed``, holes filled,
    spurs narrower than 5 px (a hair the colour of the wound) cut off."""
    import cv2
    import numpy as np

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    found = cv2.morphologyEx(found, cv2.MORPH_OPEN, kernel)
    _, labels = cv2.connectedComponents(found, connectivity=8)
    label = labels[seed[1], seed[0]]
    out = np.zeros(found.shape, np.uint8)
    if label == 0:
        return out
    contours, _ = cv2.findContours(
        (labels == label).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    cv2.drawContours(out, contours, -1, 1, -1)
    return out


def _degenerate(mask: Mask, smooth: Mask, rect: _Crop, crop: _Crop, seed: tuple[int, int]) -> bool:
    """No region at the tap, a speck, the whole box (no edge found inside it),
    or a region the colour of its surroundings (an edge found in noise)."""
    import cv2
    import numpy as np

    area = int(np.count_nonzero(mask))
    if area < MIN_AREA_PX or not mask[seed[1] - crop.y0, seed[0] - crop.x0]:
        return True
    if area > 0.92 * (rect.x1 - rect.x0) * (rect.y1 - rect.y0):
        return True
    lab = cv2.cvtColor(smooth[crop.y0 : crop.y1, crop.x0 : crop.x1], cv2.COLOR_RGB2LAB)
    width = max(3, round(0.15 * np.sqrt(area / np.pi)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    ring = (cv2.dilate(mask, kernel) > 0) & (mask == 0)
    if not ring.any():
        return False  # the region fills the crop: the box test above judges it
    inside = lab[mask > 0].astype(np.float64).mean(axis=0)
    around = lab[ring].astype(np.float64).mean(axis=0)
    # OpenCV's 8-bit Lab: L scaled by 255/100, a and b offset by 128
    delta = (inside - around) * np.array([100 / 255, 1.0, 1.0])
    return float(np.sqrt(delta @ delta)) < MIN_CONTRAST


def _refine(
    full: Mask, coarse: Mask, crop: _Crop, scale: float, seed: tuple[float, float]
) -> tuple[Mask, tuple[float, float], float] | None:
    """GrabCut on the full-resolution crop round the wound, free only in a band
    round the upscaled edge. Returns (mask, its origin in working-scale
    pixels, its resolution), or None when it does not improve."""
    import cv2
    import numpy as np

    ys, xs = np.nonzero(coarse)
    # the wound's box in full-resolution pixels, with a margin of a third
    x0, x1 = (crop.x0 + xs.min()) / scale, (crop.x0 + xs.max() + 1) / scale
    y0, y1 = (crop.y0 + ys.min()) / scale, (crop.y0 + ys.max() + 1) / scale
    margin = max(x1 - x0, y1 - y0) / 6 + 4 / scale
    height, width = full.shape[:2]
    fx0, fy0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
    fx1, fy1 = min(width, int(x1 + margin) + 1), min(height, int(y1 + margin) + 1)
    factor = min(1.0, REFINE_SIDE / max(fx1 - fx0, fy1 - fy0))
    if factor < 1.25 * scale:
        return None  # no finer than the working copy
    patch = full[fy0:fy1, fx0:fx1]
    size = (max(1, round((fx1 - fx0) * factor)), max(1, round((fy1 - fy0) * factor)))
    if factor < 1:
        patch = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    patch = _cleaned(patch, max(5, round(2.5 * factor / scale)))
    # the coarse mask drawn at this resolution
    ox, oy = fx0 * factor, fy0 * factor
    shift = np.array(
        [
            [factor / scale, 0, (crop.x0 + 0.5) * factor / scale - 0.5 - ox],
            [0, factor / scale, (crop.y0 + 0.5) * factor / scale - 0.5 - oy],
        ]
    )
    upscaled = cv2.warpAffine(coarse * 255, shift, size, flags=cv2.INTER_LINEAR)
    upscaled = (upscaled >= 128).astype(np.uint8)
    band = max(3, round(1.5 * factor / scale))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    mask = np.where(upscaled > 0, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    mask[cv2.erode(upscaled, kernel) > 0] = cv2.GC_FGD
    mask[cv2.dilate(upscaled, kernel) == 0] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        _seeded(cv2)
        cv2.grabCut(patch, mask, None, bgd, fgd, 2, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None
    found = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    tap = (
        min(size[0] - 1, max(0, int((seed[0] - fx0 + 0.5) * factor))),
        min(size[1] - 1, max(0, int((seed[1] - fy0 + 0.5) * factor))),
    )
    refined = _holding(found, tap)
    if np.count_nonzero(refined) < 0.5 * np.count_nonzero(upscaled):
        return None  # the band lost the wound: keep the coarse edge
    return refined, (float(fx0), float(fy0)), factor


def _polygon(
    mask: Mask, origin: tuple[float, float], factor: float, size: tuple[int, int]
) -> list[list[float]]:
    """The mask's outer edge, simplified, in full-resolution pixels.

    The tolerance starts at 0.4 % of the perimeter (a pixel or two on a
    typical wound) and grows until the polygon has at most MAX_POINTS vertices;
    a tolerance whose polygon folds onto itself is skipped.
    """
    import cv2
    import numpy as np

    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    epsilon = max(0.5, 0.004 * cv2.arcLength(contour, True))
    for _ in range(12):
        approx = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2).astype(np.float64)
        pts = np.array(origin) + (approx + 0.5) / factor - 0.5
        pts[:, 0] = np.clip(pts[:, 0], 0, size[0])
        pts[:, 1] = np.clip(pts[:, 1], 0, size[1])
        points = [[round(float(x), 1), round(float(y), 1)] for x, y in pts]
        if 3 <= len(points) <= MAX_POINTS and is_simple_polygon(points):
            return points
        epsilon *= 1.4
    raise NoOutline("The wound's edge could not be drawn as a simple outline; trace it by hand.")
