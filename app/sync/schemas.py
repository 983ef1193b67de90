"""Sync: the batch, the delta feed and the resumable uploads, in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.core.schemas import StrictSchema
from app.photos.schemas import PhotoUploadSchema

MAX_OPERATIONS = 200
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The request headers a sub-request may set; the caller's Authorization is
# carried for every one of them, and Content-Type follows from its body.
SUB_HEADERS = ("If-Match", "If-None-Match")
API_PREFIX = "/api/v1/"
BATCH_PATH = "/api/v1/sync"
UPLOADS_PATH = "/api/v1/uploads"


def check_url(url: str) -> None:
    """A sub-request's URL: a path (and query) of this API, not the batch
    itself, not the upload protocol; ValidationError saying which rule broke."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):
        raise ValidationError("must not contain control characters")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or parts.fragment:
        raise ValidationError("must be a path of this service (no scheme, host or fragment)")
    path = unquote(parts.path)
    if not path.startswith(API_PREFIX):
        raise ValidationError(f"must start with {API_PREFIX}")
    if "\\" in path or any(s in ("", ".", "..") for s in path[1:].rstrip("/").split("/")):
        raise ValidationError("must not contain empty, '.' or '..' segments")
    stem = path.rstrip("/")
    if stem == BATCH_PATH:
        raise ValidationError("a batch cannot contain another batch")
    if stem == UPLOADS_PATH or stem.startswith(UPLOADS_PATH + "/"):
        raise ValidationError(
            f"uploads are not batched: send photos with the resumable protocol at {UPLOADS_PATH}"
        )


class SubRequestSchema(StrictSchema):
    id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The client's name for this request; its response carries it"},
    )
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2000), check_url],
        metadata={
            "description": "Path and query under /api/v1/, as sent alone, e.g. "
            "/api/v1/wounds/{id}/assessments. Records created earlier in the batch are "
            "addressed by the client ids their creates carried."
        },
    )
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=dict,
        metadata={"description": "If-Match and If-None-Match only"},
    )
    body = fields.Raw(
        allow_none=True,
        load_default=None,
        metadata={"description": "The JSON body the request would carry alone"},
    )
    depends_on = fields.List(
        fields.String(),
        load_default=list,
        validate=validate.Length(max=MAX_OPERATIONS),
        metadata={
            "description": "Ids of earlier requests of the batch that must succeed first; "
            "when one failed this one is not run (424)"
        },
    )

    @validates_schema
    def _headers(self, data: dict[str, Any], **kwargs: Any) -> None:
        allowed = {h.lower() for h in SUB_HEADERS}
        unknown = sorted(k for k in data.get("headers", {}) if k.lower() not in allowed)
        if unknown:
            raise ValidationError(
                f"{unknown[0]} cannot be set per request; only {' and '.join(SUB_HEADERS)}",
                "headers",
            )


class BatchSchema(StrictSchema):
    requests = fields.List(
        fields.Nested(SubRequestSchema),
        required=True,
        validate=validate.Length(
            min=1,
            max=MAX_OPERATIONS,
            error=f"send 1 to {MAX_OPERATIONS} requests per batch; split a longer queue",
        ),
    )

    @validates_schema
    def _ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        errors: dict[int, Any] = {}
        for index, sub in enumerate(data.get("requests", [])):
            if sub["id"] in seen:
                errors[index] = {"id": ["is used by an earlier request of the batch"]}
            for dependency in sub["depends_on"]:
                if dependency not in seen:
                    errors[index] = {"depends_on": [f"{dependency!r} is no earlier request"]}
            seen.add(sub["id"])
        if errors:
            raise ValidationError(errors, "requests")


class SubResponseSchema(Schema):
    id = fields.String(required=True)
    status = fields.Integer(required=True)
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "ETag, Location, Retry-After and Content-Type, when set"},
    )
    body = fields.Raw(
        allow_none=True,
        required=True,
        metadata={"description": "The JSON the request answers alone (null when it is not JSON)"},
    )
    retry = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether sending this request again later can succeed (a 5xx, "
            "429, 408, 423, a conflict with a concurrent write, or a dependency that may)"
        },
    )


class BatchResultSchema(Schema):
    responses = fields.List(fields.Nested(SubResponseSchema), required=True)


class FeedArgsSchema(StrictSchema):
    clinic_id = fields.UUID(required=True)
    cursor = fields.String(
        validate=validate.Length(max=2000),
        metadata={"description": "The next_cursor of the previous page (none: from the start)"},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "Items per page, 1-500 (default 100)"},
    )


class FeedItemSchema(Schema):
    type = fields.String(
        required=True,
        metadata={"description": "patient | wound | assessment | procedure | photo"},
    )
    record = fields.Dict(
        required=True,
        metadata={
            "description": "The record as its own GET answers it, or its tombstone "
            "{id, deleted: true, version, updated_at}"
        },
    )


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(FeedItemSchema), required=True)
    next_cursor = fields.String(
        required=True,
        metadata={"description": "Where to go on: the next page, or later changes"},
    )
    has_more = fields.Boolean(
        required=True,
        metadata={"description": "True: ask again with next_cursor now. False: caught up"},
    )


class UploadMetadataSchema(PhotoUploadSchema):
    """Upload-Metadata of a tus upload: the text fields of a plain photo upload,
    and the wound. ``filename`` and ``filetype``, which tus clients send by
    default, are accepted and ignored (a file's type is read from its bytes)."""

    wound_id = fields.UUID(required=True)
    filename = fields.String(validate=validate.Length(max=255))
    filetype = fields.String(validate=validate.Length(max=255))


class UploadSchema(Schema):
    id = fields.UUID(required=True)
    wound_id = fields.UUID(required=True)
    offset = fields.Integer(required=True, metadata={"description": "Bytes received so far"})
    length = fields.Integer(required=True)
    state = fields.String(
        required=True, metadata={"description": "open | finished | terminated | expired"}
    )
    expires_at = fields.AwareDateTime(required=True)
    photo_id = fields.UUID(allow_none=True, required=True)
