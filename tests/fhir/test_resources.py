"""Every resource type the FHIR API serves, read and searched, validated
against the R4B models of fhir.resources, with the codes they must carry."""

from __future__ import annotations

from tests.fhir.conftest import FHIR, entries, validate

LOINC = "http://loinc.org"


def _codes(concept):
    return {(c.get("system"), c["code"]) for c in concept.get("coding", [])}


def test_patient_read_and_search_by_identifier_and_name(record, nurse, clinic):
    r = nurse.get(f"{FHIR}/Patient/{record.patient_id}")
    assert r.status_code == 200 and r.mimetype == "application/fhir+json"
    patient = r.json
    validate(patient)
    ident = patient["identifier"][0]
    assert ident["value"] == "FHIR-0001" and str(clinic) in ident["system"]
    assert patient["name"][0]["family"] == "Fictitious" and patient["gender"] == "female"
    for query in (
        {"identifier": "FHIR-0001"},
        {"identifier": f"{ident['system']}|FHIR-0001"},
        {"name": "fict"},
        {"name": "Tes"},
    ):
        found = entries(nurse.get(f"{FHIR}/Patient", query_string=query).json)
        assert [p["id"] for p in found] == [str(record.patient_id)], query
    for query in ({"identifier": "https://elsewhere.example/mrn|FHIR-0001"}, {"name": "ctitious"}):
        assert entries(nurse.get(f"{FHIR}/Patient", query_string=query).json) == [], query


def test_condition_is_the_wound(record, nurse):
    bundle = nurse.get(f"{FHIR}/Condition", query_string={"patient": record.patient_id}).json
    (cond,) = entries(bundle)
    assert cond["id"] == str(record.wound_id)
    assert cond["clinicalStatus"]["coding"][0]["code"] == "active"
    # Onset one day after an 18-day course: acute radiodermatitis.
    assert ("http://hl7.org/fhir/sid/icd-10-cm", "L58.0") in _codes(cond["code"])
    assert cond["bodySite"][0]["text"] == "popliteal fossa, left"
    assert cond["subject"]["reference"] == f"Patient/{record.patient_id}"
    assert validate(nurse.get(f"{FHIR}/Condition/{record.wound_id}").json)


def test_condition_clinical_status_search(record, nurse, app):
    from app.extensions import db
    from app.wounds.models import Wound

    def search(status):
        q = {"patient": f"Patient/{record.patient_id}", "clinical-status": status}
        return [c["id"] for c in entries(nurse.get(f"{FHIR}/Condition", query_string=q).json)]

    assert search("active") == [str(record.wound_id)] and search("resolved") == []
    with app.app_context():
        w = db.session.get(Wound, record.wound_id)
        w.closures = [{"healed_on": "2026-01-01", "reopened_by": "amendment"}]
        db.session.commit()
    assert search("active") == [] and search("recurrence") == [str(record.wound_id)]
    cond = nurse.get(f"{FHIR}/Condition/{record.wound_id}").json
    assert cond["clinicalStatus"]["coding"][0]["code"] == "recurrence"


def test_observations_size_panel_grades_push_and_labs(record, nurse):
    q = {"patient": record.patient_id, "_count": 100}
    obs = entries(nurse.get(f"{FHIR}/Observation", query_string=q).json)
    by_kind = {}
    for o in obs:
        by_kind.setdefault(o["id"].split("-")[0], []).append(o)
    assert {k: len(v) for k, v in by_kind.items()} == {
        "size": 3,
        "ctcae": 3,
        "rtog": 3,
        "push": 3,
        "lab": 1,
    }
    first = min(by_kind["size"], key=lambda o: o["effectiveDateTime"])
    assert _codes(first["code"]) == {(LOINC, "72287-6")}
    components = {next(iter(_codes(c["code"])))[1]: c["valueQuantity"] for c in first["component"]}
    assert components["39126-8"]["value"] == 3.0 and components["39126-8"]["code"] == "cm"
    assert components["39125-0"]["value"] == 3.0
    assert components["39127-6"]["value"] == 0.3
    assert components["89260-4"]["code"] == "cm2" and components["89260-4"]["value"] > 0
    assert first["focus"][0]["reference"] == f"Condition/{record.wound_id}"
    ctcae = by_kind["ctcae"][0]["valueCodeableConcept"]
    assert ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C41337") in _codes(ctcae)
    assert all(isinstance(o["valueInteger"], int) for o in by_kind["push"] + by_kind["rtog"])
    (lab,) = by_kind["lab"]
    assert _codes(lab["code"]) == {(LOINC, "777-3")}
    assert lab["valueQuantity"] == {
        "value": 60.0,
        "unit": "10*9/L",
        "system": "http://unitsofmeasure.org",
        "code": "10*9/L",
    }
    assert lab["category"][0]["coding"][0]["code"] == "laboratory"
    for o in obs:
        assert validate(nurse.get(f"{FHIR}/Observation/{o['id']}").json).id == o["id"]


def test_observation_search_by_code_category_and_date(record, nurse):
    def ids(**q):
        bundle = nurse.get(f"{FHIR}/Observation", query_string={"patient": record.patient_id, **q})
        assert bundle.status_code == 200, bundle.json
        return sorted(o["id"] for o in entries(bundle.json))

    sizes = ids(code=f"{LOINC}|72287-6")
    assert len(sizes) == 3 and all(i.startswith("size-") for i in sizes)
    assert ids(code="72287-6") == sizes
    assert ids(code="http://snomed.info/sct|72287-6") == []
    assert [i.split("-")[0] for i in ids(code="777-3,718-7")] == ["lab"]
    assert [i.split("-")[0] for i in ids(category="laboratory")] == ["lab"]
    assert {i.split("-")[0] for i in ids(category="survey")} == {"push"}
    every = ids()
    size_obs = entries(
        nurse.get(
            f"{FHIR}/Observation",
            query_string={"patient": record.patient_id, "code": "72287-6"},
        ).json
    )
    last = max(o["effectiveDateTime"] for o in size_obs)
    day = last[:10]
    on_last_day = ids(date=day)
    assert on_last_day and all(i in every for i in on_last_day)
    assert len(ids(date=f"lt{day}")) + len(on_last_day) == len(every)
    assert ids(date=f"gt{day}") == []
    assert ids(date="ge2000", code="72287-6") == sizes
    r = nurse.get(f"{FHIR}/Observation", query_string={"date": "yesterday"})
    assert r.status_code == 400 and r.json["resourceType"] == "OperationOutcome"


def test_procedures_medication_media_and_binary(record, nurse):
    procs = entries(
        nurse.get(f"{FHIR}/Procedure", query_string={"patient": record.patient_id}).json
    )
    kinds = sorted(p["id"].split("-")[0] for p in procs)
    assert kinds == ["debridement", "dressing", "prp"]
    debridement = next(p for p in procs if p["id"].startswith("debridement-"))
    assert ("http://snomed.info/sct", "36777000") in _codes(debridement["code"])
    assert debridement["reasonReference"][0]["reference"] == f"Condition/{record.wound_id}"
    (med,) = entries(
        nurse.get(f"{FHIR}/MedicationStatement", query_string={"patient": record.patient_id}).json
    )
    assert med["medicationCodeableConcept"]["text"] == "anlotinib" and med["status"] == "active"
    (media,) = entries(nurse.get(f"{FHIR}/Media", query_string={"patient": record.patient_id}).json)
    assert media["id"] == record.photo_id and media["content"]["contentType"] == "image/jpeg"
    urls = [media["content"]["url"]] + [
        e["valueAttachment"]["url"] for e in media["extension"] if "valueAttachment" in e
    ]
    assert sorted(urls) == sorted(
        f"Binary/{record.photo_id}-{s}" for s in ("original", "large", "thumb")
    )
    raw = nurse.get(f"{FHIR}/{media['content']['url']}")
    assert raw.status_code == 200 and raw.mimetype == "image/jpeg"
    assert raw.data[:3] == b"\xff\xd8\xff"
    as_json = nurse.get(
        f"{FHIR}/Binary/{record.photo_id}-thumb", headers={"Accept": "application/fhir+json"}
    )
    binary = validate(as_json.json)
    assert binary.contentType == "image/jpeg" and bytes(binary.data)[:3] == b"\xff\xd8\xff"
    assert nurse.get(f"{FHIR}/Binary/{record.photo_id}-huge").status_code == 404
    for p in procs:
        assert nurse.get(f"{FHIR}/Procedure/{p['id']}").status_code == 200
    assert validate(nurse.get(f"{FHIR}/Media/{record.photo_id}").json)
    assert validate(nurse.get(f"{FHIR}/MedicationStatement/{record.therapy_id}").json)


def test_capability_statement_and_smart_configuration(client):
    cap = client.get(f"{FHIR}/metadata")
    assert cap.status_code == 200 and cap.mimetype == "application/fhir+json"
    statement = validate(cap.json)
    rest = cap.json["rest"][0]
    served = {r["type"]: r for r in rest["resource"]}
    assert set(served) == {
        "Patient",
        "Condition",
        "Observation",
        "Procedure",
        "MedicationStatement",
        "Media",
        "Binary",
        "Practitioner",
    }
    assert {p["name"] for p in served["Observation"]["searchParam"]} == {
        "patient",
        "code",
        "date",
        "category",
        "_count",
        "_lastUpdated",
        "_summary",
    }
    oauth = rest["security"]["extension"][0]
    assert {e["url"] for e in oauth["extension"]} == {"authorize", "token"}
    assert statement.fhirVersion == "4.0.1"
    smart = client.get(f"{FHIR}/.well-known/smart-configuration").json
    assert smart["code_challenge_methods_supported"] == ["S256"]
    assert smart["authorization_endpoint"].endswith("/web/smart/authorize")
    assert {"patient/*.read", "user/*.read", "openid", "fhirUser"} <= set(smart["scopes_supported"])
    assert (
        client.get(smart["jwks_uri"].replace("http://localhost", "")).json["keys"][0]["kty"]
        == "RSA"
    )
