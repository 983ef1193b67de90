"""Wound photos: upload, list, metadata, content, calibration, tracing, marker."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask.wrappers import Response
from flask_smorest import Blueprint
from marshmallow import ValidationError
from werkzeug.formparser import FormDataParser

from app.clinics.models import Clinic
from app.core import records
from app.core.access import current_user, get_record, require
from app.core.errors import Problem, field_error, validation_problem
from app.core.etags import etag_header
from app.core.resource import RecordType, register_record
from app.core.schemas import page_schema
from app.core.security import allow_larger_body
from app.extensions import db, limiter
from app.photos import calibration, colour, proposals, scale, services, serving
from app.photos.models import Photo, PhotoColourMeasure
from app.photos.schemas import (
    ColourMeasureInputSchema,
    ColourMeasureListArgsSchema,
    ColourMeasureSchema,
    ColourMeasureUpdateSchema,
    ContentArgsSchema,
    ManualCalibrationSchema,
    MarkerArgsSchema,
    MarkerCalibrationSchema,
    OutlineInputSchema,
    OutlineSchema,
    PhotoListArgsSchema,
    PhotoSchema,
    PhotoUpdateSchema,
    PhotoUploadSchema,
    TracedPhotoSchema,
    TracingInputSchema,
)

blp = Blueprint("photos", __name__, url_prefix="/api/v1", description="Wound photos")

# Room for the multipart framing and the text parts around the photo itself.
_MULTIPART_OVERHEAD = 64 * 1024
_UPLOAD_ENDPOINT = "photos.WoundPhotosResource"


# An upload's body may be larger than the JSON limit every other route has
# (app/core/security.py): a declared length over this one is refused before a
# byte is read, a chunked body as soon as it passes it.
allow_larger_body(
    _UPLOAD_ENDPOINT,
    lambda: int(current_app.config["PHOTO_MAX_BYTES"]) + _MULTIPART_OVERHEAD,
    lambda: services.too_large(current_app.config["PHOTO_MAX_BYTES"]),
)


@blp.before_request
def _guard_upload() -> None:
    """Before a byte of an upload is read: authenticate and check the role."""
    if request.endpoint != _UPLOAD_ENDPOINT or request.method != "POST":
        return
    require("clinical:write")


@blp.after_request
def _discard_files_of_failed_upload(response: Response) -> Response:
    # Runs after the commit (or the rollback) in WoundTrackFlask.dispatch_request.
    services.discard_unsaved_files(response.status_code)
    return response


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The photo: JPEG, PNG, WebP or HEIC/HEIF",
                    },
                    "id": {"type": "string", "format": "uuid", "description": "Client id"},
                    "assessment_id": {"type": "string", "format": "uuid"},
                    "taken_at": {"type": "string", "format": "date-time"},
                    "marker_size_cm": {"type": "number", "minimum": 0.5, "maximum": 30},
                },
            }
        }
    },
}


class _StrictFormParser(FormDataParser):
    """werkzeug's form parser with ``silent=False``: a truncated or malformed
    multipart body raises ValueError instead of parsing as an empty form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silent = False


def _single_values() -> dict[str, str]:
    """The text parts; a field sent twice is a 422 rather than a silent pick."""
    out: dict[str, str] = {}
    for key, values in request.form.lists():
        if len(values) > 1:
            raise field_error(key, "was sent more than once")
        out[key] = values[0]
    return out


def _messages(messages: Any) -> dict[str, list[str]]:
    if isinstance(messages, dict):
        return {str(k): v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
    return {"_schema": [str(messages)]}


def _the_file() -> Any:
    """Exactly one part named `file`; anything else is a 422 saying what to send."""
    parts = request.files.getlist("file")
    others = sorted(k for k in request.files if k != "file")
    if others:
        raise field_error(others[0], "unknown file part; send the photo as the part `file`")
    if not parts:
        raise field_error("file", "is required: send the photo as the multipart part `file`")
    if len(parts) > 1:
        raise field_error("file", "send exactly one photo per request")
    return parts[0]


@blp.route("/wounds/<uuid:wound_id>/photos")
class WoundPhotosResource(MethodView):
    @blp.arguments(PhotoListArgsSchema, location="query")
    @blp.response(200, page_schema(PhotoSchema))
    def get(self, args, wound_id):
        """Photos of a wound in capture order; `updated_since` for delta sync."""
        return services.list_photos(db.session, wound_id, args)

    @blp.doc(requestBody=_UPLOAD_BODY)
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema, description="Same bytes (or same id) again")
    @blp.alt_response(409, description="The id was used for another photo")
    @blp.alt_response(413, description="File or pixel count over the limit")
    @blp.alt_response(415, description="Not a JPEG, PNG, WebP or HEIC/HEIF")
    @blp.alt_response(422, description="Undecodable, empty, or a bad field")
    @blp.alt_response(507, description="Photo store full; nothing saved")
    def post(self, wound_id):
        """Upload a wound photo (multipart). Stored upright, as JPEG, without
        metadata; a printed marker in view calibrates it (`marker_detection`
        says whether one was found). The same bytes again return the first photo."""
        # Parse errors raised, not swallowed: a body cut short (the phone lost
        # signal, a proxy gave up) must not read as "no file was sent".
        request.form_data_parser_class = _StrictFormParser
        try:
            values = _single_values()
        except ValueError as exc:
            raise Problem(
                400,
                "Incomplete upload",
                "The multipart body ended early or is malformed; nothing was saved. "
                "Send the photo again.",
            ) from exc
        try:
            form = PhotoUploadSchema().load(values)
        except ValidationError as exc:
            raise validation_problem(_messages(exc.messages)) from exc
        upload = services.Upload(
            client_id=form.get("id"),
            assessment_id=form.get("assessment_id"),
            taken_at=form.get("taken_at"),
            marker_size_cm=form.get("marker_size_cm"),
        )
        part = _the_file()
        photo, created = services.upload_photo(db.session, wound_id, upload, part.stream)
        return photo, 201 if created else 200, etag_header(photo)


register_record(
    blp,
    RecordType(
        name="Photo",
        path="/photos/<uuid:photo_id>",
        model=Photo,
        schema=PhotoSchema,
        update_schema=PhotoUpdateSchema,
        update=services.amend_photo,
        delete=services.delete_photo,
        restore=services.restore_photo,
        docs={
            "get": "A photo's metadata. The ETag is needed to delete it.",
            "patch": """Link the photo to an assessment of the same wound (or unlink it with null),
            or correct its capture time (If-Match required). A traced area moves with the
            link: the assessment it leaves falls back to its other traced photo or its
            own measurements, and the one it joins uses the tracing.""",
            "delete": """Mark a photo deleted (If-Match required); an admin can restore it. Its
            assessment stops using its traced area.""",
            "history": "Every version of the photo record (calibrations, tracings).",
        },
    ),
)


@blp.route("/photos/<uuid:photo_id>/content")
class PhotoContentResource(MethodView):
    @blp.arguments(ContentArgsSchema, location="query")
    @blp.response(200, description="The JPEG bytes", content_type="image/jpeg")
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    def get(self, args, photo_id):
        """The photo's bytes (original, large <= 1600 px, thumb <= 320 px), for
        users of its clinic only. Cacheable privately; revalidate with the ETag."""
        photo = get_record(db.session, Photo, photo_id)
        return serving.content_response(photo, args["size"], if_none_match=request.if_none_match)


@blp.route("/photos/<uuid:photo_id>/calibration")
class PhotoCalibrationResource(MethodView):
    @blp.arguments(ManualCalibrationSchema)
    @blp.response(200, PhotoSchema)
    def put(self, data, photo_id):
        """Set the scale by hand (px per cm), replacing a marker calibration; an
        existing tracing is re-measured. If-Match is honoured when sent."""
        photo = get_record(db.session, Photo, photo_id, "clinical:write")
        photo = scale.set_manual_calibration(db.session, photo, data["px_per_cm"])
        return photo, 200, etag_header(photo)

    @blp.arguments(MarkerCalibrationSchema)
    @blp.response(200, PhotoSchema)
    @blp.alt_response(412, description="The photo changed since you read it")
    @blp.alt_response(422, description="No marker found in the photo (nothing changed)")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, data, photo_id):
        """Detect the printed marker again on the stored image, with the size of
        its black square (If-Match required). The marker calibration replaces
        the photo's scale and an existing tracing is re-measured; the old
        calibration stays in the history."""
        photo = get_record(db.session, Photo, photo_id, "clinical:write")
        photo = scale.detect_again(db.session, photo, data["marker_size_cm"])
        return photo, 200, etag_header(photo)


@blp.route("/photos/<uuid:photo_id>/tracing")
class PhotoTracingResource(MethodView):
    @blp.arguments(TracingInputSchema)
    @blp.response(200, TracedPhotoSchema)
    def put(self, data, photo_id):
        """Trace the wound edge (pixels of the stored upright image). Returns
        {area_cm2, perimeter_cm, length_cm, width_cm} (the contract's answer)
        beside the photo's own fields, whose `tracing` repeats them with the
        points; the linked assessment then uses the traced area. `method` and
        `seed` record how the points were made: by hand, or from an accepted
        (and perhaps corrected) outline proposal and its tap."""
        photo = get_record(db.session, Photo, photo_id, "clinical:write")
        photo = scale.set_tracing(
            db.session, photo, data["points"], data["method"], data.get("seed")
        )
        return photo, 200, etag_header(photo)


def _outline_limit() -> str:
    return str(current_app.config["OUTLINE_RATE_LIMIT"])


def _outline_key() -> str:
    # Authenticated before the limits are counted (app/core/access.py).
    return f"outline:{current_user().id}"


@blp.route("/photos/<uuid:photo_id>/outline")
class PhotoOutlineResource(MethodView):
    decorators = [limiter.limit(_outline_limit, key_func=_outline_key, scope="outline")]

    @blp.arguments(OutlineInputSchema)
    @blp.response(200, OutlineSchema)
    @blp.alt_response(429, description="More proposals than OUTLINE_RATE_LIMIT")
    @blp.alt_response(503, description="Every outline slot of the server busy; retry")
    def post(self, data, photo_id):
        """Propose the wound's edge from one tap inside it (`seed`, and
        optionally a `box` round it), in pixels of the stored upright image,
        for the nurse to accept or correct; nothing is stored. GrabCut, with
        the random walker as fallback; `area_cm2` only when the photo is
        calibrated. Send the accepted outline with PUT /photos/{id}/tracing
        (with `method` and `seed`). A 422 on `seed` when no edge is found."""
        photo = get_record(db.session, Photo, photo_id, "clinical:write")
        return proposals.propose_outline(photo, data["seed"], data.get("box"))


@blp.route("/photos/<uuid:photo_id>/colour")
class PhotoColourResource(MethodView):
    @blp.arguments(ColourMeasureListArgsSchema, location="query")
    @blp.response(200, page_schema(ColourMeasureSchema))
    def get(self, args, photo_id):
        """Colour measures of a photo, oldest first; `updated_since` for delta sync."""
        require("clinical:read")
        photo = records.load_parent(db.session, Photo, photo_id)
        return colour.list_measures(db.session, photo, args)

    @blp.arguments(ColourMeasureInputSchema)
    @blp.response(201, ColourMeasureSchema)
    @blp.alt_response(200, schema=ColourMeasureSchema, description="Replay of an earlier create")
    @blp.alt_response(
        409, description="The id was used for different content; the stored record is in `stored`"
    )
    def post(self, data, photo_id):
        """Measure erythema: mean CIELAB L*, a*, b* (D65) of the treated `region`
        and of unirradiated `reference` skin, `delta_a` (region - reference),
        ITA, an erythema index (formula and source in `erythema_index_method`)
        and the `calibration` used. A 24-patch colour card in the photo is found
        and fitted (residual delta E 2000 reported); without one the answer says
        `uncalibrated` and the reference must be on the same photo. Stored with
        the photo, which itself is never changed."""
        require("clinical:write")
        photo = records.load_parent(db.session, Photo, photo_id)
        measure, created = colour.create_measure(db.session, photo, data)
        return measure, 201 if created else 200, etag_header(measure)


register_record(
    blp,
    RecordType(
        name="PhotoColourMeasure",
        path="/colour-measures/<uuid:measure_id>",
        model=PhotoColourMeasure,
        schema=ColourMeasureSchema,
        update_schema=ColourMeasureUpdateSchema,
        update=colour.amend_measure,
        delete=colour.delete_measure,
        noun="colour measure",
        docs={
            "patch": """Correct the region, the reference or the reference photo (If-Match
            required): the colour is measured again, and the earlier values stay in the
            history.""",
        },
    ),
)


@blp.route("/calibration-marker")
class CalibrationMarkerResource(MethodView):
    @blp.arguments(MarkerArgsSchema, location="query")
    @blp.response(200, description="Printable marker", content_type="application/pdf")
    def get(self, args):
        """The printable calibration marker (ArUco DICT_4X4_50, id 0) at true size:
        PDF (A4 page) or PNG (300 dpi). Print at 100 %; check with a ruler."""
        user = require("self:read")
        size = args.get("size_cm")
        if size is None:
            for clinic_id in user.clinic_ids:
                clinic = db.session.get(Clinic, clinic_id)
                if clinic is not None and clinic.default_marker_size_cm:
                    size = clinic.default_marker_size_cm
                    break
        size = float(size or calibration.DEFAULT_MARKER_SIZE_CM)
        if args["format"] == "png":
            data, mimetype = calibration.marker_png(size), "image/png"
        else:
            data, mimetype = calibration.marker_pdf(size), "application/pdf"
        return Response(
            data,
            mimetype=mimetype,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="wound-marker-{size:g}cm.{args["format"]}"'
                ),
                "Cache-Control": "private, max-age=86400",
            },
        )
