"""The FHIR mapping shared by the research export and the FHIR API: codes,
units and the wound size panel (app/clinical/interchange.py)."""

from __future__ import annotations

import pytest

from app.clinical import interchange as ix

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def test_size_panel_and_its_components_in_ucum():
    assert ix.size_panel_code() == {
        "coding": [{"system": LOINC, "code": "72287-6", "display": "Wound size panel"}]
    }
    values = {"length_cm": 3, "width_cm": 2.5, "depth_cm": None, "area_cm2": 5.89}
    assert ix.size_components(values) == [
        {
            "code": {"coding": [{"system": LOINC, "code": "39126-8", "display": "Wound length"}]},
            "valueQuantity": {"value": 3.0, "unit": "cm", "system": UCUM, "code": "cm"},
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "39125-0", "display": "Wound width"}]},
            "valueQuantity": {"value": 2.5, "unit": "cm", "system": UCUM, "code": "cm"},
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "89260-4", "display": "Wound area"}]},
            "valueQuantity": {"value": 5.89, "unit": "cm2", "system": UCUM, "code": "cm2"},
        },
    ]
    depth = ix.size_components({"depth_cm": 0})
    assert depth[0]["code"]["coding"][0]["code"] == "39127-6"
    assert depth[0]["valueQuantity"] == {"value": 0.0, "unit": "cm", "system": UCUM, "code": "cm"}
    assert ix.size_components({}) == []


@pytest.mark.parametrize(
    ("grade", "code"),
    [(1, "C41338"), (2, "C41339"), (3, "C41340"), (4, "C41337"), (5, "C48275")],
)
def test_ctcae_grades_as_ncit(grade, code):
    value = ix.ctcae_grade_value(grade)
    assert value["coding"][0]["system"] == ix.NCIT
    assert value["coding"][0]["code"] == code and value["text"] == f"Grade {grade}"
    assert value["coding"][0]["display"].startswith(f"Grade {grade} ")


def test_ctcae_grade_display():
    assert ix.ctcae_grade_value(4)["coding"] == [
        {
            "system": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
            "code": "C41337",
            "display": "Grade 4 Life Threatening or Disabling Adverse Event",
        }
    ]


def test_ctcae_grade_zero_is_text_only():
    assert ix.ctcae_grade_value(0) == {"text": "Grade 0"}


@pytest.mark.parametrize(
    ("test", "code", "unit"),
    [
        ("hemoglobin", "718-7", "g/dL"),
        ("platelets", "777-3", "10*9/L"),
        ("neutrophils", "751-8", "10*9/L"),
        ("albumin", "1751-7", "g/dL"),
        ("wbc", "6690-2", "10*9/L"),
        ("lymphocytes", "731-0", "10*9/L"),
    ],
)
def test_lab_codes_and_units(test, code, unit):
    concept = ix.lab_code(test)
    assert concept["coding"][0]["system"] == LOINC and concept["coding"][0]["code"] == code
    assert concept["text"] == concept["coding"][0]["display"]
    assert ix.lab_value(test, 7.5) == {"value": 7.5, "unit": unit, "system": UCUM, "code": unit}


def test_lab_display():
    assert ix.lab_code("hemoglobin")["coding"] == [
        {"system": LOINC, "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}
    ]


def test_every_lab_test_of_the_engine_has_a_loinc_code():
    from app.clinical.labs import TESTS

    assert set(ix.LAB_CODES) == set(TESTS)


@pytest.mark.parametrize(
    ("etiology", "phase", "code"),
    [
        ("radiation_dermatitis", "acute", "L58.0"),
        ("radiation_ulcer", "late", "L58.1"),
        ("radiation_ulcer", None, "L58.9"),
        ("pressure", "acute", None),
        ("surgical", None, None),
    ],
)
def test_radiodermatitis_codes(etiology, phase, code):
    assert ix.radiodermatitis_icd10cm(etiology, phase) == code


def test_condition_code():
    assert ix.condition_code("pressure", None) == {"text": "Wound (pressure)"}
    assert ix.condition_code("radiation_ulcer", "L58.1") == {
        "coding": [
            {
                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                "code": "L58.1",
                "display": "Chronic radiodermatitis",
            }
        ],
        "text": "Chronic radiodermatitis",
    }


@pytest.mark.parametrize(
    ("status", "reopened", "code"),
    [
        ("healed", False, "resolved"),
        ("healed", True, "resolved"),
        ("open", False, "active"),
        ("open", True, "recurrence"),
    ],
)
def test_clinical_status(status, reopened, code):
    assert ix.clinical_status(status, reopened) == code


def test_local_codes_are_in_the_local_system():
    assert ix.LOCAL_OBSERVATION == "https://woundtrack.example/fhir/CodeSystem/observation"
    assert ix.coding(ix.LOCAL_OBSERVATION, *ix.PUSH_TOTAL) == {
        "coding": [
            {
                "system": ix.LOCAL_OBSERVATION,
                "code": "push-total",
                "display": "PUSH 3.0 total score",
            }
        ],
        "text": "PUSH 3.0 total score",
    }
    assert ix.CTCAE_DERMATITIS[0] == "ctcae-dermatitis-radiation"
    assert ix.RTOG_ACUTE_SKIN[0] == "rtog-acute-skin"


SYMPTOMS = "https://woundtrack.example/fhir/CodeSystem/patient-reported-symptoms"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SURVEY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}


def test_symptoms_reported_become_survey_observation_parts_in_field_order():
    values = {"itch_nrs": 0, "pain_score": 7, "burning_nrs": None, "pro_skin_reaction": "mild"}
    parts = ix.symptom_observation_parts(values)
    assert [field for field, _ in parts] == ["pain_score", "itch_nrs", "pro_skin_reaction"]
    pain, itch, reaction = (p for _, p in parts)
    assert pain == {
        "category": [SURVEY],
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": "72514-3",
                    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                }
            ]
        },
        "valueInteger": 7,
    }
    # an itch of 0 was asked and is reported as 0, not left out
    assert itch["valueInteger"] == 0 and itch["code"]["coding"][0]["code"] == "itch-nrs"
    assert itch["code"]["coding"][0]["system"] == SYMPTOMS
    assert "valueInteger" not in reaction
    assert reaction["valueCodeableConcept"] == ix.pro_level_value("mild")
    assert ix.symptom_observation_parts({}) == []
    assert ix.symptom_observation_parts({"burning_nrs": 4.0})[0][1]["valueInteger"] == 4


@pytest.mark.parametrize(
    ("level", "score", "label"),
    [("none", 0, "None"), ("moderate", 2, "Moderate"), ("very_severe", 4, "Very severe")],
)
def test_pro_ctcae_levels_carry_their_score_as_the_ordinal_value(level, score, label):
    value = ix.pro_level_value(level)
    (coding,) = value["coding"]
    assert coding["system"] == SYMPTOMS and coding["code"] == level
    assert coding["extension"] == [{"url": ORDINAL, "valueDecimal": score}]
    assert coding["display"] == value["text"]
    assert label.lower() in value["text"].lower()


def test_erythema_components_carry_each_value_with_its_unit():
    values = {"region_a": 21.5, "region_ita": None, "reference_ita": -12.0, "delta_a": 3}
    parts = ix.colour_components(values)
    codes = [p["code"]["coding"][0]["code"] for p in parts]
    assert codes == ["region-cielab-a", "reference-ita", "delta-a"]  # order of COLOUR_COMPONENTS
    region_a, reference_ita, delta_a = parts
    assert region_a["code"] == {
        "coding": [
            {
                "system": ix.LOCAL_OBSERVATION,
                "code": "region-cielab-a",
                "display": "CIELAB a* of the treated region",
            }
        ],
        "text": "CIELAB a* of the treated region",
    }
    assert region_a["valueQuantity"] == {"value": 21.5, "unit": "1", "system": UCUM, "code": "1"}
    assert reference_ita["valueQuantity"]["code"] == "deg"
    assert reference_ita["valueQuantity"]["value"] == -12.0
    assert delta_a["valueQuantity"]["value"] == 3.0 and isinstance(
        delta_a["valueQuantity"]["value"], float
    )
    assert ix.colour_components({}) == []
    assert len(ix.COLOUR_COMPONENTS) == 13
