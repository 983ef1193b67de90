"""One error format: RFC 9457 problem details (application/problem+json).

Every error that leaves the service goes through ``problem_response``: HTTP
errors raised by Flask/werkzeug, validation errors from webargs/marshmallow,
domain errors raised by services (``Problem``), database integrity and
concurrency errors, and finally anything unexpected, which answers a generic
500 carrying only the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, g, jsonify, request
from flask.wrappers import Response
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://woundtrack.example/problems/"

log = logging.getLogger(__name__)


class Problem(Exception):
    """A domain error that becomes a problem+json response.

    ``errors`` maps field names to messages; ``extra`` adds members to the body
    (e.g. the stored record on a 409, the current version on a 412).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.type = type_ or TYPE_BASE + title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def on_conflict(recheck: Callable[[], Problem | None]) -> None:
    """Register, for this request, a check to run when one of its writes fails
    on a database conflict (an integrity error, or a versioned UPDATE that
    matched no row): it returns the Problem that explains the conflict better
    (etags: the record checked with If-Match was changed meanwhile, a 412), or
    None."""
    checks: list[Callable[[], Problem | None]] = g.setdefault("conflict_rechecks", [])
    checks.append(recheck)


def _explained_conflict() -> Problem | None:
    for recheck in g.pop("conflict_rechecks", []):
        problem: Problem | None = recheck()
        if problem is not None:
            return problem
    return None


def validation_problem(errors: dict[str, list[str]], detail: str | None = None) -> Problem:
    return Problem(
        422,
        "Validation failed",
        detail or "Some fields are invalid; see errors.",
        errors=errors,
        type_=TYPE_BASE + "validation",
    )


def field_error(field: str, message: str) -> Problem:
    """A 422 for one field; the message says the rule that was broken."""
    return validation_problem({field: [message]}, f"{field}: {message}")


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error response of this API.

    Extension members are allowed (RFC 9457 section 3.2): e.g. ``stored`` on a
    409, ``current``/``etag`` on a 412/428.
    """

    class Meta:
        unknown = INCLUDE

    type = fields.String(metadata={"description": "URI identifying the problem type"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field name -> messages"},
    )


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    rid = getattr(g, "request_id", None)
    if rid:
        body["request_id"] = rid
    if extra:
        body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM_MEDIA_TYPE
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _flatten_validation(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"field": [...]}}); flatten them.

    Nested fields become dotted paths (``findings.erythema``) so a client can
    point at the exact input.
    """
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(f"{prefix}.{i}", sub)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict) and set(messages) <= {
        "json",
        "query",
        "form",
        "files",
        "headers",
        "view_args",
        "path",
    }:
        for sub in messages.values():
            walk("", sub)
    else:
        walk("", messages)
    return out


def _http_exception_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 422 and messages:
        return problem_response(
            422,
            "Validation failed",
            "Some fields are invalid; see errors.",
            errors=_flatten_validation(messages),
            type_=TYPE_BASE + "validation",
            headers=headers,
        )
    if status == 400 and messages:
        return problem_response(
            400,
            "Malformed request",
            "The request body could not be parsed; send valid JSON.",
            errors=_flatten_validation(messages),
            type_=TYPE_BASE + "malformed-request",
            headers=headers,
        )
    detail = data.get("message") or error.description
    if status == 405:
        allowed = (error.get_headers() and dict(error.get_headers()).get("Allow")) or ""
        if allowed:
            headers["Allow"] = allowed
        detail = f"{request.method} is not allowed here. Allowed: {allowed or 'none'}."
    if status == 413:
        detail = "The request body is too large."
    if status == 415 and not data.get("message"):
        detail = "Unsupported media type."
    for key, value in error.get_headers():
        if key.lower() in {"www-authenticate", "retry-after", "allow"}:
            headers.setdefault(key, value)
    return problem_response(status, error.name, detail, headers=headers)


class ProblemApi(Api):  # type: ignore[misc]  # flask-smorest ships no types
    """flask-smorest Api whose error responses are problem+json."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE: str  # set by flask-smorest's Api

    def _register_responses(self) -> None:
        """Document the error responses with the media type they are sent with
        (application/problem+json), so clients and schema checkers agree."""
        default = self.DEFAULT_RESPONSE_CONTENT_TYPE
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_MEDIA_TYPE
        try:
            super()._register_responses()
        finally:
            self.DEFAULT_RESPONSE_CONTENT_TYPE = default

    def handle_http_exception(self, error: HTTPException) -> Response:
        return _http_exception_problem(error)


def _problem_response(error: Problem) -> Response:
    return problem_response(
        error.status,
        error.title,
        error.detail,
        errors=error.errors,
        type_=error.type,
        headers=error.headers,
        extra=error.extra,
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers for everything that is not an HTTPException."""

    @app.errorhandler(Problem)
    def _problem(error: Problem) -> Response:
        return _problem_response(error)

    _register_database_handlers(app)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return _http_exception_problem(error)
        log.exception("unhandled error (request_id=%s)", getattr(g, "request_id", None))
        return problem_response(
            500,
            "Internal Server Error",
            "Something went wrong on our side. Quote the request_id when reporting it.",
        )


def _register_database_handlers(app: Flask) -> None:
    """Conflicts (409, or the 412 they explain), refused values (422), and a
    database that cannot be reached or is too busy (503)."""

    @app.errorhandler(StaleDataError)
    def _stale(error: StaleDataError) -> Response:
        explained = _explained_conflict()
        if explained is not None:
            return _problem_response(explained)
        return problem_response(
            412,
            "Precondition Failed",
            "The record was changed by someone else while you were saving; reload it.",
            type_=TYPE_BASE + "stale-version",
        )

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        log.info("integrity error: %s", error.orig.__class__.__name__)
        explained = _explained_conflict()
        if explained is not None:
            return _problem_response(explained)
        return problem_response(
            409,
            "Conflict",
            "The change conflicts with data already stored (a duplicate or a missing reference).",
            type_=TYPE_BASE + "integrity",
        )

    @app.errorhandler(DataError)
    def _data(error: DataError) -> Response:
        # The database refused a value the schemas let through (a NUL in text,
        # a number out of the column's range): the input's fault, not ours.
        log.info("data error: %s", error.orig.__class__.__name__)
        return problem_response(
            422,
            "Validation failed",
            "A value cannot be stored (out of range or containing invalid characters).",
            type_=TYPE_BASE + "validation",
        )

    @app.errorhandler(OperationalError)
    def _db_unavailable(error: OperationalError) -> Response:
        log.error("database unavailable: %s", error.orig.__class__.__name__)
        return problem_response(
            503,
            "Service Unavailable",
            "The database is not reachable right now; retry shortly. Nothing was saved.",
            type_=TYPE_BASE + "database-unavailable",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(error: PoolTimeout) -> Response:
        # Every pooled connection stayed busy for DB_POOL_TIMEOUT_SECONDS.
        log.error("no database connection free within the pool timeout")
        return problem_response(
            503,
            "Service Unavailable",
            "The service is too busy to reach its database right now; retry shortly. "
            "Nothing was saved.",
            type_=TYPE_BASE + "database-busy",
            headers={"Retry-After": "5"},
        )
