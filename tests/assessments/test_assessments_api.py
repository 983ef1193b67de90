"""Assessments through the HTTP API: derived values, life cycle, access, validation."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.assessments.models import Assessment
from tests.assessments.helpers import count_rows, make_wound, seed_ulcer_body

URL = "/api/v1/wounds/{}/assessments"


def create(actor, wound, **overrides):
    r = actor.post(URL.format(wound), json=seed_ulcer_body(**overrides))
    assert r.status_code == 201, r.json
    return r.json


# --- derived values -------------------------------------------------------------


def test_seed_ulcer_derives_area_push_and_both_grades(nurse, wound):
    """The seed case: 2 x 2 cm ulcer in the popliteal fold, moderate exudate, slough,
    full-thickness ulceration."""
    a = create(nurse, wound)
    # Ellipse pi/4 x 2 x 2 = pi (Rogers 2010), not L x W = 4.
    assert a["area_method"] == "ellipse"
    assert a["area_cm2"] == pytest.approx(math.pi) and round(a["area_cm2"], 2) == 3.14
    # PUSH 3.0: L x W 4.0 -> 6 ("3.1-4.0"), moderate -> 2, slough -> 3.
    assert a["push"] == {"area": 6, "exudate": 2, "tissue": 3, "total": 11}
    # CTCAE 4: "skin necrosis or ulceration of full thickness dermis"; RTOG 4 "Ulceration".
    assert a["ctcae_grade"]["value"] == 4
    assert [r["finding"] for r in a["ctcae_grade"]["reasons"]] == ["ulceration"]
    assert "ulceration of full thickness dermis" in a["ctcae_grade"]["reasons"][0]["criterion"]
    assert a["rtog_grade"] == {
        "value": 4,
        "reasons": [
            {
                "finding": "ulceration",
                "value": "full_thickness",
                "grade": 4,
                "criterion": "Ulceration",
            }
        ],
    }
    assert a["effective_grades"] == {
        "ctcae": {"value": 4, "source": "derived"},
        "rtog": {"value": 4, "source": "derived"},
    }
    assert a["grade_override"] is None and a["grade_overrides"] is None and a["bwat"] is None
    # Nested on the wire, as sent; UTC out.
    assert a["tissue"] == {
        "epithelial_pct": None,
        "granulation_pct": 40.0,
        "slough_pct": 60.0,
        "necrotic_pct": None,
    }
    assert a["findings"]["ulceration"] == "full_thickness" and a["findings"]["necrosis"] is False
    assert a["assessed_at"] == "2025-03-10T08:30:00+00:00"
    assert a["wound_id"] == str(wound) and a["version"] == 1


def test_skin_fold_decides_moist_desquamation_grade(app, nurse, clinic):
    """CTCAE 2 'patchy moist desquamation, mostly confined to skin folds and creases';
    CTCAE 3 'Moist desquamation in areas other than skin folds and creases'."""
    findings = {"desquamation": "moist"}
    fold = make_wound(app, clinic, in_skin_fold=True)
    flat = make_wound(app, clinic, in_skin_fold=False)
    in_fold = create(nurse, fold, findings=findings)
    elsewhere = create(nurse, flat, findings=findings)
    beyond = create(nurse, fold, findings={**findings, "moist_beyond_skin_folds": True})
    assert (in_fold["ctcae_grade"]["value"], in_fold["rtog_grade"]["value"]) == (2, 2)
    assert (elsewhere["ctcae_grade"]["value"], elsewhere["rtog_grade"]["value"]) == (3, 3)
    assert beyond["ctcae_grade"]["value"] == 3


def test_area_method_measured_then_traced(app, nurse, wound):
    a = create(nurse, wound, area_cm2=2.5)
    assert (a["area_cm2"], a["area_method"], a["measured_area_cm2"]) == (2.5, "measured", 2.5)
    # PUSH keeps using L x W, whatever the area method.
    assert a["push"]["area"] == 6

    # The photos service sets a traced area and calls derive(); traced wins.
    from app.assessments.services import derive, wound_facts
    from app.extensions import db

    with app.app_context():
        facts = wound_facts(db.session, wound)
        obj = db.session.get(Assessment, uuid.UUID(a["id"]))
        obj.traced_area_cm2 = 2.81
        obj.traced_perimeter_cm = 6.1
        derive(obj, facts)
        db.session.commit()
    got = nurse.get(f"/api/v1/assessments/{a['id']}").json
    assert (got["area_cm2"], got["area_method"], got["traced_area_cm2"]) == (2.81, "traced", 2.81)


def test_no_dimensions_no_area_and_no_push(nurse, wound):
    a = create(nurse, wound, length_cm=None, width_cm=None)
    assert a["area_cm2"] is None and a["area_method"] is None and a["push"] is None


def test_closed_wound_scores_zero(nurse, wound):
    body = seed_ulcer_body(closed=True, tissue=None, findings={}, exudate_amount="none")
    for key in ("length_cm", "width_cm", "depth_cm"):
        body.pop(key)
    r = nurse.post(URL.format(wound), json=body)
    assert r.status_code == 201, r.json
    a = r.json
    assert (a["area_cm2"], a["area_method"]) == (0.0, "measured")
    assert a["push"] == {"area": 0, "exudate": 0, "tissue": 0, "total": 0}
    assert a["ctcae_grade"] == {"value": 0, "reasons": []}


def _healed_body(**overrides):
    body = seed_ulcer_body(closed=True, tissue=None, findings={}, exudate_amount="none")
    for key in ("length_cm", "width_cm", "depth_cm"):
        body.pop(key)
    body.update(overrides)
    return body


def test_bwat_of_a_healed_wound_scores_items_1_to_4_zero(nurse, wound):
    """BWAT instructions: a healed/resolved wound scores items 1-4 as 0."""
    rest = {
        "necrotic_type": 1,
        "necrotic_amount": 1,
        "exudate_type": 1,
        "exudate_amount": 1,
        "skin_color": 2,
        "peripheral_edema": 1,
        "peripheral_induration": 2,
        "granulation": 5,
        "epithelialization": 1,
    }
    r = nurse.post(URL.format(wound), json=_healed_body(bwat=rest))
    assert r.status_code == 201, r.json
    assert r.json["bwat"]["total"] == 15
    assert r.json["bwat"]["items"] == {
        "size": 0,
        "depth": 0,
        "edges": 0,
        "undermining": 0,
        **rest,
    }
    # Sent as 0: the same total.
    zeros = {"size": 0, "depth": 0, "edges": 0, "undermining": 0}
    r = nurse.post(URL.format(wound), json=_healed_body(bwat={**zeros, **rest}))
    assert r.status_code == 201 and r.json["bwat"]["total"] == 15
    # A positive depth contradicts the closure: 422 naming bwat.depth, nothing kept.
    r = nurse.post(URL.format(wound), json=_healed_body(bwat={**rest, "depth": 2}))
    assert r.status_code == 422
    assert "bwat.depth" in r.json["errors"], r.json
    # Zero on an open wound is out of range.
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(bwat={"depth": 0}))
    assert r.status_code == 422 and "bwat.depth" in r.json["errors"], r.json


def test_bwat_total_only_when_all_items(nurse, wound):
    items = {
        "depth": 3,
        "edges": 2,
        "undermining": 1,
        "necrotic_type": 2,
        "necrotic_amount": 2,
        "exudate_type": 3,
        "exudate_amount": 3,
        "skin_color": 2,
        "peripheral_edema": 1,
        "peripheral_induration": 1,
        "granulation": 3,
        "epithelialization": 4,
    }
    # size omitted: derived from L x W = 4 cm^2 -> item 2 ("4 to < 16").
    full = create(nurse, wound, bwat=items)
    assert full["bwat"]["total"] == sum(items.values()) + 2
    assert full["bwat"]["items"]["size"] == 2
    partial = create(nurse, wound, bwat={"depth": 3})
    assert partial["bwat"] == {"items": {"depth": 3}, "total": None}


# --- life cycle -----------------------------------------------------------------


def test_patch_rederives_and_keeps_history(nurse, wound):
    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}"
    etag = nurse.get(url).headers["ETag"]
    r = nurse.patch(
        url,
        json={
            "length_cm": 1.0,
            "width_cm": 1.0,
            "tissue": {"slough_pct": 0, "granulation_pct": 100},
            "findings": {"ulceration": "none"},
        },
        etag=etag,
    )
    assert r.status_code == 200, r.json
    b = r.json
    assert b["version"] == 2 and r.headers["ETag"] == '"v2"'
    # 1.0 cm^2 -> PUSH area 3; granulation -> 2; exudate unchanged 2.
    assert b["push"] == {"area": 3, "exudate": 2, "tissue": 2, "total": 7}
    assert b["area_cm2"] == pytest.approx(math.pi / 4)
    # Without ulceration: brisk erythema + fold-confined moist desquamation -> 2 on both.
    assert (b["ctcae_grade"]["value"], b["rtog_grade"]["value"]) == (2, 2)
    # Other findings and tissue members were left as they were.
    assert b["findings"]["desquamation"] == "moist" and b["tissue"]["granulation_pct"] == 100

    versions = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["data"]["push_total"] == 11 and versions[1]["data"]["push_total"] == 7
    assert versions[1]["data"]["ctcae_grade"] == 2
    assert {"length_cm", "ulceration", "push_total", "ctcae_grade"} <= set(
        versions[1]["changed_fields"]
    )


def test_etag_required_and_checked(nurse, wound):
    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}"
    assert nurse.patch(url, json={"pain_score": 2}).status_code == 428
    assert nurse.delete(url).status_code == 428
    assert nurse.patch(url, json={"pain_score": 2}, etag='"v1"').status_code == 200
    r = nurse.patch(url, json={"pain_score": 3}, etag='"v1"')
    assert r.status_code == 412
    assert r.json["current_version"] == 2 and r.json["current"]["pain_score"] == 2
    assert nurse.delete(url, etag='"v1"').status_code == 412


def test_offline_replay_and_conflicting_reuse(app, nurse, wound):
    body = seed_ulcer_body(id=str(uuid.uuid4()))
    first = nurse.post(URL.format(wound), json=body)
    again = nurse.post(URL.format(wound), json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    changed = nurse.post(URL.format(wound), json={**body, "pain_score": 9})
    assert changed.status_code == 409
    assert changed.json["stored"]["pain_score"] == 4
    assert count_rows(app, Assessment) == 1


def test_delete_restore_and_tombstones(nurse, admin, wound):
    a = create(nurse, wound)
    keep = create(nurse, wound, assessed_at="2025-03-12T10:00:00+00:00")
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.delete(url, etag='"v1"')
    assert r.status_code == 200 and r.json["deleted"] is True
    assert nurse.get(url).status_code == 404
    listed = nurse.get(URL.format(wound)).json["items"]
    assert [x["id"] for x in listed] == [keep["id"]]

    feed = nurse.get(URL.format(wound), query_string={"updated_since": a["created_at"]}).json[
        "items"
    ]
    tomb = next(x for x in feed if x["id"] == a["id"])
    assert tomb == {"id": a["id"], "deleted": True, "version": 2, "updated_at": tomb["updated_at"]}
    # History survives the delete.
    versions = nurse.get(f"{url}/history").json["items"]
    assert [v["action"] for v in versions] == ["create", "delete"]

    assert nurse.post(f"{url}/restore").status_code == 403
    r = admin.post(f"{url}/restore")
    assert r.status_code == 200 and r.json["version"] == 3
    assert nurse.get(url).status_code == 200
    assert admin.post(f"{url}/restore").status_code == 409


def test_list_orders_by_assessed_at_filters_and_pages(nurse, wound):
    times = ["2025-03-20T08:00:00+00:00", "2025-03-05T08:00:00+00:00", "2025-03-12T08:00:00+00:00"]
    ids = {t: create(nurse, wound, assessed_at=t)["id"] for t in times}
    ordered = [ids[t] for t in sorted(times)]
    items = nurse.get(URL.format(wound)).json["items"]
    assert [x["id"] for x in items] == ordered

    page1 = nurse.get(URL.format(wound), query_string={"limit": 2}).json
    page2 = nurse.get(
        URL.format(wound), query_string={"limit": 2, "cursor": page1["next_cursor"]}
    ).json
    assert [x["id"] for x in page1["items"] + page2["items"]] == ordered
    assert page2["next_cursor"] is None

    ranged = nurse.get(
        URL.format(wound),
        query_string={"from": "2025-03-05T08:00:00+00:00", "to": "2025-03-12T08:00:00Z"},
    ).json["items"]
    assert [x["id"] for x in ranged] == ordered[:2]
    bad = nurse.get(
        URL.format(wound), query_string={"from": "2025-03-12T00:00:00Z", "to": "2025-03-01T00:00Z"}
    )
    assert bad.status_code == 422 and "to" in bad.json["errors"]
    assert nurse.get(URL.format(wound), query_string={"from": "yesterday"}).status_code == 422


def test_reads_and_writes_are_audited(nurse, clinic_admin, wound):
    a = create(nurse, wound)
    nurse.get(f"/api/v1/assessments/{a['id']}")
    events = clinic_admin.get("/api/v1/audit-events", query_string={"record_id": a["id"]}).json
    assert [e["action"] for e in events["items"]] == ["create", "read"]


# --- grade overrides ------------------------------------------------------------


def test_override_by_clinician_keeps_both_values(nurse, clinician, clinic_admin, wound):
    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}/grade-override"
    body = {"scale": "ctcae", "value": 3, "reason": "Ulcer base is dermis, not full thickness."}
    assert nurse.post(url, json=body).status_code == 403
    r = clinician.post(url, json=body)
    assert r.status_code == 201, r.json
    o = r.json
    assert o["ctcae_grade"]["value"] == 4  # derived, unchanged
    override = o["grade_overrides"]["ctcae"]
    assert o["grade_override"] == override  # the contract's single, latest override
    assert override["value"] == 3 and override["derived_value"] == 4
    assert override["reason"] == body["reason"] and override["by"] == str(clinician.user_id)
    assert override["scale"] == "ctcae" and override["at"]
    assert "rtog" not in o["grade_overrides"]
    assert o["effective_grades"] == {
        "ctcae": {"value": 3, "source": "override"},
        "rtog": {"value": 4, "source": "derived"},
    }
    # A later override supersedes; the GET shows the same.
    r = clinician.post(url, json={"scale": "ctcae", "value": 5, "reason": "Patient died."})
    assert r.status_code == 201 and r.json["grade_overrides"]["ctcae"]["value"] == 5
    got = nurse.get(f"/api/v1/assessments/{a['id']}").json
    assert got["effective_grades"]["ctcae"] == {"value": 5, "source": "override"}
    assert got["ctcae_grade"]["value"] == 4

    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "grade_override"}
    ).json["items"]
    assert [e["action"] for e in events] == ["create", "create"]
    assert all(e["user_id"] == str(clinician.user_id) for e in events)


def test_withdrawn_override_gives_back_the_derived_grade_and_stays_on_record(
    app, nurse, clinician, clinic_admin, wound
):
    a = create(nurse, wound)  # derived CTCAE 4, RTOG 4
    url = f"/api/v1/assessments/{a['id']}/grade-override"
    first = clinician.post(url, json={"scale": "ctcae", "value": 3, "reason": "dermis only"})
    assert first.status_code == 201
    assert (
        clinician.post(url, json={"scale": "rtog", "value": 3, "reason": "no ulcer"}).json[
            "grade_overrides"
        ]["rtog"]["value"]
        == 3
    )

    withdraw = {"scale": "ctcae", "value": None, "reason": "entered on the wrong assessment"}
    assert nurse.post(url, json=withdraw).status_code == 403
    r = clinician.post(url, json=withdraw)
    assert r.status_code == 201, r.json
    o = r.json
    assert o["effective_grades"] == {
        "ctcae": {"value": 4, "source": "derived"},
        "rtog": {"value": 3, "source": "override"},
    }
    assert list(o["grade_overrides"]) == ["rtog"]
    assert o["grade_override"] == o["grade_overrides"]["rtog"]  # the latest one in force
    assert r.headers["ETag"] == f'"v{o["version"]}"' and o["version"] == 4

    # The withdrawal is an amendment with its reason; the override stays in history.
    history = nurse.get(f"/api/v1/assessments/{a['id']}/history").json["items"]
    assert history[-1]["data"]["grade_override"] == {
        "scale": "ctcae",
        "value": None,
        "derived_value": 4,
        "withdrawn_value": 3,
        "reason": "entered on the wrong assessment",
    }
    assert history[-3]["data"]["grade_override"]["value"] == 3
    events = clinic_admin.get(
        "/api/v1/audit-events", query_string={"record_type": "grade_override"}
    ).json["items"]
    assert [e["action"] for e in events] == ["create"] * 3

    # Nothing left to withdraw on that scale: 409, and nothing is written.
    from app.assessments.models import GradeOverride

    again = clinician.post(url, json=withdraw)
    assert again.status_code == 409 and "nothing to withdraw" in again.json["detail"]
    assert count_rows(app, GradeOverride) == 3
    assert nurse.get(f"/api/v1/assessments/{a['id']}").json["version"] == 4

    # A later override applies as usual; the RTOG one can be withdrawn on its own.
    r = clinician.post(url, json={"scale": "ctcae", "value": 2, "reason": "reviewed again"})
    assert r.json["effective_grades"]["ctcae"] == {"value": 2, "source": "override"}
    r = clinician.post(url, json={"scale": "rtog", "value": None, "reason": "photo reviewed"})
    assert r.json["effective_grades"]["rtog"] == {"value": 4, "source": "derived"}
    assert r.json["grade_override"]["scale"] == "ctcae"
    assert nurse.get(f"/api/v1/assessments/{a['id']}").json["grade_overrides"] == {
        "ctcae": r.json["grade_overrides"]["ctcae"]
    }


def test_an_override_retried_with_its_client_id_is_stored_once(app, nurse, clinician, wound):
    """A phone that lost the answer sends the override again: the same id and
    content is a replay (200, no second row, no second version); the same id
    with other content is a 409 with the stored override. A retried withdrawal
    is a replay too, not a 409 for having nothing left to withdraw."""
    from app.assessments.models import GradeOverride

    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}/grade-override"
    body = {"id": str(uuid.uuid4()), "scale": "ctcae", "value": 3, "reason": "dermis only"}
    first = clinician.post(url, json=body)
    assert first.status_code == 201, first.json
    again = clinician.post(url, json=body)
    assert again.status_code == 200 and again.json == first.json
    assert count_rows(app, GradeOverride) == 1

    other = clinician.post(url, json={**body, "value": 2})
    assert other.status_code == 409 and other.json["stored"]["value"] == 3
    elsewhere = create(nurse, wound, assessed_at="2025-03-11T09:30:00+01:00")
    moved = clinician.post(f"/api/v1/assessments/{elsewhere['id']}/grade-override", json=body)
    assert moved.status_code == 409
    assert count_rows(app, GradeOverride) == 1

    withdraw = {"id": str(uuid.uuid4()), "scale": "ctcae", "value": None, "reason": "in error"}
    assert clinician.post(url, json=withdraw).status_code == 201
    replayed = clinician.post(url, json=withdraw)
    assert replayed.status_code == 200, replayed.json
    assert replayed.json["effective_grades"]["ctcae"] == {"value": 4, "source": "derived"}
    assert replayed.json["version"] == 3  # the override and its withdrawal; no more
    assert count_rows(app, GradeOverride) == 2


def test_withdrawing_when_no_override_was_ever_set_is_409(app, nurse, clinician, wound):
    a = create(nurse, wound)
    r = clinician.post(
        f"/api/v1/assessments/{a['id']}/grade-override",
        json={"scale": "rtog", "value": None, "reason": "x"},
    )
    assert r.status_code == 409 and "rtog" in r.json["detail"]
    from app.assessments.models import GradeOverride

    assert count_rows(app, GradeOverride) == 0
    assert nurse.get(f"/api/v1/assessments/{a['id']}").json["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scale": "rtog", "value": 5, "reason": "x"}, "value"),
        ({"scale": "ctcae", "value": 6, "reason": "x"}, "value"),
        ({"scale": "ctcae", "value": -1, "reason": "x"}, "value"),
        ({"scale": "ctcae", "value": "3", "reason": "x"}, "value"),
        ({"scale": "who", "value": 1, "reason": "x"}, "scale"),
        ({"scale": "ctcae", "value": 1, "reason": ""}, "reason"),
        ({"scale": "ctcae", "value": 1, "reason": "   "}, "reason"),
        ({"scale": "ctcae", "value": 1}, "reason"),
        ({"scale": "ctcae", "value": None, "reason": " "}, "reason"),
        ({"scale": "ctcae", "reason": "x"}, "value"),
    ],
)
def test_override_validation(app, nurse, clinician, wound, body, field):
    a = create(nurse, wound)
    r = clinician.post(f"/api/v1/assessments/{a['id']}/grade-override", json=body)
    assert r.status_code == 422 and field in r.json["errors"], r.json
    from app.assessments.models import GradeOverride

    assert count_rows(app, GradeOverride) == 0


# --- access -----------------------------------------------------------------------


def test_other_clinic_gets_404_everywhere(factory, other_clinic, nurse, outsider, wound):
    a = create(nurse, wound)
    aid = a["id"]
    outsider_clinician = factory.actor("clinician", other_clinic)
    outsider_admin = factory.actor("clinic_admin", other_clinic)
    calls = [
        outsider.get(URL.format(wound)),
        outsider.post(URL.format(wound), json=seed_ulcer_body()),
        outsider.get(f"/api/v1/assessments/{aid}"),
        outsider.patch(f"/api/v1/assessments/{aid}", json={"pain_score": 1}, etag='"v1"'),
        outsider.delete(f"/api/v1/assessments/{aid}", etag='"v1"'),
        outsider.get(f"/api/v1/assessments/{aid}/history"),
        outsider_clinician.post(
            f"/api/v1/assessments/{aid}/grade-override",
            json={"scale": "ctcae", "value": 1, "reason": "x"},
        ),
        outsider_admin.get(f"/api/v1/assessments/{aid}"),
    ]
    assert [c.status_code for c in calls] == [404] * len(calls)
    # A client id already used in another clinic is refused, and leaks nothing.
    r = outsider.post(
        URL.format(make_wound_for(outsider, factory)), json={**seed_ulcer_body(), "id": aid}
    )
    assert r.status_code == 409 and "stored" not in r.json
    assert nurse.get(f"/api/v1/assessments/{aid}").json["version"] == 1


def make_wound_for(actor, factory):
    return make_wound(factory.app, actor.clinic_id)


def test_researcher_is_refused(nurse, researcher, wound):
    a = create(nurse, wound)
    aid = a["id"]
    calls = [
        researcher.get(URL.format(wound)),
        researcher.post(URL.format(wound), json=seed_ulcer_body()),
        researcher.get(f"/api/v1/assessments/{aid}"),
        researcher.patch(f"/api/v1/assessments/{aid}", json={"pain_score": 1}, etag='"v1"'),
        researcher.delete(f"/api/v1/assessments/{aid}", etag='"v1"'),
        researcher.get(f"/api/v1/assessments/{aid}/history"),
        researcher.post(f"/api/v1/assessments/{aid}/restore"),
        researcher.post(
            f"/api/v1/assessments/{aid}/grade-override",
            json={"scale": "ctcae", "value": 1, "reason": "x"},
        ),
    ]
    assert [c.status_code for c in calls] == [403] * len(calls)


def test_unauthenticated_is_401(client, wound):
    assert client.get(URL.format(wound)).status_code == 401


# --- validation ---------------------------------------------------------------------


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"assessed_at": "2999-01-01T00:00:00+00:00"}, "assessed_at"),
        ({"assessed_at": "2025-02-27T12:00:00+00:00"}, "assessed_at"),  # before onset
        ({"assessed_at": "2025-03-10T09:30:00"}, "assessed_at"),  # no offset
        ({"assessed_at": None}, "assessed_at"),
        ({"tissue": {"granulation_pct": 60, "slough_pct": 50}}, "tissue"),
        ({"tissue": {"slough_pct": 101}}, "tissue.slough_pct"),
        ({"tissue": {"slough_pct": -1}}, "tissue.slough_pct"),
        ({"tissue": {"fibrin_pct": 10}}, "tissue.fibrin_pct"),
        ({"length_cm": -0.1}, "length_cm"),
        ({"length_cm": 101}, "length_cm"),
        ({"width_cm": "2"}, "width_cm"),
        ({"width_cm": True}, "width_cm"),
        ({"depth_cm": 31}, "depth_cm"),
        ({"area_cm2": 2001}, "area_cm2"),
        ({"area_cm2": -1}, "area_cm2"),
        ({"pain_score": 11}, "pain_score"),
        ({"pain_score": 3.5}, "pain_score"),
        ({"pain_score": "3"}, "pain_score"),
        ({"exudate_amount": "Moderate"}, "exudate_amount"),
        ({"exudate_amount": "heavy"}, "exudate_amount"),
        ({"exudate_type": "pus"}, "exudate_type"),
        ({"odor": "yes"}, "odor"),
        ({"closed": 1}, "closed"),
        ({"closed": True}, "closed"),  # with a 2 x 2 cm wound: contradictory
        ({"findings": {"erythema": "severe"}}, "findings.erythema"),
        ({"findings": {"necrosis": "true"}}, "findings.necrosis"),
        ({"findings": None}, "findings"),
        ({"bwat": {"depth": 6}}, "bwat.depth"),
        ({"bwat": {"colour": 1}}, "bwat.colour"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"ctcae_grade": 0}, "ctcae_grade"),
        ({"push": {"total": 0}}, "push"),
        ({"area_method": "traced"}, "area_method"),
        ({"clinic_id": str(uuid.uuid4())}, "clinic_id"),
        ({"wound_id": str(uuid.uuid4())}, "wound_id"),
        ({"version": 3}, "version"),
        ({"measured_area_cm2": 3}, "measured_area_cm2"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_create_validation_names_the_field(app, nurse, wound, overrides, field):
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(**overrides))
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert field in r.json["errors"], r.json
    assert count_rows(app, Assessment) == 0


def test_clock_skew_is_tolerated(app, nurse, wound):
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    assert nurse.post(URL.format(wound), json=seed_ulcer_body(assessed_at=soon)).status_code == 201
    late = nurse.post(URL.format(wound), json=seed_ulcer_body(assessed_at=_future()))
    assert late.status_code == 422


def test_onset_compared_in_the_devices_local_date(nurse, wound):
    # 00:30 on the onset day in Berlin is still the day before in UTC: allowed.
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(assessed_at="2025-03-01T00:30:00+01:00"))
    assert r.status_code == 201, r.json


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tissue": {"necrotic_pct": 10}}, "tissue"),  # 40 + 60 + 10 > 100
        ({"closed": True}, "closed"),
        ({"assessed_at": "2999-01-01T00:00:00Z"}, "assessed_at"),
        ({"assessed_at": None}, "assessed_at"),
        ({"findings": {"desquamation": None}}, "findings.desquamation"),
        ({"closed": None}, "closed"),
        ({"push": None}, "push"),
        ({"id": str(uuid.uuid4())}, "id"),
    ],
)
def test_patch_validation_writes_nothing(nurse, wound, change, field):
    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.patch(url, json=change, etag='"v1"')
    assert r.status_code == 422 and field in r.json["errors"], r.json
    after = nurse.get(url).json
    assert after["version"] == 1 and after["push"] == a["push"]


def test_patch_closing_with_zero_measurements(nurse, wound):
    a = create(nurse, wound)
    r = nurse.patch(
        f"/api/v1/assessments/{a['id']}",
        json={
            "closed": True,
            "length_cm": 0,
            "width_cm": 0,
            "depth_cm": None,
            "tissue": None,
            "exudate_amount": "none",
            "findings": {"ulceration": "none", "desquamation": "none", "erythema": "faint"},
        },
        etag='"v1"',
    )
    assert r.status_code == 200, r.json
    assert r.json["push"] == {"area": 0, "exudate": 0, "tissue": 0, "total": 0}
    assert r.json["area_cm2"] == 0 and r.json["ctcae_grade"]["value"] == 1


def test_unknown_wound_is_404_and_deleted_wound_too(app, nurse, wound):
    r = nurse.post(URL.format(uuid.uuid4()), json=seed_ulcer_body())
    assert r.status_code == 404
    from app.core.db import utcnow
    from app.extensions import db
    from app.wounds.models import Wound

    with app.app_context():
        db.session.get(Wound, wound).deleted_at = utcnow()
        db.session.commit()
    assert nurse.post(URL.format(wound), json=seed_ulcer_body()).status_code == 404


def test_patch_area_and_bwat(nurse, wound):
    a = create(nurse, wound)
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.patch(url, json={"area_cm2": 2.2, "bwat": {"depth": 2}}, etag='"v1"')
    assert r.status_code == 200, r.json
    assert (r.json["area_cm2"], r.json["area_method"]) == (2.2, "measured")
    assert r.json["bwat"] == {"items": {"depth": 2}, "total": None}
    # Clearing the measured area falls back to the ellipse estimate.
    r = nurse.patch(url, json={"area_cm2": None, "bwat": None}, etag='"v2"')
    assert r.json["area_method"] == "ellipse" and r.json["bwat"] is None


def test_override_is_an_amendment_seen_by_etag_delta_sync_and_history(nurse, clinician, wound):
    a = create(nurse, wound)
    before = nurse.get(f"/api/v1/assessments/{a['id']}")
    body = {"scale": "rtog", "value": 3, "reason": "Confluent moist desquamation, no ulcer."}
    assert (
        clinician.post(f"/api/v1/assessments/{a['id']}/grade-override", json=body).status_code
        == 201
    )

    after = nurse.get(f"/api/v1/assessments/{a['id']}")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json["version"] == before.json["version"] + 1
    assert after.json["grade_override"]["scale"] == "rtog"
    assert after.json["grade_override"]["value"] == 3
    # A phone that synced before the override receives the assessment again.
    feed = nurse.get(
        f"/api/v1/wounds/{wound}/assessments",
        query_string={"updated_since": before.json["updated_at"]},
    ).json["items"]
    assert [i["id"] for i in feed] == [a["id"]]
    history = nurse.get(f"/api/v1/assessments/{a['id']}/history").json["items"]
    assert history[-1]["changed_fields"] == ["grade_override"]
    assert history[-1]["data"]["grade_override"]["value"] == 3
    assert history[-1]["changed_by"] == str(clinician.user_id)


def test_overrides_in_force_the_one_rule():
    """Latest of a scale wins; a withdrawal leaves none; scales are independent;
    an assessment left with none is absent."""
    from app.assessments.models import overrides_in_force

    rows = [
        ("a", "ctcae", 3, "c3"),
        ("a", "rtog", 2, "r2"),
        ("a", "ctcae", 4, "c4"),
        ("b", "ctcae", 1, "b1"),
        ("b", "ctcae", None, "withdrawn"),
        ("a", "rtog", None, "withdrawn"),
        ("c", "rtog", None, "withdrawn"),
        ("c", "rtog", 3, "again"),
    ]
    assert overrides_in_force(rows) == {"a": {"ctcae": "c4"}, "c": {"rtog": "again"}}
