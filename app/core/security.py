"""Security headers on every response, a size limit on request bodies, and
authentication of every non-public API route before its body is parsed.

The body limit (MAX_JSON_BYTES, 1 MB, for every route and content type; a
route registered with ``allow_larger_body`` has its own) holds for the bytes
actually read, not only for a declared Content-Length. A declared length over
it is refused before anything is read. A chunked body (no declared length;
gunicorn and werkzeug's server end such a stream themselves and say so,
``wsgi.input_terminated``) is read through a stream that stops at the limit
and answers 413 when the body goes on: the request's ``max_content_length``,
enforced by werkzeug, and ``_MaxStream`` for a read of the whole body, which
werkzeug would cut at the limit without a word. Either way no more of it is
read, and nothing of it is parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, cast

from flask import Flask, Request, current_app, request
from flask.wrappers import Response
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from app.core.errors import Problem

# endpoint -> (its limit in bytes, the 413 it answers for a declared length over it)
_LARGER_BODIES: dict[str, tuple[Callable[[], int], Callable[[], Problem]]] = {}


def allow_larger_body(
    endpoint: str, limit: Callable[[], int], too_large: Callable[[], Problem]
) -> None:
    """Let ``endpoint`` (a photo upload) read bodies of up to ``limit()`` bytes
    rather than MAX_JSON_BYTES; ``too_large()`` is its 413 for a declared length
    over that (a streamed body over it is werkzeug's 413)."""
    _LARGER_BODIES[endpoint] = (limit, too_large)


class _MaxStream(LimitedStream):
    """werkzeug's stream for a body of no declared length under a maximum,
    whose ``read()`` of everything also refuses a body that goes on past the
    maximum (werkzeug's returns its first ``limit`` bytes as if they were all:
    a JSON or form body cut short, parsed or refused as malformed)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__(stream, limit, is_max=True)
        self._source = stream

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._source.read(1):
            raise RequestEntityTooLarge()
        return data


class BoundedRequest(Request):
    """Flask's request, whose body of no declared length (chunked) is read
    through ``_MaxStream``: over ``max_content_length`` is a 413 however the
    body is read (``get_data``, a form, a multipart upload)."""

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        streamed = self.content_length is None and "wsgi.input_terminated" in self.environ
        if self.shallow or not streamed or limit is None:
            return super().stream
        return cast(IO[bytes], _MaxStream(self.environ["wsgi.input"], limit))


def _body_too_large(limit: int) -> Problem:
    size = f"{limit / 1048576:g} MB" if limit >= 1048576 else f"{limit / 1024:g} KB"
    return Problem(413, "Content Too Large", f"Request bodies are limited to {size} here.")


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    from app.core.access import authenticate_request

    @app.before_request
    def _limit_body() -> None:
        larger = _LARGER_BODIES.get(request.endpoint or "")
        if larger is not None:
            limit, too_large = larger[0](), larger[1]
        else:
            limit = current_app.config["MAX_JSON_BYTES"]
            too_large = lambda: _body_too_large(limit)  # noqa: E731
        request.max_content_length = limit  # enforced on the bytes read
        length = request.content_length
        if length is not None and length > limit:
            raise too_large()

    # After the size check (a 413 needs no token), before any view parses a body.
    app.before_request(authenticate_request)

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.path.startswith("/api/") and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store"
        return response
