"""Erythema from a photo: the region step on a 12 MP photo (app/photos/colour.py).

A region as large as the whole frame is the worst case: its bounding box is
the photo. Ratios to a floor measured in the same run:

- time: measuring that region, at most 3x decoding the stored JPEG once;
- memory: the peak resident memory of a fresh process that decodes the
  photo and measures the region, at most 1.25x that of one that only decodes
  it: the box is read in strips and counted per 8-bit value, never copied to
  floating point.

The card detection runs on the <= 1600 px copy whatever the photo's size; its
time is information (it depends on the machine far more than on the photo)."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 4000, 3000


def _jpeg() -> bytes:
    rng = np.random.default_rng(24)
    base = np.array([200, 150, 130], dtype=np.int16)
    pixels = base + rng.integers(-20, 20, (HEIGHT, WIDTH, 3), dtype=np.int16)
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


_PEAK = """
import io, resource, sys
from PIL import Image
from app.photos import colour as service
image = Image.open(sys.argv[1])
image.load()
if sys.argv[2] == "measure":
    w, h = image.size
    service._region(image, [[0, 0], [w, 0], [w, h], [0, h]], "region")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kb(path: str, what: str) -> int:
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _PEAK, path, what], check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def run(results: list[dict]) -> None:
    from app.photos import colour as service
    from tests.photos.colour_images import Scene, render

    data = _jpeg()
    image = _decode(data)
    outline = [[0, 0], [WIDTH, 0], [WIDTH, HEIGHT], [0, HEIGHT]]
    decode = _best(lambda: _decode(data))
    region = _best(lambda: service._region(image, outline, "region"))
    with tempfile.NamedTemporaryFile(suffix=".jpg") as photo:
        photo.write(data)
        photo.flush()
        memory = _peak_kb(photo.name, "measure") / _peak_kb(photo.name, "decode")
    card = Image.fromarray(render(Scene(width=1600, height=1200)))
    detect = _best(lambda: service._fit_card(card), repeat=1)
    results += [
        {
            "name": "colour region 12 MP: time / JPEG decode",
            "value": region / decode,
            "unit": "x",
            "target": 3,
            "better": "lower",
        },
        {
            "name": "colour region 12 MP: peak memory / JPEG decode",
            "value": memory,
            "unit": "x",
            "target": 1.25,
            "better": "lower",
        },
        {
            "name": "colour card detection and fit, 1600 px",
            "value": detect,
            "unit": "s",
            "target": None,
            "better": "lower",
        },
    ]
