"""The summaries' answers are what their documented schemas say.

Each route's JSON is compared with the dict its service builds (the same key
order, the same numbers: 200 and 200.0 differ), so a response schema that drops,
renames, reorders or retypes a key fails here. Each answer is then walked
against the OpenAPI document: every key is documented with its type, and no
object is left untyped (no bare ``fields.Dict()``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.summaries import helpers as h

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=40)


@pytest.fixture
def rich(app, clinic, nurse, clinician) -> dict[str, Any]:
    """A patient with everything the summaries print: a radiotherapy course with
    a fraction log, an open wound with an override, a debridement and a PRP
    session, a healed wound, systemic therapies (one stopped, one changed),
    a topical treatment and a platelet count; and a second patient's wound."""
    from app.therapy.models import SystemicTherapy, TherapyChange

    pid = h.patient(app, clinic, given_name="Ana", family_name="Example")
    cid = h.course(
        app,
        clinic,
        pid,
        start=START - timedelta(days=30),
        end=START - timedelta(days=3),
        phases=[("imrt", 200.0, 20), ("sbrt", 250.0, 4)],
        fractions=[(START - timedelta(days=30 - d), 200.0) for d in range(12)],
    )
    wid = h.wound(app, clinic, pid, onset_date=START, radiotherapy_course_id=cid)
    # Symptoms reported at some visits only, rising: every symptoms shape is reached.
    reported = [
        {"pain_score": 2, "pro_skin_reaction": "mild"},
        {},
        {"itch_nrs": 3, "burning_nrs": 1},
        {},
        {"pain_score": 6, "pro_skin_reaction": "severe", "itch_nrs": 4},
    ]
    rows = [
        h.assess(
            nurse,
            wid,
            h.at(START + timedelta(days=7 * week)),
            length_cm=side,
            width_cm=side,
            **reported[week],
        )
        for week, side in enumerate([3.0, 2.9, 2.9, 3.2, 3.4])
    ]
    r = clinician.post(
        f"/api/v1/assessments/{rows[-1]['id']}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "necrosis at the margin on review"},
    )
    assert r.status_code in (200, 201), r.json
    h.procedure(
        app,
        clinic,
        wid,
        h.at(START + timedelta(days=8), 11),
        kind="debridement",
        debridement_method="sharp_conservative",
        debridement_to_bleeding=True,
    )
    h.procedure(
        app,
        clinic,
        wid,
        h.at(START + timedelta(days=15), 12),
        kind="prp",
        prp_form="gel",
        prp_volume_ml=4.5,
        prp_activator="calcium_chloride",
    )
    healed = h.wound(
        app,
        clinic,
        pid,
        body_site="left axilla",
        onset_date=START - timedelta(days=10),
        status="healed",
        healed_on=START + timedelta(days=20),
    )
    h.assess(nurse, healed, h.at(START - timedelta(days=10)), area_cm2=2.0)
    h.assess(nurse, healed, h.at(START + timedelta(days=20)), closed=True)
    (therapy_id, _) = h.add(
        app,
        h.anlotinib(clinic, pid, START - timedelta(days=5)),
        SystemicTherapy(
            clinic_id=clinic,
            patient_id=pid,
            agent="capecitabine",
            dose=1000,
            dose_unit="mg/m2",
            days_on=14,
            days_off=7,
            start_date=START - timedelta(days=20),
            stop_date=START + timedelta(days=2),
        ),
    )
    h.add(
        app,
        TherapyChange(
            clinic_id=clinic,
            therapy_id=therapy_id,
            effective_on=START + timedelta(days=9),
            kind="dose_reduced",
            dose=8,
            reason="hand-foot skin reaction",
        ),
        h.silver_dressing(clinic, wid, START),
        h.low_platelets(clinic, pid, h.at(START + timedelta(days=15), 7)),
    )
    other = h.wound(app, clinic, h.patient(app, clinic), body_site="neck", onset_date=START)
    h.series(nurse, other, START, [(0, 6.0), (7, 5.0)])
    return {"patient_id": pid, "wound_id": wid, "healed_id": healed, "course_id": cid}


def _built(app: Any, actor: Any, build: Callable[[Any], Any]) -> Any:
    """What the service builds for ``actor``, through the app's JSON encoder
    (dicts keep their order), before any response schema sees it."""
    from flask import g

    from app.auth.models import User
    from app.core.access import Principal
    from app.extensions import db

    with app.test_request_context():
        g.user = Principal.of(db.session.get(User, actor.user_id))
        try:
            built = build(db.session)
        finally:
            db.session.rollback()  # the read's audit row is not this test's concern
        return json.loads(app.json.dumps(built))


def _same(response: Any, built: Any) -> None:
    assert response.status_code == 200, response.json
    assert response.json == built
    # Order- and type-exact: json.dumps prints 200 and 200.0 differently.
    assert json.dumps(response.json) == json.dumps(built)


def _schema_of(spec: dict[str, Any], path: str) -> dict[str, Any]:
    return spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def _documented(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    """Assert ``value`` has the shape ``schema`` documents (OpenAPI 3.0)."""
    nullable = schema.get("nullable", False)
    if "anyOf" in schema:  # apispec's nullable Nested: [{nullable object}, {$ref}]
        options = schema["anyOf"]
        nullable = any(o.get("nullable") for o in options)
        if value is not None:
            [schema] = [o for o in options if "$ref" in o]
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:
            [schema] = schema["allOf"]
        ref = schema.get("$ref")
        if ref:
            schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        nullable = nullable or schema.get("nullable", False)
    if value is None:
        assert nullable, f"{where} is null but not documented as nullable"
        return
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        assert props or (isinstance(extra, dict) and extra), f"{where}: an untyped object"
        for key, item in value.items():
            sub = props.get(key) or extra
            assert isinstance(sub, dict) and sub, f"{where}.{key} is not documented"
            _documented(item, sub, spec, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _documented(item, schema["items"], spec, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
        assert value in schema.get("enum", [value]), f"{where}={value!r} not in its enum"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "number":
        assert isinstance(value, int | float) and not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    else:
        pytest.fail(f"{where}: no type documented ({schema})")


def test_trajectory_is_what_the_service_builds_and_documents(app, client, nurse, rich):
    from app.summaries import trajectory

    spec = client.get("/api/v1/openapi.json").json
    schema = _schema_of(spec, "/api/v1/wounds/{wound_id}/trajectory")
    for wid in (rich["wound_id"], rich["healed_id"]):
        r = nurse.get(f"/api/v1/wounds/{wid}/trajectory")
        _same(
            r,
            _built(
                app,
                nurse,
                lambda s, w=wid: trajectory.build_trajectory(trajectory.load_wound(s, w)),
            ),
        )
        _documented(r.json, schema, spec, "trajectory")
    body = nurse.get(f"/api/v1/wounds/{rich['wound_id']}/trajectory").json
    # The fixture reaches the nested shapes this test is about.
    assert body["radiotherapy"]["dose_at_onset_cgy"] is not None
    assert {p["kind"] for p in body["procedures"]} == {"debridement", "prp"}
    assert body["procedures"][1]["prp"]["volume_ml"] == 4.5
    assert body["series"][-1]["overridden"] == {"ctcae": True, "rtog": False}
    assert body["grade_history"]["worst_ctcae"]["value"] == 3
    assert body["symptoms"]["current"]["pain_score"]["trend"]["direction"] == "worse"
    assert body["symptoms"]["current"]["itch_nrs"]["trend"]["change"] == 1
    therapy = body["therapy"]
    if therapy is not None:  # app/therapy offers therapy_context
        assert therapy["dose_changes"][0]["kind"] == "dose_reduced"
        assert therapy["labs_at_procedures"][1]["labs"]["platelets"]["ctcae_grade"] == 2
        assert therapy["topical_treatments"][0]["product"] == "silver dressing"


def test_dashboard_is_what_the_service_builds_and_documents(app, client, nurse, rich):
    from app.summaries import dashboard

    spec = client.get("/api/v1/openapi.json").json
    schema = _schema_of(spec, "/api/v1/dashboard")
    first = nurse.get("/api/v1/dashboard?limit=1")
    _same(first, _built(app, nurse, lambda s: dashboard.dashboard(s, {"limit": 1})))
    cursor = first.json["next_cursor"]
    assert cursor
    rest = nurse.get(f"/api/v1/dashboard?limit=1&cursor={cursor}")
    _same(
        rest, _built(app, nurse, lambda s: dashboard.dashboard(s, {"limit": 1, "cursor": cursor}))
    )
    for r in (first, rest):
        _documented(r.json, schema, spec, "dashboard")
    assert first.json["counts"]["total"] == 2
    assert first.json["items"][0]["latest_grade"]["ctcae"] == 3


def test_patient_summary_is_what_the_service_builds_and_documents(app, client, nurse, rich):
    from app.summaries import patient_summary

    spec = client.get("/api/v1/openapi.json").json
    schema = _schema_of(spec, "/api/v1/patients/{patient_id}/summary")
    pid = rich["patient_id"]
    r = nurse.get(f"/api/v1/patients/{pid}/summary")
    _same(r, _built(app, nurse, lambda s: patient_summary.patient_summary(s, pid)))
    _documented(r.json, schema, spec, "summary")
    kinds = {e["kind"] for e in r.json["timeline"]}
    assert kinds == {
        "wound_onset",
        "wound_healed",
        "radiotherapy_start",
        "radiotherapy_end",
        "procedure",
        "therapy_start",
        "therapy_stop",
        "therapy_change",
    }
    assert [w["wound_status"] for w in r.json["wounds"]] == ["healed", "open"]
    assert r.json["radiotherapy_courses"][0]["total_dose_cgy"] == 5000.0


# The summaries' operations and documented responses before their split
# (issue 17): none may go missing.
DOCUMENTED = {
    ("/api/v1/dashboard", "get"): {"200", "422", "default"},
    ("/api/v1/patients/{patient_id}/summary", "get"): {"200", "default"},
    ("/api/v1/wounds/{wound_id}/trajectory", "get"): {"200", "default"},
    ("/api/v1/wounds/{wound_id}/trajectory.png", "get"): {"200", "304", "422", "default"},
    ("/api/v1/wounds/{wound_id}/trajectory.svg", "get"): {"200", "304", "422", "default"},
}


def test_no_summaries_operation_or_response_goes_missing(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for (path, method), responses in DOCUMENTED.items():
        assert responses <= set(paths[path][method]["responses"]), (path, method)
