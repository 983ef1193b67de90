"""Erythema measured on a photo, served as one Observation with a component
per value and the photo(s) it was measured on."""

from __future__ import annotations

from tests.fhir.conftest import FHIR, entries, validate
from tests.photos.colour_images import (
    REFERENCE_BOX,
    TREATED_BOX,
    Scene,
    box_outline,
    photo_bytes,
)
from tests.photos.test_photos_api import upload

LOCAL = "https://woundtrack.example/fhir/CodeSystem/observation"


def _measured(nurse, wound_id) -> dict:
    r = upload(nurse, wound_id, photo_bytes(Scene(card=False, width=800, height=600)), "s.png")
    assert r.status_code == 201, r.json
    photo = r.json
    body = {"region": box_outline(TREATED_BOX), "reference": box_outline(REFERENCE_BOX)}
    m = nurse.post(f"/api/v1/photos/{photo['id']}/colour", json=body)
    assert m.status_code == 201, m.json
    return m.json


def test_an_erythema_measure_is_an_observation_of_its_photo(record, nurse):
    measure = _measured(nurse, record.wound_id)
    q = {"patient": record.patient_id, "code": f"{LOCAL}|erythema-colour"}
    (obs,) = entries(nurse.get(f"{FHIR}/Observation", query_string=q).json)
    assert obs["id"] == f"erythema-{measure['id']}"
    assert validate(nurse.get(f"{FHIR}/Observation/{obs['id']}").json).id == obs["id"]
    assert obs["category"][0]["coding"][0]["code"] == "exam"
    assert obs["derivedFrom"] == [{"reference": f"Media/{measure['photo_id']}"}]
    assert obs["focus"] == [{"reference": f"Condition/{record.wound_id}"}]
    assert obs["method"] == {"text": "uncalibrated"}
    values = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in obs["component"]}
    assert values["delta-a"]["value"] == measure["delta_a"]
    assert values["region-cielab-a"]["value"] == measure["region"]["a"]
    assert values["reference-cielab-l"]["value"] == measure["reference"]["L"]
    assert values["region-ita"]["code"] == "deg" and values["delta-e2000"]["code"] == "1"

    # a deleted photo takes its measures out of the FHIR API too
    photo = nurse.get(f"/api/v1/photos/{measure['photo_id']}")
    gone = nurse.delete(f"/api/v1/photos/{measure['photo_id']}", etag=photo.headers["ETag"])
    assert gone.status_code in (200, 204), gone.json
    assert entries(nurse.get(f"{FHIR}/Observation", query_string=q).json) == []
