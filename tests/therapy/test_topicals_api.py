"""Topical and supportive treatments of a wound through the HTTP API."""

from __future__ import annotations

import uuid

import pytest

from app.therapy.models import TOPICAL_CATEGORIES


def _body(**kw):
    body = {
        "category": "rhegf",
        "product": "recombinant human EGF gel",
        "start_date": "2022-06-20",
        "notes": "twice daily",
    }
    body.update(kw)
    return body


@pytest.mark.parametrize("category", TOPICAL_CATEGORIES)
def test_every_category_is_accepted(nurse, wound, category):
    r = nurse.post(f"/api/v1/wounds/{wound}/topical-treatments", json=_body(category=category))
    assert r.status_code == 201, r.json
    assert r.json["category"] == category and r.json["wound_id"] == wound


def test_validation(nurse, wound):
    url = f"/api/v1/wounds/{wound}/topical-treatments"
    r = nurse.post(url, json=_body(category="aloe vera"))
    assert r.status_code == 422 and "category" in r.json["errors"]
    r = nurse.post(url, json=_body(stop_date="2022-06-19"))
    assert r.status_code == 422
    assert "rule: stop_before_start" in r.json["errors"]["stop_date"][0]
    assert nurse.post(url, json=_body(stop_date="2022-06-20")).status_code == 201
    assert "product" in nurse.post(url, json=_body(product="")).json["errors"]
    assert (
        nurse.post(f"/api/v1/wounds/{uuid.uuid4()}/topical-treatments", json=_body()).status_code
        == 404
    )


def test_amend_history_delete_restore_and_replay(nurse, admin, wound):
    url = f"/api/v1/wounds/{wound}/topical-treatments"
    body = _body(id=str(uuid.uuid4()), category="plant_extract", product="aloe vera gel")
    assert [nurse.post(url, json=body).status_code for _ in range(2)] == [201, 200]
    assert nurse.post(url, json={**body, "product": "other"}).status_code == 409
    one = f"/api/v1/topical-treatments/{body['id']}"
    r = nurse.get(one)
    assert r.status_code == 200 and r.headers["ETag"] == '"v1"' and r.json["notes"] == "twice daily"
    assert nurse.patch(one, json={"stop_date": "2022-07-01"}).status_code == 428
    r = nurse.patch(one, json={"stop_date": "2022-06-01"}, etag='"v1"')
    assert r.status_code == 422 and "stop_date" in r.json["errors"]
    r = nurse.patch(one, json={"stop_date": "2022-07-01"}, etag='"v1"')
    assert r.status_code == 200 and r.json["stop_date"] == "2022-07-01"
    assert nurse.patch(one, json={"notes": "x"}, etag='"v1"').status_code == 412
    versions = nurse.get(f"{one}/history").json["items"]
    assert [v["changed_fields"] for v in versions][1] == ["stop_date"]
    assert nurse.delete(one, etag='"v2"').status_code == 200
    assert nurse.get(one).status_code == 404 and nurse.get(url).json["items"] == []
    assert admin.post(f"{one}/restore").status_code == 200
    assert [t["id"] for t in nurse.get(url).json["items"]] == [body["id"]]


def test_other_clinic_404_and_researcher_403(nurse, outsider, researcher, wound):
    tid = nurse.post(f"/api/v1/wounds/{wound}/topical-treatments", json=_body()).json["id"]
    one = f"/api/v1/topical-treatments/{tid}"
    for method, target, kw in (
        ("get", f"/api/v1/wounds/{wound}/topical-treatments", {}),
        ("post", f"/api/v1/wounds/{wound}/topical-treatments", {"json": _body()}),
        ("get", one, {}),
        ("patch", one, {"json": {"notes": "x"}, "etag": '"v1"'}),
        ("delete", one, {"etag": '"v1"'}),
        ("get", f"{one}/history", {}),
    ):
        assert getattr(outsider, method)(target, **kw).status_code == 404, (method, target)
        assert getattr(researcher, method)(target, **kw).status_code == 403, (method, target)
    assert nurse.get(one).json["version"] == 1
