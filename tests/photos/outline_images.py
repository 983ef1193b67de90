"""Generated wound photos with a known outline, for the outline proposal's accuracy.

Each photo: skin of one of several tones with low-frequency shading, mottling
and sensor noise; one lesion (an ellipse or an irregular blob) whose colour
moves from the skin's towards erythema by a chosen contrast, with a soft
edge; dark hair-like curves crossing the picture and the lesion; and the
printed ArUco marker (with its white quiet zone) beside the lesion. The truth
is the lesion's hard mask; the seed a point inside it, as a tap would be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SKIN_TONES = {
    "light": (228, 190, 170),
    "medium": (198, 150, 118),
    "dark": (128, 88, 66),
}
# what erythema moves the skin towards, per tone (redder; violaceous on dark skin)
ERYTHEMA = {
    "light": (196, 78, 80),
    "medium": (170, 62, 58),
    "dark": (96, 40, 40),
}


@dataclass(frozen=True)
class Spec:
    """What to draw: ``size`` (w, h); lesion ``radius`` in px (mean), ``shape``
    ("ellipse" or "blob"); ``contrast`` 0..1 from skin to erythema."""

    name: str
    size: tuple[int, int]
    tone: str
    shape: str
    radius: int
    contrast: float
    hairs: int
    seed: int
    marker: bool = True  # False: no printed marker, so an upload stays uncalibrated


@dataclass
class Photo:
    spec: Spec
    image: np.ndarray  # RGB uint8
    truth: np.ndarray  # uint8 0/1, lesion
    tap: tuple[float, float]


def _smooth_noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with features about ``sigma`` px wide."""
    small = rng.normal(0, 1, (max(2, int(h / sigma)), max(2, int(w / sigma)))).astype(np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return big / max(1e-6, float(big.std()))


def _lesion(spec: Spec, rng: np.random.Generator, centre: tuple[int, int]) -> np.ndarray:
    w, h = spec.size
    mask = np.zeros((h, w), np.uint8)
    r = spec.radius
    if spec.shape == "ellipse":
        axes = (int(r * 1.25), int(r * 0.8))
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(mask, centre, axes, angle, 0, 360, 1, -1)
        return mask
    theta = np.linspace(0, 2 * math.pi, 360, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 6):
        radius += rng.uniform(0.04, 0.13) * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    pts = np.stack(
        [centre[0] + r * radius * np.cos(theta), centre[1] + r * radius * np.sin(theta)], axis=1
    )
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


def _hairs(img: np.ndarray, spec: Spec, rng: np.random.Generator) -> None:
    """Dark curved lines, some across the lesion (the centre of the picture)."""
    h, w = img.shape[:2]
    for i in range(spec.hairs):
        if i % 2 == 0:  # through the middle third, where the lesion is
            mid = np.array([rng.uniform(w / 3, 2 * w / 3), rng.uniform(h / 3, 2 * h / 3)])
        else:
            mid = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, math.pi)
        length = rng.uniform(0.15, 0.4) * max(w, h)
        d = np.array([math.cos(angle), math.sin(angle)]) * length / 2
        bend = np.array([-d[1], d[0]]) * rng.uniform(-0.3, 0.3)
        t = np.linspace(0, 1, 60)[:, None]
        a, c = mid - d, mid + d
        curve = (1 - t) ** 2 * a + 2 * (1 - t) * t * (mid + bend) + t**2 * c
        thickness = int(rng.integers(1, 4)) * max(1, w // 1600)
        shade = rng.uniform(30, 70)
        cv2.polylines(
            img,
            [np.round(curve).astype(np.int32)],
            False,
            (shade, shade * 0.8, shade * 0.7),
            thickness,
            cv2.LINE_AA,
        )


def _marker(img: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> None:
    """The printed marker (2 cm at about 1/12 of the width) where the lesion is not."""
    h, w = img.shape[:2]
    side = max(60, w // 12)
    quiet = side // 3
    marker = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 0, side, borderBits=1
    )
    total = side + 2 * quiet
    for _ in range(200):
        x0 = int(rng.integers(0, w - total))
        y0 = int(rng.integers(0, h - total))
        pad = total // 2
        area = truth[max(0, y0 - pad) : y0 + total + pad, max(0, x0 - pad) : x0 + total + pad]
        if not area.any():
            break
    img[y0 : y0 + total, x0 : x0 + total] = 250
    img[y0 + quiet : y0 + quiet + side, x0 + quiet : x0 + quiet + side] = marker[:, :, None]


def render(spec: Spec) -> Photo:
    rng = np.random.default_rng(spec.seed)
    w, h = spec.size
    skin = np.array(SKIN_TONES[spec.tone], np.float32)
    red = np.array(ERYTHEMA[spec.tone], np.float32)
    shading = 1 + 0.06 * _smooth_noise(rng, h, w, max(w, h) / 3)
    img = skin[None, None, :] * shading[:, :, None]
    img += 5 * _smooth_noise(rng, h, w, 12)[:, :, None]  # pores and mottling
    centre = (
        int(w / 2 + rng.uniform(-0.1, 0.1) * w),
        int(h / 2 + rng.uniform(-0.1, 0.1) * h),
    )
    truth = _lesion(spec, rng, centre)
    soft = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), max(1.5, w / 1000))
    # erythema is patchy: its strength varies by a fifth across the lesion
    strength = spec.contrast * (1 + 0.2 * _smooth_noise(rng, h, w, spec.radius / 3))
    blend = np.clip(soft * strength, 0, 1)[:, :, None]
    img = img * (1 - blend) + (red * shading[:, :, None]) * blend
    img += rng.normal(0, 4, img.shape).astype(np.float32)  # sensor noise
    out = np.clip(img, 0, 255).astype(np.uint8)
    _hairs(out, spec, rng)
    if spec.marker:
        _marker(out, truth, rng)
    inner = cv2.erode(truth, np.ones((5, 5), np.uint8), iterations=max(1, spec.radius // 10))
    ys, xs = np.nonzero(inner)
    pick = int(rng.integers(0, len(xs)))
    return Photo(spec=spec, image=out, truth=truth, tap=(float(xs[pick]), float(ys[pick])))


def specs() -> list[Spec]:
    """The accuracy set: every tone, both shapes, three contrasts, small to large."""
    out = []
    n = 0
    for tone in SKIN_TONES:
        for shape in ("ellipse", "blob"):
            for contrast in (0.35, 0.6, 1.0):
                radius = (50, 110, 220)[n % 3]
                size = (1600, 1200) if n % 4 else (3000, 2000)
                out.append(
                    Spec(
                        name=f"{tone}-{shape}-c{contrast:g}-r{radius}",
                        size=size,
                        tone=tone,
                        shape=shape,
                        radius=radius * size[0] // 1600,
                        contrast=contrast,
                        hairs=12,
                        seed=100 + n,
                    )
                )
                n += 1
    return out


def iou(mask: np.ndarray, points: list[list[float]]) -> float:
    """Intersection over union of a truth mask and a proposed polygon."""
    drawn = np.zeros_like(mask)
    cv2.fillPoly(drawn, [np.round(np.asarray(points) * 16).astype(np.int32)], 1, shift=4)
    inter = np.count_nonzero(drawn & mask)
    union = np.count_nonzero(drawn | mask)
    return inter / union if union else 0.0
