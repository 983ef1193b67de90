"""Security headers on every response, a size limit on JSON bodies, and
authentication of every non-public API route before its body is parsed."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.wrappers import Response

from app.core.errors import Problem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    from app.core.access import authenticate_request

    @app.before_request
    def _limit_json() -> None:
        # Photo uploads are multipart and have their own, larger limit.
        if request.mimetype == "application/json":
            length = request.content_length
            if length is not None and length > current_app.config["MAX_JSON_BYTES"]:
                raise Problem(413, "Content Too Large", "JSON bodies are limited to 1 MB.")

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
