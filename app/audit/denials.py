"""Refused access in the audit trail, without letting anyone flood it.

A signed-in caller (bearer token or clinic-page session) answered 403 (the
role may not) or 404 on a route naming a record (no such record, or one of
another clinic: the two are not told apart) leaves an ``access_denied`` event:
the user and role, outcome ``forbidden`` or ``not_found``, the record type
and id from the path (the last id in it), and in ``details`` the route
template, method and status. Never the query string or body. The event has no
clinic (the record's clinic is not disclosed), so admins read it.

At most ``AUDIT_DENIALS_PER_MINUTE`` (30) such events per user a minute. The
next denial in that minute is written as one event with outcome
``suppressed`` (``details.limit_per_minute``); later ones only count in the
``woundtrack_audit_denials_suppressed_total`` metric. The counts live in the
rate-limit storage, so with Redis they hold across instances.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from prometheus_client import Counter

from app.core import audit
from app.extensions import db, limiter

log = logging.getLogger(__name__)

OUTCOMES = {403: "forbidden", 404: "not_found"}
SUPPRESSED = Counter(
    "woundtrack_audit_denials_suppressed",
    "Refused requests not written to the audit trail (over the per-user limit)",
)
_SUMMARY = RateLimitItemPerMinute(1)
# When the app's limiter is off or its storage fails: this process counts alone.
_local = FixedWindowRateLimiter(MemoryStorage())


def init_app(app: Flask) -> None:
    app.after_request(_audit_denial)


def _audit_denial(response: Response) -> Response:
    outcome = OUTCOMES.get(response.status_code)
    user = getattr(g, "user", None)
    rule = request.url_rule
    if outcome is None or user is None or rule is None:
        return response
    ids = [(name, value) for name, value in (request.view_args or {}).items() if _is_id(value)]
    if outcome == "not_found" and not ids:
        return response  # an unknown page, not a record
    details: dict[str, Any] = {
        "route": rule.rule,
        "method": request.method,
        "status": response.status_code,
    }
    budget = _budget(user.id)
    if budget is None:
        SUPPRESSED.inc()
        return response
    if budget == "summary":
        outcome = "suppressed"
        details["limit_per_minute"] = _per_minute()
    record_type, record_id = (ids[-1][0].removesuffix("_id"), ids[-1][1]) if ids else (None, None)
    # The request wrote nothing (an error answer is rolled back); end its
    # transaction so the event's own cannot wait on it.
    db.session.rollback()
    audit.record_now(
        db.engine, "access_denied", record_type, record_id, outcome=outcome, details=details
    )
    return response


def _is_id(value: Any) -> bool:
    return isinstance(value, uuid.UUID)


def _per_minute() -> int:
    return int(current_app.config["AUDIT_DENIALS_PER_MINUTE"])


def _strategy() -> RateLimiter:
    if limiter.enabled and limiter.initialized:
        return limiter.limiter
    return _local


def _budget(user_id: uuid.UUID) -> str | None:
    """ "row" while under the limit, "summary" for the first denial over it in
    the window, None after that."""
    prefix = str(current_app.config.get("RATELIMIT_KEY_PREFIX") or "")
    try:
        return _spend(_strategy(), prefix, str(user_id))
    except Exception:  # the limiter's storage is down: count in this process
        log.warning("audit denial limit: rate-limit storage unavailable, counting locally")
        return _spend(_local, prefix, str(user_id))


def _spend(strategy: RateLimiter, prefix: str, key: str) -> str | None:
    if strategy.hit(RateLimitItemPerMinute(_per_minute()), prefix, "audit-denials", key):
        return "row"
    return "summary" if strategy.hit(_SUMMARY, prefix, "audit-denials-over", key) else None
