"""A photo's scale and the wound's outline on it: the calibration (by hand, or
the printed marker detected again with another size) and the traced edge,
measured in cm and passed on to the linked assessment. Each is an amendment:
If-Match when sent (required for re-detection), history kept."""

from __future__ import annotations

import io
import logging

from PIL import Image
from sqlalchemy.orm import Session

from app.clinical.geometry import GeometryError, measure_outline
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.storage import KeyNotFound, StorageError
from app.photos import services
from app.photos.models import Photo

log = logging.getLogger(__name__)


def _if_match_when_sent(photo: Photo) -> None:
    """PUTs honour If-Match when the client sends it (412 when stale)."""
    from flask import request

    if request.headers.get("If-Match"):
        require_if_match(photo, services.dump)


def set_manual_calibration(session: Session, photo: Photo, px_per_cm: float) -> Photo:
    """A scale measured by hand (e.g. a ruler in the photo). Replaces a marker
    calibration, including its homography; an existing tracing is re-measured."""
    _if_match_when_sent(photo)
    photo.px_per_cm = px_per_cm
    photo.calibration_source = "manual"
    photo.homography = None
    if photo.tracing_points:
        _measure(session, photo, photo.tracing_points)
    session.flush()
    return photo


def outside(photo: Photo, x: float, y: float) -> str | None:
    """Why (x, y) is not a point of the stored upright image, or None."""
    if 0 <= x <= photo.width and 0 <= y <= photo.height:
        return None
    return (
        f"({x:g}, {y:g}) lies outside the image "
        f"({photo.width} x {photo.height} px, upright as stored)"
    )


def detect_again(session: Session, photo: Photo, marker_size_cm: float) -> Photo:
    """Run marker detection again on the stored image with ``marker_size_cm``
    (If-Match required, like every amendment). Found: the marker calibration
    replaces the old one and an existing tracing is re-measured. Not found: a
    422 with the detector's reason, and the photo is left as it was."""
    require_if_match(photo, services.dump)
    upright, large = _stored_images(photo)
    try:
        detection = services.detect(upright, large, marker_size_cm)
    finally:
        upright.close()
        large.close()
    if not detection["found"]:
        raise Problem(
            422,
            "No marker found",
            detection["reason"],
            type_=services.PROBLEMS + "marker-not-found",
            errors={"marker_size_cm": [detection["reason"]]},
        )
    services.apply_detection(photo, detection, marker_size_cm)
    if photo.tracing_points:
        _measure(session, photo, photo.tracing_points)
    session.flush()
    return photo


def _stored_images(photo: Photo) -> tuple[Image.Image, Image.Image]:
    """The stored original and large copies, decoded (both upright already)."""
    images: list[Image.Image] = []
    try:
        for size in ("original", "large"):
            key = (photo.storage_keys or {}).get(size)
            if key is None:
                raise KeyNotFound(size)
            with services.storage().open(key) as body:
                img = Image.open(io.BytesIO(body.read()))  # Pillow needs a seekable file
                img.load()
            images.append(img)
    except KeyNotFound as exc:
        log.error("photo %s: file %s is missing", photo.id, exc)
        raise Problem(
            409, "Conflict", "The file of this photo is missing from storage; it cannot be read."
        ) from exc
    except StorageError as exc:
        raise services.storage_problem(exc) from exc
    return images[0], images[1]


def set_tracing(
    session: Session,
    photo: Photo,
    points: list[list[float]],
    method: str = "manual",
    seed: list[float] | None = None,
) -> Photo:
    """Measure a traced outline; the linked assessment then uses the traced area.
    ``method`` and ``seed`` record how the points were made (a proposal's tap)."""
    _if_match_when_sent(photo)
    for i, (x, y) in enumerate(points):
        if (why := outside(photo, x, y)) is not None:
            raise field_error("points", f"point {i} {why}")
    if seed is not None and (why := outside(photo, *seed)) is not None:
        raise field_error("seed", why)
    _measure(session, photo, points)
    photo.tracing_method = method
    photo.tracing_seed = [float(seed[0]), float(seed[1])] if seed is not None else None
    session.flush()
    return photo


def _measure(session: Session, photo: Photo, points: list[list[float]]) -> None:
    if photo.homography is None and photo.px_per_cm is None:
        raise field_error(
            "points",
            "cannot be measured: the photo is not calibrated (no marker was found). "
            "Set the scale with PUT /photos/{id}/calibration first.",
        )
    try:
        m = measure_outline(points, px_per_cm=photo.px_per_cm, homography=photo.homography)
    except GeometryError as exc:
        raise field_error("points", str(exc)) from exc
    photo.tracing_points = [[float(x), float(y)] for x, y in points]
    photo.traced_area_cm2 = m.area_cm2
    photo.traced_perimeter_cm = m.perimeter_cm
    photo.traced_length_cm = m.length_cm
    photo.traced_width_cm = m.width_cm
    services.retrace(session, photo.assessment_id)
