"""Webhooks: a real HTTP receiver verifies Standard Webhooks signatures; retries
keep the webhook-id; a worker that dies mid-delivery loses nothing; 410
disables; private targets are refused unless allowed."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from app.core.db import utcnow
from tests.alerts.conftest import post
from tests.alerts.test_alerts_api import GRADE3


class Receiver:
    """A local HTTP endpoint answering the status codes in ``script`` (then
    200), recording what it received."""

    def __init__(self, script=()):
        self.script = list(script)
        self.received: list[tuple[dict, bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append((dict(self.headers), body, code))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(script=()):
        r = Receiver(script)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _register(
    clinic_admin, clinic, url, events=("alert.opened", "alert.acknowledged", "alert.resolved")
):
    r = clinic_admin.post(
        f"/api/v1/clinics/{clinic}/webhooks", json={"url": url, "events": list(events)}
    )
    assert r.status_code == 201, r.json
    return r.json


def _deliver(app, now=None):
    from app.alerts.delivery import deliver_due

    with app.app_context():
        return deliver_due(app, now=now)


def test_signed_thin_events_verify_with_standardwebhooks(
    app, nurse, clinic_admin, clinician, clinic, wound, receiver
):
    rx = receiver()
    hook = _register(clinic_admin, clinic, rx.url)
    assert hook["secret"].startswith("whsec_")
    listed = clinic_admin.get(f"/api/v1/clinics/{clinic}/webhooks").json
    assert listed[0]["id"] == hook["id"] and "secret" not in listed[0]
    post(nurse, wound, 1, **GRADE3)
    alert = nurse.get("/api/v1/alerts").json["items"][0]
    clinician.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": "seen"})
    post(nurse, wound, 0.5)
    assert _deliver(app) == {"delivered": 3}
    verifier = Verifier(hook["secret"])
    types = []
    for headers, body, _ in rx.received:
        event = verifier.verify(body, headers)
        types.append(event["type"])
        assert event["data"] == {
            "alert_id": alert["id"],
            "wound_id": str(wound),
            "clinic_id": str(clinic),
            "kind": "grade",
        }
        assert set(event) == {"type", "timestamp", "data"}
    assert types == ["alert.opened", "alert.acknowledged", "alert.resolved"]
    with pytest.raises(Exception):  # noqa: B017 - any verification failure
        Verifier(hook["secret"]).verify(rx.received[0][1] + b" ", rx.received[0][0])
    attempts = clinic_admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json["items"]
    assert [a["status_code"] for a in attempts] == [200, 200, 200]


def test_500_three_times_then_200_delivers_once_more_with_the_same_id(
    app, nurse, clinic_admin, clinic, wound, receiver
):
    rx = receiver([500, 500, 500])
    hook = _register(clinic_admin, clinic, rx.url, ["alert.opened"])
    post(nurse, wound, 1, **GRADE3)
    now = utcnow()
    outcomes = []
    for step in range(6):
        outcomes.append(_deliver(app, now=now + timedelta(hours=2 * step)))
    assert outcomes[:4] == [{"retry": 1}, {"retry": 1}, {"retry": 1}, {"delivered": 1}]
    assert outcomes[4:] == [{}, {}]
    assert [code for _, _, code in rx.received] == [500, 500, 500, 200]
    assert len({h["Webhook-Id"] for h, _, _ in rx.received}) == 1
    attempts = clinic_admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json["items"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    # manual redelivery: same webhook-id once more
    message_id = attempts[0]["message_id"]
    r = clinic_admin.post(f"/api/v1/webhooks/{hook['id']}/messages/{message_id}/redeliver")
    assert r.status_code == 202, r.json
    assert _deliver(app) == {"delivered": 1}
    assert rx.received[-1][0]["Webhook-Id"] == message_id


def test_retry_schedule_backs_off_over_about_a_day():
    from app.alerts.delivery import JITTER, RETRY_DELAYS, next_delay

    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    assert 20 * 3600 <= sum(RETRY_DELAYS) <= 30 * 3600
    for attempt, base in enumerate(RETRY_DELAYS, start=1):
        delay = next_delay(attempt)
        assert base * (1 - JITTER) <= delay <= base * (1 + JITTER)
    assert next_delay(len(RETRY_DELAYS) + 1) is None


def test_worker_killed_mid_delivery_loses_nothing(
    app, nurse, clinic_admin, clinic, wound, receiver, monkeypatch
):
    from app.alerts import delivery

    rx = receiver()
    _register(clinic_admin, clinic, rx.url, ["alert.opened"])
    post(nurse, wound, 1, **GRADE3)

    def die(*args, **kw):
        raise SystemExit("worker killed")

    monkeypatch.setattr(delivery, "_post", die)
    now = utcnow()
    with pytest.raises(SystemExit):
        _deliver(app, now=now)
    monkeypatch.undo()
    assert _deliver(app, now=now) == {}  # the dead worker's lease still holds
    lease = app.config["WEBHOOK_LEASE_SECONDS"]
    assert _deliver(app, now=now + timedelta(seconds=lease + 1)) == {"delivered": 1}
    assert len(rx.received) == 1


def test_410_disables_the_endpoint(app, nurse, clinic_admin, clinic, wound, receiver):
    rx = receiver([410])
    _register(clinic_admin, clinic, rx.url)
    post(nurse, wound, 1, **GRADE3)
    assert _deliver(app) == {"gone": 1}
    (listed,) = clinic_admin.get(f"/api/v1/clinics/{clinic}/webhooks").json
    assert listed["active"] is False and "410" in listed["disabled_reason"]
    post(nurse, wound, 0.5)  # resolved: nothing queued for a disabled endpoint
    assert _deliver(app) == {}
    assert len(rx.received) == 1


def test_private_targets_refused_unless_allowed(app, clinic_admin, clinic, nurse, researcher):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in (
        "http://127.0.0.1:9/x",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://169.254.169.254/x",
        "ftp://example.org/x",
    ):
        r = clinic_admin.post(
            f"/api/v1/clinics/{clinic}/webhooks", json={"url": url, "events": ["alert.opened"]}
        )
        assert r.status_code == 422, (url, r.json)
    bad = {"url": "https://example.org/x", "events": ["alert.exploded"]}
    assert clinic_admin.post(f"/api/v1/clinics/{clinic}/webhooks", json=bad).status_code == 422
    ok = {"url": "http://127.0.0.1:9/x", "events": ["alert.opened"]}
    assert nurse.post(f"/api/v1/clinics/{clinic}/webhooks", json=ok).status_code == 403
    assert researcher.get(f"/api/v1/clinics/{clinic}/webhooks").status_code == 403


def test_disable_stops_delivery(app, nurse, clinic_admin, clinic, wound, receiver, outsider):
    rx = receiver()
    hook = _register(clinic_admin, clinic, rx.url)
    assert outsider.post(f"/api/v1/webhooks/{hook['id']}/disable").status_code in (403, 404)
    r = clinic_admin.post(f"/api/v1/webhooks/{hook['id']}/disable")
    assert r.status_code == 200 and r.json["active"] is False
    post(nurse, wound, 1, **GRADE3)
    assert _deliver(app) == {}
    assert rx.received == []


def test_thread_delivery_after_commit(app, nurse, clinic_admin, clinic, wound, receiver):
    rx = receiver()
    _register(clinic_admin, clinic, rx.url, ["alert.opened"])
    app.config["WEBHOOK_AUTODELIVER"] = True
    post(nurse, wound, 1, **GRADE3)
    for thread in threading.enumerate():
        if thread.name == "webhooks":
            thread.join(timeout=30)
    assert len(rx.received) == 1
