"""A minimal tus 1.0 server side: the protocol's headers and the partial file.

tus 1.0.0 (https://tus.io/protocols/resumable-upload): core (HEAD, PATCH,
OPTIONS), creation, expiration, termination and checksum (sha1, sha256,
md5 of each PATCH body). Not offered: creation-defer-length,
creation-with-upload, concatenation, checksum-trailer.

Why not ``tuswsgi`` (0.5.5, the WSGI package on PyPI): it is a middleware in
front of the application, so its requests bypass the API's authentication,
permissions, audit and problem+json errors, and an upload cannot belong to
the user who created it (anyone holding its URL may read, append to or delete
it). Its PATCH ignores Upload-Offset (a resent chunk is appended twice) and
reads the whole body before writing it, so a connection cut mid-request
loses every byte of that request, which is what resuming is for. It takes no
lock on an upload, and hands the finished file to the application by
rewriting the request. It is an alpha last released in 2023 and brings WebOb.
What it does is small enough to write here with those rules built in.

This module knows the protocol and the file: parsing and answering the
headers, and appending a request body to the partial file under an
exclusive lock, keeping every byte that arrived when the connection drops.
Who may touch which upload is app/sync/uploads.py.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import IO, Any

from werkzeug.exceptions import ClientDisconnected

from app.core.errors import TYPE_BASE, Problem

VERSION = "1.0.0"
EXTENSIONS = ("creation", "expiration", "termination", "checksum")
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
OFFSET_TYPE = "application/offset+octet-stream"
_CHUNK = 256 * 1024
_NUMBER = re.compile(r"[0-9]{1,18}")
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TUS = TYPE_BASE + "tus-"


def tus_problem(status: int, title: str, detail: str, **extra: Any) -> Problem:
    """A protocol error: problem+json, with the Tus-Resumable header tus
    clients look for on every answer."""
    headers = {"Tus-Resumable": VERSION, **extra.pop("headers", {})}
    slug = title.lower().replace(" ", "-")
    return Problem(status, title, detail, type_=_TUS + slug, headers=headers, **extra)


def require_version(value: str | None) -> None:
    """Tus-Resumable must name the version this server speaks (412 otherwise)."""
    if value != VERSION:
        raise tus_problem(
            412,
            "Precondition Failed",
            f"Send Tus-Resumable: {VERSION}; it is the only version this server speaks.",
            headers={"Tus-Version": VERSION},
        )


def parse_number(name: str, value: str | None) -> int:
    """A non-negative decimal header value (Upload-Length, Upload-Offset)."""
    if value is None:
        raise tus_problem(400, "Bad Request", f"{name} is required.")
    if not _NUMBER.fullmatch(value.strip()):
        raise tus_problem(400, "Bad Request", f"{name} must be a non-negative whole number.")
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated ``key base64value`` pairs (the value may
    be omitted), keys unique. Values must decode to UTF-8 text here: every
    field this API takes is text."""
    out: dict[str, str] = {}
    if not value or not value.strip():
        return out
    for pair in value.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not _KEY.fullmatch(key) or key in out:
            raise tus_problem(
                400, "Bad Request", f"Upload-Metadata: bad or repeated key {key[:64]!r}."
            )
        try:
            text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise tus_problem(
                400, "Bad Request", f"Upload-Metadata: the value of {key!r} is not base64 of text."
            ) from None
        out[key] = text
    return out


def encode_metadata(meta: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in sorted(meta.items())
    )


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes


def parse_checksum(value: str | None) -> Checksum | None:
    """Upload-Checksum: ``<algorithm> <base64 digest>``; an algorithm this server
    does not offer is a 400, as the checksum extension says."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise tus_problem(
            400,
            "Bad Request",
            f"Upload-Checksum: {algorithm[:20]!r} is not offered; use {', '.join(CHECKSUMS)}.",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise tus_problem(
            400, "Bad Request", "Upload-Checksum: the digest is not base64."
        ) from None
    return Checksum(algorithm, digest)


def http_date(moment: datetime) -> str:
    """An HTTP date (RFC 9110), as Upload-Expires is written."""
    return format_datetime(moment, usegmt=True)


def discovery_headers(max_size: int) -> dict[str, str]:
    """What OPTIONS answers: the version, extensions, size limit and checksums."""
    return {
        "Tus-Resumable": VERSION,
        "Tus-Version": VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
    }


# --- the partial file ----------------------------------------------------------------


def offset_of(path: str) -> int:
    """The upload's offset: the bytes its file holds."""
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def create_file(path: str) -> None:
    """An empty partial file (its directory made when missing)."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "xb"):
        pass


@contextlib.contextmanager
def locked(path: str) -> Iterator[IO[bytes]]:
    """The partial file opened for appending, under an exclusive lock held until
    the block ends; 423 at once when another request holds it (a tus client
    retries), 410 when the file is gone."""
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - closed below, after the lock
    except FileNotFoundError:
        raise tus_problem(410, "Gone", "This upload's data is gone; start a new upload.") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise tus_problem(
                423,
                "Locked",
                "Another request is writing to this upload; retry in a moment.",
                headers={"Retry-After": "2"},
            ) from None
        yield handle
    finally:
        handle.close()


class WriteFailed(Exception):
    """The disk refused the bytes (full, read-only): answer 507/503."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.full = error.errno in (errno.ENOSPC, errno.EDQUOT)


@dataclass
class Appended:
    offset: int  # the file's size after the request
    complete: bool  # the request's body arrived in full


def _read_into(
    handle: IO[bytes], stream: IO[bytes], remaining: int, digest: Any
) -> tuple[int, bool]:
    """Copy at most ``remaining`` bytes of the body to the file: (bytes written,
    whether the body arrived whole). A dropped connection ends the copy."""
    written = 0
    while written < remaining:
        try:
            chunk = stream.read(min(_CHUNK, remaining - written))
        except (ClientDisconnected, ConnectionError, TimeoutError):
            return written, False
        if not chunk:
            return written, True
        handle.write(chunk)
        written += len(chunk)
        if digest is not None:
            digest.update(chunk)
    return written, True


def append(
    handle: IO[bytes], stream: IO[bytes], remaining: int, checksum: Checksum | None
) -> Appended:
    """Append the request body to the locked partial file, at most ``remaining``
    bytes. A body cut short keeps what arrived (that is the point of resuming),
    unless it carried a checksum, which then cannot be verified: the file goes
    back to its old size. A checksum that does not match: back too, and 460.
    A body longer than the upload: back too, and 413. A write the disk refuses:
    back too, and WriteFailed."""
    start = handle.seek(0, os.SEEK_END)
    digest = CHECKSUMS[checksum.algorithm]() if checksum is not None else None
    try:
        written, complete = _read_into(handle, stream, remaining, digest)
        if complete and written == remaining and _more(stream):
            handle.truncate(start)
            raise tus_problem(413, "Content Too Large", "The body runs past Upload-Length.")
        if digest is not None and (not complete or digest.digest() != checksum.digest):  # type: ignore[union-attr]
            handle.truncate(start)
            written = 0
            if complete:
                raise tus_problem(
                    460, "Checksum Mismatch", "The body does not match Upload-Checksum; resend it."
                )
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        # The disk refused a write or its flush: none of this request's bytes
        # can be trusted to be there, so none are kept.
        with contextlib.suppress(OSError):
            handle.truncate(start)
        raise WriteFailed(exc) from exc
    return Appended(start + written, complete)


def _more(stream: IO[bytes]) -> bool:
    """Whether the body goes on (a chunked body longer than the upload)."""
    try:
        return bool(stream.read(1))
    except (ClientDisconnected, ConnectionError, TimeoutError):
        return False
