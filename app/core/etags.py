"""ETags from the version column, and the If-Match precondition for writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request

from app.core.errors import Problem


def etag_of(obj: Any) -> str:
    return f'"v{obj.version}"'


def etag_header(obj: Any) -> dict[str, str]:
    return {"ETag": etag_of(obj)}


def require_if_match(obj: Any, dump: Callable[[Any], Any] | None = None) -> None:
    """Refuse a write unless the client proves it saw the current version.

    428 when If-Match is missing; 412 when it names an older version, with the
    current version (and record, when ``dump`` is given) in the problem body so
    the app can show the conflict.
    """
    header = request.headers.get("If-Match")
    if not header:
        raise Problem(
            428,
            "Precondition Required",
            "Send If-Match with the ETag from your last GET of this record.",
            current_version=obj.version,
            etag=etag_of(obj),
        )
    if header.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if etag_of(obj) not in tags:
        extra: dict[str, Any] = {"current_version": obj.version, "etag": etag_of(obj)}
        if dump is not None:
            extra["current"] = dump(obj)
        raise Problem(
            412,
            "Precondition Failed",
            "The record changed since you read it; review the current version and retry.",
            headers={"ETag": etag_of(obj)},
            **extra,
        )
