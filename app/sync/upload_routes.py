"""Resumable photo uploads: the tus 1.0 protocol at /api/v1/uploads."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask.wrappers import Response
from flask_smorest import Blueprint

from app.core.security import allow_larger_body
from app.extensions import db
from app.photos import services as photo_services
from app.sync import tus, uploads
from app.sync.schemas import UploadSchema

blp = Blueprint(
    "uploads",
    __name__,
    url_prefix="/api/v1",
    description="Resumable photo uploads (tus 1.0: core, creation, expiration, termination, "
    "checksum)",
)


def _header(name: str, description: str, *, required: bool = False, **schema: object) -> dict:
    return {
        "in": "header",
        "name": name,
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_VERSION = _header("Tus-Resumable", "The protocol version", required=True, enum=[tus.VERSION])
_OFFSET = {"description": "Bytes received so far", "schema": {"type": "integer"}}
_EXPIRES = {
    "description": "When an unfinished upload expires (HTTP date)",
    "schema": {"type": "string"},
}
_PHOTO = {"description": "The photo a finished upload became", "schema": {"type": "string"}}
_GONE = "Terminated or expired"


@blp.after_request
def _after(response: Response) -> Response:
    # Runs after the commit (or the rollback) in WoundTrackFlask.dispatch_request.
    uploads.after_response(response.status_code)
    response.headers.setdefault("Tus-Resumable", tus.VERSION)
    return response


# A PATCH carries a piece of a photo: up to the photo limit, not the JSON one
# every other route has (app/core/security.py). More than the upload holds is
# the upload's own 413 (uploads.append).
allow_larger_body(
    "uploads.UploadResource",
    lambda: int(current_app.config["PHOTO_MAX_BYTES"]),
    lambda: photo_services.too_large(current_app.config["PHOTO_MAX_BYTES"]),
)


@blp.route("/uploads")
class UploadsResource(MethodView):
    @blp.doc(security=[])
    @blp.response(
        204,
        description="Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm",
    )
    def options(self):
        """What this tus server offers (no token needed)."""
        limit = current_app.config["PHOTO_MAX_BYTES"]
        return Response(status=204, headers=tus.discovery_headers(limit))

    @blp.doc(
        parameters=[
            _VERSION,
            _header(
                "Upload-Length", "Size of the photo in bytes", required=True, pattern="^[0-9]+$"
            ),
            _header(
                "Upload-Metadata",
                "Comma-separated `key base64(value)`: wound_id (required); id (the photo's "
                "client id), assessment_id, taken_at, marker_size_cm as in a plain upload; "
                "filename and filetype are ignored",
                required=True,
            ),
        ]
    )
    @blp.response(
        201,
        UploadSchema,
        headers={
            "Location": {"description": "The upload's URL", "schema": {"type": "string"}},
            "Upload-Expires": _EXPIRES,
        },
    )
    @blp.alt_response(400, description="A malformed tus header")
    @blp.alt_response(412, description="Tus-Resumable is not 1.0.0")
    @blp.alt_response(413, description="Upload-Length over the photo limit")
    @blp.alt_response(429, description="Too many unfinished uploads of yours")
    @blp.alt_response(507, description="Upload area full")
    def post(self):
        """Start a resumable photo upload (tus creation). The finished file goes
        through the same pipeline as a plain upload, with the fields of its
        Upload-Metadata. It belongs to you and expires after UPLOAD_TTL_HOURS."""
        upload = uploads.create(db.session, request.headers)
        headers = uploads.state_headers(upload)
        headers["Location"] = uploads.location(upload)
        return uploads.describe(upload), 201, headers


@blp.route("/uploads/<uuid:upload_id>")
class UploadResource(MethodView):
    @blp.doc(parameters=[_VERSION])
    @blp.response(
        200,
        description="The upload's state, in headers only",
        headers={
            "Upload-Offset": _OFFSET,
            "Upload-Length": {"description": "Its size", "schema": {"type": "integer"}},
            "Upload-Expires": _EXPIRES,
            "Photo-Location": _PHOTO,
        },
    )
    @blp.alt_response(410, description=_GONE)
    def head(self, upload_id):
        """Where an upload stands: resume from Upload-Offset. Once finished,
        Photo-Location names the photo it became."""
        return Response(status=200, headers=uploads.head(db.session, upload_id, request.headers))

    @blp.doc(
        parameters=[
            _VERSION,
            _header("Upload-Offset", "The upload's current offset", required=True),
            _header("Upload-Checksum", "`sha1|sha256|md5 base64(digest)` of this body"),
        ],
        requestBody={
            "required": True,
            "content": {tus.OFFSET_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
    )
    @blp.response(
        204,
        description="Bytes appended; once the last one is in, the photo exists",
        headers={"Upload-Offset": _OFFSET, "Upload-Expires": _EXPIRES, "Photo-Location": _PHOTO},
    )
    @blp.alt_response(400, description="A malformed tus header, or a body cut short")
    @blp.alt_response(409, description="Upload-Offset is not the upload's offset")
    @blp.alt_response(410, description=_GONE)
    @blp.alt_response(412, description="Tus-Resumable is not 1.0.0")
    @blp.alt_response(413, description="More bytes than the upload's length")
    @blp.alt_response(415, description="Not application/offset+octet-stream, or not an image")
    @blp.alt_response(423, description="Another request is writing to this upload")
    @blp.alt_response(460, description="Upload-Checksum does not match")
    @blp.alt_response(507, description="Storage full")
    def patch(self, upload_id):
        """Append bytes at Upload-Offset (tus core). A body cut short keeps what
        arrived. The request that brings the last byte stores the photo (as a
        plain upload would) or answers why not (415, 422, ...); an empty PATCH
        at the end tries again."""
        headers = uploads.append(
            db.session, upload_id, request.headers, request.stream, request.content_length
        )
        return Response(status=204, headers=headers)

    @blp.doc(parameters=[_VERSION])
    @blp.response(204, description="Terminated; its bytes are gone")
    @blp.alt_response(409, description="It finished: delete the photo instead")
    @blp.alt_response(410, description="Expired")
    @blp.alt_response(423, description="Another request is writing to this upload")
    def delete(self, upload_id):
        """End an unfinished upload and drop its bytes (tus termination)."""
        uploads.terminate(db.session, upload_id, request.headers)
        return Response(status=204, headers={"Tus-Resumable": tus.VERSION})
