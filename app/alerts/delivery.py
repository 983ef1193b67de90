"""Deliver the webhook outbox: claim a due message with a lease, POST it signed
per Standard Webhooks, log the attempt, and schedule the next one.

- Claiming is a conditional UPDATE (pending, due, no live lease), committed at
  once; a worker that dies mid-delivery leaves the lease to run out and the
  message is claimed again: nothing is lost (at-least-once; the ``webhook-id``
  header, the message id, lets the receiver drop a repeat).
- Retries back off exponentially with jitter over about a day (RETRY_DELAYS,
  after the Standard Webhooks recommendation); then the message has failed.
- A 410 Gone disables the endpoint.
- Targets on private, loopback or link-local addresses are refused unless
  WEBHOOK_ALLOW_PRIVATE is set (tests, on-premises receivers).

Runs in the job worker: RQ when REDIS_URL is set (``app.worker.rq_deliver``),
else a thread of the app process; ``flask alerts sweep`` delivers whatever is
due as well.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from standardwebhooks.webhooks import Webhook as Signer

from app.alerts.models import Webhook, WebhookAttempt, WebhookMessage
from app.core.db import utcnow

log = logging.getLogger(__name__)

#: Delay before attempt 2, 3, ...: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
#: (27.6 hours in all), each with +-20% jitter.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
RQ_TASK = "app.worker.rq_deliver"
RQ_QUEUE = "woundtrack-webhooks"


class RefusedTarget(ValueError):
    """The URL is not one the service may call."""


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to a private,
    loopback, link-local, reserved or multicast address (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget("must be an http or https URL with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise RefusedTarget(f"host {parts.hostname} does not resolve") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global or addr.is_multicast:
            raise RefusedTarget(
                f"host {parts.hostname} is a private or loopback address ({addr}); refused"
            )


def next_delay(attempts: int) -> float | None:
    """Seconds before the next attempt after ``attempts`` failed ones, with
    jitter; None when the schedule is spent."""
    if attempts > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempts - 1]
    return base * (1 + random.uniform(-JITTER, JITTER))  # noqa: S311 - jitter, not security


def _engine(app: Flask) -> sa.Engine:
    engine: sa.Engine = app.extensions["sqlalchemy"].engine
    return engine


def claim(engine: sa.Engine, now: datetime, lease_seconds: int) -> str | None:
    """Claim the next due message for ``lease_seconds``; its id, or None."""
    live = sa.or_(WebhookMessage.lease_until.is_(None), WebhookMessage.lease_until < now)
    due = sa.and_(WebhookMessage.status == "pending", WebhookMessage.next_attempt_at <= now, live)
    with engine.begin() as conn:
        for (message_id,) in conn.execute(
            sa.select(WebhookMessage.id)
            .where(due)
            .order_by(WebhookMessage.next_attempt_at)
            .limit(5)
        ):
            took = conn.execute(
                sa.update(WebhookMessage)
                .where(WebhookMessage.id == message_id, due)
                .values(lease_until=now + timedelta(seconds=lease_seconds))
            )
            if took.rowcount == 1:
                return str(message_id)
    return None


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None]:
    """(status code, error) of one POST; redirects are not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kw: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - checked target
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, type(exc).__name__


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "WoundTrack-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, at, body),
    }


def send(app: Flask, message_id: str, now: datetime | None = None, *, manual: bool = False) -> str:
    """Attempt a claimed message once and record the outcome: "delivered",
    "retry", "failed" or "gone" (410: endpoint disabled)."""
    import json

    engine = _engine(app)
    with engine.connect() as conn:
        msg = conn.execute(sa.select(WebhookMessage).where(WebhookMessage.id == message_id)).one()
        hook = conn.execute(sa.select(Webhook).where(Webhook.id == msg.webhook_id)).one()
    sent_at = utcnow()
    body = json.dumps(msg.payload, separators=(",", ":")).encode()
    code: int | None
    error: str | None
    started = time.monotonic()
    if not hook.active:
        code, error = None, "endpoint disabled"
    else:
        try:
            check_target(hook.url, bool(app.config.get("WEBHOOK_ALLOW_PRIVATE")))
        except RefusedTarget:
            code, error = None, "target refused (private address)"
        else:
            headers = signed_headers(hook.secret, msg.id, sent_at, body)
            code, error = _post(
                hook.url, body, headers, float(app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
            )
    took_ms = int((time.monotonic() - started) * 1000)
    return _record(engine, msg, hook, code, error, took_ms, now or utcnow(), manual)


def _record(
    engine: sa.Engine,
    msg: Any,
    hook: Any,
    code: int | None,
    error: str | None,
    took_ms: int,
    now: datetime,
    manual: bool,
) -> str:
    attempts = msg.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "lease_until": None}
    if code is not None and 200 <= code < 300:
        outcome = "delivered"
        values.update(status="delivered", delivered_at=now)
    elif code == 410 or not hook.active:
        outcome = "gone"
        values.update(status="failed")
    else:
        delay = next_delay(attempts)
        if delay is None:
            outcome = "failed"
            values.update(status="failed")
        else:
            outcome = "retry"
            values.update(next_attempt_at=now + timedelta(seconds=delay))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(WebhookAttempt).values(
                webhook_id=msg.webhook_id,
                message_id=msg.id,
                at=now,
                attempt=attempts,
                status_code=code,
                error=error,
                duration_ms=took_ms,
                manual=manual,
            )
        )
        conn.execute(sa.update(WebhookMessage).where(WebhookMessage.id == msg.id).values(**values))
        if code == 410:
            conn.execute(
                sa.update(Webhook)
                .where(Webhook.id == hook.id)
                .values(active=False, disabled_at=now, disabled_reason="endpoint answered 410 Gone")
            )
    return outcome


def deliver_due(app: Flask, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Deliver every message due at ``now`` (default: the current time), one
    claim at a time. Returns counts by outcome."""
    lease = int(app.config.get("WEBHOOK_LEASE_SECONDS", 120))
    counts: dict[str, int] = {}
    for _ in range(limit):
        at = now or utcnow()
        message_id = claim(_engine(app), at, lease)
        if message_id is None:
            break
        outcome = send(app, message_id, at)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _run(app: Flask) -> None:
    with app.app_context():
        try:
            counts = deliver_due(app)
        except Exception:  # a background thread: log, the sweep retries
            log.exception("webhook delivery failed")
            return
        retry_in = _next_due_in(app)
    if retry_in is not None and counts.get("retry"):
        timer = threading.Timer(retry_in, _run, args=(app,))
        timer.daemon = True
        timer.start()


def _next_due_in(app: Flask) -> float | None:
    with _engine(app).connect() as conn:
        due = conn.scalar(
            sa.select(sa.func.min(WebhookMessage.next_attempt_at)).where(
                WebhookMessage.status == "pending"
            )
        )
    if due is None:
        return None
    if due.tzinfo is None:
        from app.core.db import naive_as_utc

        due = naive_as_utc(due)
    return max(0.0, (due - utcnow()).total_seconds())


def kick(app: Flask) -> None:
    """Start delivering (after a commit queued messages): an RQ job when
    REDIS_URL is set, else a thread. WEBHOOK_AUTODELIVER=0 leaves it to the
    sweep (and to tests)."""
    if not app.config.get("WEBHOOK_AUTODELIVER", True):
        return
    if app.config.get("REDIS_URL"):
        from redis import Redis
        from rq import Queue

        try:
            queue = Queue(RQ_QUEUE, connection=Redis.from_url(app.config["REDIS_URL"]))
            queue.enqueue(RQ_TASK, result_ttl=600)
        except Exception:  # Redis down: the sweep delivers what is due
            log.exception("webhook delivery could not be queued")
        return
    threading.Thread(target=_run, args=(app,), name="webhooks", daemon=True).start()
