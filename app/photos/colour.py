"""Erythema from a photo: the colour of a treated skin region against
unirradiated skin, calibrated with a 24-patch colour card when one is in view.

1. Calibration (once per photo; the stored photo is never changed). The card
   is looked for on the photo's "large" copy (<= 1600 px) with
   colour-checker-detection's segmentation detector. Its 24 patches (linear
   RGB) are fitted to the card's published values with a 3x3 colour-correction
   matrix (colour-science, Cheung 2004, least squares) and the residual
   CIEDE2000 of every patch after correction is reported. No card, or a fit
   whose mean residual is over MAX_CARD_DELTA_E (a misread card, mixed
   lighting): "uncalibrated", and pixel values are taken as sRGB as they are.
2. Regions, on the stored upright image at full resolution, read through the
   polygon's bounding box a strip at a time: the pixels inside the outline are
   counted per 8-bit value and channel, so no float copy of them is made. Means
   are taken in linear RGB (what a spectrometer integrating over the area
   would see), corrected with the matrix, then converted with
   app/clinical/colour.py.

colour-science, colour-checker-detection and numpy are imported here, inside
the functions: they cost seconds and tens of MB, and only this request needs them.
"""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from app.clinical import colour as formulas
from app.clinical.geometry import GeometryError, validate_outline
from app.core import records
from app.core.access import current_user, scoped
from app.core.errors import Problem, field_error
from app.core.storage import KeyNotFound, StorageError
from app.photos.models import Photo, PhotoColourMeasure
from app.wounds.models import Wound

# Fewer pixels than a 20 x 20 px square: a mean of so few is dominated by
# noise and JPEG blocks (8 x 8 px), and such a region is too small to place
# reliably on skin.
MIN_REGION_PIXELS = 400
# Mean CIEDE2000 of the patches after correction above which the card is not
# trusted. A 3x3 matrix on a well-lit card leaves 1-3; 10 means a misread card
# or light from several sources.
MAX_CARD_DELTA_E = 10.0
CARD = "ColorChecker24 - After November 2014"
DETECTOR = "colour-checker-detection segmentation"
CORRECTION = "3x3 colour-correction matrix, least squares (Cheung 2004, colour-science)"
# Rows of the region's bounding box read at a time (memory: see _region).
_STRIP_ROWS = 256
# Pixel values as stored, taken as sRGB: 8-bit value -> linear.
_LINEAR = tuple(formulas.srgb_to_linear(v / 255) for v in range(256))
_UNCALIBRATED_NOTE = "no colour card: region and reference are compared within one photo"


@dataclass(frozen=True)
class Calibration:
    """How a photo's pixel values become colours: a 3x3 matrix applied to
    linear RGB, or none."""

    matrix: tuple[tuple[float, float, float], ...] | None
    details: dict[str, Any]

    @property
    def method(self) -> str:
        return "colour_checker" if self.matrix is not None else "uncalibrated"

    def correct(self, rgb: tuple[float, float, float]) -> tuple[float, float, float]:
        if self.matrix is None:
            return rgb
        r, g, b = (sum(m * c for m, c in zip(row, rgb, strict=True)) for row in self.matrix)
        return (r, g, b)


@dataclass(frozen=True)
class RegionColour:
    pixels: int
    lab: tuple[float, float, float]
    ita: float | None
    erythema_index: float


def _read(photo: Photo, size: str) -> Image.Image:
    """A stored copy of the photo, decoded, in RGB."""
    from app.photos.services import storage, storage_problem

    key = (photo.storage_keys or {}).get(size)
    try:
        if key is None:
            raise KeyNotFound(size)
        with storage().open(key) as stored:
            data = stored.read()
    except KeyNotFound as exc:
        raise Problem(404, "Not Found", "The file of this photo is missing from storage.") from exc
    except StorageError as exc:
        raise storage_problem(exc) from exc
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB") if image.mode != "RGB" else image


# --- calibration --------------------------------------------------------------


def _fit_card(image: Image.Image) -> Calibration:
    import colour
    import numpy as np
    from colour_checker_detection import (
        SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC,
        detect_colour_checkers_segmentation,
    )

    found = detect_colour_checkers_segmentation(
        np.asarray(image), apply_cctf_decoding=True, additional_data=True
    )
    if not found:
        return Calibration(None, {"method": "uncalibrated", "reason": "no colour card found"})
    measured = np.asarray(found[0].swatch_colours, dtype=float)
    reference = np.asarray(SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC["reference_values"])
    matrix = colour.characterisation.matrix_colour_correction(
        measured, reference, method="Cheung 2004", terms=3
    )
    corrected = measured @ matrix.T
    residuals = [
        formulas.delta_e_2000(formulas.linear_rgb_to_lab(c), formulas.linear_rgb_to_lab(r))
        for c, r in zip(corrected.tolist(), reference.tolist(), strict=True)
    ]
    fit = {
        "card": CARD,
        "detector": DETECTOR,
        "correction": CORRECTION,
        "patches": len(residuals),
        "delta_e2000_mean": round(sum(residuals) / len(residuals), 3),
        "delta_e2000_max": round(max(residuals), 3),
    }
    if fit["delta_e2000_mean"] > MAX_CARD_DELTA_E:
        reason = (
            "a colour card was found but its fit is poor "
            f"(mean delta E 2000 over {MAX_CARD_DELTA_E:g})"
        )
        return Calibration(None, {"method": "uncalibrated", "reason": reason, **fit})
    rows = tuple(tuple(float(v) for v in row) for row in matrix.tolist())
    return Calibration(
        rows, {"method": "colour_checker", **fit, "matrix": [list(row) for row in rows]}
    )


def photo_calibration(session: Session, photo: Photo) -> Calibration:
    """The photo's calibration: the one an earlier measure of it found (a photo
    never changes, and detection takes seconds), else a fresh detection."""
    earlier = session.scalars(
        sa.select(PhotoColourMeasure.calibration)
        .where(PhotoColourMeasure.photo_id == photo.id)
        .order_by(PhotoColourMeasure.created_at)
        .limit(1)
    ).first()
    if earlier is not None:
        details = dict(earlier)
        details.pop("reference_photo", None)
        matrix = details.get("matrix")
        rows = tuple(tuple(float(v) for v in row) for row in matrix) if matrix else None
        return Calibration(rows, details)
    with _read(photo, "large") as image:
        return _fit_card(image)


# --- regions ------------------------------------------------------------------


def _check_outline(points: list[list[float]], photo: Photo, field: str) -> None:
    # Inside the image first: that bounds the numbers the polygon test multiplies.
    for i, (x, y) in enumerate(points):
        if not (0 <= x <= photo.width and 0 <= y <= photo.height):
            raise field_error(
                field,
                f"point {i} ({x:g}, {y:g}) lies outside the image "
                f"({photo.width} x {photo.height} px, upright as stored)",
            )
    try:
        validate_outline(points)
    except GeometryError as exc:
        raise field_error(field, str(exc)) from exc


def _region(
    image: Image.Image, points: list[list[float]], field: str
) -> tuple[int, tuple[float, float, float]]:
    """The pixel count and mean linear RGB (uncorrected) inside the outline.

    The outline's bounding box is read in strips of _STRIP_ROWS rows; Pillow
    counts each strip's pixels inside the outline per 8-bit value and channel
    (a masked histogram), so the memory used is a strip's, whatever the size
    of the region, and no pixel is converted to floating point."""
    left = max(0, math.floor(min(x for x, _ in points)))
    top = max(0, math.floor(min(y for _, y in points)))
    right = min(image.width, math.ceil(max(x for x, _ in points)) + 1)
    bottom = min(image.height, math.ceil(max(y for _, y in points)) + 1)
    counts = [0] * 768  # red, green, blue: 256 values each
    for y0 in range(top, bottom, _STRIP_ROWS):
        y1 = min(bottom, y0 + _STRIP_ROWS)
        mask = Image.new("1", (right - left, y1 - y0), 0)
        ImageDraw.Draw(mask).polygon([(x - left, y - y0) for x, y in points], fill=1)
        with image.crop((left, y0, right, y1)) as strip:
            counts = [a + b for a, b in zip(counts, strip.histogram(mask=mask), strict=True)]
    pixels = sum(counts[:256])
    if pixels < MIN_REGION_PIXELS:
        raise field_error(
            field,
            f"covers {pixels} pixels; at least {MIN_REGION_PIXELS} are needed "
            "(a region of about 20 x 20 px or more)",
        )
    r, g, b = (
        sum(n * v for n, v in zip(counts[c * 256 : (c + 1) * 256], _LINEAR, strict=True)) / pixels
        for c in range(3)
    )
    return pixels, (r, g, b)


def _colour_of(
    raw: tuple[int, tuple[float, float, float]], calibration: Calibration, field: str
) -> RegionColour:
    pixels, rgb = raw[0], calibration.correct(raw[1])
    if rgb[0] <= 0 or rgb[1] <= 0:
        raise field_error(field, "is black (no red or green light): no skin colour to measure")
    lab = formulas.linear_rgb_to_lab(rgb)
    return RegionColour(
        pixels,
        lab,
        formulas.ita_degrees(lab[0], lab[2]),
        formulas.erythema_index(rgb[0], rgb[1]),
    )


def _measure_on(
    session: Session,
    photo: Photo,
    outlines: dict[str, list[list[float]]],
    calibration: Calibration | None = None,
) -> tuple[dict[str, RegionColour], Calibration]:
    """The colour of each outline (field name -> points) on one photo, read once;
    the photo's calibration is found unless given."""
    for field, points in outlines.items():
        _check_outline(points, photo, field)
    # Regions first: a region too small is a 422 without the seconds of detection.
    with _read(photo, "original") as image:
        raw = {field: _region(image, points, field) for field, points in outlines.items()}
    if calibration is None:
        calibration = photo_calibration(session, photo)
    return {f: _colour_of(r, calibration, f) for f, r in raw.items()}, calibration


# --- records ------------------------------------------------------------------

_INPUT_COLUMNS = {"region": "region_points", "reference": "reference_points"}


def _dump(obj: Any) -> Any:
    from app.photos.schemas import ColourMeasureSchema

    return ColourMeasureSchema().dump(obj)


def _reference_photo(session: Session, photo: Photo, photo_id: uuid.UUID | None) -> Photo:
    """The photo the reference region is on: this one, or another photo of the
    same patient (the contralateral side) that the caller can see."""
    if photo_id is None or photo_id == photo.id:
        return photo
    other = records.load_parent(session, Photo, photo_id, "reference_photo_id")
    patients = session.scalars(
        sa.select(Wound.patient_id).where(Wound.id.in_((photo.wound_id, other.wound_id)))
    ).all()
    if len(set(patients)) != 1:
        raise field_error("reference_photo_id", "must be a photo of the same patient")
    return other


def _derive(session: Session, measure: PhotoColourMeasure) -> None:
    """Measure the record's outlines and set every derived column. No autoflush
    meanwhile: an amended record half set would be written as a version of its own."""
    with session.no_autoflush:
        _derive_columns(session, measure)


def _derive_columns(session: Session, measure: PhotoColourMeasure) -> None:
    photo = session.get(Photo, measure.photo_id)
    assert photo is not None
    ref_photo = _reference_photo(session, photo, measure.reference_photo_id)
    outlines = {"region": measure.region_points, "reference": measure.reference_points}
    if ref_photo is photo:
        colours, calibration = _measure_on(session, photo, outlines)
        details = calibration.details
    else:
        calibration = photo_calibration(session, photo)
        ref_calibration = photo_calibration(session, ref_photo)
        if calibration.matrix is None or ref_calibration.matrix is None:
            raise field_error(
                "reference_photo_id",
                "a reference on another photo needs a colour card found in both photos "
                f"(this photo: {calibration.method}, reference photo: "
                f"{ref_calibration.method}); without one, trace the reference on this photo",
            )
        colours, _ = _measure_on(session, photo, {"region": outlines["region"]}, calibration)
        ref_colours, _ = _measure_on(
            session, ref_photo, {"reference": outlines["reference"]}, ref_calibration
        )
        colours.update(ref_colours)
        details = {**calibration.details, "reference_photo": ref_calibration.details}
    if calibration.matrix is None:
        details = {**details, "note": _UNCALIBRATED_NOTE}
    _set_columns(measure, colours["region"], colours["reference"])
    measure.reference_photo_id = None if ref_photo is photo else ref_photo.id
    measure.measured_at = photo.taken_at or photo.created_at
    measure.calibration_method = calibration.method
    measure.calibration = details


def _set_columns(measure: PhotoColourMeasure, region: RegionColour, ref: RegionColour) -> None:
    measure.region_pixels, measure.reference_pixels = region.pixels, ref.pixels
    measure.region_l, measure.region_a, measure.region_b = region.lab
    measure.reference_l, measure.reference_a, measure.reference_b = ref.lab
    measure.region_ita, measure.reference_ita = region.ita, ref.ita
    measure.region_erythema_index = region.erythema_index
    measure.reference_erythema_index = ref.erythema_index
    measure.delta_a = region.lab[1] - ref.lab[1]
    measure.delta_e2000 = formulas.delta_e_2000(region.lab, ref.lab)
    measure.delta_erythema_index = region.erythema_index - ref.erythema_index


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    """Wire names -> columns; outlines stored as plain [x, y] float pairs."""
    out = {k: v for k, v in data.items() if k not in _INPUT_COLUMNS}
    for name, column in _INPUT_COLUMNS.items():
        if name in data:
            out[column] = [[float(x), float(y)] for x, y in data[name]]
    return out


def create_measure(
    session: Session, photo: Photo, data: dict[str, Any]
) -> tuple[PhotoColourMeasure, bool]:
    """Measure and store (or replay) the colour of a region against a reference."""
    user = current_user()
    return records.create_record(
        session,
        PhotoColourMeasure,
        _columns(data),
        _dump,
        derive=lambda measure: _derive(session, measure),
        clinic_id=photo.clinic_id,
        wound_id=photo.wound_id,
        photo_id=photo.id,
        measured_by=user.id,
    )


def amend_measure(
    session: Session, measure: PhotoColourMeasure, changes: dict[str, Any]
) -> PhotoColourMeasure:
    """Correct an outline or the reference photo (If-Match required): measured
    again; the earlier values stay in the history."""
    amended: PhotoColourMeasure = records.amend(
        session,
        measure,
        changes,
        _dump,
        prepare=_columns,
        derive=lambda obj: _derive(session, obj),
    )
    return amended


def delete_measure(session: Session, measure: PhotoColourMeasure) -> PhotoColourMeasure:
    records.soft_delete(session, measure, _dump)
    return measure


def list_measures(session: Session, photo: Photo, args: dict[str, Any]) -> dict[str, Any]:
    """The photo's colour measures, oldest first (tombstones in delta sync)."""
    stmt = scoped(PhotoColourMeasure, include_deleted=True).where(
        PhotoColourMeasure.photo_id == photo.id
    )
    order = (PhotoColourMeasure.created_at,)
    return records.list_page(session, stmt, PhotoColourMeasure, args, order_by=order, parent=photo)
