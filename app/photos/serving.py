"""Serving a stored photo's bytes, for the API and the clinic pages alike."""

from __future__ import annotations

import logging
from typing import Any

from flask.wrappers import Response

from app.core.errors import Problem
from app.core.storage import KeyNotFound, StorageError
from app.photos.models import Photo
from app.photos.services import storage, storage_problem

log = logging.getLogger(__name__)


def content_response(photo: Photo, size: str, *, if_none_match: Any) -> Any:
    """Stream one stored size of a photo, for the API and the clinic pages alike.

    The files under a photo id never change, so id + size is a strong ETag; a
    matching If-None-Match answers 304 without touching storage. Caching is
    private (patient images), and the file name is made here, never taken
    from the upload.
    """
    key = (photo.storage_keys or {}).get(size)
    etag = f"{photo.id}.{size}"
    headers = {
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="wound-photo-{photo.id}-{size}.jpg"',
    }
    if if_none_match.contains(etag) or if_none_match.star_tag:
        resp = Response(status=304, headers=headers)
        resp.set_etag(etag)
        return resp
    store = storage()
    try:
        if key is None:
            raise KeyNotFound(size)
        length = store.size(key)
        body = store.open(key)
    except KeyNotFound as exc:
        log.error("photo %s: file %s is missing", photo.id, key)
        raise Problem(
            404,
            "Not Found",
            "The file of this photo is missing from storage (reported to the administrators).",
        ) from exc
    except StorageError as exc:
        raise storage_problem(exc) from exc
    resp = Response(body, mimetype="image/jpeg", headers=headers, direct_passthrough=True)
    resp.content_length = length
    resp.set_etag(etag)
    return resp
