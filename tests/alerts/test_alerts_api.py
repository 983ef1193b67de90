"""Alerts as records: opened and resolved in the transaction of the write,
one per wound and kind, acknowledged with a note, listed with clinic isolation."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.alerts.conftest import alerts, post

GRADE3 = {
    "findings": {"erythema": "brisk", "desquamation": "moist", "moist_beyond_skin_folds": True}
}
GRADE4 = {"findings": {"ulceration": "full_thickness", "necrosis": True}}


def test_grade_alert_opens_once_and_resolves_when_the_grade_falls(nurse, wound):
    post(nurse, wound, 2)
    assert alerts(nurse, wound_id=wound) == []
    r = post(nurse, wound, 1, **GRADE3)
    assert r.json["ctcae_grade"]["value"] == 3
    (alert,) = alerts(nurse, wound_id=wound)
    assert alert["kind"] == "grade" and alert["status"] == "open"
    assert alert["figures"]["grade"] == 3 and "grade 3" in alert["rule"]
    post(nurse, wound, 0.5, **GRADE3)  # still grade 3: no second alert
    assert len(alerts(nurse, wound_id=wound)) == 1
    post(nurse, wound, 0.1)
    (resolved,) = alerts(nurse, wound_id=wound)
    assert resolved["status"] == "resolved" and resolved["resolution"] == "condition cleared"
    assert alerts(nurse, wound_id=wound, status="open") == []


def test_grade_4_escalates_a_grade_3_alert(nurse, wound):
    post(nurse, wound, 2, **GRADE3)
    post(nurse, wound, 1, **GRADE4)
    items = {a["status"]: a for a in alerts(nurse, wound_id=wound, kind="grade")}
    assert items["open"]["figures"]["grade"] == 4 and items["open"]["figures"]["severe"]
    assert items["resolved"]["resolution"].startswith("superseded")


def test_deleting_the_assessment_resolves_and_restoring_reopens(nurse, admin, wound):
    r = post(nurse, wound, 1, **GRADE3)
    assert alerts(nurse, wound_id=wound, status="open")
    assert nurse.delete(
        f"/api/v1/assessments/{r.json['id']}", etag=r.headers["ETag"]
    ).status_code in (200, 204)
    assert alerts(nurse, wound_id=wound, status="open") == []
    assert admin.post(f"/api/v1/assessments/{r.json['id']}/restore").status_code == 200
    (again,) = alerts(nurse, wound_id=wound, status="open")
    assert again["kind"] == "grade"


def test_infection_signs_round_trip_and_three_raise_an_alert(nurse, wound):
    two = {"infection": {"non_healing": True, "debris": True, "temperature": None}}
    r = post(nurse, wound, 1, **two)
    assert r.json["infection"]["non_healing"] is True
    assert r.json["infection"]["smell"] is None
    assert alerts(nurse, wound_id=wound) == []
    three = {"infection": {"non_healing": True, "debris": True, "smell": True}}
    post(nurse, wound, 0.5, **three)
    (alert,) = alerts(nurse, wound_id=wound)
    assert alert["kind"] == "infection" and alert["figures"]["nerds"] == [
        "non_healing",
        "debris",
        "smell",
    ]
    bad = nurse.post(
        f"/api/v1/wounds/{wound}/assessments",
        json={"assessed_at": "2026-01-01T00:00:00Z", "infection": {"pus": True}},
    )
    assert bad.status_code == 422


def test_deteriorating_alert(nurse, wound):
    post(nurse, wound, 2, length_cm=2.0, width_cm=2.0)
    post(nurse, wound, 1, length_cm=3.0, width_cm=3.0)
    (alert,) = alerts(nurse, wound_id=wound, kind="deteriorating")
    assert alert["status"] == "open" and "above baseline" in alert["rule"]


def test_recurrence_after_closure(nurse, wound):
    post(nurse, wound, 2)
    post(nurse, wound, 1.5, closed=True, length_cm=0, width_cm=0)
    assert alerts(nurse, wound_id=wound, kind="recurrence") == []
    post(nurse, wound, 1)
    (alert,) = alerts(nurse, wound_id=wound, kind="recurrence")
    assert alert["status"] == "open"


def test_acknowledge_with_note_is_audited_and_once(app, nurse, clinician, wound):
    post(nurse, wound, 1, **GRADE3)
    (alert,) = alerts(nurse, wound_id=wound)
    url = f"/api/v1/alerts/{alert['id']}/acknowledge"
    assert clinician.post(url, json={}).status_code == 422
    assert clinician.post(url, json={"note": "   "}).status_code == 422
    r = clinician.post(url, json={"note": "dressing changed to silicone foam"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "acknowledged" and r.json["acknowledge_note"].startswith("dressing")
    assert r.json["acknowledged_by"] == str(clinician.user_id)
    assert clinician.post(url, json={"note": "again"}).status_code == 409
    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        actions = set(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.record_id == alert["id"])
            )
        )
    assert {"create", "acknowledge"} <= actions
    # still in force (acknowledged) until the condition clears
    post(nurse, wound, 0.5, **GRADE3)
    assert alerts(nurse, wound_id=wound)[0]["status"] == "acknowledged"
    post(nurse, wound, 0.1)
    assert alerts(nurse, wound_id=wound)[0]["status"] == "resolved"


def test_roles_and_clinic_isolation(nurse, researcher, outsider, clinic_admin, wound, clinic):
    post(nurse, wound, 1, **GRADE3)
    (alert,) = alerts(nurse)
    assert alerts(clinic_admin, clinic_id=str(clinic))[0]["id"] == alert["id"]
    assert researcher.get("/api/v1/alerts").status_code == 403
    assert alerts(outsider) == []
    assert outsider.get(f"/api/v1/alerts/{alert['id']}").status_code == 404
    assert (
        outsider.get("/api/v1/alerts", query_string={"clinic_id": str(clinic)}).status_code == 404
    )
    ack = outsider.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": "x"})
    assert ack.status_code == 404
    assert (
        clinic_admin.post(
            f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": "x"}
        ).status_code
        == 403
    )
    assert nurse.get("/api/v1/alerts", query_string={"kind": "nope"}).status_code == 422


def test_cursor_paging_and_updated_since(nurse, app, clinic):
    from tests.assessments.helpers import make_wound

    wounds = [make_wound(app, clinic, in_skin_fold=False) for _ in range(3)]
    # onset 2025-03-01: each is overdue from the start
    first = alerts(nurse, limit=2)
    assert len(first) == 2
    r = nurse.get("/api/v1/alerts", query_string={"limit": 2})
    rest = nurse.get(
        "/api/v1/alerts", query_string={"limit": 2, "cursor": r.json["next_cursor"]}
    ).json
    ids = [a["id"] for a in r.json["items"]] + [a["id"] for a in rest["items"]]
    assert len(set(ids)) == 3 and rest["next_cursor"] is None
    since = max(a["updated_at"] for a in r.json["items"] + rest["items"])
    post(nurse, wounds[0], 1)  # resolves that wound's overdue alert
    delta = alerts(nurse, updated_since=since)
    assert [a["wound_id"] for a in delta if a["status"] == "resolved"] == [str(wounds[0])]


def test_healing_the_wound_resolves_its_alerts(app, nurse, wound):
    post(nurse, wound, 1, **GRADE3)
    w = nurse.get(f"/api/v1/wounds/{wound}")
    r = nurse.patch(
        f"/api/v1/wounds/{wound}",
        etag=w.headers["ETag"],
        json={"status": "healed", "healed_on": w.json["onset_date"]},
    )
    assert r.status_code == 200, r.json
    (alert,) = alerts(nurse, wound_id=wound)
    assert alert["status"] == "resolved" and alert["resolution"] == "wound healed"


def test_lab_alert_during_systemic_therapy(nurse, app, clinic):
    from tests.assessments.helpers import make_wound
    from tests.therapy.conftest import anlotinib

    wound = make_wound(app, clinic)
    from app.extensions import db
    from app.wounds.models import Wound

    with app.app_context():
        patient = str(db.session.get(Wound, wound).patient_id)
    lab = {
        "test": "neutrophils",
        "value": 0.8,
        "unit": "10^9/L",
        "taken_at": "2025-03-10T08:00:00Z",
    }
    assert nurse.post(f"/api/v1/patients/{patient}/lab-results", json=lab).status_code == 201
    assert alerts(nurse, kind="lab") == []  # no systemic therapy then
    course = anlotinib(start_date="2025-03-01")
    assert (
        nurse.post(f"/api/v1/patients/{patient}/systemic-therapies", json=course).status_code == 201
    )
    (alert,) = alerts(nurse, kind="lab")
    assert alert["figures"] == {"grades": {"neutrophils": 3}}
    better = {**lab, "value": 1.8, "taken_at": "2025-03-17T08:00:00Z"}
    assert nurse.post(f"/api/v1/patients/{patient}/lab-results", json=better).status_code == 201
    assert alerts(nurse, kind="lab")[0]["status"] == "resolved"


def test_a_clinician_override_is_the_grade_alerts_follow(nurse, clinician, wound):
    r = post(nurse, wound, 1, **GRADE3)
    assert alerts(nurse, wound_id=wound, status="open")
    url = f"/api/v1/assessments/{r.json['id']}/grade-override"
    down = {"scale": "ctcae", "value": 2, "reason": "moist areas confined to the fold"}
    assert clinician.post(url, json=down).status_code == 201
    assert alerts(nurse, wound_id=wound, status="open") == []
    withdraw = {"scale": "ctcae", "value": None, "reason": "entered in error"}
    assert clinician.post(url, json=withdraw).status_code == 201
    (again,) = alerts(nurse, wound_id=wound, status="open")
    assert again["figures"]["grade"] == 3


def test_recurrence_after_a_recorded_healing(app, clinic, nurse):
    """A wound recorded healed and reopened by a later open measurement (the
    healing kept in Wound.closures) has recurred: one recurrence alert."""
    from tests.alerts.conftest import NOW, make_wound

    wound = make_wound(
        app, clinic, in_skin_fold=False, onset_date=(NOW - timedelta(days=10)).date()
    )
    post(nurse, wound, 9)
    w = nurse.get(f"/api/v1/wounds/{wound}")
    healed_on = (NOW - timedelta(days=6)).date().isoformat()
    r = nurse.patch(
        f"/api/v1/wounds/{wound}",
        etag=w.headers["ETag"],
        json={"status": "healed", "healed_on": healed_on},
    )
    assert r.status_code == 200, r.json
    assert alerts(nurse, wound_id=wound, kind="recurrence") == []
    post(nurse, wound, 2, length_cm=1.0, width_cm=1.0)
    reopened = nurse.get(f"/api/v1/wounds/{wound}").json
    assert reopened["status"] == "open" and reopened["closures"][0]["healed_on"] == healed_on
    (alert,) = alerts(nurse, wound_id=wound, kind="recurrence")
    assert alert["status"] == "open"


def test_week4_alert_waits_for_the_checkpoint(app, clinic, nurse):
    """PAR from day 21 is not PAR at week 4: no alert until an assessment on or
    after day 28 shows the miss."""
    from tests.alerts.conftest import NOW, make_wound

    wound = make_wound(
        app, clinic, in_skin_fold=False, onset_date=(NOW - timedelta(days=40)).date()
    )
    post(nurse, wound, 35, length_cm=4.0, width_cm=4.0)
    post(nurse, wound, 14, length_cm=3.8, width_cm=3.8)  # day 21: 10% smaller
    assert alerts(nurse, wound_id=wound, kind="week4_missed") == []
    post(nurse, wound, 5, length_cm=3.7, width_cm=3.7)  # day 30: still far from 40%
    (alert,) = alerts(nurse, wound_id=wound, kind="week4_missed")
    assert alert["status"] == "open" and alert["figures"]["par_week4_pct"] < 40
