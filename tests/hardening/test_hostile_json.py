"""JSON bodies that parse in Python but must be refused with a 400, on a route
with a token and on the sign-in route without one."""

from __future__ import annotations

import json

import pytest

from tests.factories import patient_body

PROBLEM = "application/problem+json"

HOSTILE = {
    "lone surrogate": '{"email": "\\ud800@example.org", "password": "x"}',
    "deep nesting": '{"email": ' + "[" * 3000 + "]" * 3000 + ', "password": "x"}',
    "huge integer": '{"email": "a@example.org", "password": ' + "9" * 5000 + "}",
    # parses, but the search for the surrogate goes as deep as the nesting
    "surrogate deep down": '{"email": ' + "[" * 950 + '"\\ud800"' + "]" * 950 + "}",
}


def _post(client, url: str, body: str, headers: dict | None = None):
    return client.post(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )


@pytest.mark.parametrize("kind", HOSTILE)
def test_sign_in_refuses_hostile_bodies_with_400(client, kind):
    r = _post(client, "/api/v1/auth/token", HOSTILE[kind])
    assert r.status_code == 400, r.data[:200]
    assert r.mimetype == PROBLEM


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_create_refuses_hostile_bodies_and_writes_nothing(nurse, kind):
    body = patient_body()
    del body["given_name"]
    fields = json.dumps(body)[1:-1]  # a valid body around the hostile value
    hostile = {
        "surrogate deep down": '"given_name": ' + "[" * 950 + '"\\ud800"' + "]" * 950,
        "lone surrogate": '"given_name": "\\udc00 Anna"',
        "deep nesting": '"given_name": ' + "[" * 3000 + "]" * 3000,
        "huge integer": '"given_name": ' + "1" * 5000,
    }[kind]
    r = nurse.post(
        "/api/v1/patients",
        data="{" + fields + ", " + hostile + "}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.data[:200]
    assert r.mimetype == PROBLEM
    assert r.json["errors"]  # names what was wrong
    assert nurse.get("/api/v1/patients").json["items"] == []


def test_a_surrogate_pair_is_a_character_and_is_kept(nurse):
    """An escaped astral character (an emoji as a phone keyboard sends it) is fine."""
    body = json.dumps({**patient_body(), "given_name": "Anna \U0001f600"})
    assert "\\ud83d\\ude00" in body
    r = nurse.post("/api/v1/patients", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.json
    assert r.json["given_name"] == "Anna \U0001f600"
