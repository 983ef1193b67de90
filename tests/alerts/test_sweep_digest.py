"""`flask alerts sweep` (overdue, safe to repeat) and `flask alerts digest`
against a local SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.db import utcnow
from tests.alerts.conftest import alerts, post


def _sweep(app, now=None):
    from app.alerts.sweep import sweep_overdue
    from app.extensions import db

    with app.app_context():
        try:
            return sweep_overdue(db.session, now=now)
        finally:
            db.session.remove()


def test_sweep_opens_overdue_once_and_an_assessment_resolves_it(app, nurse, wound, clinic):
    post(nurse, wound, 1)
    assert _sweep(app) == {"opened": 0, "resolved": 0}
    later = utcnow() + timedelta(days=8)
    assert _sweep(app, later) == {"opened": 1, "resolved": 0}
    assert _sweep(app, later) == {"opened": 0, "resolved": 0}  # a second instance: nothing new
    (alert,) = alerts(nurse, kind="overdue")
    assert alert["figures"]["overdue_days"] == 7 and alert["figures"]["days_since"] == 9
    post(nurse, wound, 0)
    assert alerts(nurse, kind="overdue")[0]["status"] == "resolved"


def test_sweep_follows_the_clinic_interval(app, nurse, clinic_admin, wound, clinic):
    post(nurse, wound, 1)
    c = clinic_admin.get(f"/api/v1/clinics/{clinic}")
    r = clinic_admin.patch(
        f"/api/v1/clinics/{clinic}", etag=c.headers["ETag"], json={"overdue_assessment_days": 14}
    )
    assert r.status_code == 200, r.json
    assert _sweep(app, utcnow() + timedelta(days=8)) == {"opened": 0, "resolved": 0}
    assert _sweep(app, utcnow() + timedelta(days=15))["opened"] == 1


def test_sweep_command_runs(app, nurse, wound):
    post(nurse, wound, 1)
    result = app.test_cli_runner().invoke(args=["alerts", "sweep"])
    assert result.exit_code == 0, result.output
    assert "0 opened" in result.output


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Inbox(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def test_digest_sends_counts_and_links_only(app, nurse, clinician, wound, clinic, smtp):
    inbox, url = smtp
    post(
        nurse,
        wound,
        1,
        findings={"erythema": "brisk", "desquamation": "moist", "moist_beyond_skin_folds": True},
    )
    assert clinician.put(f"/api/v1/clinics/{clinic}/alert-digest").json["subscribed"] is True
    app.config["SMTP_URL"] = url
    try:
        result = app.test_cli_runner().invoke(args=["alerts", "digest"])
    finally:
        app.config["SMTP_URL"] = None
    assert result.exit_code == 0, result.output
    assert "1 digest" in result.output
    (message,) = inbox.messages
    assert message["To"] == clinician.email
    text = message.get_payload(decode=True).decode()
    assert "1 open alert" in text and "CTCAE grade 3 or more" in text
    assert "/web/alerts" in text
    assert "Fictitious" not in text and "MRN" not in text and str(wound) not in text
    assert nurse.get("/api/v1/alerts").json["items"][0]["rule"] not in text
    assert clinician.delete(f"/api/v1/clinics/{clinic}/alert-digest").json["subscribed"] is False


def _subscriptions(app, user_email):
    import sqlalchemy as sa

    from app.alerts.models import DigestSubscription
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        try:
            return db.session.execute(
                sa.select(DigestSubscription.id, DigestSubscription.ended_at)
                .join(User, User.id == DigestSubscription.user_id)
                .where(User.email == user_email)
            ).all()
        finally:
            db.session.remove()


def _digest(app, url):
    app.config["SMTP_URL"] = url
    try:
        result = app.test_cli_runner().invoke(args=["alerts", "digest"])
    finally:
        app.config["SMTP_URL"] = None
    assert result.exit_code == 0, result.output
    return result.output


def test_unsubscribe_ends_the_row_and_resubscribe_revives_it(
    app, nurse, clinician, wound, clinic, smtp
):
    """Nothing is hard-deleted: unsubscribing keeps the row with ended_at set
    (and no digest goes out for it); subscribing again revives the same row."""
    inbox, url = smtp
    post(
        nurse,
        wound,
        1,
        findings={"erythema": "brisk", "desquamation": "moist", "moist_beyond_skin_folds": True},
    )
    digest = f"/api/v1/clinics/{clinic}/alert-digest"
    assert clinician.put(digest).json["subscribed"] is True
    ((sub_id, ended),) = _subscriptions(app, clinician.email)
    assert ended is None

    assert clinician.delete(digest).json["subscribed"] is False
    ((same, ended),) = _subscriptions(app, clinician.email)
    assert same == sub_id and ended is not None
    assert "0 digest" in _digest(app, url)
    assert inbox.messages == []

    assert clinician.delete(digest).status_code == 200  # again: still ended, at the first time
    assert _subscriptions(app, clinician.email) == [(sub_id, ended)]

    assert clinician.put(digest).json["subscribed"] is True
    assert _subscriptions(app, clinician.email) == [(sub_id, None)]
    assert "1 digest" in _digest(app, url)
    assert [m["To"] for m in inbox.messages] == [clinician.email]


def test_digest_without_smtp_url_says_so(app):
    result = app.test_cli_runner().invoke(args=["alerts", "digest"])
    assert result.exit_code != 0 and "SMTP_URL" in result.output
