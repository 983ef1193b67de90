"""Wound photos: receive, process and store (scale.py calibrates and traces them,
serving.py serves them).

The bytes live in storage (``current_app.extensions["storage"]``), the row in
the database. A row and its files appear together or not at all:

1. the upload is copied (hashed on the way, limit enforced) into a private
   folder under the temp folder (app/core/scratch.py) and processed there
   (app/photos/imaging.py);
2. the derivatives are written to storage under server-made keys of this
   request (a racing retry of the same upload writes its own);
3. the row is flushed inside a savepoint.

Any failure after step 2 deletes the files again, in the request (exceptions
here) or after it (``discard_unsaved_files``, run by the route for every error
response, including a failed commit). A crash in between leaves orphan files
only, which ``flask --app wsgi storage-check --fix`` removes (app/photos/storage_check.py).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, g
from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.assessments.services import derive_again, wound_facts
from app.clinics.models import Clinic
from app.core import records, scratch
from app.core.access import current_user, get_record, in_clinic, scoped
from app.core.db import utcnow
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.idempotency import fingerprint, undoable
from app.core.storage import Storage, StorageError
from app.photos import calibration, imaging
from app.photos.models import Photo
from app.photos.schemas import PhotoSchema
from app.wounds.models import Wound

log = logging.getLogger(__name__)

dump = PhotoSchema().dump
_COPY_CHUNK = 1024 * 1024
PROBLEMS = "https://woundtrack.example/problems/"
# EXIF clocks are often unset (2000-01-01, 1970); older capture times are not believed.
_EXIF_EARLIEST = datetime(2005, 1, 1, tzinfo=UTC)


def storage() -> Storage:
    """The app's blob store."""
    store: Storage = current_app.extensions["storage"]
    return store


def storage_problem(exc: StorageError) -> Problem:
    """507 when the disk is full (retrying will not help until someone frees space),
    503 otherwise (storage unreachable: retry later). Nothing was saved either way."""
    cause = exc.__cause__
    full = isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT)
    if full or "No space left" in str(exc):
        return Problem(
            507,
            "Insufficient Storage",
            "The photo store is full; nothing was saved. Tell your administrator, then retry.",
            type_=PROBLEMS + "storage-full",
        )
    return Problem(
        503,
        "Service Unavailable",
        "The photo store is not reachable right now; nothing was saved. Retry shortly.",
        type_=PROBLEMS + "storage-unavailable",
        headers={"Retry-After": "10"},
    )


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Photo too large",
        f"The upload is larger than the limit of {limit / 1048576:.0f} MB. Send a smaller photo.",
        type_=PROBLEMS + "photo-too-large",
    )


# --- receiving --------------------------------------------------------------


@dataclass
class Received:
    """An upload copied to a private temporary file, with its size and SHA-256."""

    path: str
    size: int
    sha256: str


def receive(stream: IO[bytes], workdir: str, max_bytes: int) -> Received:
    """Copy an uploaded part to a file in ``workdir``, hashing it on the way.

    Chunked, so the upload is never held in memory (werkzeug has already
    spooled a large part to disk); 413 as soon as more than ``max_bytes`` arrive.
    """
    digest = hashlib.sha256()
    size = 0
    fd, path = tempfile.mkstemp(prefix="upload-", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise storage_problem(StorageError(f"could not receive upload: {exc}")) from exc
    return Received(path=path, size=size, sha256=digest.hexdigest())


# --- files written but not yet committed -------------------------------------


def _pending() -> list[str]:
    keys: list[str] = g.setdefault("photo_unsaved_keys", [])
    return keys


def _delete_quietly(keys: list[str]) -> None:
    store = storage()
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # storage-check reports whatever could not be removed
            log.exception("could not remove photo file %s after a failed upload", key)


def discard_unsaved_files(status: int) -> None:
    """After the response is decided: if it is an error (the transaction was
    rolled back, or the commit failed), remove the files this request wrote."""
    keys = g.pop("photo_unsaved_keys", None)
    if keys and status >= 400:
        _delete_quietly(keys)


def storage_key(photo: Photo | Any, size: str, attempt: str) -> str:
    """Server-made key: nothing from the client (file name, type) is in it.

    ``attempt`` is new for every upload request, so two requests racing with
    the same client id (a phone retrying while its first attempt still runs)
    write different files: the one whose row loses the race removes only its
    own, never the winner's. The row records the keys it owns."""
    return f"photos/{photo.clinic_id}/{photo.wound_id}/{photo.id}/{attempt}/{size}.jpg"


# --- upload ------------------------------------------------------------------


@dataclass
class Upload:
    """The validated text parts of an upload."""

    client_id: uuid.UUID | None = None
    assessment_id: uuid.UUID | None = None
    taken_at: datetime | None = None
    marker_size_cm: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def detect(upright: Image.Image, large: Image.Image, marker_size_cm: float) -> dict[str, Any]:
    """Marker detection as stored in ``marker_detection`` (plus the homography).

    Detection never fails a request; whatever goes wrong becomes
    ``{"found": false, "reason": ...}``.
    """
    try:
        det = calibration.detect_marker_two_pass(upright, marker_size_cm, preview=large)
    except Exception as exc:  # OpenCV on odd input: report, do not fail the upload
        log.warning("marker detection failed: %s: %s", type(exc).__name__, exc)
        return {"found": False, "reason": "Marker detection failed on this image."}
    if not det.found:
        return {"found": False, "reason": det.reason}
    return {
        "found": True,
        "reason": None,
        "marker_id": det.marker_id,
        "marker_size_cm": marker_size_cm,
        "corners_px": det.corners_px,
        "px_per_cm": det.px_per_cm,
        "homography": det.homography,
    }


def _marker_analysis(marker_size_cm: float) -> Any:
    """The callback process_upload runs on the upright image: marker detection."""

    def analyse(upright: Image.Image, large: Image.Image) -> dict[str, Any]:
        return detect(upright, large, marker_size_cm)

    return analyse


def apply_detection(photo: Photo, detection: dict[str, Any], marker_size_cm: float) -> None:
    photo.marker_size_cm = marker_size_cm
    photo.marker_detection = {k: v for k, v in detection.items() if k != "homography"}
    if detection.get("found"):
        photo.px_per_cm = detection["px_per_cm"]
        photo.homography = detection["homography"]
        photo.calibration_source = "marker"


def _capture_time(
    client: datetime | None, exif: datetime | None, assessment: Assessment | None
) -> tuple[datetime, str]:
    """The photo's capture time and where it came from: client, exif,
    assessment (the linked assessment's time) or server (the upload time).

    EXIF times without an offset are camera-local with no zone; they are read as
    UTC (the app sends taken_at with an offset, which wins). Implausible EXIF
    times (before 2005, or in the future) are ignored. A photo queued offline
    may reach the server days after it was taken, so the assessment it
    documents is a better guess than the upload time.
    """
    if client is not None:
        return client.astimezone(UTC), "client"
    if exif is not None:
        aware = exif if exif.tzinfo is not None else exif.replace(tzinfo=UTC)
        skew = timedelta(seconds=current_app.config["CLOCK_SKEW_SECONDS"])
        if _EXIF_EARLIEST <= aware <= datetime.now(UTC) + skew:
            return aware.astimezone(UTC), "exif"
    if assessment is not None:
        return _aware(assessment.assessed_at), "assessment"
    return utcnow(), "server"


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _replay(existing: Photo, wound: Wound, sha256: str) -> Photo:
    """Same client id again: the same bytes for the same wound is a replay (200)."""
    if not in_clinic(current_user(), existing.clinic_id):
        raise Problem(409, "Conflict", "This id is already used; generate a new UUID.")
    if existing.wound_id == wound.id and existing.sha256 == sha256:
        return existing
    raise Problem(
        409,
        "Conflict",
        "This id was already used for a different photo.",
        type_=PROBLEMS + "id-reused",
        stored=dump(existing),
    )


def _duplicate(session: Session, wound: Wound, sha256: str) -> Photo | None:
    """The photo with these bytes already on this wound (200), if any."""
    existing = session.scalars(
        sa.select(Photo).where(Photo.wound_id == wound.id, Photo.sha256 == sha256)
    ).first()
    if existing is not None and existing.deleted_at is not None:
        raise Problem(
            409,
            "Conflict",
            "This photo was uploaded to this wound before and then deleted. "
            "An admin can restore it; it cannot be uploaded twice.",
            type_=PROBLEMS + "photo-deleted",
            photo_id=str(existing.id),
        )
    return existing


def _existing(session: Session, wound: Wound, upload: Upload, sha256: str) -> Photo | None:
    if upload.client_id is not None:
        by_id = session.get(Photo, upload.client_id, populate_existing=True)
        if by_id is not None:
            return _replay(by_id, wound, sha256)
    return _duplicate(session, wound, sha256)


def upload_photo(
    session: Session, wound_id: uuid.UUID, upload: Upload, stream: IO[bytes]
) -> tuple[Photo, bool]:
    """Store one uploaded photo for a wound. Returns (photo, created).

    Raises Problem: 404 wound not visible, 413/415/422 for the file (see
    imaging.py), 422 for a bad assessment_id or taken_at, 409 for a reused id,
    507/503 when storage fails.
    """
    user = current_user()
    wound = get_record(session, Wound, wound_id, "clinical:write", audit_read=False)
    assessment = None
    if upload.assessment_id is not None:
        assessment = records.load_parent(session, Assessment, upload.assessment_id, "assessment_id")
        if assessment.wound_id != wound.id:
            raise field_error("assessment_id", "belongs to another wound")
    records.not_in_future("taken_at", upload.taken_at)
    marker_size = upload.marker_size_cm or _clinic_marker_size(session, wound.clinic_id)
    limits = imaging.ImageLimits(
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
        max_pixels=current_app.config["PHOTO_MAX_PIXELS"],
    )
    workdir = scratch.make_dir(current_app.config["TEMP_DIR"], "photo-upload-")
    try:
        received = receive(stream, workdir, limits.max_bytes)
        existing = _existing(session, wound, upload, received.sha256)
        if existing is not None:
            return existing, False
        try:
            processed = imaging.process_upload(
                received.path,
                limits,
                workdir,
                analyse=_marker_analysis(marker_size),
                sha256=received.sha256,
            )
        except imaging.ImageRejected as exc:
            raise Problem(
                exc.status, exc.title, exc.detail, type_=PROBLEMS + f"photo-{exc.status}"
            ) from exc
        except StorageError as exc:
            raise storage_problem(exc) from exc
        taken_at, taken_source = _capture_time(upload.taken_at, processed.taken_at, assessment)
        detection: dict[str, Any] = processed.analysis or {"found": False, "reason": None}
        photo = Photo(
            id=upload.client_id or uuid.uuid4(),
            clinic_id=wound.clinic_id,
            wound_id=wound.id,
            assessment_id=upload.assessment_id,
            sha256=processed.sha256,
            width=processed.width,
            height=processed.height,
            format_in=processed.format_in,
            bytes_in=received.size,
            taken_at=taken_at,
            taken_at_source=taken_source,
            uploaded_by=user.id,
            created_by=user.id,
            updated_by=user.id,
            create_hash=fingerprint({"wound_id": wound.id, "sha256": processed.sha256}),
        )
        apply_detection(photo, detection, marker_size)
        attempt = uuid.uuid4().hex[:16]
        photo.storage_keys = {size: storage_key(photo, size, attempt) for size in processed.files}
        _store_files(photo, processed.files)
        return _insert(session, photo, wound, upload)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _clinic_marker_size(session: Session, clinic_id: uuid.UUID) -> float:
    """The clinic's marker size, else the printed marker's default: a photo
    is never left uncalibrated only because nobody gave a size."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is not None and clinic.default_marker_size_cm:
        return float(clinic.default_marker_size_cm)
    return calibration.DEFAULT_MARKER_SIZE_CM


def _store_files(photo: Photo, files: dict[str, str]) -> None:
    store = storage()
    written = _pending()
    try:
        for size, path in files.items():
            key = photo.storage_keys[size]
            written.append(key)
            store.put_file(key, path, "image/jpeg")
    except StorageError as exc:
        raise storage_problem(exc) from exc


def _insert(session: Session, photo: Photo, wound: Wound, upload: Upload) -> tuple[Photo, bool]:
    """Flush the row so that a failure undoes only it; returns (photo, created).

    A concurrent twin (same id or same bytes) that won the race is answered
    like a replay (200, or 409 for other bytes under the id), and this
    request's own files, under keys of its own attempt, are removed."""
    try:
        with undoable(session):
            session.add(photo)
            session.flush()
    except IntegrityError:
        _delete_quietly(list(photo.storage_keys.values()))
        g.pop("photo_unsaved_keys", None)
        existing = _existing(session, wound, upload, photo.sha256)
        if existing is None:
            raise
        return existing, False
    return photo, True


# --- reading -----------------------------------------------------------------


def list_photos(session: Session, wound_id: uuid.UUID, args: dict[str, Any]) -> dict[str, Any]:
    """Photos of a wound in capture order (taken_at, then id)."""
    wound = get_record(session, Wound, wound_id, audit_read=False)
    stmt = scoped(Photo, include_deleted=True).where(Photo.wound_id == wound.id)
    return records.list_page(session, stmt, Photo, args, order_by=(Photo.taken_at,), parent=wound)


def amend_photo(session: Session, photo: Photo, changes: dict[str, Any]) -> Photo:
    """Link the photo to another assessment of its wound, unlink it (null), or
    correct its capture time (If-Match). A traced area moves with the link: the
    assessment the photo leaves and the one it joins are both re-traced."""
    require_if_match(photo, dump)  # a stale client hears 412 before rule checks
    new_assessment = changes.get("assessment_id")
    if new_assessment is not None:
        assessment = records.load_parent(session, Assessment, new_assessment, "assessment_id")
        if assessment.wound_id != photo.wound_id:
            raise field_error("assessment_id", "belongs to another wound")
    if "taken_at" in changes:
        records.not_in_future("taken_at", changes["taken_at"])
        changes["taken_at"] = changes["taken_at"].astimezone(UTC)
        changes["taken_at_source"] = "client"
    elif "assessment_id" in changes and photo.taken_at_source in ("assessment", "server"):
        changes.update(_time_from_link(session, photo, new_assessment))
    before = photo.assessment_id
    records.amend(session, photo, changes, dump)
    if photo.assessment_id != before:
        for assessment_id in (before, photo.assessment_id):
            retrace(session, assessment_id)
    return photo


def _time_from_link(
    session: Session, photo: Photo, assessment_id: uuid.UUID | None
) -> dict[str, Any]:
    """A photo with no capture time of its own follows the assessment it is
    linked to; unlinked, it falls back to its upload time."""
    if assessment_id is not None:
        assessment = session.get(Assessment, assessment_id)
        if assessment is not None:
            return {"taken_at": _aware(assessment.assessed_at), "taken_at_source": "assessment"}
    return {"taken_at": _aware(photo.created_at), "taken_at_source": "server"}


def delete_photo(session: Session, photo: Photo) -> Photo:
    """Soft delete (If-Match); the files stay, so an admin can restore it. Its
    assessment no longer uses its traced area."""
    records.soft_delete(session, photo, dump)
    retrace(session, photo.assessment_id)
    return photo


def restore_photo(session: Session, photo_id: uuid.UUID) -> Photo:
    """Undo a delete (admin); its assessment is re-traced."""
    photo = records.restore(session, Photo, photo_id)
    retrace(session, photo.assessment_id)
    return photo


# --- calibration and tracing ---------------------------------------------------


def retrace(session: Session, assessment_id: uuid.UUID | None) -> None:
    """Give the assessment the traced area and perimeter of its linked, live,
    traced photo (the most recently changed, when there are several), or none,
    and re-derive its area and scores."""
    if assessment_id is None:
        return
    assessment = session.get(Assessment, assessment_id)
    if assessment is None or assessment.deleted_at is not None:
        return
    wound = wound_facts(session, assessment.wound_id)
    # The query autoflushes first, so the photo being written counts as it now
    # stands, and its new updated_at makes it the most recent.
    source = session.scalars(
        sa.select(Photo)
        .where(
            Photo.assessment_id == assessment_id,
            Photo.deleted_at.is_(None),
            Photo.traced_area_cm2.is_not(None),
        )
        .order_by(Photo.updated_at.desc(), Photo.id)
        .limit(1)
    ).first()
    assessment.traced_area_cm2 = source.traced_area_cm2 if source else None
    assessment.traced_perimeter_cm = source.traced_perimeter_cm if source else None
    derive_again(session, assessment, wound)
