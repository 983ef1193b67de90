"""Procedures through the HTTP API: the seed case's debridement + PRP sessions,
block rules, life cycle, access, validation."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.procedures.models import Procedure
from tests.assessments.helpers import count_rows

URL = "/api/v1/wounds/{}/procedures"


def seed_session(**overrides):
    """One of the seed case's four sessions: debridement scraped to fresh bleeding,
    then thrombin-activated PRP gel."""
    body = {
        "performed_at": "2025-03-11T10:00:00+01:00",
        "kind": "debridement",
        "notes": "Scraped to fresh bleeding; PRP gel applied.",
        "debridement": {"method": "sharp_conservative", "to_bleeding": True},
        "prp": {
            "form": "gel",
            "volume_ml": 5.0,
            "activator": "thrombin",
            "preparation": "Autologous, double spin",
        },
    }
    body.update(overrides)
    return body


def create(actor, wound, **overrides):
    r = actor.post(URL.format(wound), json=seed_session(**overrides))
    assert r.status_code == 201, r.json
    return r.json


def test_debridement_with_prp_in_one_session(nurse, wound):
    p = create(nurse, wound)
    assert p["kind"] == "debridement" and p["wound_id"] == str(wound)
    assert p["debridement"] == {"method": "sharp_conservative", "to_bleeding": True}
    assert p["prp"] == {
        "form": "gel",
        "volume_ml": 5.0,
        "activator": "thrombin",
        "preparation": "Autologous, double spin",
    }
    assert p["performed_at"] == "2025-03-11T09:00:00+00:00"
    assert p["performed_by"] == str(nurse.user_id) and p["version"] == 1


def test_kinds_and_their_blocks(nurse, wound):
    prp = create(nurse, wound, kind="prp", debridement=None, prp={"form": "injection"})
    assert prp["debridement"] is None
    assert prp["prp"] == {
        "form": "injection",
        "volume_ml": None,
        "activator": None,
        "preparation": None,
    }
    dressing = create(nurse, wound, kind="dressing", debridement=None, prp=None)
    assert dressing["debridement"] is None and dressing["prp"] is None
    plain = nurse.post(
        URL.format(wound),
        json={"performed_at": "2025-03-12T10:00:00Z", "kind": "other", "notes": "Offloading"},
    )
    assert plain.status_code == 201 and plain.json["notes"] == "Offloading"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"debridement": None}, "debridement"),  # kind debridement without its block
        ({"kind": "prp", "prp": None}, "prp"),
        ({"kind": "prp"}, "debridement"),  # prp with a debridement block
        ({"kind": "dressing", "debridement": None}, "prp"),
        ({"kind": "other", "prp": None}, "debridement"),
        ({"kind": "surgery"}, "kind"),
        ({"debridement": {"method": "laser"}}, "debridement.method"),
        ({"debridement": {"to_bleeding": True}}, "debridement.method"),
        (
            {"debridement": {"method": "sharp_surgical", "to_bleeding": "yes"}},
            "debridement.to_bleeding",
        ),
        ({"prp": {"form": "gel", "volume_ml": 0}}, "prp.volume_ml"),
        ({"prp": {"form": "gel", "volume_ml": -2}}, "prp.volume_ml"),
        ({"prp": {"form": "gel", "volume_ml": 100.5}}, "prp.volume_ml"),
        ({"prp": {"form": "gel", "volume_ml": "5"}}, "prp.volume_ml"),
        ({"prp": {"form": "spray"}}, "prp.form"),
        ({"prp": {"form": "gel", "activator": "Thrombin"}}, "prp.activator"),
        ({"prp": {"form": "gel", "platelets": 3}}, "prp.platelets"),
        ({"performed_at": "2999-01-01T00:00:00Z"}, "performed_at"),
        ({"performed_at": "2025-02-20T00:00:00Z"}, "performed_at"),  # before onset
        ({"performed_at": "2025-03-11T10:00:00"}, "performed_at"),
        ({"performed_at": None}, "performed_at"),
        ({"clinic_id": str(uuid.uuid4())}, "clinic_id"),
        ({"wound_id": str(uuid.uuid4())}, "wound_id"),
        ({"performed_by": str(uuid.uuid4())}, "performed_by"),
        ({"version": 2}, "version"),
        ({"debridement_method": "mechanical"}, "debridement_method"),
    ],
)
def test_validation_names_the_field_and_writes_nothing(app, nurse, wound, overrides, field):
    r = nurse.post(URL.format(wound), json=seed_session(**overrides))
    assert r.status_code == 422 and field in r.json["errors"], r.json
    assert count_rows(app, Procedure) == 0


def test_patch_history_etag_and_block_rules(nurse, wound):
    p = create(nurse, wound)
    url = f"/api/v1/procedures/{p['id']}"
    assert nurse.patch(url, json={"notes": "x"}).status_code == 428
    r = nurse.patch(
        url, json={"prp": {"form": "gel", "volume_ml": 4.0, "activator": "thrombin"}}, etag='"v1"'
    )
    assert r.status_code == 200 and r.json["version"] == 2
    # A block is replaced whole: preparation was left out, so it is cleared.
    assert r.json["prp"]["volume_ml"] == 4.0 and r.json["prp"]["preparation"] is None
    assert nurse.patch(url, json={"notes": "y"}, etag='"v1"').status_code == 412

    # Changing the kind must leave consistent blocks.
    bad = nurse.patch(url, json={"kind": "dressing"}, etag='"v2"')
    assert bad.status_code == 422 and "debridement" in bad.json["errors"]
    ok = nurse.patch(url, json={"kind": "prp", "debridement": None}, etag='"v2"')
    assert ok.status_code == 200, ok.json
    assert ok.json["debridement"] is None and ok.json["prp"]["form"] == "gel"

    versions = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0]["data"]["prp_volume_ml"] == 5.0
    assert "prp_volume_ml" in versions[1]["changed_fields"]
    assert {"kind", "debridement_method"} <= set(versions[2]["changed_fields"])


def test_offline_replay_concurrent_and_conflict(app, nurse, wound):
    body = seed_session(id=str(uuid.uuid4()))

    def replay(_):
        r = app.test_client().post(URL.format(wound), json=body, headers=nurse.headers)
        return r.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(replay, range(20)))
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    assert count_rows(app, Procedure) == 1
    changed = nurse.post(URL.format(wound), json={**body, "notes": "different"})
    assert changed.status_code == 409 and changed.json["stored"]["notes"] == body["notes"]


def test_delete_restore_tombstones_and_list(nurse, admin, wound):
    first = create(nurse, wound, performed_at="2025-03-20T10:00:00Z")
    second = create(nurse, wound, performed_at="2025-03-04T10:00:00Z")
    dressing = create(
        nurse, wound, kind="dressing", debridement=None, prp=None, performed_at="2025-03-05T10:00Z"
    )
    items = nurse.get(URL.format(wound)).json["items"]
    assert [x["id"] for x in items] == [second["id"], dressing["id"], first["id"]]
    only = nurse.get(URL.format(wound), query_string={"kind": "dressing"}).json["items"]
    assert [x["id"] for x in only] == [dressing["id"]]
    ranged = nurse.get(
        URL.format(wound), query_string={"from": "2025-03-05T00:00:00Z", "to": "2025-03-21T00:00Z"}
    ).json["items"]
    assert [x["id"] for x in ranged] == [dressing["id"], first["id"]]

    url = f"/api/v1/procedures/{first['id']}"
    assert nurse.delete(url, etag='"v1"').status_code == 200
    assert nurse.get(url).status_code == 404
    assert first["id"] not in [x["id"] for x in nurse.get(URL.format(wound)).json["items"]]
    feed = nurse.get(URL.format(wound), query_string={"updated_since": first["created_at"]})
    tomb = next(x for x in feed.json["items"] if x["id"] == first["id"])
    assert tomb["deleted"] is True and set(tomb) == {"id", "deleted", "version", "updated_at"}
    assert nurse.post(f"{url}/restore").status_code == 403
    assert admin.post(f"{url}/restore").status_code == 200
    assert nurse.get(url).json["version"] == 3


def test_other_clinic_404_and_researcher_403(nurse, outsider, researcher, wound):
    pid = create(nurse, wound)["id"]
    routes = [
        ("get", URL.format(wound), {}),
        ("post", URL.format(wound), {"json": seed_session()}),
        ("get", f"/api/v1/procedures/{pid}", {}),
        ("patch", f"/api/v1/procedures/{pid}", {"json": {"notes": "x"}, "etag": '"v1"'}),
        ("delete", f"/api/v1/procedures/{pid}", {"etag": '"v1"'}),
        ("get", f"/api/v1/procedures/{pid}/history", {}),
    ]
    for method, url, kw in routes:
        assert getattr(outsider, method)(url, **kw).status_code == 404, (method, url)
        assert getattr(researcher, method)(url, **kw).status_code == 403, (method, url)
    assert researcher.post(f"/api/v1/procedures/{pid}/restore").status_code == 403
    assert nurse.get(f"/api/v1/procedures/{pid}").json["version"] == 1


def test_fuzzed_bodies_never_5xx(app, nurse, wound):
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
        st.lists(st.none()),
    )
    block = st.one_of(
        junk,
        st.dictionaries(
            st.sampled_from(["method", "to_bleeding", "form", "volume_ml", "activator", "x"]),
            st.one_of(junk, st.sampled_from(["gel", "thrombin", "mechanical"])),
        ),
    )
    body = st.fixed_dictionaries(
        {},
        optional={
            "performed_at": st.one_of(junk, st.just("2025-03-11T10:00:00Z")),
            "kind": st.one_of(junk, st.sampled_from(["debridement", "prp", "dressing"])),
            "notes": junk,
            "debridement": block,
            "prp": block,
        },
    )

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=body, base=st.booleans())
    def check(body, base):
        sent = {**seed_session(), **body} if base else body
        before = count_rows(app, Procedure)
        r = nurse.post(URL.format(wound), json=sent)
        assert r.status_code < 500, (sent, r.json)
        if r.status_code >= 400:
            assert count_rows(app, Procedure) == before

    check()
