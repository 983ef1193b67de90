"""Codes and units for interchange: the one FHIR R4 mapping of what WoundTrack
records, shared by the research export (app/exports/fhir.py) and the FHIR read
API (app/fhir).

Sources:

* LOINC (loinc.org): 72287-6 Wound size panel; 39126-8 Wound length, 39125-0
  Wound width, 39127-6 Wound depth, 89260-4 Wound area. Laboratory tests:
  718-7 Hemoglobin [Mass/volume] in Blood, 777-3 Platelets [#/volume] in
  Blood by Automated count, 751-8 Neutrophils [#/volume] in Blood by Automated
  count, 1751-7 Albumin [Mass/volume] in Serum or Plasma, 6690-2 Leukocytes
  [#/volume] in Blood by Automated count, 731-0 Lymphocytes [#/volume] in
  Blood by Automated count.
* UCUM (unitsofmeasure.org): cm, cm2, g/dL, 10*9/L ("10^9/L" as a user types
  it; UCUM writes the power with "*").
* ICD-10-CM: L58.0 acute radiodermatitis, L58.1 chronic, L58.9 unspecified.
* NCI Thesaurus grade codes of CTCAE (the CodeX radiation-therapy IG value
  set): C41338 grade 1 mild ... C48275 grade 5 death.
* The HL7 Skin & Wound IG's wound size observation uses the LOINC panel and
  components above.
* Erythema measured on a photo (CIELAB L*, a*, b*, ITA, erythema index of
  the treated region and the reference skin, and their differences) has no
  LOINC code; it is one observation in ``LOCAL_OBSERVATION`` with a component
  per value, unitless (UCUM "1") but the ITA in degrees ("deg").

* Patient-reported symptoms: pain as LOINC 72514-3 (Pain severity - 0-10
  verbal numeric rating [Score] - Reported). Itch and burning on 0-10 scales
  and the PRO-CTCAE "Radiation skin reaction" severity have no LOINC code this
  project could confirm, so they are coded in the local ``SYMPTOMS_SYSTEM``;
  the severity's 0-4 score rides on its Coding as the FHIR ordinalValue
  extension. They are survey observations (observation-category).

PUSH 3.0 has no LOINC code this project could confirm on loinc.org, so its
total is coded in the local code system ``LOCAL_OBSERVATION`` (as are the
CTCAE and RTOG grade observations, which LOINC has no code for).

Pure data and functions, standard library only.
"""

from __future__ import annotations

from typing import Any, Final

from app.clinical import late_effects
from app.clinical.symptoms import PRO_LABELS, PRO_SCORE

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED: Final = "http://snomed.info/sct"
NCIT: Final = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
LOCAL_BASE: Final = "https://woundtrack.example/fhir/"
LOCAL_OBSERVATION: Final = LOCAL_BASE + "CodeSystem/observation"

ICD10CM_DISPLAY: Final = {
    "L58.0": "Acute radiodermatitis",
    "L58.1": "Chronic radiodermatitis",
    "L58.9": "Radiodermatitis, unspecified",
}

RADIATION_ETIOLOGIES: Final = ("radiation_dermatitis", "radiation_ulcer")
ICD10CM_BY_PHASE: Final = {late_effects.ACUTE: "L58.0", late_effects.LATE: "L58.1", None: "L58.9"}

NCIT_GRADES: Final = {
    1: ("C41338", "Grade 1 Mild Adverse Event"),
    2: ("C41339", "Grade 2 Moderate Adverse Event"),
    3: ("C41340", "Grade 3 Severe Adverse Event"),
    4: ("C41337", "Grade 4 Life Threatening or Disabling Adverse Event"),
    5: ("C48275", "Grade 5 Death Related to Adverse Event"),
}

SIZE_PANEL: Final = ("72287-6", "Wound size panel")
# (field of the record, LOINC code, display, UCUM unit)
SIZE_COMPONENTS: Final = (
    ("length_cm", "39126-8", "Wound length", "cm"),
    ("width_cm", "39125-0", "Wound width", "cm"),
    ("depth_cm", "39127-6", "Wound depth", "cm"),
    ("area_cm2", "89260-4", "Wound area", "cm2"),
)

# Laboratory test -> (LOINC code, display, UCUM code of its canonical unit).
LAB_CODES: Final = {
    "hemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL"),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L"),
    "neutrophils": ("751-8", "Neutrophils [#/volume] in Blood by Automated count", "10*9/L"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL"),
    "wbc": ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*9/L"),
    "lymphocytes": ("731-0", "Lymphocytes [#/volume] in Blood by Automated count", "10*9/L"),
}

# Local observation codes: (code, display).
CTCAE_DERMATITIS: Final = ("ctcae-dermatitis-radiation", "CTCAE v5.0 Dermatitis radiation grade")
RTOG_ACUTE_SKIN: Final = ("rtog-acute-skin", "RTOG acute radiation morbidity grade, skin")
PUSH_TOTAL: Final = ("push-total", "PUSH 3.0 total score")
ERYTHEMA_COLOUR: Final = (
    "erythema-colour",
    "Skin colour of treated skin against unirradiated skin, from a photo (CIELAB D65)",
)
# (field of the colour measure, local code, display, UCUM unit) of each
# component of the erythema observation (app/clinical/colour.py computes them).
COLOUR_COMPONENTS: Final = (
    ("region_l", "region-cielab-l", "CIELAB L* of the treated region", "1"),
    ("region_a", "region-cielab-a", "CIELAB a* of the treated region", "1"),
    ("region_b", "region-cielab-b", "CIELAB b* of the treated region", "1"),
    ("region_ita", "region-ita", "Individual typology angle of the treated region", "deg"),
    ("region_erythema_index", "region-erythema-index", "Erythema index of the treated region", "1"),
    ("reference_l", "reference-cielab-l", "CIELAB L* of the reference skin", "1"),
    ("reference_a", "reference-cielab-a", "CIELAB a* of the reference skin", "1"),
    ("reference_b", "reference-cielab-b", "CIELAB b* of the reference skin", "1"),
    ("reference_ita", "reference-ita", "Individual typology angle of the reference skin", "deg"),
    (
        "reference_erythema_index",
        "reference-erythema-index",
        "Erythema index of the reference skin",
        "1",
    ),
    ("delta_a", "delta-a", "a* of the region minus a* of the reference", "1"),
    ("delta_e2000", "delta-e2000", "CIEDE2000 colour difference, region to reference", "1"),
    (
        "delta_erythema_index",
        "delta-erythema-index",
        "Erythema index of the region minus that of the reference",
        "1",
    ),
)

SYMPTOMS_SYSTEM: Final = LOCAL_BASE + "CodeSystem/patient-reported-symptoms"
ORDINAL_URL: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SURVEY: Final = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}
# (assessment field, code system, code, display) of each patient-reported symptom.
SYMPTOM_CODES: Final = (
    (
        "pain_score",
        LOINC,
        "72514-3",
        "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    ),
    ("itch_nrs", SYMPTOMS_SYSTEM, "itch-nrs", "Itch intensity, 0-10 numeric rating scale"),
    ("burning_nrs", SYMPTOMS_SYSTEM, "burning-nrs", "Burning intensity, 0-10 numeric rating scale"),
    (
        "pro_skin_reaction",
        SYMPTOMS_SYSTEM,
        "pro-ctcae-radiation-skin-reaction-severity",
        "PRO-CTCAE Radiation skin reaction, severity (last 7 days, at its worst)",
    ),
)


def coding(system: str, code: str, display: str) -> dict[str, Any]:
    """A CodeableConcept of one coding, with the display as its text."""
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def quantity(value: float, unit: str) -> dict[str, Any]:
    """A UCUM Quantity (the unit printed as its UCUM code)."""
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def radiodermatitis_icd10cm(etiology: str, phase: str | None) -> str | None:
    """The ICD-10-CM code of a radiation wound by its phase at onset (acute
    L58.0, late L58.1, not known L58.9); None for other etiologies."""
    if etiology not in RADIATION_ETIOLOGIES:
        return None
    return ICD10CM_BY_PHASE[phase]


def clinical_status(status: str, reopened: bool) -> str:
    """FHIR condition-clinical code of a wound: resolved when healed,
    recurrence when open again after an earlier healing (the healing episodes
    of app/clinical/episodes.py), active otherwise."""
    if status == "healed":
        return "resolved"
    return "recurrence" if reopened else "active"


def condition_code(etiology: str, icd10cm: str | None) -> dict[str, Any]:
    """The Condition's code: the wound's ICD-10-CM radiodermatitis code (L58.0
    acute, L58.1 chronic, L58.9 unspecified), or text only for other etiologies."""
    if icd10cm is None:
        return {"text": f"Wound ({etiology})"}
    return coding(ICD10CM, icd10cm, ICD10CM_DISPLAY[icd10cm])


def size_components(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The wound size panel's components (LOINC, UCUM) of the dimensions
    recorded in ``values`` (length_cm, width_cm, depth_cm, area_cm2); none
    when nothing was measured."""
    return [
        {
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "valueQuantity": quantity(float(values[name]), unit),
        }
        for name, code, display, unit in SIZE_COMPONENTS
        if values.get(name) is not None
    ]


def size_panel_code() -> dict[str, Any]:
    """The code of the wound size panel observation (LOINC 72287-6)."""
    return {"coding": [{"system": LOINC, "code": SIZE_PANEL[0], "display": SIZE_PANEL[1]}]}


def ctcae_grade_value(grade: int) -> dict[str, Any]:
    """A CTCAE grade as a CodeableConcept: NCIt grade codes for 1-5, text for 0."""
    if grade in NCIT_GRADES:
        code, display = NCIT_GRADES[grade]
        return {
            "coding": [{"system": NCIT, "code": code, "display": display}],
            "text": f"Grade {grade}",
        }
    return {"text": f"Grade {grade}"}


def lab_code(test: str) -> dict[str, Any]:
    """The LOINC code of a laboratory test."""
    code, display, _unit = LAB_CODES[test]
    return coding(LOINC, code, display)


def lab_value(test: str, canonical_value: float) -> dict[str, Any]:
    """A laboratory result in its canonical unit, as a UCUM Quantity."""
    return quantity(canonical_value, LAB_CODES[test][2])


def pro_level_value(level: str) -> dict[str, Any]:
    """A PRO-CTCAE severity level as a CodeableConcept, its 0-4 score the
    Coding's ordinal value."""
    return {
        "coding": [
            {
                "extension": [{"url": ORDINAL_URL, "valueDecimal": PRO_SCORE[level]}],
                "system": SYMPTOMS_SYSTEM,
                "code": level,
                "display": PRO_LABELS[level],
            }
        ],
        "text": PRO_LABELS[level],
    }


def symptom_observation_parts(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(field, the category, code and value of its Observation) of each
    symptom reported in ``values`` (an assessment's fields); none reported:
    an empty list."""
    out = []
    for field, system, code, display in SYMPTOM_CODES:
        value = values.get(field)
        if value is None:
            continue
        parts: dict[str, Any] = {
            "category": [SURVEY],
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
        }
        if field == "pro_skin_reaction":
            parts["valueCodeableConcept"] = pro_level_value(value)
        else:
            parts["valueInteger"] = int(value)
        out.append((field, parts))
    return out


def colour_components(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The components of an erythema observation: each value of
    COLOUR_COMPONENTS present in ``values`` (a colour measure's fields), as a
    UCUM Quantity; an ITA that could not be computed (b* of 0) is left out."""
    return [
        {
            "code": coding(LOCAL_OBSERVATION, code, display),
            "valueQuantity": quantity(float(values[field]), unit),
        }
        for field, code, display, unit in COLOUR_COMPONENTS
        if values.get(field) is not None
    ]
