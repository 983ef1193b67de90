"""The demo data: loaded through the API's services, idempotent, and the seed
case reads back through the HTTP API as the report describes it."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.demo import DEMO_PASSWORD, SEED_WOUND_ID, SeedTimeline, demo_id, seed_demo


def _counts(app):
    from app.assessments.models import Assessment
    from app.auth.models import User
    from app.clinics.models import Clinic
    from app.extensions import db
    from app.patients.models import Patient
    from app.procedures.models import Procedure
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse
    from app.wounds.models import Wound

    with app.app_context():
        return {
            m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (
                Clinic,
                User,
                Patient,
                RadiotherapyCourse,
                FractionDelivery,
                Wound,
                Assessment,
                Procedure,
            )
        }


def _sign_in(client, email):
    r = client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


@pytest.fixture
def seeded(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output and "nurse@demo.example" in result.output
    return app


def test_seed_demo_twice_creates_nothing_new(seeded):
    first = _counts(seeded)
    assert first["Clinic"] == 1 and first["User"] == 5
    assert first["Patient"] == 21 and first["RadiotherapyCourse"] == 21
    assert first["Wound"] == 37 and first["FractionDelivery"] == 13
    assert first["Assessment"] >= 36 * 5
    again = seed_demo(seeded)
    assert again.created == {}
    assert _counts(seeded) == first


def test_seed_case_through_the_api(seeded, client):
    headers = _sign_in(client, "nurse@demo.example")
    t = SeedTimeline.for_today(date.today())

    found = client.get(
        "/api/v1/patients", query_string={"mrn": "DEMO-SEED-0001"}, headers=headers
    ).json["items"]
    assert len(found) == 1 and found[0]["family_name"] == "Seedcase"
    patient = found[0]
    born = date.fromisoformat(patient["birth_date"])
    today = date.today()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert age == 84 and patient["sex"] == "female"

    courses = client.get(
        f"/api/v1/patients/{patient['id']}/radiotherapy-courses", headers=headers
    ).json["items"]
    assert len(courses) == 1
    course = courses[0]
    assert course["total_dose_cgy"] == 6100 and course["fraction_count_delivered"] == 13
    assert [
        (p["technique"], p["dose_per_fraction_cgy"], p["fractions"]) for p in course["phases"]
    ] == [
        ("imrt", 400, 10),
        ("srt", 700, 3),
    ]
    fractions = client.get(
        f"/api/v1/radiotherapy-courses/{course['id']}/fractions", headers=headers
    ).json["items"]
    days = [date.fromisoformat(f["delivered_on"]) for f in fractions]
    assert len(days) == 13 and all(d.weekday() < 5 for d in days)

    wounds = client.get(f"/api/v1/patients/{patient['id']}/wounds", headers=headers).json["items"]
    assert len(wounds) == 1
    wound = wounds[0]
    assert (wound["body_site"], wound["laterality"], wound["in_skin_fold"]) == (
        "popliteal fossa",
        "left",
        True,
    )
    assert (
        wound["etiology"] == "radiation_ulcer" and wound["radiotherapy_course_id"] == course["id"]
    )
    onset = date.fromisoformat(wound["onset_date"])
    assert onset == days[-1] == t.onset
    dose = client.get(
        f"/api/v1/radiotherapy-courses/{course['id']}/dose",
        query_string={"on": onset.isoformat()},
        headers=headers,
    ).json
    assert dose["cumulative_dose_cgy"] == 6100 and dose["fraction_number"] == 13
    assert dose["source"] == "fraction_log"
    assert wound["status"] == "healed"
    healed = date.fromisoformat(wound["healed_on"])
    assert 28 <= (healed - onset).days <= 42 and healed <= today

    assessments = client.get(f"/api/v1/wounds/{wound['id']}/assessments", headers=headers).json[
        "items"
    ]
    assessments.sort(key=lambda a: a["assessed_at"])
    first = assessments[0]
    assert (first["length_cm"], first["width_cm"]) == (2.0, 2.0)
    assert first["exudate_amount"] == "moderate" and first["tissue"]["slough_pct"] > 0
    areas = [a["area_cm2"] for a in assessments]
    assert areas == sorted(areas, reverse=True) and areas[-1] == 0
    assert assessments[-1]["closed"] is True
    # A full-thickness ulcer stays full thickness while it granulates (no
    # reverse staging), so CTCAE stays 4 until it closes.
    open_visits, closing = assessments[:-1], assessments[-1]
    assert {a["findings"]["ulceration"] for a in open_visits} == {"full_thickness"}
    assert [a["ctcae_grade"]["value"] for a in open_visits] == [4] * 5
    assert [a["ctcae_skin_ulceration"]["value"] for a in open_visits] == [3] * 5
    assert closing["findings"]["ulceration"] == "none" and closing["ctcae_grade"]["value"] < 4
    assert closing["ctcae_skin_ulceration"] is None
    # The ulcer opened on the last fraction: every visit is in the acute period.
    assert {a["radiation_phase"]["phase"] for a in assessments} == {"acute"}
    assert course["biological_dose"]["prescription"]["acute"]["bed_gy"] == 91.7
    assert course["biological_dose"]["prescription"]["acute"]["eqd2_gy"] == 76.4

    history = client.get(f"/api/v1/wounds/{wound['id']}/history", headers=headers).json["items"]
    assert [v["action"] for v in history] == ["create", "update"]
    assert history[0]["changed_by"] is not None


def test_seed_case_procedures_and_therapy(seeded, client):
    headers = _sign_in(client, "nurse@demo.example")
    wound_id = str(SEED_WOUND_ID)
    wound = client.get(f"/api/v1/wounds/{wound_id}", headers=headers).json
    procedures = client.get(f"/api/v1/wounds/{wound_id}/procedures", headers=headers).json["items"]
    assert len(procedures) == 4
    for p in procedures:
        assert p["debridement"] == {"method": "sharp_conservative", "to_bleeding": True}
        assert p["prp"]["form"] == "gel" and p["prp"]["activator"] == "thrombin"
    first = min(date.fromisoformat(p["performed_at"][:10]) for p in procedures)
    last = max(date.fromisoformat(p["performed_at"][:10]) for p in procedures)
    assert date.fromisoformat(wound["onset_date"]) <= first and (last - first).days <= 31
    therapies = client.get(
        f"/api/v1/patients/{wound['patient_id']}/systemic-therapies", headers=headers
    ).json["items"]
    assert [(t["agent"], t["dose"], t["days_on"], t["days_off"]) for t in therapies] == [
        ("anlotinib", 12, 14, 7)
    ]
    assert therapies[0]["anti_angiogenic"] is True


def test_cohort_has_every_trajectory_kind(seeded, client):
    headers = _sign_in(client, "clinician@demo.example")
    wounds = client.get("/api/v1/wounds", query_string={"limit": 500}, headers=headers).json[
        "items"
    ]
    assert len(wounds) == 37
    assert {w["status"] for w in wounds} == {"open", "healed"}
    assert len({w["patient_id"] for w in wounds}) == 21
    healed = client.get(
        "/api/v1/wounds", query_string={"status": "healed", "limit": 500}, headers=headers
    ).json["items"]
    assert len(healed) == 10  # 9 cohort wounds closed at week 6, and the seed case
    # The researcher sees no identifiable records.
    r = client.get("/api/v1/wounds", headers=_sign_in(client, "researcher@demo.example"))
    assert r.status_code == 403


PAIRED_SITES = ("axilla", "inframammary fold", "groin", "chest wall", "popliteal fossa")


def test_every_demo_wound_has_a_sensible_side_in_its_irradiated_field(seeded, client):
    headers = _sign_in(client, "clinician@demo.example")
    wounds = client.get("/api/v1/wounds", query_string={"limit": 500}, headers=headers).json[
        "items"
    ]
    for w in wounds:
        if w["body_site"] in PAIRED_SITES:
            assert w["laterality"] in ("left", "right"), w
        if w["body_site"] == "perineum":
            assert w["laterality"] == "midline", w
        course = client.get(
            f"/api/v1/radiotherapy-courses/{w['radiotherapy_course_id']}", headers=headers
        ).json
        side = "" if w["laterality"] == "midline" else f"{w['laterality']} "
        assert course["target_site"].startswith(f"{side}{w['body_site']}"), (w, course)


def test_cohort_trajectories_and_dashboard(seeded, client):
    headers = _sign_in(client, "nurse@demo.example")
    statuses = {}
    for w in range(36):
        r = client.get(f"/api/v1/wounds/{demo_id('wound', w)}/trajectory", headers=headers)
        assert r.status_code == 200, r.json
        statuses[w] = r.json["status"]
    expected = ("on_track", "stalled", "deteriorating", "healed")
    assert all(statuses[w] == expected[w % 4] for w in statuses), statuses
    seed = client.get(f"/api/v1/wounds/{SEED_WOUND_ID}/trajectory", headers=headers).json
    assert seed["status"] == "healed" and seed["dose_at_onset_cgy"] == 6100

    board = client.get("/api/v1/dashboard", headers=headers).json
    assert board["counts"]["total"] == 27 and board["counts"]["overdue"] >= 1
    assert 0 < board["counts"]["grade_3_plus"] < 27


def test_symptoms_only_where_the_report_allows(seeded, client):
    """The seed case report speaks of pain only: the seed wound has no itch,
    burning or PRO-CTCAE skin reaction. Cohort patients report them, following
    their wound's course."""
    headers = _sign_in(client, "nurse@demo.example")

    def current(wound_id):
        r = client.get(f"/api/v1/wounds/{wound_id}/trajectory", headers=headers)
        return r.json["symptoms"]["current"]

    seed = current(SEED_WOUND_ID)
    assert seed["pain_score"] is not None
    assert (seed["itch_nrs"], seed["burning_nrs"], seed["pro_skin_reaction"]) == (None,) * 3
    worsening = current(demo_id("wound", 2))  # deteriorating
    assert worsening["pro_skin_reaction"]["latest"]["value"] == "very_severe"
    assert worsening["burning_nrs"]["trend"]["direction"] == "worse"
    healed = current(demo_id("wound", 3))
    assert healed["pro_skin_reaction"]["latest"]["value"] == "none"
    assert healed["pro_skin_reaction"]["trend"]["direction"] == "better"
    not_asked = current(demo_id("wound", 5))
    assert not_asked["pain_score"] is not None and not_asked["itch_nrs"] is None


def test_a_visit_today_is_never_seeded_in_the_future():
    """The cohort's latest weekly visit can fall on today; at 10:00 it would be
    in the future for a seed run before 10:00 UTC (the API refuses it)."""
    from app.demo.loader import visit_time as _at

    now = datetime.now(UTC)
    today = datetime.fromisoformat(_at(now.date()))
    assert today == datetime.combine(now.date(), time(0), tzinfo=UTC) and today <= now
    yesterday = now.date() - timedelta(days=1)
    assert datetime.fromisoformat(_at(yesterday)) == datetime.combine(
        yesterday, time(10), tzinfo=UTC
    )


def test_seed_demo_if_absent_decides_from_the_database(app):
    """`make run` loads the demo when the database lacks it, whichever database
    it is, and leaves a database that has it alone."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--if-absent"])
    assert first.exit_code == 0, first.output
    assert "nurse@demo.example" in first.output
    loaded = _counts(app)
    assert loaded["Clinic"] == 1 and loaded["Patient"] == 21

    again = runner.invoke(args=["seed-demo", "--if-absent"])
    assert again.exit_code == 0, again.output
    assert "already" in again.output and "nurse@demo.example" not in again.output
    assert _counts(app) == loaded
