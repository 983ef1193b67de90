"""Alerts tests: a wound with recent onset (so it is not overdue from the
start) and helpers to post assessments."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.assessments.helpers import make_wound

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _webhook_config(app):
    """Delivery is driven by the tests (deliver_due); receivers are local."""
    app.config.update(WEBHOOK_AUTODELIVER=False, WEBHOOK_ALLOW_PRIVATE=True)
    yield
    app.config.update(WEBHOOK_AUTODELIVER=True, WEBHOOK_ALLOW_PRIVATE=False)


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic, in_skin_fold=False, onset_date=(NOW - timedelta(days=3)).date())


def body(days_ago: float, **kw):
    out = {
        "id": str(uuid.uuid4()),
        "assessed_at": (NOW - timedelta(days=days_ago)).isoformat(),
        "length_cm": 4.0,
        "width_cm": 4.0,
    }
    out.update(kw)
    return out


def post(actor, wound, days_ago: float, **kw):
    r = actor.post(f"/api/v1/wounds/{wound}/assessments", json=body(days_ago, **kw))
    assert r.status_code == 201, r.json
    return r


def alerts(actor, **args):
    r = actor.get("/api/v1/alerts", query_string=args)
    assert r.status_code == 200, r.json
    return r.json["items"]


def onset(days_ago: int) -> date:
    return (NOW - timedelta(days=days_ago)).date()
