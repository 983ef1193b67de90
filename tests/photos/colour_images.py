"""Generated photos of skin patches of known sRGB colour seen through a known
colour cast, with or without a rendered 24-patch colour card.

The scene is built in linear RGB: a skin-toned background, a "treated"
(redder) patch and a "reference" patch, and optionally a ColorChecker 24 drawn
from colour-science's reference values (converted to sRGB as the detector's
own reference is) on a black card with black gaps, as a real card looks. The
cast is a 3x3 matrix applied to every pixel in linear RGB (a camera's colour
response plus the room's light), then the picture is encoded to 8-bit sRGB
with a little noise.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.clinical.colour import linear_rgb_to_lab, srgb_to_linear

TREATED_SRGB = (0.85, 0.47, 0.42)
REFERENCE_SRGB = (0.84, 0.64, 0.55)
BACKGROUND_SRGB = (0.78, 0.62, 0.52)
# A warm, slightly green-shifted camera: every output channel mixes the others.
CAST = ((0.92, 0.12, 0.02), (0.06, 0.86, 0.04), (0.01, 0.09, 0.72))
# A small white-balance error only, for the uncalibrated comparison.
MILD_CAST = ((1.0, 0.0, 0.0), (0.0, 0.97, 0.0), (0.0, 0.0, 0.93))

PATCH = 200  # px, edge of each skin patch
TREATED_BOX = (100, 100, 100 + PATCH, 100 + PATCH)
REFERENCE_BOX = (400, 100, 400 + PATCH, 100 + PATCH)


def box_outline(box: tuple[int, int, int, int], inset: int = 20) -> list[list[float]]:
    """A square outline inside ``box`` (left, top, right, bottom), clear of its edge."""
    left, top, right, bottom = box
    return [
        [left + inset, top + inset],
        [right - inset, top + inset],
        [right - inset, bottom - inset],
        [left + inset, bottom - inset],
    ]


def true_lab(srgb: tuple[float, float, float]) -> tuple[float, float, float]:
    return linear_rgb_to_lab(tuple(srgb_to_linear(v) for v in srgb))


def card_values() -> np.ndarray:
    """The 24 patches in linear sRGB, as colour-checker-detection's reference."""
    from colour_checker_detection import SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC

    return np.clip(SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC["reference_values"], 0, 1)


@dataclass(frozen=True)
class Scene:
    width: int = 1200
    height: int = 900
    card: bool = True
    cast: tuple[tuple[float, float, float], ...] = CAST
    noise: float = 1.5  # standard deviation, 8-bit units
    seed: int = 24


def _linear(srgb: tuple[float, float, float]) -> np.ndarray:
    return np.array([srgb_to_linear(v) for v in srgb])


def _draw_card(img: np.ndarray, x0: int, y0: int, patch: int) -> None:
    gap, border = patch // 5, patch // 3
    width = 6 * patch + 5 * gap + 2 * border
    height = 4 * patch + 3 * gap + 2 * border
    img[y0 : y0 + height, x0 : x0 + width] = 0.015  # the black card
    for i, value in enumerate(card_values()):
        row, col = divmod(i, 6)
        x = x0 + border + col * (patch + gap)
        y = y0 + border + row * (patch + gap)
        img[y : y + patch, x : x + patch] = value


def render(scene: Scene) -> np.ndarray:
    """The scene as 8-bit sRGB pixels (height x width x 3)."""
    img = np.empty((scene.height, scene.width, 3))
    img[:] = _linear(BACKGROUND_SRGB)
    for box, srgb in ((TREATED_BOX, TREATED_SRGB), (REFERENCE_BOX, REFERENCE_SRGB)):
        left, top, right, bottom = box
        img[top:bottom, left:right] = _linear(srgb)
    if scene.card:
        patch = scene.width // 24
        _draw_card(img, scene.width - 9 * patch, scene.height - 6 * patch, patch)
    cast = np.clip(img @ np.array(scene.cast).T, 0, 1)
    encoded = np.where(cast <= 0.0031308, 12.92 * cast, 1.055 * cast ** (1 / 2.4) - 0.055)
    rng = np.random.default_rng(scene.seed)
    noisy = encoded * 255 + rng.normal(0, scene.noise, encoded.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def photo_bytes(scene: Scene) -> bytes:
    """The scene as a PNG file (lossless: the upload makes the stored JPEG)."""
    out = io.BytesIO()
    Image.fromarray(render(scene)).save(out, format="PNG")
    return out.getvalue()
