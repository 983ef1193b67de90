"""Patient-reported symptoms on the trajectory, beside the clinician's grade."""

from __future__ import annotations

from datetime import date, timedelta

from tests.summaries import helpers as h

START = date(2024, 3, 4)


def _trajectory(actor, wid):
    r = actor.get(f"/api/v1/wounds/{wid}/trajectory")
    assert r.status_code == 200, r.json
    return r.json


def _visit(nurse, wid, day, **body):
    return h.assess(nurse, wid, h.at(START + timedelta(days=day)), **body)


def test_no_symptoms_reported(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    h.series(nurse, wid, START, [(0, 4.0), (7, 3.0)])
    symptoms = _trajectory(nurse, wid)["symptoms"]
    assert symptoms["series"] == []
    assert symptoms["episode"] == 1
    assert symptoms["current"] == {
        "pro_skin_reaction": None,
        "pain_score": None,
        "itch_nrs": None,
        "burning_nrs": None,
    }


def test_symptoms_beside_the_effective_grade_of_the_same_assessment(app, clinic, nurse, clinician):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    first = _visit(
        nurse,
        wid,
        0,
        area_cm2=4.0,
        findings={"erythema": "faint"},
        pain_score=3,
        pro_skin_reaction="mild",
    )
    _visit(nurse, wid, 3, area_cm2=4.0)  # nothing asked: not a symptoms point
    last = _visit(
        nurse,
        wid,
        7,
        area_cm2=3.0,
        findings={"erythema": "brisk"},
        pain_score=4,
        itch_nrs=6,
        burning_nrs=5,
        pro_skin_reaction="severe",
    )
    r = clinician.post(
        f"/api/v1/assessments/{last['id']}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "moist patches on review"},
    )
    assert r.status_code == 201, r.json
    t = _trajectory(nurse, wid)
    points = t["symptoms"]["series"]
    assert [p["assessment_id"] for p in points] == [first["id"], last["id"]]
    assert points[0] == {
        "at": t["series"][0]["at"],
        "assessment_id": first["id"],
        "episode": 1,
        "pro_skin_reaction": "mild",
        "pain_score": 3,
        "itch_nrs": None,
        "burning_nrs": None,
        "moderate_or_worse": [],
        "ctcae_grade": 1,
        "rtog_grade": 1,
    }
    # The grade in effect (the override), as the series shows it.
    assert (points[1]["ctcae_grade"], t["series"][2]["ctcae_grade"]) == (3, 3)
    assert points[1]["rtog_grade"] == t["series"][2]["rtog_grade"] == 2
    # Itch 6 is moderate (Reich), burning 5 moderate (Serlin, by analogy), pain 4 mild.
    assert points[1]["moderate_or_worse"] == ["pro_skin_reaction", "itch_nrs", "burning_nrs"]

    current = t["symptoms"]["current"]
    assert current["pro_skin_reaction"] == {
        "latest": {"value": "severe", "at": points[1]["at"]},
        "worst": {"value": "severe", "at": points[1]["at"]},
        "trend": {"first": 1, "latest": 3, "change": 2, "direction": "worse", "reports": 2},
    }
    # One NRS point is below the 2 that count (Farrar 2001).
    assert current["pain_score"]["trend"]["direction"] == "stable"
    assert current["itch_nrs"]["trend"] is None  # one report
    assert current["itch_nrs"]["latest"] == {"value": 6, "at": points[1]["at"]}


def test_the_summary_is_the_current_episodes(app, clinic, nurse):
    """Symptoms of a closed episode stay in the series but not in the summary."""
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    _visit(nurse, wid, 0, area_cm2=5.0, itch_nrs=9, pain_score=8)
    _visit(nurse, wid, 14, area_cm2=2.0, itch_nrs=2)
    _visit(nurse, wid, 28, closed=True, pain_score=0)
    _visit(nurse, wid, 42, area_cm2=1.5, itch_nrs=3, pain_score=2)
    _visit(nurse, wid, 49, area_cm2=1.2, itch_nrs=4, pain_score=1)
    symptoms = _trajectory(nurse, wid)["symptoms"]
    assert symptoms["episode"] == 2
    assert [p["episode"] for p in symptoms["series"]] == [1, 1, 1, 2, 2]
    itch = symptoms["current"]["itch_nrs"]
    # Episode 1's 9 is neither the worst nor the first of episode 2.
    assert itch["worst"]["value"] == 4
    assert itch["trend"] == {
        "first": 3,
        "latest": 4,
        "change": 1,
        "direction": "stable",
        "reports": 2,
    }
    pain = symptoms["current"]["pain_score"]
    assert pain["worst"]["value"] == 2 and pain["latest"]["value"] == 1
    assert symptoms["current"]["burning_nrs"] is None


def test_worst_is_the_first_time_reached_and_a_fall_is_better(app, clinic, nurse):
    wid = h.wound(app, clinic, h.patient(app, clinic), onset_date=START)
    a = _visit(nurse, wid, 0, area_cm2=3.0, burning_nrs=7)
    _visit(nurse, wid, 7, area_cm2=2.5, burning_nrs=7)
    _visit(nurse, wid, 14, area_cm2=2.0, burning_nrs=5)
    burning = _trajectory(nurse, wid)["symptoms"]["current"]["burning_nrs"]
    assert burning["worst"] == {"value": 7, "at": h.at(START).isoformat()}
    assert burning["trend"]["direction"] == "better" and burning["trend"]["change"] == -2
    assert a["burning_nrs"] == 7
