"""Patient-reported symptoms on assessments: create, amend with history, validation,
and the database's own range checks."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.assessments.models import Assessment
from tests.assessments.helpers import count_rows, seed_ulcer_body

URL = "/api/v1/wounds/{}/assessments"
SYMPTOMS = {"pain_score": 6, "itch_nrs": 7, "burning_nrs": 3, "pro_skin_reaction": "severe"}


def test_create_stores_and_returns_the_symptoms(nurse, wound):
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(**SYMPTOMS))
    assert r.status_code == 201, r.json
    assert {k: r.json[k] for k in SYMPTOMS} == SYMPTOMS
    again = nurse.get(f"/api/v1/assessments/{r.json['id']}").json
    assert {k: again[k] for k in SYMPTOMS} == SYMPTOMS


def test_symptoms_not_asked_are_null(nurse, wound):
    body = seed_ulcer_body()
    del body["pain_score"]
    a = nurse.post(URL.format(wound), json=body).json
    assert [a[k] for k in SYMPTOMS] == [None, None, None, None]


def test_amend_keeps_each_version_of_the_symptoms(nurse, wound):
    a = nurse.post(URL.format(wound), json=seed_ulcer_body(**SYMPTOMS)).json
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.patch(url, json={"itch_nrs": 2, "pro_skin_reaction": "mild"}, etag='"v1"')
    assert r.status_code == 200, r.json
    assert (r.json["itch_nrs"], r.json["pro_skin_reaction"], r.json["burning_nrs"]) == (
        2,
        "mild",
        3,
    )
    # null clears a symptom (the patient was not asked after all).
    r = nurse.patch(url, json={"burning_nrs": None}, etag='"v2"')
    assert r.status_code == 200 and r.json["burning_nrs"] is None

    versions = nurse.get(f"{url}/history").json["items"]
    assert [v["data"]["itch_nrs"] for v in versions] == [7, 2, 2]
    assert [v["data"]["pro_skin_reaction"] for v in versions] == ["severe", "mild", "mild"]
    assert [v["data"]["burning_nrs"] for v in versions] == [3, 3, None]
    assert {"itch_nrs", "pro_skin_reaction"} <= set(versions[1]["changed_fields"])
    assert "burning_nrs" in versions[2]["changed_fields"]


BAD = [
    ({"itch_nrs": 11}, "itch_nrs"),
    ({"itch_nrs": -1}, "itch_nrs"),
    ({"itch_nrs": 3.5}, "itch_nrs"),
    ({"itch_nrs": "3"}, "itch_nrs"),
    ({"itch_nrs": True}, "itch_nrs"),
    ({"burning_nrs": 12}, "burning_nrs"),
    ({"burning_nrs": [2]}, "burning_nrs"),
    ({"pain_score": -1}, "pain_score"),
    ({"pro_skin_reaction": "Very severe"}, "pro_skin_reaction"),
    ({"pro_skin_reaction": "not_applicable"}, "pro_skin_reaction"),
    ({"pro_skin_reaction": 2}, "pro_skin_reaction"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD)
def test_create_refuses_a_bad_symptom_naming_it(app, nurse, wound, overrides, field):
    r = nurse.post(URL.format(wound), json=seed_ulcer_body(**overrides))
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert list(r.json["errors"]) == [field]
    assert count_rows(app, Assessment) == 0


@pytest.mark.parametrize(("change", "field"), BAD)
def test_amend_refuses_a_bad_symptom_naming_it(nurse, wound, change, field):
    a = nurse.post(URL.format(wound), json=seed_ulcer_body(**SYMPTOMS)).json
    url = f"/api/v1/assessments/{a['id']}"
    r = nurse.patch(url, json=change, etag='"v1"')
    assert r.status_code == 422, r.json
    assert list(r.json["errors"]) == [field]
    assert nurse.get(url).json["version"] == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("itch_nrs", 11),
        ("burning_nrs", -1),
        ("pain_score", 42),
        ("pro_skin_reaction", "extreme"),
    ],
)
def test_the_database_refuses_out_of_range_symptoms(app, nurse, wound, column, value):
    """The check constraints hold even for writes that bypass the API."""
    from app.extensions import db

    aid = uuid.UUID(nurse.post(URL.format(wound), json=seed_ulcer_body()).json["id"])
    table = Assessment.__table__
    with app.app_context():
        stmt = sa.update(table).where(table.c.id == aid).values({column: value})
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(stmt)
        db.session.rollback()
        ok = sa.update(table).where(table.c.id == aid).values({column: None})
        assert db.session.execute(ok).rowcount == 1
        db.session.rollback()
