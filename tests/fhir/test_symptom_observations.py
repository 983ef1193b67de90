"""Patient-reported symptoms served as survey Observations, with the same codes
as the research export (app/clinical/interchange.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.fhir.conftest import FHIR, entries, validate
from tests.summaries import helpers as h

LOINC = "http://loinc.org"
LOCAL = "https://woundtrack.example/fhir/CodeSystem/patient-reported-symptoms"


def test_reported_symptoms_are_survey_observations(record, nurse):
    reported = h.assess(
        nurse,
        record.wound_id,
        datetime.now(UTC).replace(microsecond=0),
        length_cm=1.5,
        width_cm=1.5,
        pain_score=3,
        itch_nrs=6,
        pro_skin_reaction="severe",
    )
    q = {"patient": record.patient_id, "category": "survey", "_count": 100}
    survey = entries(nurse.get(f"{FHIR}/Observation", query_string=q).json)
    mine = {o["id"].split("-")[0]: o for o in survey if o["id"].endswith(reported["id"])}
    # burning was not asked: no Observation for it (nor PUSH: no exudate, no tissue)
    assert set(mine) == {"pain", "itch", "skinpro"}
    assert mine["pain"]["code"]["coding"][0]["system"] == LOINC
    assert mine["pain"]["code"]["coding"][0]["code"] == "72514-3"
    assert mine["pain"]["valueInteger"] == 3
    assert mine["itch"]["code"]["coding"][0] == {
        "system": LOCAL,
        "code": "itch-nrs",
        "display": "Itch intensity, 0-10 numeric rating scale",
    }
    assert mine["itch"]["valueInteger"] == 6
    level = mine["skinpro"]["valueCodeableConcept"]["coding"][0]
    assert level["code"] == "severe" and level["extension"][0]["valueDecimal"] == 3
    for o in mine.values():
        assert o["focus"][0]["reference"] == f"Condition/{record.wound_id}"
        assert validate(nurse.get(f"{FHIR}/Observation/{o['id']}").json).id == o["id"]

    by_code = {"patient": record.patient_id, "code": f"{LOCAL}|itch-nrs"}
    (found,) = entries(nurse.get(f"{FHIR}/Observation", query_string=by_code).json)
    assert found["id"] == mine["itch"]["id"]
