"""Photo request and response shapes (see the API contract, "Photos")."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate

from app.clinical.colour import ERYTHEMA_INDEX_METHOD, ita_category
from app.core.schemas import (
    ListArgsSchema,
    MethodNested,
    OffsetDateTime,
    RecordSchema,
    StrictSchema,
)

SIZES = ("original", "large", "thumb")

# A printed marker is a few cm; anything outside this is a typo (mm for cm, ...).
MARKER_SIZE_RANGE = validate.Range(min=0.5, max=30, error="must be between 0.5 and 30 cm")
# 0.5 px/cm (a 2 m wide frame at 100 px) to 20000 px/cm (a macro shot): beyond is nonsense.
PX_PER_CM_RANGE = validate.Range(min=0.5, max=20000, error="must be between 0.5 and 20000")
MAX_TRACING_POINTS = 10_000
TRACING_METHODS = ("manual", "grabcut", "random_walker")


class PhotoUploadSchema(StrictSchema):
    """The text parts of the multipart upload (the photo itself is the part `file`)."""

    id = fields.UUID(
        metadata={"description": "Client-generated UUID for offline-safe creates (optional)"}
    )
    assessment_id = fields.UUID(
        metadata={"description": "Assessment of the same wound this photo documents"}
    )
    taken_at = OffsetDateTime(
        metadata={
            "description": "Capture time with offset; default: EXIF capture time, else "
            "the linked assessment's time, else the upload time"
        }
    )
    marker_size_cm = fields.Float(
        validate=MARKER_SIZE_RANGE,
        metadata={
            "description": "Edge of the printed marker's black square; default: the "
            "clinic's, else the printed marker's default (2 cm)"
        },
    )


class PhotoUpdateSchema(StrictSchema):
    """PATCH: what the bedside may get wrong at upload: the assessment the photo
    documents, and its capture time."""

    assessment_id = fields.UUID(
        allow_none=True,
        metadata={
            "description": "Assessment of the same wound this photo documents; null unlinks it. "
            "A traced area moves with the link."
        },
    )
    taken_at = OffsetDateTime(
        metadata={"description": "Corrected capture time with offset (taken_at_source: client)"}
    )


class CalibrationSchema(Schema):
    px_per_cm = fields.Float()
    source = fields.String(metadata={"description": "marker | manual"})


class MarkerDetectionSchema(Schema):
    found = fields.Boolean()
    reason = fields.String(allow_none=True)
    marker_id = fields.Integer(allow_none=True)
    marker_size_cm = fields.Float(allow_none=True)
    corners_px = fields.List(fields.List(fields.Float()), allow_none=True)


class TracingResultSchema(Schema):
    area_cm2 = fields.Float()
    perimeter_cm = fields.Float()
    length_cm = fields.Float()
    width_cm = fields.Float()


class TracingSchema(TracingResultSchema):
    points = fields.List(fields.List(fields.Float()))
    method = fields.String(
        allow_none=True,
        metadata={"description": "manual | grabcut | random_walker; null: not recorded"},
    )
    seed = fields.List(
        fields.Float(), allow_none=True, metadata={"description": "The tap [x, y], if any"}
    )


class PhotoUrlsSchema(Schema):
    original = fields.String()
    large = fields.String()
    thumb = fields.String()


class PhotoSchema(RecordSchema):
    """A stored photo's metadata (the bytes are at `urls`)."""

    wound_id = fields.UUID(dump_only=True)
    clinic_id = fields.UUID(dump_only=True)
    assessment_id = fields.UUID(dump_only=True, allow_none=True)
    width = fields.Integer(dump_only=True)
    height = fields.Integer(dump_only=True)
    sha256 = fields.String(dump_only=True)
    format_in = fields.String(dump_only=True, metadata={"description": "Uploaded format"})
    taken_at = fields.AwareDateTime(dump_only=True)
    taken_at_source = fields.String(
        dump_only=True,
        metadata={
            "description": "Where taken_at came from: client (sent with the upload or "
            "corrected), exif (the camera's clock), assessment (no capture time: the linked "
            "assessment's time) or server (no capture time and no assessment: the upload time)"
        },
    )
    calibration = MethodNested(CalibrationSchema, "_calibration", allow_none=True)
    marker_detection = fields.Nested(MarkerDetectionSchema, dump_only=True, allow_none=True)
    tracing = MethodNested(TracingSchema, "_tracing", allow_none=True)
    urls = MethodNested(PhotoUrlsSchema, "_urls")

    def _calibration(self, obj: Any) -> dict[str, Any] | None:
        if obj.px_per_cm is None:
            return None
        return {"px_per_cm": obj.px_per_cm, "source": obj.calibration_source}

    def _tracing(self, obj: Any) -> dict[str, Any] | None:
        if obj.tracing_points is None:
            return None
        return {
            "points": obj.tracing_points,
            "area_cm2": obj.traced_area_cm2,
            "perimeter_cm": obj.traced_perimeter_cm,
            "length_cm": obj.traced_length_cm,
            "width_cm": obj.traced_width_cm,
            "method": obj.tracing_method,
            "seed": obj.tracing_seed,
        }

    def _urls(self, obj: Any) -> dict[str, str]:
        base = url_for("photos.PhotoContentResource", photo_id=obj.id)
        return {size: f"{base}?size={size}" for size in SIZES}


class TracedPhotoSchema(PhotoSchema):
    """The answer to a tracing: the contract's {area_cm2, perimeter_cm,
    length_cm, width_cm} at the top level, as the mobile app reads them, and
    the photo they now belong to (its `tracing` holds the same with the points)."""

    area_cm2 = fields.Float(dump_only=True, attribute="traced_area_cm2")
    perimeter_cm = fields.Float(dump_only=True, attribute="traced_perimeter_cm")
    length_cm = fields.Float(dump_only=True, attribute="traced_length_cm")
    width_cm = fields.Float(dump_only=True, attribute="traced_width_cm")


class PhotoListArgsSchema(ListArgsSchema):
    pass


class ContentArgsSchema(StrictSchema):
    size = fields.String(load_default="large", validate=validate.OneOf(SIZES))


class MarkerCalibrationSchema(StrictSchema):
    marker_size_cm = fields.Float(
        required=True,
        validate=MARKER_SIZE_RANGE,
        metadata={"description": "Edge of the printed marker's black square in this photo"},
    )


class ManualCalibrationSchema(StrictSchema):
    px_per_cm = fields.Float(required=True, validate=PX_PER_CM_RANGE)


def _pair(description: str, **kwargs: Any) -> fields.List:
    return fields.List(
        fields.Float(allow_nan=False),
        validate=validate.Length(equal=2),
        metadata={"description": description},
        **kwargs,
    )


class TracingInputSchema(StrictSchema):
    points = fields.List(
        fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)),
        required=True,
        validate=validate.Length(min=3, max=MAX_TRACING_POINTS),
        metadata={"description": "[[x, y], ...] in pixels of the stored upright image"},
    )
    method = fields.String(
        load_default="manual",
        validate=validate.OneOf(TRACING_METHODS),
        metadata={
            "description": "How the points were made: manual (default), or the method of the "
            "accepted outline proposal (POST /photos/{id}/outline), corrected or not"
        },
    )
    seed = _pair("The tap [x, y] the proposal started from (pixels of the stored image)")


class OutlineInputSchema(StrictSchema):
    seed = _pair(
        "[x, y], a tap inside the wound, in pixels of the stored upright image", required=True
    )
    box = fields.List(
        fields.Float(allow_nan=False),
        validate=validate.Length(equal=4),
        metadata={
            "description": "Optional [x0, y0, x1, y1] round the wound (pixels of the stored "
            "upright image); it must hold the seed"
        },
    )


class OutlineSchema(Schema):
    """A proposed wound edge, for the nurse to accept or correct. Nothing is stored."""

    points = fields.List(
        fields.List(fields.Float()),
        dump_only=True,
        metadata={"description": "[[x, y], ...] in pixels of the stored upright image"},
    )
    method = fields.String(dump_only=True, metadata={"description": "grabcut | random_walker"})
    area_cm2 = fields.Float(
        dump_only=True,
        metadata={"description": "Area of the outline; only when the photo is calibrated"},
    )


class MarkerArgsSchema(StrictSchema):
    format = fields.String(load_default="pdf", validate=validate.OneOf(("png", "pdf")))
    size_cm = fields.Float(
        validate=MARKER_SIZE_RANGE,
        metadata={"description": "Edge of the black square; default: clinic's, else 2 cm"},
    )


# --- colour measures (app/photos/colour.py) -------------------------------------


def _outline(description: str, **kwargs: Any) -> fields.List:
    return fields.List(
        fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)),
        validate=validate.Length(min=3, max=MAX_TRACING_POINTS),
        metadata={"description": description},
        **kwargs,
    )


_REGION = (
    "The treated skin region: [[x, y], ...] in pixels of the stored upright image, "
    "a simple polygon of at least 3 points covering at least 400 pixels"
)
_REFERENCE = (
    "Unirradiated skin to compare with (same rules), on this photo or on `reference_photo_id`"
)
_REFERENCE_PHOTO = (
    "Optional: another photo of the same patient (e.g. the contralateral side) on which "
    "the reference is traced. Needs a colour card found in both photos."
)


class ColourMeasureInputSchema(StrictSchema):
    id = fields.UUID(
        metadata={"description": "Client-generated UUID for offline-safe creates (optional)"}
    )
    region = _outline(_REGION, required=True)
    reference = _outline(_REFERENCE, required=True)
    reference_photo_id = fields.UUID(allow_none=True, metadata={"description": _REFERENCE_PHOTO})


class ColourMeasureUpdateSchema(StrictSchema):
    """PATCH: a corrected outline or reference photo; the colour is measured again."""

    region = _outline(_REGION)
    reference = _outline(_REFERENCE)
    reference_photo_id = fields.UUID(allow_none=True, metadata={"description": _REFERENCE_PHOTO})


class RegionColourSchema(Schema):
    points = fields.List(fields.List(fields.Float()))
    pixels = fields.Integer(metadata={"description": "Pixels inside the outline"})
    L = fields.Float(metadata={"description": "CIELAB L* (D65)"})
    a = fields.Float(metadata={"description": "CIELAB a* (D65): green (-) to red (+)"})
    b = fields.Float(metadata={"description": "CIELAB b* (D65): blue (-) to yellow (+)"})
    ita = fields.Float(
        allow_none=True,
        metadata={"description": "Individual typology angle, degrees (null when b* <= 0)"},
    )
    ita_category = fields.String(allow_none=True, metadata={"description": "Del Bino 2006"})
    erythema_index = fields.Float(metadata={"description": "100 x log10(R/G)"})


class MethodSchema(Schema):
    name = fields.String()
    formula = fields.String()
    source = fields.String()


class ColourCalibrationSchema(Schema):
    method = fields.String(metadata={"description": "colour_checker | uncalibrated"})
    reason = fields.String(metadata={"description": "Why uncalibrated"})
    note = fields.String()
    card = fields.String()
    detector = fields.String()
    correction = fields.String()
    patches = fields.Integer()
    delta_e2000_mean = fields.Float(
        metadata={"description": "Mean CIEDE2000 of the card's patches after correction"}
    )
    delta_e2000_max = fields.Float()
    matrix = fields.List(fields.List(fields.Float()), metadata={"description": "3x3, linear RGB"})
    reference_photo = fields.Dict(metadata={"description": "The reference photo's calibration"})


class ColourMeasureSchema(RecordSchema):
    """Colour of a treated region against unirradiated skin, measured on a photo."""

    clinic_id = fields.UUID(dump_only=True)
    wound_id = fields.UUID(dump_only=True)
    photo_id = fields.UUID(dump_only=True)
    reference_photo_id = fields.UUID(dump_only=True, allow_none=True)
    measured_at = fields.AwareDateTime(
        dump_only=True, metadata={"description": "The photo's capture time"}
    )
    measured_by = fields.UUID(dump_only=True, allow_none=True)
    region = MethodNested(RegionColourSchema, "_region")
    reference = MethodNested(RegionColourSchema, "_reference")
    delta_a = fields.Float(dump_only=True, metadata={"description": "a* region - reference"})
    delta_e2000 = fields.Float(
        dump_only=True, metadata={"description": "CIEDE2000 between region and reference"}
    )
    delta_erythema_index = fields.Float(dump_only=True)
    erythema_index_method = MethodNested(MethodSchema, "_ei_method")
    calibration = fields.Nested(ColourCalibrationSchema, dump_only=True)

    def _side(self, obj: Any, side: str) -> dict[str, Any]:
        ita = getattr(obj, f"{side}_ita")
        return {
            "points": getattr(obj, f"{side}_points"),
            "pixels": getattr(obj, f"{side}_pixels"),
            "L": getattr(obj, f"{side}_l"),
            "a": getattr(obj, f"{side}_a"),
            "b": getattr(obj, f"{side}_b"),
            "ita": ita,
            "ita_category": ita_category(ita),
            "erythema_index": getattr(obj, f"{side}_erythema_index"),
        }

    def _region(self, obj: Any) -> dict[str, Any]:
        return self._side(obj, "region")

    def _reference(self, obj: Any) -> dict[str, Any]:
        return self._side(obj, "reference")

    def _ei_method(self, obj: Any) -> dict[str, str]:
        return ERYTHEMA_INDEX_METHOD


class ColourMeasureListArgsSchema(ListArgsSchema):
    pass
