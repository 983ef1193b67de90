"""The alerts inbox page, its acknowledge form (CSRF), the header badge and a
wound's alerts on its page."""

from __future__ import annotations

from tests.alerts.conftest import alerts, post
from tests.alerts.test_alerts_api import GRADE3
from tests.web.conftest import csrf_of, sign_in


def test_inbox_badge_acknowledge_and_wound_page(app, nurse, clinician, wound, outsider):
    post(nurse, wound, 1, **GRADE3)
    (alert,) = alerts(nurse)
    client = sign_in(app, clinician.email)
    page = client.get("/web/alerts")
    assert page.status_code == 200
    assert "CTCAE v5.0 grade 3" in page.text
    assert 'class="badge alert-count" aria-label="1 open">1<' in page.text
    wound_page = client.get(f"/web/wounds/{wound}")
    assert wound_page.status_code == 200 and "CTCAE v5.0 grade 3" in wound_page.text
    url = f"/web/alerts/{alert['id']}/acknowledge"
    assert client.post(url, data={"note": "x"}).status_code in (400, 403)  # no CSRF token
    assert alerts(nurse)[0]["status"] == "open"
    token = csrf_of(page.text)
    assert client.post(url, data={"note": " ", "csrf_token": token}).status_code == 422
    r = client.post(url, data={"note": "foam dressing", "csrf_token": token})
    assert r.status_code == 303
    assert alerts(nurse)[0]["status"] == "acknowledged"
    again = client.get("/web/alerts")
    assert "alert-count" not in again.text and "No alerts match." in again.text
    listed = client.get("/web/alerts?status=acknowledged")
    assert "foam dressing" in listed.text
    assert client.post(url, data={"note": "again", "csrf_token": token}).status_code == 409
    theirs = sign_in(app, outsider.email)
    assert "CTCAE v5.0 grade 3" not in theirs.get("/web/alerts?status=all").text
