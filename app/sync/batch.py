"""A queue of API requests in one round trip: each one dispatched, in order,
through the service's own WSGI application, exactly as if sent alone.

One code path: a sub-request is a real request of the app (routing, the
401/403/404 checks, validation, the route's service, audit, history,
idempotency, ETags, rate limits, the access log) built from the batch item
with the caller's Authorization, and run in an application context of its
own. So it has its own database session and transaction, committed (or
rolled back) by the request boundary as any request's is.

Transaction semantics: each sub-request commits on its own, before the next
one starts. A failed one writes nothing and undoes none of the others; the
others' results stand. Later requests see what earlier ones wrote, so a
create followed by a child of it works by the client id the create carried.
``depends_on`` skips a request (424) whose prerequisite failed, and each
response says whether sending it again can succeed (``retry``). After a 429
the rest of the batch is not attempted (429, retry).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from app.core.errors import TYPE_BASE

# Response headers a sub-response carries; the rest (security headers, the
# cache policy, rate-limit counters) belong to the batch's own response.
KEPT_HEADERS = ("ETag", "Location", "Retry-After", "Content-Type")
_JSON_TYPES = ("application/json", "application/problem+json")
_ALWAYS_RETRY = frozenset({408, 423, 425, 429})


@dataclass
class SubResponse:
    id: str
    status: int
    headers: dict[str, str]
    body: Any
    retry: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "headers": self.headers,
            "body": self.body,
            "retry": self.retry,
        }


def retryable(status: int, body: Any) -> bool:
    """Whether the same request sent later can succeed: the service was busy or
    unreachable (5xx, 429, 408, 423, 425), or the write lost a race with a
    concurrent one (409 of a database conflict: a replayed create then
    answers with the stored record). Validation, permission, a stale If-Match
    or a reused id will fail the same way again."""
    if status >= 500 or status in _ALWAYS_RETRY:
        return True
    if status == 409 and isinstance(body, dict):
        return bool(body.get("type") == TYPE_BASE + "integrity")
    return False


def _problem(sub_id: str, status: int, title: str, detail: str, retry: bool) -> SubResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + title.lower().replace(" ", "-")}
    body |= {"title": title, "status": status, "detail": detail}
    headers = {"Content-Type": "application/problem+json"}
    return SubResponse(sub_id, status, headers, body, retry)


class _Captured:
    """The WSGI start_response of a sub-request: keeps its status and headers."""

    status = 500
    headers = Headers()

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status = int(status.split(" ", 1)[0])
        self.headers = Headers(headers)
        return lambda data: None


def _environ(app: Flask, sub: dict[str, Any], index: int) -> dict[str, Any]:
    """The WSGI environ of a sub-request: its method, URL, headers and JSON
    body, the caller's Authorization and address, and a request id that ties
    its log lines and audit events to the batch."""
    path, _, query = sub["url"].partition("?")
    headers = {k: v for k, v in sub["headers"].items()}
    if request.headers.get("Authorization"):
        headers["Authorization"] = request.headers["Authorization"]
    headers["Accept"] = "application/json"
    headers["X-Request-ID"] = f"{str(getattr(g, 'request_id', '') or 'batch')[:54]}-{index}"
    builder = EnvironBuilder(
        path=path,
        base_url=request.host_url,
        query_string=query,
        method=sub["method"],
        headers=headers,
        data=None if sub["body"] is None else json.dumps(sub["body"]),
        content_type=None if sub["body"] is None else "application/json",
        environ_base={"REMOTE_ADDR": request.remote_addr or ""},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _read(body: Iterable[bytes], content_type: str) -> Any:
    """The JSON a sub-request answered, or None for anything else (an image,
    an empty 204), which is not read at all."""
    try:
        if content_type.split(";", 1)[0].strip() not in _JSON_TYPES:
            return None
        raw = b"".join(body)
        return json.loads(raw) if raw else None
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def dispatch(app: Flask, sub: dict[str, Any], index: int) -> SubResponse:
    """Run one sub-request through the app, in an application context (and so
    a database session and transaction) of its own."""
    environ = _environ(app, sub, index)
    captured = _Captured()
    with app.app_context():
        # The class's wsgi_app: the batch request already went through any
        # middleware wrapped around the instance's.
        body = type(app).wsgi_app(app, environ, captured)
        payload = _read(body, captured.headers.get("Content-Type", ""))
    headers = {k: captured.headers[k] for k in KEPT_HEADERS if k in captured.headers}
    return SubResponse(
        sub["id"], captured.status, headers, payload, retryable(captured.status, payload)
    )


def _blocked(sub: dict[str, Any], done: dict[str, SubResponse]) -> SubResponse | None:
    """The 424 of a request one of whose prerequisites failed, else None."""
    for dependency in sub["depends_on"]:
        prior = done[dependency]
        if prior.status >= 400:
            return _problem(
                sub["id"],
                424,
                "Failed Dependency",
                f"Not run: request {dependency!r}, which it depends on, answered {prior.status}.",
                prior.retry,
            )
    return None


def run_batch(requests: list[dict[str, Any]]) -> list[SubResponse]:
    """Every request of the batch, in order, each committed on its own."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    done: dict[str, SubResponse] = {}
    out: list[SubResponse] = []
    limited: SubResponse | None = None
    for index, sub in enumerate(requests, start=1):
        if limited is not None:
            result = _problem(
                sub["id"],
                429,
                "Too Many Requests",
                f"Not attempted: request {limited.id!r} of this batch hit a rate limit.",
                True,
            )
            if "Retry-After" in limited.headers:
                result.headers["Retry-After"] = limited.headers["Retry-After"]
        else:
            result = _blocked(sub, done) or dispatch(app, sub, index)
            if result.status == 429:
                limited = result
        done[sub["id"]] = result
        out.append(result)
    return out
