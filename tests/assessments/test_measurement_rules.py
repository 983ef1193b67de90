"""A measurement needs its length and width together; an open measurement after
a healed wound's healed date reopens the wound (and keeps the healing)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.assessments.helpers import count_rows, make_wound, seed_ulcer_body

URL = "/api/v1/wounds/{}/assessments"


# --- length and width -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"length_cm": 2.0, "width_cm": None}, "width_cm"), ({"width_cm": 1.5}, "length_cm")],
)
def test_a_length_without_a_width_is_refused(app, nurse, wound, given, missing):
    from app.assessments.models import Assessment

    body = seed_ulcer_body(**given)
    if "length_cm" not in given:
        del body["length_cm"]
    r = nurse.post(URL.format(wound), json=body)
    assert r.status_code == 422
    assert r.headers["Content-Type"] == "application/problem+json"
    assert list(r.json["errors"]) == [missing]
    assert "an area needs both" in r.json["errors"][missing][0]
    assert count_rows(app, Assessment) == 0


def test_an_amendment_cannot_leave_a_length_alone(nurse, wound):
    a = nurse.post(URL.format(wound), json=seed_ulcer_body()).json
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.patch(url, json={"width_cm": None}, etag='"v1"')
    assert r.status_code == 422 and list(r.json["errors"]) == ["width_cm"]
    # both together, or a change of one against the other stored, is fine
    assert nurse.patch(url, json={"length_cm": 1.5}, etag='"v1"').status_code == 200
    r = nurse.patch(url, json={"length_cm": None, "width_cm": None}, etag='"v2"')
    assert r.status_code == 200 and r.json["area_cm2"] is None
    # neither recorded: a change elsewhere is not checked
    assert nurse.patch(url, json={"notes": "seen"}, etag='"v3"').status_code == 200


# --- reopening a healed wound ----------------------------------------------------------


@pytest.fixture
def healed_wound(app, clinic):
    """A wound recorded healed on 20 March 2025, its onset 1 March."""
    from app.extensions import db
    from app.wounds.models import Wound

    wid = make_wound(app, clinic)
    with app.app_context():
        w = db.session.get(Wound, wid)
        w.status, w.healed_on = "healed", date(2025, 3, 20)
        db.session.commit()
    return wid


def _wound(nurse, wid):
    return nurse.get(f"/api/v1/wounds/{wid}").json


def test_an_open_measurement_after_the_healed_date_reopens_the_wound(nurse, healed_wound):
    body = seed_ulcer_body(
        id=str(uuid.uuid4()),
        assessed_at="2025-04-02T09:00:00+00:00",
        length_cm=1.2,
        width_cm=1.0,
    )
    r = nurse.post(URL.format(healed_wound), json=body)
    assert r.status_code == 201, r.json
    w = _wound(nurse, healed_wound)
    # version 2 was the healing; 3 the reopening
    assert (w["status"], w["healed_on"], w["version"]) == ("open", None, 3)
    assert w["closures"] == [
        {
            "healed_on": "2025-03-20",
            "reopened_at": "2025-04-02T09:00:00+00:00",
            "reopened_by": "assessment",
            "assessment_id": r.json["id"],
        }
    ]
    # an amendment like any other: in the wound's history, by the nurse
    versions = nurse.get(f"/api/v1/wounds/{healed_wound}/history").json["items"]
    assert versions[-1]["changed_fields"] == ["closures", "healed_on", "status"]
    assert versions[-1]["changed_by"] == str(nurse.user_id)
    # the trajectory shows both episodes
    t = nurse.get(f"/api/v1/wounds/{healed_wound}/trajectory").json
    assert t["status"] == "recurred" and t["episode"] == 2
    assert t["episodes"][0]["closed_on"] == "2025-03-20"
    assert t["episodes"][0]["closed_by"] == "earlier_healing"
    # a replay of the same create does not reopen anything again
    again = nurse.post(URL.format(healed_wound), json=body)
    assert again.status_code == 200
    assert _wound(nurse, healed_wound)["version"] == 3


def test_the_audit_trail_names_the_reopening(app, nurse, healed_wound):
    import sqlalchemy as sa

    from app.core.audit import AuditEvent
    from app.extensions import db

    body = seed_ulcer_body(assessed_at="2025-04-02T09:00:00+00:00")
    nurse.post(URL.format(healed_wound), json=body)
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.record_id == str(healed_wound))
        ).all()
    assert "update" in actions


@pytest.mark.parametrize(
    "overrides",
    [
        # on the healed date itself (UTC): it belongs to the healing it ends
        {"assessed_at": "2025-03-20T23:00:00+00:00"},
        # before it
        {"assessed_at": "2025-03-15T09:00:00+00:00"},
        # closed, and with nothing measured
        {"closed": True, "length_cm": 0, "width_cm": 0, "depth_cm": None, "tissue": None},
        {"length_cm": None, "width_cm": None},
    ],
)
def test_what_does_not_reopen_a_healed_wound(nurse, healed_wound, overrides):
    body = seed_ulcer_body(**{"assessed_at": "2025-04-02T09:00:00+00:00", **overrides})
    if overrides.get("closed"):
        body["findings"] = {"ulceration": "none", "desquamation": "none"}
        body["exudate_amount"] = "none"
    assert nurse.post(URL.format(healed_wound), json=body).status_code == 201
    w = _wound(nurse, healed_wound)
    assert (w["status"], w["healed_on"], w["closures"]) == ("healed", "2025-03-20", None)


def test_an_amendment_that_opens_the_area_reopens_the_wound(nurse, healed_wound):
    body = seed_ulcer_body(assessed_at="2025-04-02T09:00:00+00:00", length_cm=None, width_cm=None)
    a = nurse.post(URL.format(healed_wound), json=body).json
    assert _wound(nurse, healed_wound)["status"] == "healed"
    r = nurse.patch(
        f"/api/v1/assessments/{a['id']}", json={"length_cm": 1.0, "width_cm": 0.8}, etag='"v1"'
    )
    assert r.status_code == 200
    w = _wound(nurse, healed_wound)
    assert w["status"] == "open"
    assert w["closures"][0]["assessment_id"] == a["id"]
