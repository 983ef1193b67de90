"""Prometheus metrics at /metrics, when METRICS_ENABLED is set.

- ``woundtrack_http_requests_total{method, route, status}``
- ``woundtrack_http_request_duration_seconds{method, route}`` (histogram)
- gauges registered by the domains (``register_gauge``), read at scrape time:
  ``woundtrack_export_jobs{status}``, export jobs queued / running now (the job
  queue depth), registered by app/exports, so every instance reports the same
  shared queue.

Labels are route templates (``/api/v1/patients/<uuid:patient_id>``), never
concrete paths, so no record id or other patient data reaches the metrics.
Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR to an empty
directory so the workers' counts are added up (prometheus_client multiprocess
mode). With METRICS_TOKEN set, a scrape must send it as a bearer token (401
otherwise); either way, expose the endpoint on the internal network only (the
reverse proxy should not route /metrics; see README "Running in production").
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.core.errors import Problem

REQUESTS = Counter(
    "woundtrack_http_requests_total",
    "HTTP requests by route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "woundtrack_http_request_duration_seconds",
    "Time to answer a request, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_GAUGES = "metrics.gauges"  # app.extensions key: name -> _ScrapedGauge


def init_app(app: Flask) -> None:
    """Count and time every request; serve /metrics. Both do nothing (404)
    unless METRICS_ENABLED is true at request time."""

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        if not current_app.config.get("METRICS_ENABLED"):
            return response
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        if route == "/metrics":
            return response
        started = g.get("metrics_started", time.perf_counter())
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    app.add_url_rule("/metrics", "metrics", _metrics)


# A gauge read at scrape time: label value -> value.
GaugeCallback = Callable[[], Mapping[str, float]]


@dataclass(frozen=True)
class _ScrapedGauge:
    help: str
    label: str
    read: GaugeCallback


def register_gauge(app: Flask, name: str, help: str, label: str, read: GaugeCallback) -> None:
    """Report the gauge ``name{label=...}`` on every scrape of ``app``'s /metrics,
    with the values ``read()`` returns then (label value -> value).

    This is how a domain adds a metric that must be read fresh from the shared
    database (the export queue depth), so that every instance reports the same
    value, without this core module importing the domain. Registering a name
    again replaces it.
    """
    app.extensions.setdefault(_GAUGES, {})[name] = _ScrapedGauge(help, label, read)


def _scraped_gauges() -> bytes:
    """The registered gauges, read now, in the exposition format."""
    registry = CollectorRegistry()
    for name, spec in current_app.extensions.get(_GAUGES, {}).items():
        gauge = Gauge(name, spec.help, [spec.label], registry=registry)
        for value, count in spec.read().items():
            gauge.labels(value).set(count)
    return generate_latest(registry)


def _check_token() -> None:
    """401 unless the scrape sends METRICS_TOKEN (when one is set) as its bearer token."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    # Constant-time comparison: response timing must not reveal the token.
    matches = hmac.compare_digest(sent.strip().encode(), expected.encode())
    if scheme.lower() != "bearer" or not matches:
        raise Problem(
            401,
            "Unauthorized",
            "Send the metrics token (METRICS_TOKEN) as a bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="woundtrack-metrics"'},
        )


def _metrics() -> Response:
    if not current_app.config.get("METRICS_ENABLED"):
        abort(404)
    _check_token()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body + _scraped_gauges(), mimetype=CONTENT_TYPE_LATEST)
