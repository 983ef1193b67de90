"""The seed case read through a FHIR client library (fhirclient, SMART Health
IT's Python client) against a live server: its wound, the six size
observations of its six assessments, the eight procedures of its four
debridement + PRP sessions, and its photos.

The demo data has no photos; the test uploads two real JPEGs to the seed
wound through the REST API first, as a nurse's phone would."""

from __future__ import annotations

import io

from fhirclient.models.condition import Condition
from fhirclient.models.media import Media
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.models.procedure import Procedure
from fhirclient.server import FHIRServer

from app.demo import DEMO_PASSWORD, SEED_WOUND_ID
from tests.fhir.conftest import jpeg


def _search(model, server, **params):
    return list(model.where(struct=params).perform_resources_iter(server))


def test_seed_case_through_fhirclient(app, client, live_server):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    signed = client.post(
        "/api/v1/auth/token", json={"email": "nurse@demo.example", "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {signed.json['access_token']}"}
    for width in (800, 640):
        r = client.post(
            f"/api/v1/wounds/{SEED_WOUND_ID}/photos",
            data={"file": (io.BytesIO(jpeg(width, 600)), "wound.jpg")},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert r.status_code == 201, r.json

    server = FHIRServer(None, base_uri=f"{live_server}/fhir/R4/")
    server.session.headers.update(headers)

    (patient,) = _search(Patient, server, identifier="DEMO-SEED-0001")
    assert patient.name[0].family == "Seedcase" and patient.gender == "female"
    (wound,) = _search(Condition, server, patient=patient.id)
    assert wound.id == str(SEED_WOUND_ID)
    assert wound.clinicalStatus.coding[0].code == "resolved"
    assert wound.code.coding[0].code == "L58.0"  # opened on the last fraction: acute
    assert wound.bodySite[0].text == "popliteal fossa, left"

    # Two per page, so the client follows next links.
    sizes = _search(Observation, server, patient=patient.id, code="72287-6", _count="2")
    assert len(sizes) == 6
    first = min(sizes, key=lambda o: o.effectiveDateTime.date)
    lengths = {c.code.coding[0].code: c.valueQuantity.value for c in first.component}
    assert lengths["39126-8"] == 2.0 and lengths["39125-0"] == 2.0
    assert all(o.focus[0].reference == f"Condition/{wound.id}" for o in sizes)

    procedures = _search(Procedure, server, patient=patient.id)
    assert len(procedures) == 8
    kinds = sorted(p.id.split("-")[0] for p in procedures)
    assert kinds == ["debridement"] * 4 + ["prp"] * 4
    assert all(p.reasonReference[0].reference == f"Condition/{wound.id}" for p in procedures)

    photos = _search(Media, server, patient=patient.id)
    assert sorted(m.width for m in photos) == [640, 800]
    content = server.request_data(photos[0].content.url, headers={"Accept": "image/jpeg"})
    assert content[:3] == b"\xff\xd8\xff"
