"""GET /dashboard and GET /patients/{id}/summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.summaries import helpers as h

TODAY = datetime.now(UTC).date()


def _days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.fixture
def ward(app, clinic, nurse, clinician):
    """Four open wounds, one per status, with known grades and recency, and one
    healed wound (not on the dashboard)."""
    start = _days_ago(40)
    pid = h.patient(app, clinic, family_name="Ward")
    w = {}
    # on track, last seen 12 days ago (overdue at 7 days)
    w["on_track"] = h.wound(app, clinic, pid, onset_date=start, body_site="axilla")
    h.series(nurse, w["on_track"], start, [(0, 10), (7, 8), (14, 6.5), (21, 5), (28, 4)])
    # stalled, seen 5 days ago (brisk erythema: CTCAE 2)
    w["stalled"] = h.wound(
        app,
        clinic,
        pid,
        onset_date=start,
        body_site="inframammary fold",
        etiology="radiation_dermatitis",
    )
    h.series(nurse, w["stalled"], start, [(0, 10), (7, 9.5), (14, 9.2), (21, 9), (28, 8.8)])
    h.assess(nurse, w["stalled"], h.at(_days_ago(5)), area_cm2=8.7, findings={"erythema": "brisk"})
    # deteriorating, seen 2 days ago, full-thickness ulceration: CTCAE 4
    w["deteriorating"] = h.wound(app, clinic, pid, onset_date=_days_ago(20), body_site="left neck")
    h.series(nurse, w["deteriorating"], _days_ago(20), [(0, 4), (9, 4.2)])
    h.assess(
        nurse,
        w["deteriorating"],
        h.at(_days_ago(2)),
        area_cm2=5.0,
        findings={"ulceration": "full_thickness"},
    )
    # insufficient data: one assessment, 1 day ago; created by the clinician
    w["insufficient_data"] = h.wound(
        app,
        clinic,
        pid,
        onset_date=_days_ago(1),
        body_site="popliteal fossa",
        created_by=clinician.user_id,
    )
    h.assess(nurse, w["insufficient_data"], h.at(_days_ago(1)), area_cm2=2.0)
    w["healed"] = h.wound(
        app, clinic, pid, onset_date=start, status="healed", healed_on=_days_ago(3)
    )
    h.series(nurse, w["healed"], start, [(0, 3), (14, 1)])
    return w


def test_dashboard_order_flags_and_counts(nurse, ward):
    r = nurse.get("/api/v1/dashboard")
    assert r.status_code == 200, r.json
    body = r.json
    ids = [it["wound_id"] for it in body["items"]]
    # deteriorating, stalled first; then overdue (on track, 12 days); then the rest.
    assert ids == [
        str(ward["deteriorating"]),
        str(ward["stalled"]),
        str(ward["on_track"]),
        str(ward["insufficient_data"]),
    ]
    by_id = {it["wound_id"]: it for it in body["items"]}
    on_track = by_id[str(ward["on_track"])]
    assert on_track["status"] == "on_track" and on_track["par_pct"] == 60.0
    assert on_track["days_since_assessment"] == 12 and on_track["overdue"] is True
    det = by_id[str(ward["deteriorating"])]
    assert det["grade"] == 4 and det["grade_3_plus"] is True and det["overdue"] is False
    assert det["days_since_assessment"] == 2
    assert by_id[str(ward["stalled"])]["latest_grade"]["ctcae"] == 2
    assert body["counts"]["total"] == 4
    assert body["counts"]["by_status"] == {
        "healed": 0,
        "on_track": 1,
        "stalled": 1,
        "deteriorating": 1,
        "recurred": 0,
        "insufficient_data": 1,
    }
    assert body["counts"]["overdue"] == 1 and body["counts"]["grade_3_plus"] == 1
    # One count per wound on each scale, side by side.
    by_grade = body["counts"]["by_grade"]
    assert sum(by_grade["ctcae"].values()) == sum(by_grade["rtog"].values()) == 4
    assert by_grade["ctcae"]["4"] == by_grade["rtog"]["4"] == 1
    assert by_grade["ctcae"]["2"] == by_grade["rtog"]["2"] == 1
    assert body["primary_grade_scale"] == "ctcae"
    assert body["next_cursor"] is None


def test_grades_per_scale_and_the_clinics_primary_scale(app, clinic, nurse, clinic_admin, ward):
    """A partial-thickness ulcer in a fold is CTCAE 2 but RTOG 4 ("Ulceration"):
    the dashboard shows both, and counts it as grade >= 3 only when the clinic
    has chosen RTOG as its primary scale."""
    pid = h.patient(app, clinic, family_name="Scales")
    wid = h.wound(app, clinic, pid, onset_date=_days_ago(10), body_site="groin")
    h.assess(
        nurse, wid, h.at(_days_ago(1)), area_cm2=1.0, findings={"ulceration": "partial_thickness"}
    )

    def board(q: str = "") -> dict:
        r = nurse.get(f"/api/v1/dashboard?{q}")
        assert r.status_code == 200, r.json
        return r.json

    def item(body: dict) -> dict:
        return next(it for it in body["items"] if it["wound_id"] == str(wid))

    body = board()
    assert item(body)["latest_grade"] == {"ctcae": 2, "rtog": 4}
    assert item(body)["grade"] == 2 and item(body)["grade_3_plus"] is False
    assert body["counts"]["grade_3_plus"] == 1  # the deteriorating wound only
    assert body["counts"]["by_grade"]["rtog"]["4"] == 2
    assert str(wid) not in {it["wound_id"] for it in board("grade_min=3")["items"]}

    url = f"/api/v1/clinics/{clinic}"
    etag = clinic_admin.get(url).headers["ETag"]
    bad = clinic_admin.patch(url, json={"primary_grade_scale": "who"}, etag=etag)
    assert bad.status_code == 422 and "primary_grade_scale" in bad.json["errors"]
    assert nurse.patch(url, json={"primary_grade_scale": "rtog"}, etag=etag).status_code == 403
    r = clinic_admin.patch(url, json={"primary_grade_scale": "rtog"}, etag=etag)
    assert r.status_code == 200 and r.json["primary_grade_scale"] == "rtog", r.json

    body = board()
    assert body["primary_grade_scale"] == "rtog"
    assert item(body)["grade"] == 4 and item(body)["grade_3_plus"] is True
    assert body["counts"]["grade_3_plus"] == 2
    assert str(wid) in {it["wound_id"] for it in board("grade_min=3")["items"]}
    assert board("sort=grade")["items"][0]["grade"] == 4

    # The change is the clinic's, audited and in its history like its other settings.
    history = clinic_admin.get(f"{url}/history").json["items"]
    assert history[-1]["changed_fields"] == ["primary_grade_scale"]
    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "clinic", "action": "update"}
    ).json["items"]
    assert events and events[-1]["record_id"] == str(clinic)


def test_dashboard_grade_follows_an_override_and_its_withdrawal(nurse, clinician, ward):
    """The latest assessment's grade in force: a clinician's override, and after
    its withdrawal the derived grade again (an earlier override stays withdrawn)."""
    items = nurse.get(f"/api/v1/wounds/{ward['stalled']}/assessments").json["items"]
    latest = max(items, key=lambda a: a["assessed_at"])
    url = f"/api/v1/assessments/{latest['id']}/grade-override"

    def stalled_grade():
        body = nurse.get("/api/v1/dashboard").json
        item = next(it for it in body["items"] if it["wound_id"] == str(ward["stalled"]))
        return item["latest_grade"]["ctcae"], body["counts"]["grade_3_plus"]

    assert stalled_grade() == (2, 1)
    for value in (4, 3):
        assert (
            clinician.post(
                url, json={"scale": "ctcae", "value": value, "reason": "bleeds on touch"}
            ).status_code
            == 201
        )
    assert stalled_grade() == (3, 2)
    r = clinician.post(url, json={"scale": "ctcae", "value": None, "reason": "wrong wound"})
    assert r.status_code == 201, r.json
    assert stalled_grade() == (2, 1)


def test_dashboard_filters(nurse, clinician, ward):
    def ids(q: str) -> set[str]:
        r = nurse.get(f"/api/v1/dashboard?{q}")
        assert r.status_code == 200, r.json
        return {it["wound_id"] for it in r.json["items"]}

    assert ids("status=stalled&status=deteriorating") == {
        str(ward["stalled"]),
        str(ward["deteriorating"]),
    }
    assert ids("grade_min=3") == {str(ward["deteriorating"])}
    assert ids("site=FOLD") == {str(ward["stalled"])}
    assert ids("site=%25") == set()  # a literal %, not a wildcard
    assert ids("etiology=radiation_dermatitis") == {str(ward["stalled"])}
    assert ids(f"nurse={clinician.user_id}") == {str(ward["insufficient_data"])}
    assert len(ids(f"nurse={nurse.user_id}")) == 4
    assert ids("anti_angiogenic=true") == set()
    assert len(ids("anti_angiogenic=false")) == 4
    # counts ignore status/grade filters (they are the tabs), honour the others
    r = nurse.get("/api/v1/dashboard?status=stalled&site=fold")
    assert r.json["counts"]["total"] == 1


def test_dashboard_lists_healed_wounds_when_asked(nurse, ward):
    """Open wounds by default; record=healed the healed ones, judged healed by
    their record (the last assessment did not close them); both: every wound."""

    def items(q: str) -> dict[str, dict]:
        r = nurse.get(f"/api/v1/dashboard?{q}")
        assert r.status_code == 200, r.json
        return {it["wound_id"]: it for it in r.json["items"]}

    healed = str(ward["healed"])
    assert healed not in items("")
    only = items("record=healed")
    assert list(only) == [healed]
    assert only[healed]["status"] == "healed" and only[healed]["wound_status"] == "healed"
    assert only[healed]["healed_on"] == _days_ago(3).isoformat()
    every = items("record=open&record=healed")
    assert len(every) == 5 and every[str(ward["stalled"])]["healed_on"] is None
    assert set(items("record=open&record=healed&status=healed")) == {healed}
    r = nurse.get("/api/v1/dashboard?record=closed")
    assert r.status_code == 422 and "record.0" in r.json["errors"]
    counts = nurse.get("/api/v1/dashboard?record=healed").json["counts"]
    assert counts["total"] == 1 and counts["by_status"]["healed"] == 1


def test_dashboard_anti_angiogenic_filter(app, clinic, nurse, ward):
    from app.extensions import db
    from app.wounds.models import Wound

    with app.app_context():
        pid = db.session.get(Wound, ward["stalled"]).patient_id
    other = h.patient(app, clinic)
    w2 = h.wound(app, clinic, other, onset_date=_days_ago(3))
    h.add(app, h.anlotinib(clinic, other, _days_ago(30)))
    r = nurse.get("/api/v1/dashboard?anti_angiogenic=true")
    assert [it["wound_id"] for it in r.json["items"]] == [str(w2)]
    assert pid != other


def test_dashboard_sorting_and_pages(nurse, ward):
    r = nurse.get("/api/v1/dashboard?sort=days_since_assessment")
    days = [it["days_since_assessment"] for it in r.json["items"]]
    assert days == sorted(days, reverse=True)
    r = nurse.get("/api/v1/dashboard?sort=par")
    pars = [it["par_pct"] for it in r.json["items"] if it["par_pct"] is not None]
    assert pars == sorted(pars)
    seen, cursor = [], None
    while True:
        url = "/api/v1/dashboard?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = nurse.get(url).json
        seen += [it["wound_id"] for it in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    full = [it["wound_id"] for it in nurse.get("/api/v1/dashboard").json["items"]]
    assert seen == full
    bad = nurse.get("/api/v1/dashboard?cursor=not-a-cursor")
    assert bad.status_code == 422 and "cursor" in bad.json["errors"]


def test_dashboard_overdue_interval_from_clinic(app, clinic, nurse, ward):
    from app.clinics.models import Clinic
    from app.extensions import db

    with app.app_context():
        db.session.get(Clinic, clinic).overdue_assessment_days = 14
        db.session.commit()
    body = nurse.get("/api/v1/dashboard").json
    assert body["overdue_after_days"] == 14
    assert body["counts"]["overdue"] == 0


def test_dashboard_clinic_selection(
    factory, clinic, other_clinic, nurse, outsider, admin, researcher
):
    assert nurse.get(f"/api/v1/dashboard?clinic_id={other_clinic}").status_code == 404
    assert outsider.get("/api/v1/dashboard").json["items"] == []
    r = admin.get("/api/v1/dashboard")
    assert r.status_code == 422 and "clinic_id" in r.json["errors"]
    assert admin.get(f"/api/v1/dashboard?clinic_id={clinic}").status_code == 200
    assert researcher.get("/api/v1/dashboard").status_code == 403
    factory.add_membership(nurse.user_id, other_clinic)
    assert nurse.get("/api/v1/dashboard").status_code == 422
    assert nurse.get(f"/api/v1/dashboard?clinic_id={other_clinic}").status_code == 200


def test_dashboard_same_queries_for_10_and_1000(app, clinic, nurse, count_queries):
    wounds = h.bulk_open_wounds(app, clinic, 10, 6)
    nurse.get("/api/v1/dashboard")
    with count_queries() as q10:
        nurse.get("/api/v1/dashboard")
    h.bulk_open_wounds(app, clinic, 990, 6)
    with count_queries() as q1000:
        r = nurse.get("/api/v1/dashboard")
    assert r.json["counts"]["total"] == 1000 and len(wounds) == 10
    statuses = r.json["counts"]["by_status"]
    assert min(statuses["stalled"], statuses["deteriorating"], statuses["on_track"]) > 0
    assert q10.count == q1000.count <= 10


# --------------------------------------------------------------- patient summary


def test_patient_summary(app, clinic, nurse, outsider):
    from app.therapy.models import SystemicTherapy, TherapyChange

    pid = h.patient(app, clinic)
    cid = h.course(
        app,
        clinic,
        pid,
        start=date(2022, 5, 16),
        end=date(2022, 6, 1),
        phases=[("imrt", 400, 10), ("srt", 700, 3)],
    )
    wid = h.wound(app, clinic, pid, onset_date=date(2022, 6, 1), radiotherapy_course_id=cid)
    h.series(nurse, wid, date(2022, 6, 2), [(0, 3.14), (7, 2.26)])
    h.procedure(app, clinic, wid, h.at(date(2022, 6, 9), 10), prp_form="gel")
    h.procedure(app, clinic, wid, h.at(date(2022, 6, 2), 10))
    tid = h.add(
        app,
        SystemicTherapy(
            clinic_id=clinic,
            patient_id=pid,
            agent="anlotinib",
            anti_angiogenic=True,
            dose=12,
            dose_unit="mg",
            days_on=14,
            days_off=7,
            start_date=date(2022, 6, 6),
        ),
    )[0]
    h.add(
        app,
        TherapyChange(
            clinic_id=clinic,
            therapy_id=tid,
            effective_on=date(2022, 6, 20),
            kind="dose_reduced",
            dose=10,
            reason="platelets",
        ),
    )
    r = nurse.get(f"/api/v1/patients/{pid}/summary")
    assert r.status_code == 200, r.json
    s = r.json
    assert [w["id"] for w in s["wounds"]] == [str(wid)]
    # 28% in 7 days extrapolates (exponential) to 1 - 0.72^4 = 73% at week 4
    assert s["wounds"][0]["status"] == "on_track"
    assert s["radiotherapy_courses"][0]["total_dose_cgy"] == 6100.0
    kinds = [e["kind"] for e in s["timeline"]]
    assert kinds == [
        "radiotherapy_start",
        "radiotherapy_end",
        "wound_onset",
        "procedure",
        "therapy_start",
        "procedure",
        "therapy_change",
    ]
    assert s["timeline"][5]["label"] == "debridement + PRP gel"
    assert s["timeline"][6]["label"] == "anlotinib dose reduced to 10 mg"
    assert outsider.get(f"/api/v1/patients/{pid}/summary").status_code == 404
