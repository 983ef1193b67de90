"""Structured logs with a request id, and no patient data.

Log lines carry method, path template, status, duration and the request id;
never bodies, query strings or names. JSON in production (LOG_FORMAT=json).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, request
from flask.wrappers import Response

_RESERVED = set(vars(logging.makeLogRecord({})))


def _user_id(user: Any) -> str | None:
    """The signed-in user's id for the access log, without a query: the request
    has committed by now, which expired the user object, but its identity key
    still holds the primary key."""
    if user is None:
        return None
    state = sa.inspect(user, raiseerr=False)
    if state is not None and state.identity is not None:
        return str(state.identity[0])
    return str(user.id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development: the message, then the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {
            k: v
            for k, v in vars(record).items()
            if k not in _RESERVED and k not in {"message", "asctime"}
        }
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        return line


def configure(app: Flask) -> None:
    root = logging.getLogger("app")
    if not root.handlers:
        handler = logging.StreamHandler()
        if app.config.get("LOG_FORMAT") == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    access = logging.getLogger("app.access")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        # Accept a caller's id only if it is short and plain, else make one.
        ok = 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if ok else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        rule = request.url_rule.rule if request.url_rule else "<unmatched>"
        access.info(
            "request",
            extra={
                "request_id": getattr(g, "request_id", None),
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "ms": round(
                    (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1
                ),
                "user_id": _user_id(getattr(g, "user", None)),
            },
        )
        return response

    # Prometheus request counts and latencies (app/core/metrics.py) hook in here,
    # next to the access log, because both observe every request.
    from app.core import metrics

    metrics.init_app(app)
