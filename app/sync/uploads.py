"""Resumable photo uploads: whose they are, where their bytes wait, and how a
finished one becomes a photo.

- An upload belongs to the user who created it, in the clinic of its wound:
  anyone else (another nurse of the clinic included) hears 404. Creating,
  resuming and ending one needs the clinical:write permission.
- Its bytes wait in the upload area on local disk (``upload_dir``), one file
  per upload, whose size is the offset. With S3 storage that is still a
  local directory: several servers need it on a shared volume (UPLOAD_DIR),
  or a client sticks to one server; the finished photo goes to S3 as any does.
- When the last byte arrives, the file goes through the photo pipeline of a
  plain upload (app/photos/services.upload_photo: limits, format allow-list,
  orientation, metadata stripped, derivatives, dedupe, client id) with the
  fields of its Upload-Metadata, in the same request. A failure there (415
  not an image, 503 storage away) is that request's answer; the data stays,
  and an empty PATCH at the end tries again.
- An upload expires UPLOAD_TTL_HOURS after its creation (410 after that);
  ``flask storage-check --fix`` removes expired and stray partial files. A
  user has at most UPLOAD_MAX_OPEN unfinished uploads at a time (429).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from datetime import timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, g, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from app.core import records
from app.core.access import in_clinic, not_found, require
from app.core.db import utcnow
from app.core.errors import Problem, validation_problem
from app.photos import services as photos
from app.sync import tus
from app.sync.models import Upload
from app.sync.schemas import UploadMetadataSchema
from app.wounds.models import Wound

_PROBLEMS = "https://woundtrack.example/problems/"
_FINISHED_FILES = "finished_upload_files"


def upload_dir() -> str:
    """Where partial uploads wait: UPLOAD_DIR when set, else ``uploads/`` in
    the app's temp folder (TEMP_DIR, on the storage's volume; see
    app/core/scratch.py, whose stale-file sweep leaves this folder to the
    uploads' own expiry)."""
    configured = current_app.config.get("UPLOAD_DIR")
    if configured:
        return str(configured)
    return os.path.join(str(current_app.config["TEMP_DIR"]), "uploads")


def data_path(upload_id: uuid.UUID) -> str:
    return os.path.join(upload_dir(), f"{upload_id}.part")


def location(upload: Upload) -> str:
    return str(url_for("uploads.UploadResource", upload_id=upload.id))


def offset(upload: Upload) -> int:
    return upload.length if upload.state == "finished" else tus.offset_of(data_path(upload.id))


def _fields(meta: dict[str, str]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = UploadMetadataSchema().load(meta)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        errors = {f"Upload-Metadata.{k}": v for k, v in messages.items()}
        raise validation_problem(errors, "Upload-Metadata has invalid fields; see errors.") from exc
    return loaded


def _open_count(session: Session, user_id: uuid.UUID) -> int:
    stmt = sa.select(sa.func.count(Upload.id)).where(
        Upload.user_id == user_id, Upload.state == "open", Upload.expires_at > utcnow()
    )
    return int(session.scalar(stmt) or 0)


def _write_failed(exc: tus.WriteFailed) -> Problem:
    if exc.full:
        return Problem(
            507,
            "Insufficient Storage",
            "The upload area is full; nothing more was kept. Tell your administrator, then retry.",
            type_=_PROBLEMS + "storage-full",
            headers={"Tus-Resumable": tus.VERSION},
        )
    return Problem(
        503,
        "Service Unavailable",
        "The upload area cannot be written right now; retry shortly.",
        type_=_PROBLEMS + "storage-unavailable",
        headers={"Tus-Resumable": tus.VERSION, "Retry-After": "10"},
    )


def create(session: Session, headers: Any) -> Upload:
    """A new upload of ``Upload-Length`` bytes for the wound its metadata names."""
    user = require("clinical:write")
    tus.require_version(headers.get("Tus-Resumable"))
    length = tus.parse_number("Upload-Length", headers.get("Upload-Length"))
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if length > limit:
        raise photos.too_large(limit)
    if length == 0:
        raise validation_problem({"Upload-Length": ["must be at least 1: a photo is not empty"]})
    meta = tus.parse_metadata(headers.get("Upload-Metadata"))
    fields = _fields(meta)
    wound = records.load_parent(
        session, Wound, fields["wound_id"], "Upload-Metadata.wound_id", columns=(Wound.id,)
    )
    if _open_count(session, user.id) >= current_app.config["UPLOAD_MAX_OPEN"]:
        raise Problem(
            429,
            "Too many open uploads",
            f"You have {current_app.config['UPLOAD_MAX_OPEN']} unfinished uploads: finish or "
            "delete one (DELETE its URL) before starting another.",
            type_=_PROBLEMS + "too-many-uploads",
            headers={"Tus-Resumable": tus.VERSION},
        )
    now = utcnow()
    upload = Upload(
        id=uuid.uuid4(),
        user_id=user.id,
        clinic_id=wound.clinic_id,
        wound_id=fields["wound_id"],
        length=length,
        meta=meta,
        state="open",
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["UPLOAD_TTL_HOURS"]),
    )
    session.add(upload)
    session.flush()
    try:
        tus.create_file(data_path(upload.id))
    except OSError as exc:
        raise _write_failed(tus.WriteFailed(exc)) from exc
    return upload


def own(session: Session, upload_id: uuid.UUID) -> Upload:
    """The caller's upload, or 404 (whoever else's it is)."""
    user = require("clinical:write")
    upload = session.get(Upload, upload_id)
    if upload is None or upload.user_id != user.id or not in_clinic(user, upload.clinic_id):
        raise not_found("upload")
    return upload


def _gone(upload: Upload) -> None:
    """410 for an upload that was terminated or has expired."""
    if upload.state in ("terminated", "expired") or (
        upload.state == "open" and upload.expires_at <= utcnow()
    ):
        raise tus.tus_problem(410, "Gone", f"This upload was {_ended(upload)}; start a new upload.")


def _ended(upload: Upload) -> str:
    return "terminated" if upload.state == "terminated" else "expired"


def state_headers(upload: Upload) -> dict[str, str]:
    """What HEAD answers, and PATCH in part: offset, length, expiry, the
    metadata, and once finished the photo it became."""
    headers = {
        "Tus-Resumable": tus.VERSION,
        "Upload-Offset": str(offset(upload)),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if upload.meta:
        headers["Upload-Metadata"] = tus.encode_metadata(upload.meta)
    if upload.state == "open":
        headers["Upload-Expires"] = tus.http_date(upload.expires_at)
    if upload.photo_id is not None:
        headers["Photo-Location"] = url_for("photos.PhotoResource", photo_id=upload.photo_id)
    return headers


def describe(upload: Upload) -> dict[str, Any]:
    """The upload as the creation answers it (UploadSchema)."""
    return {
        "id": upload.id,
        "wound_id": upload.wound_id,
        "offset": offset(upload),
        "length": upload.length,
        "state": upload.state,
        "expires_at": upload.expires_at,
        "photo_id": upload.photo_id,
    }


def head(session: Session, upload_id: uuid.UUID, headers: Any) -> dict[str, str]:
    upload = own(session, upload_id)
    tus.require_version(headers.get("Tus-Resumable"))
    _gone(upload)
    return state_headers(upload)


def append(
    session: Session,
    upload_id: uuid.UUID,
    headers: Any,
    stream: IO[bytes],
    content_length: int | None,
) -> dict[str, str]:
    """A PATCH: append the body at Upload-Offset; finish the upload when the
    last byte is in. Returns the answer's headers (204)."""
    upload = own(session, upload_id)
    tus.require_version(headers.get("Tus-Resumable"))
    _gone(upload)
    if (headers.get("Content-Type") or "").split(";")[0].strip() != tus.OFFSET_TYPE:
        raise tus.tus_problem(
            415, "Unsupported Media Type", f"Send Content-Type: {tus.OFFSET_TYPE}."
        )
    start = tus.parse_number("Upload-Offset", headers.get("Upload-Offset"))
    checksum = tus.parse_checksum(headers.get("Upload-Checksum"))
    if upload.state == "finished":
        _check_offset(start, upload.length, content_length, 0)
        return state_headers(upload)
    with tus.locked(data_path(upload.id)) as handle:
        current = tus.offset_of(data_path(upload.id))
        _check_offset(start, current, content_length, upload.length - current)
        try:
            result = tus.append(handle, stream, upload.length - current, checksum)
        except tus.WriteFailed as exc:
            raise _write_failed(exc) from exc
        if not result.complete:
            raise tus.tus_problem(
                400,
                "Incomplete body",
                f"The body ended early; {result.offset} bytes are kept. HEAD for the offset and "
                "resume from there.",
                headers={"Upload-Offset": str(result.offset)},
            )
        if result.offset == upload.length:
            _finish(session, upload, handle)
    return state_headers(upload)


def _check_offset(sent: int, current: int, content_length: int | None, room: int) -> None:
    if sent != current:
        raise tus.tus_problem(
            409,
            "Conflict",
            f"Upload-Offset is {sent}, but the upload holds {current} bytes; resume from there.",
            headers={"Upload-Offset": str(current)},
        )
    if content_length is not None and content_length > room:
        raise tus.tus_problem(
            413, "Content Too Large", f"The body is longer than the {room} bytes still expected."
        )


def _finish(session: Session, upload: Upload, data: IO[bytes]) -> None:
    """The whole file through the photo pipeline of a plain upload."""
    fields = _fields(upload.meta)
    plain = photos.Upload(
        client_id=fields.get("id"),
        assessment_id=fields.get("assessment_id"),
        taken_at=fields.get("taken_at"),
        marker_size_cm=fields.get("marker_size_cm"),
    )
    data.seek(0)
    photo, _created = photos.upload_photo(session, upload.wound_id, plain, data)
    upload.state = "finished"
    upload.ended_at = utcnow()
    upload.photo_id = photo.id
    session.flush()
    g.setdefault(_FINISHED_FILES, []).append(data_path(upload.id))


def after_response(status: int) -> None:
    """Once the answer is decided (the commit done, or rolled back): the files
    of uploads that became photos are removed; a failed request's photo files
    are (as the photo route does)."""
    photos.discard_unsaved_files(status)
    paths = g.pop(_FINISHED_FILES, [])
    if status < 400:
        for path in paths:
            with contextlib.suppress(OSError):
                os.remove(path)


def terminate(session: Session, upload_id: uuid.UUID, headers: Any) -> None:
    """DELETE: end an unfinished upload and drop its bytes (again: nothing)."""
    upload = own(session, upload_id)
    tus.require_version(headers.get("Tus-Resumable"))
    if upload.state == "terminated":
        return
    _gone(upload)
    if upload.state == "finished":
        raise Problem(
            409,
            "Conflict",
            "This upload has finished and became a photo; delete the photo instead.",
            headers={"Tus-Resumable": tus.VERSION},
            photo_id=str(upload.photo_id),
        )
    path = data_path(upload.id)
    try:
        with tus.locked(path):
            os.remove(path)
    except Problem as exc:
        if exc.status != 410:  # 410: the file is gone already, nothing to drop
            raise
    upload.state = "terminated"
    upload.ended_at = utcnow()
    session.flush()
