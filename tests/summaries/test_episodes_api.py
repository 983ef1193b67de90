"""The trajectory, dashboard and patient summary with healing episodes, the
week-4 checkpoint, area methods and assessments at the same instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.summaries import helpers as h

START = date(2024, 3, 4)
TODAY = datetime.now(UTC).date()


def _trajectory(actor, wid):
    r = actor.get(f"/api/v1/wounds/{wid}/trajectory")
    assert r.status_code == 200, r.json
    return r.json


def test_the_checkpoint_and_the_recent_change(app, clinic, nurse):
    """Issue 18, 1: 10 -> 6.5 -> 1.0 cm2 on days 0, 28, 56 is on track again."""
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 10), (28, 6.5), (56, 1.0)])
    t = _trajectory(nurse, wid)
    assert t["status"] == "on_track"
    assert t["week4_checkpoint"]["state"] == "missed"
    assert t["week4_checkpoint"]["par_pct"] == 35.0 == t["par_week4_pct"]
    assert t["reasons"][1].startswith("week-4 checkpoint missed: PAR 35% at day 28")
    assert t["rule"] == "; ".join(t["reasons"])
    assert t["recent_change"]["change_pct"] == 84.6
    assert t["recent_change"]["required_pct"] == 40.0
    assert t["rules"]["recent_window_days"] == 28
    assert t["episode"] == 1 and len(t["episodes"]) == 1


def test_week_3_is_not_yet_week_4(app, clinic, nurse):
    """Issue 18, 2: a day-21 value is not "PAR at week 4"."""
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 4.0), (21, 2.6)])
    t = _trajectory(nurse, wid)
    assert t["week4_checkpoint"]["state"] == "not_yet_due"
    assert t["par_week4_pct"] is None
    assert t["recent_change"] is None
    assert t["status"] == "on_track"


def test_a_recurrence_through_the_api(app, clinic, nurse):
    """Closed at an assessment, open again: two episodes, the current judged alone;
    a radiation ulcer lies in an irradiated field."""
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 10), (14, 5)])
    h.assess(nurse, wid, h.at(START + timedelta(days=28)), closed=True)
    h.series(nurse, wid, START, [(42, 2.0), (49, 1.8)])
    t = _trajectory(nurse, wid)
    assert t["status"] == "recurred"
    assert t["reasons"][0] == (
        "episode 2: the wound closed on 2024-04-01 (an assessment found it closed);"
        " reopened on 2024-04-15 (open area 2.00 cm2 at the assessment)"
    )
    assert "biopsy to exclude tumour recurrence" in t["reasons"][1]
    assert [e["closed_by"] for e in t["episodes"]] == ["assessment", None]
    assert [s["episode"] for s in t["series"]] == [1, 1, 1, 2, 2]
    # PAR and the baseline are the current episode's: (2.0 - 1.8) / 2.0 = 10%
    assert t["par_pct"] == 10.0
    assert t["baseline"]["area_cm2"] == 2.0
    assert t["wound_status"] == "open"


def test_a_recurrence_outside_an_irradiated_field_needs_no_biopsy_prompt(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START, etiology="pressure")
    h.series(nurse, wid, START, [(0, 10), (14, 0), (21, 2)])
    t = _trajectory(nurse, wid)
    assert t["status"] == "recurred"
    assert not any("biopsy" in r for r in t["reasons"])


def test_a_reopened_wound_keeps_its_first_episode(app, clinic, nurse):
    """Issue 18, 3: recorded healed, then an open measurement: the wound is
    reopened and the trajectory shows both episodes (never "healed" at 1.5 cm2)."""
    wid = h.wound(
        app,
        clinic,
        h.patient(app, clinic),
        onset_date=START,
        status="healed",
        healed_on=START + timedelta(days=30),
        etiology="surgical",
    )
    h.series(nurse, wid, START, [(0, 10), (14, 5), (28, 1)])
    assert _trajectory(nurse, wid)["status"] == "healed"
    h.series(nurse, wid, START, [(40, 1.5)])
    t = _trajectory(nurse, wid)
    assert t["wound_status"] == "open" and t["healed_on"] is None
    assert t["status"] == "recurred"
    assert t["episodes"][0]["closed_on"] == (START + timedelta(days=30)).isoformat()
    assert t["episodes"][0]["closed_by"] == "earlier_healing"
    assert t["latest"]["area_cm2"] == 1.5
    assert not any("fell -" in r for r in t["reasons"])


def test_par_on_one_method(app, clinic, nurse):
    """Issue 18, 6: an ellipse baseline and a measured latest area that also has
    the ruler's length and width: PAR on the ellipse of both."""
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.assess(nurse, wid, h.at(START), length_cm=4.0, width_cm=2.0)  # ellipse 2 pi
    h.assess(
        nurse,
        wid,
        h.at(START + timedelta(days=14)),
        area_cm2=3.0,
        length_cm=3.0,
        width_cm=2.0,  # ellipse 1.5 pi
    )
    t = _trajectory(nurse, wid)
    assert [s["area_method"] for s in t["series"]] == ["ellipse", "measured"]
    assert t["area_methods"] == {
        "baseline": "ellipse",
        "latest": "measured",
        "compared_on": "ellipse",
        "mixed": True,
    }
    # (2 pi - 1.5 pi) / 2 pi = 25%, not (6.28 - 3) / 6.28 = 52% across methods
    assert t["par_pct"] == 25.0
    assert t["reasons"][-1] == (
        "PAR compares areas taken by different methods (ellipse -> measured): computed on"
        " the ellipse area of each"
    )


def test_two_assessments_at_one_instant_are_read_in_creation_order(app, clinic, nurse):
    """Issue 18, 5: the one recorded later is the later reading, on every summary."""
    pid = h.patient(app, clinic)
    wid = h.wound(app, clinic, pid, onset_date=TODAY - timedelta(days=20))
    when = h.at(TODAY - timedelta(days=20))
    h.assess(nurse, wid, when, area_cm2=10.0)
    later = h.at(TODAY - timedelta(days=6))
    first = h.assess(nurse, wid, later, area_cm2=9.0)
    second = h.assess(nurse, wid, later, area_cm2=6.0)
    t = _trajectory(nurse, wid)
    assert [s["assessment_id"] for s in t["series"][1:]] == [first["id"], second["id"]]
    assert t["latest"]["area_cm2"] == 6.0 and t["par_pct"] == 40.0
    item = nurse.get("/api/v1/dashboard").json["items"][0]
    assert (item["status"], item["par_pct"]) == (t["status"], 40.0)
    summary = nurse.get(f"/api/v1/patients/{pid}/summary").json["wounds"][0]
    assert (summary["status"], summary["par_pct"]) == (t["status"], 40.0)


@pytest.fixture
def recurred_and_stalled(app, clinic, nurse):
    pid = h.patient(app, clinic, family_name="Episodes")
    start = TODAY - timedelta(days=60)
    recurred = h.wound(app, clinic, pid, onset_date=start, body_site="left breast")
    h.series(nurse, recurred, start, [(0, 6), (14, 3), (28, 0), (50, 1.0), (56, 0.9)])
    stalled = h.wound(app, clinic, pid, onset_date=start, body_site="axilla")
    h.series(nurse, stalled, start, [(0, 10), (28, 9), (56, 8.8)])
    return {"recurred": recurred, "stalled": stalled, "patient": pid}


def test_the_dashboard_counts_and_filters_recurred_wounds(nurse, recurred_and_stalled):
    w = recurred_and_stalled
    body = nurse.get("/api/v1/dashboard").json
    assert body["counts"]["by_status"]["recurred"] == 1
    by_id = {it["wound_id"]: it for it in body["items"]}
    rec = by_id[str(w["recurred"])]
    assert rec["status"] == "recurred" and rec["episode"] == 2
    assert rec["week4_checkpoint"] == "not_yet_due"
    assert by_id[str(w["stalled"])]["week4_checkpoint"] == "missed"
    # priority: a recurrence before a stalled wound
    assert [it["wound_id"] for it in body["items"]] == [str(w["recurred"]), str(w["stalled"])]
    only = nurse.get("/api/v1/dashboard?status=recurred").json["items"]
    assert [it["wound_id"] for it in only] == [str(w["recurred"])]


def test_the_patient_summary_shows_the_reopening(app, nurse, recurred_and_stalled):
    from app.extensions import db
    from app.wounds.models import Wound

    w = recurred_and_stalled
    healed = TODAY - timedelta(days=20)
    with app.app_context():
        wound = db.session.get(Wound, w["stalled"])
        wound.status, wound.healed_on = "healed", healed
        db.session.commit()
    etag = nurse.get(f"/api/v1/wounds/{w['stalled']}").headers["ETag"]
    r = nurse.patch(f"/api/v1/wounds/{w['stalled']}", json={"status": "open"}, etag=etag)
    assert r.status_code == 200
    body = nurse.get(f"/api/v1/patients/{w['patient']}/summary").json
    kinds = [
        (e["kind"], e["on"]) for e in body["timeline"] if e.get("wound_id") == str(w["stalled"])
    ]
    assert ("wound_healed", healed.isoformat()) in kinds
    assert ("wound_reopened", TODAY.isoformat()) in kinds
    by_id = {x["id"]: x for x in body["wounds"]}
    assert by_id[str(w["recurred"])]["status"] == "recurred"
    assert by_id[str(w["recurred"])]["episode"] == 2
    # the stalled wound's measurements all precede the healed date: reopened, nothing since
    assert by_id[str(w["stalled"])]["status"] == "recurred"
    assert by_id[str(w["stalled"])]["episode"] == 2


def test_episode_answers_are_documented(app, client, clinic, nurse):
    """A reopened wound with nothing measured since, and mixed area methods:
    every key of the answers is in the OpenAPI document with its type and enum."""
    from tests.summaries.test_summary_schemas import _documented, _schema_of

    spec = client.get("/api/v1/openapi.json").json
    pid = h.patient(app, clinic)
    start = TODAY - timedelta(days=30)
    wid = h.wound(app, clinic, pid, onset_date=start)
    h.assess(nurse, wid, h.at(start), length_cm=4.0, width_cm=2.0)
    h.assess(nurse, wid, h.at(start + timedelta(days=7)), area_cm2=3.0, length_cm=3, width_cm=2)
    h.assess(nurse, wid, h.at(start + timedelta(days=14)), closed=True)
    etag = nurse.get(f"/api/v1/wounds/{wid}").headers["ETag"]
    healed = {"status": "healed", "healed_on": (start + timedelta(days=15)).isoformat()}
    assert nurse.patch(f"/api/v1/wounds/{wid}", json=healed, etag=etag).status_code == 200
    etag = nurse.get(f"/api/v1/wounds/{wid}").headers["ETag"]
    assert (
        nurse.patch(f"/api/v1/wounds/{wid}", json={"status": "open"}, etag=etag).status_code == 200
    )
    t = _trajectory(nurse, wid)
    assert t["status"] == "recurred" and t["episodes"][-1]["started_at"] is None
    path = "/api/v1/wounds/{wound_id}/trajectory"
    _documented(t, _schema_of(spec, path), spec, "trajectory")
    board = nurse.get("/api/v1/dashboard").json
    _documented(board, _schema_of(spec, "/api/v1/dashboard"), spec, "dashboard")
    summary = nurse.get(f"/api/v1/patients/{pid}/summary").json
    _documented(summary, _schema_of(spec, "/api/v1/patients/{patient_id}/summary"), spec, "s")
    closures = nurse.get(f"/api/v1/wounds/{wid}").json["closures"]
    assert [c["reopened_by"] for c in closures] == ["amendment"]
    wound_schema = spec["components"]["schemas"]["Wound"]["properties"]["closures"]
    _documented(closures, wound_schema, spec, "wound.closures")
    name = _schema_of(spec, path)["$ref"].rsplit("/", 1)[-1]
    assert "recurred" in spec["components"]["schemas"][name]["properties"]["status"]["enum"]
