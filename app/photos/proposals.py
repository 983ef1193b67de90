"""Outline proposals: the wound edge found from one tap, measured, never stored.

The segmentation itself is in app/photos/outline.py. Here: the checks on the
tap and the box, reading the stored photo, a cap on how many proposals one
process computes at once (each holds a decoded photo, about 3 bytes a pixel,
and keeps a core busy for a second or two), and the area when the photo is
calibrated. Nothing is written: the nurse accepts or corrects the outline and
sends it with PUT /photos/{id}/tracing, which records method and seed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask import current_app

from app.clinical.geometry import GeometryError, measure_outline
from app.core.errors import Problem, field_error
from app.core.storage import KeyNotFound, StorageError
from app.photos import outline
from app.photos.models import Photo
from app.photos.scale import outside
from app.photos.services import storage, storage_problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_MIN_BOX_PX = 8
_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _check(photo: Photo, seed: list[float], box: list[float] | None) -> None:
    """422 naming the field: a tap outside the image, a box that is inverted,
    too small, outside the image or not round the tap."""
    if (why := outside(photo, *seed)) is not None:
        raise field_error("seed", why)
    if box is None:
        return
    x0, y0, x1, y1 = box
    if (why := outside(photo, x0, y0) or outside(photo, x1, y1)) is not None:
        raise field_error("box", f"corner {why}")
    if x1 - x0 < _MIN_BOX_PX or y1 - y0 < _MIN_BOX_PX:
        raise field_error(
            "box", f"must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0, at least {_MIN_BOX_PX} px"
        )
    if not (x0 <= seed[0] <= x1 and y0 <= seed[1] <= y1):
        raise field_error("box", "must hold the seed (the tap inside the wound)")


def _slot() -> threading.BoundedSemaphore:
    size = int(current_app.config["OUTLINE_CONCURRENCY"])
    with _slots_lock:
        return _slots.setdefault(size, threading.BoundedSemaphore(size))


def _load(photo: Photo) -> npt.NDArray[np.uint8]:
    """The stored upright original as RGB pixels, decoded at most at
    OUTLINE_MAX_PIXELS: libjpeg's DCT scaling decodes a larger photo at a half
    (a quarter, ...) of its size, cheaply. OpenCV decodes straight into one
    array (Pillow then numpy would hold the 36 MB of a 12 MP photo twice)."""
    import cv2
    import numpy as np

    key = (photo.storage_keys or {}).get("original")
    try:
        if key is None:
            raise KeyNotFound("original")
        with storage().open(key) as stored:
            data = np.frombuffer(stored.read(), dtype=np.uint8)
    except KeyNotFound as exc:
        raise _missing() from exc
    except StorageError as exc:
        raise storage_problem(exc) from exc
    limit = int(current_app.config["OUTLINE_MAX_PIXELS"])
    flag, count = cv2.IMREAD_COLOR, photo.width * photo.height
    if count > limit:
        flag = cv2.IMREAD_REDUCED_COLOR_2
    if count > 4 * limit:
        flag = cv2.IMREAD_REDUCED_COLOR_4
    pixels = cv2.imdecode(data, flag | cv2.IMREAD_IGNORE_ORIENTATION)
    del data
    if pixels is None:
        raise _missing()
    return np.asarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels), dtype=np.uint8)


def _missing() -> Problem:
    return Problem(404, "Not Found", "The file of this photo is missing from storage.")


def propose_outline(photo: Photo, seed: list[float], box: list[float] | None) -> dict[str, Any]:
    """{points, method, area_cm2 (calibrated photos only)} of the wound round
    ``seed``; 422 on ``seed`` when no edge is found there, 503 when every
    slot of this process is busy for longer than a few seconds."""
    _check(photo, seed, box)
    slot = _slot()
    if not slot.acquire(timeout=float(current_app.config["OUTLINE_WAIT_SECONDS"])):
        raise Problem(
            503,
            "Service Unavailable",
            "Other outlines are being computed; try again in a few seconds.",
            headers={"Retry-After": "5"},
        )
    try:
        image = _load(photo)
        # a photo decoded smaller is worked on in its own pixels
        fx, fy = image.shape[1] / photo.width, image.shape[0] / photo.height
        scaled_box = None if box is None else (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        try:
            found = outline.propose(image, (seed[0] * fx, seed[1] * fy), scaled_box)
        except outline.NoOutline as exc:
            raise field_error("seed", str(exc)) from exc
        finally:
            del image
    finally:
        slot.release()
    points = [[round(x / fx, 1), round(y / fy, 1)] for x, y in found.points]
    result: dict[str, Any] = {"points": points, "method": found.method}
    if photo.px_per_cm is not None or photo.homography is not None:
        try:
            measured = measure_outline(
                points, px_per_cm=photo.px_per_cm, homography=photo.homography
            )
            result["area_cm2"] = measured.area_cm2
        except GeometryError:  # pragma: no cover - the outline module checks simplicity
            pass
    return result
