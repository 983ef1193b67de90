"""Outline proposal of a 12 MP photo through the HTTP stack vs one plain
``cv2.grabCut`` call on the same working image (issue 24), and the peak memory
of a server process computing it.

Floor: the photo downscaled to the working size (longest side 1000 px, as
app/photos/outline.py works), then one ``cv2.grabCut`` with a rectangle round
the lesion and 5 iterations (OpenCV's tutorial setting). The full path adds
reading the stored JPEG, decoding 12 MP, hair and noise filtering, the first
guess from the tap, GrabCut on a crop, the full-resolution refinement of a
small wound, the polygon and its measurement. Two photos: a small lesion (the
refinement runs) and a large one (it does not).

Memory: peak resident set size (sampled every 2 ms from /proc/self/statm) of
a fresh server process, warmed by one outline of a small photo, while it
proposes the outline of the 12 MP photo.
"""

from __future__ import annotations

import io
import math
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.bench.bench_photos import PeakRss, _uploader
from tests.bench.common import env_int, existing_app, in_fresh_process, make_app
from tests.photos.outline_images import Spec, iou, render

REPEAT = env_int("BENCH_OUTLINE_REPEAT", 3)
PHOTOS = {
    "small": Spec("bench-small", (4000, 3000), "medium", "blob", 160, 0.6, 12, 201),
    "large": Spec("bench-large", (4000, 3000), "light", "ellipse", 700, 0.6, 12, 202),
}


def _jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=92)
    return buf.getvalue()


def floor(image: np.ndarray, truth: np.ndarray) -> None:
    """One plain cv2.grabCut on the working image, rectangle round the lesion."""
    h, w = image.shape[:2]
    scale = 1000 / max(w, h)
    work = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    x, y, bw, bh = cv2.boundingRect(truth)
    rect = (
        int(x * scale) - 10,
        int(y * scale) - 10,
        int(bw * scale) + 20,
        int(bh * scale) + 20,
    )
    mask = np.zeros(work.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(work, mask, rect, bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)


def _memory_in_fresh_process(app, data: bytes, tap: tuple[float, float]) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-outline-mem-"))
    path = tmp / "photo.jpg"
    path.write_bytes(data)
    args = (str(path), list(tap), app.config["SQLALCHEMY_DATABASE_URI"], app.config["STORAGE_DIR"])
    return in_fresh_process("tests.bench.bench_outline", "_memory_child", *args)


def _memory_child(path: str, tap: list[float], database_url: str, storage_dir: str):
    app = existing_app(database_url, storage_dir)
    upload, nurse = _uploader(app)
    warm = render(Spec("warm", (800, 600), "light", "ellipse", 80, 0.6, 2, 5))
    _outline(nurse, upload(_jpeg(warm.image))["id"], warm.tap)  # every module loaded
    photo = upload(Path(path).read_bytes())
    with PeakRss() as mem:
        _outline(nurse, photo["id"], tuple(tap))
    return mem.before, mem.peak


def _outline(nurse, photo_id: str, tap: tuple[float, float]) -> dict:
    r = nurse.post(f"/api/v1/photos/{photo_id}/outline", json={"seed": list(tap)})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def run(results: list[dict]) -> None:
    app = make_app()
    upload, nurse = _uploader(app)
    inputs = {}
    for label, spec in PHOTOS.items():
        photo = render(spec)
        data = _jpeg(photo.image)
        inputs[label] = (data, photo.tap)
        photo_id = upload(data)["id"]
        decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        found = _outline(nurse, photo_id, photo.tap)  # warm both paths
        floor(decoded, photo.truth)
        t_floor = t_full = math.inf
        for _ in range(REPEAT):  # interleaved, best of REPEAT
            t = time.perf_counter()
            floor(decoded, photo.truth)
            t_floor = min(t_floor, time.perf_counter() - t)
            t = time.perf_counter()
            _outline(nurse, photo_id, photo.tap)
            t_full = min(t_full, time.perf_counter() - t)
        name = f"outline_12mp_{label}"
        results += [
            {"name": f"{name}_s", "value": t_full, "unit": "s", "target": None, "better": "lower"},
            {
                "name": f"{name}_grabcut_floor_s",
                "value": t_floor,
                "unit": "s",
                "target": None,
                "better": "lower",
            },
            {
                "name": f"{name}_vs_grabcut",
                "value": t_full / t_floor,
                "unit": "ratio",
                "target": 3,
                "better": "lower",
            },
            {
                "name": f"{name}_iou",
                "value": iou(photo.truth, found["points"]),
                "unit": "IoU",
                "target": 0.9,
                "better": "higher",
            },
        ]
    # the small lesion: decode, first guess, GrabCut and the full-resolution refinement
    before, peak = _memory_in_fresh_process(app, *inputs["small"])
    results += [
        {
            "name": "outline_12mp_peak_rss_mb",
            "value": peak,
            "unit": "MB",
            "target": 300,
            "better": "lower",
        },
        {
            "name": "outline_12mp_rss_growth_mb",
            "value": peak - before,
            "unit": "MB",
            "target": None,
            "better": "lower",
        },
    ]


if __name__ == "__main__":
    rows: list[dict] = []
    run(rows)
    for row in rows:
        print(f"{row['name']:<40} {row['value']:>10.4g} {row['unit']}")
