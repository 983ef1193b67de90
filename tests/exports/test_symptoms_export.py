"""Patient-reported symptoms in the research exports: CSV and Parquet columns,
the data dictionary, and FHIR Observations."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from tests.exports.conftest import export

SYMPTOM_COLUMNS = ["pain_score", "itch_nrs", "burning_nrs", "pro_skin_reaction"]


def _rows(zf, name):
    return list(csv.DictReader(io.StringIO(zf.read(name).decode())))


def test_csv_carries_the_symptoms_and_documents_each_scale(researcher, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "csv")
    header = next(csv.reader(io.StringIO(zf.read("assessments.csv").decode())))
    start = header.index("pain_score")
    assert header[start : start + 4] == SYMPTOM_COLUMNS
    wounds = {w["site_class"]: w["wound_id"] for w in _rows(zf, "wounds.csv")}
    rows = [a for a in _rows(zf, "assessments.csv") if a["wound_id"] == wounds["chest_wall"]]
    assert [[a[c] for c in SYMPTOM_COLUMNS] for a in rows] == [
        ["3", "5", "2", "moderate"],
        ["2", "", "", "very_severe"],
        ["", "", "", ""],
    ]
    seed = [a for a in _rows(zf, "assessments.csv") if a["wound_id"] == wounds["lower_limb"]]
    assert {a["pro_skin_reaction"] for a in seed} == {""}  # not reported: empty

    dictionary = {
        d["variable"]: d for d in _rows(zf, "data_dictionary.csv") if d["form"] == "assessments"
    }
    pro = dictionary["pro_skin_reaction"]
    assert pro["type"] == "dropdown"
    assert pro["choices"] == (
        "none, none | mild, mild | moderate, moderate | severe, severe | very_severe, very_severe"
    )
    assert "PRO-CTCAE" in pro["description"] and "very_severe 4" in pro["description"]
    for name, source in (("pain_score", "Hawker 2011"), ("itch_nrs", "Reich 2012")):
        assert dictionary[name]["type"] == "integer" and source in dictionary[name]["description"]
    assert "by analogy" in dictionary["burning_nrs"]["description"]


def test_parquet_types_the_symptoms(researcher, clinic, cohort, grant):
    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "parquet")
    table = pq.read_table(io.BytesIO(zf.read("assessments.parquet")))
    for name in ("pain_score", "itch_nrs", "burning_nrs"):
        assert table.schema.field(name).type == pa.int64()
    assert table.schema.field("pro_skin_reaction").type == pa.string()
    levels = [v for v in table.column("pro_skin_reaction").to_pylist() if v is not None]
    assert sorted(levels) == ["moderate", "very_severe"]


def test_fhir_observations_of_the_symptoms(researcher, clinic, cohort, grant):
    from fhir.resources.R4B import get_fhir_model_class

    from app.clinical.interchange import SYMPTOMS_SYSTEM

    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "fhir_ndjson")
    observations = [
        json.loads(line) for line in zf.read("Observation.ndjson").decode().splitlines()
    ]
    surveys = [o for o in observations if o.get("category")]
    for o in surveys:
        get_fhir_model_class("Observation").model_validate(o)
        assert o["category"][0]["coding"][0]["code"] == "survey"
    by_code = {}
    for o in surveys:
        coding = o["code"]["coding"][0]
        by_code.setdefault((coding["system"], coding["code"]), []).append(o)
    pain = by_code[("http://loinc.org", "72514-3")]
    assert sorted(o["valueInteger"] for o in pain) == [2, 3]
    assert [o["valueInteger"] for o in by_code[(SYMPTOMS_SYSTEM, "itch-nrs")]] == [5]
    assert [o["valueInteger"] for o in by_code[(SYMPTOMS_SYSTEM, "burning-nrs")]] == [2]
    reaction = by_code[(SYMPTOMS_SYSTEM, "pro-ctcae-radiation-skin-reaction-severity")]
    values = sorted(
        (
            c["code"],
            c["extension"][0]["valueDecimal"],
        )
        for o in reaction
        for c in o["valueCodeableConcept"]["coding"]
    )
    assert values == [("moderate", 2), ("very_severe", 4)]
    # Six symptom reports in the cohort (4 + 2), one Observation each, ids all distinct.
    assert len(surveys) == 6 and len({o["id"] for o in surveys}) == 6
    # Same study day as the visit's size panel, same patient and wound.
    size = {(o["subject"]["reference"], o["extension"][0]["valueInteger"]) for o in observations}
    assert all(
        (o["subject"]["reference"], o["extension"][0]["valueInteger"]) in size for o in surveys
    )
