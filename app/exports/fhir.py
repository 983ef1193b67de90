"""FHIR R4 bulk NDJSON: one resource type per file and a Bulk Data style manifest.

Built from the same de-identified rows as the CSV (app/exports/dataset.py), so
nothing reaches a resource that the tables would not carry. Resources:

- Patient: pseudonymous id and gender only (no name, no birthDate; the age
  label and day-zero kind as extensions).
- Condition per wound: ICD-10-CM L58.0 acute radiodermatitis, or L58.1 chronic
  radiodermatitis when the wound began more than 90 days after its radiotherapy
  course ended (the acute/late rule of the assessments' radiation_phase,
  app/clinical/late_effects.py), or L58.9 radiodermatitis, unspecified, when
  that is not known (no course linked, or its end not known); the code is the
  wounds table's icd10cm. Wounds of other etiologies carry only a text code.
- Observation "wound size" per assessment: LOINC 72287-6 panel with components
  39126-8 length, 39125-0 width, 39127-6 depth (UCUM cm) and 89260-4 area (cm2).
- Observation "CTCAE grade" per graded assessment: the grade in effect as NCIt
  (C41338 grade 1 mild, C41339 2 moderate, C41340 3 severe, C41337 4
  life-threatening, C48275 5 death; grade 0 as text).
- Observation per patient-reported symptom of an assessment (category survey):
  pain as LOINC 72514-3 (pain severity 0-10 verbal numeric rating, reported),
  valueInteger; itch and burning NRS (valueInteger) and the PRO-CTCAE
  "Radiation skin reaction" severity (valueCodeableConcept, its 0-4 score as
  the Coding's ordinalValue) in the local code system SYMPTOMS_SYSTEM: we found
  no LOINC code for them we are sure of.
- Procedure per debridement (SNOMED CT 36777000 Debridement) and per PRP
  application (text only: no SNOMED code we are sure of).

Dates: FHIR wants calendar dates, which we must not export. Every resource
carries the study day instead, in the extension STUDY_DAY_URL (valueInteger,
days from the patient's day zero); effective/performed/onset are left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.clinical.interchange import (
    SNOMED,
    condition_code,
    ctcae_grade_value,
    size_components,
    size_panel_code,
    symptom_observation_parts,
)
from app.exports import deid
from app.exports.dataset import BATCHES, Progress
from app.exports.dictionary import TABLES
from app.exports.queries import Selection

EXT_BASE = "https://woundtrack.example/fhir/StructureDefinition/"
STUDY_DAY_URL = EXT_BASE + "study-day"
AGE_URL = EXT_BASE + "age-years"
DAY_ZERO_URL = EXT_BASE + "day-zero"


def _day(value: int | None) -> list[dict[str, Any]]:
    return [] if value is None else [{"url": STUDY_DAY_URL, "valueInteger": value}]


def _ref(kind: str, pid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{pid}"}


def patient(row: dict[str, Any]) -> dict[str, Any]:
    """Patient: pseudonymous id, gender, age label and day-zero kind; nothing else."""
    return {
        "resourceType": "Patient",
        "id": row["patient_id"],
        "extension": [
            {"url": AGE_URL, "valueString": row["age_years"]},
            {"url": DAY_ZERO_URL, "valueCode": row["day_zero"]},
        ],
        "gender": row["sex"],
    }


def condition(row: dict[str, Any]) -> dict[str, Any]:
    """Condition for one wound."""
    healed = row["status"] == "healed"
    site = row["site_class"].replace("_", " ")
    lat = row["laterality"]
    return {
        "resourceType": "Condition",
        "id": row["wound_id"],
        "extension": _day(row["onset_day"]),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved" if healed else "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed",
                }
            ]
        },
        "code": condition_code(row["etiology"], row["icd10cm"]),
        "bodySite": [{"text": site if lat in (None, "none") else f"{site}, {lat}"}],
        "subject": _ref("Patient", row["patient_id"]),
    }


def size_observation(row: dict[str, Any], key: bytes, aid: str) -> dict[str, Any] | None:
    """Wound size panel (LOINC 72287-6) with one component per measured dimension."""
    components = size_components(row)
    if not components:
        return None
    return {
        "resourceType": "Observation",
        "id": deid.pseudonym(key, "observation-size", aid),
        "extension": _day(row["visit_day"]),
        "status": "final",
        "code": size_panel_code(),
        "subject": _ref("Patient", row["patient_id"]),
        "focus": [_ref("Condition", row["wound_id"])],
        "component": components,
    }


def grade_observation(row: dict[str, Any], key: bytes, aid: str) -> dict[str, Any] | None:
    """CTCAE v5.0 Dermatitis radiation grade in effect, valued with NCIt grade codes."""
    grade = row["ctcae_grade"]
    if grade is None:
        return None
    value = ctcae_grade_value(grade)
    return {
        "resourceType": "Observation",
        "id": deid.pseudonym(key, "observation-ctcae", aid),
        "extension": _day(row["visit_day"]),
        "status": "final",
        "code": {"text": "CTCAE v5.0 Dermatitis radiation grade"},
        "subject": _ref("Patient", row["patient_id"]),
        "focus": [_ref("Condition", row["wound_id"])],
        "valueCodeableConcept": value,
    }


def symptom_observations(row: dict[str, Any], key: bytes, aid: str) -> Iterator[dict[str, Any]]:
    """One Observation per symptom the patient reported at this assessment."""
    for column, parts in symptom_observation_parts(row):
        yield {
            "resourceType": "Observation",
            "id": deid.pseudonym(key, f"observation-{column}", aid),
            "extension": _day(row["visit_day"]),
            "status": "final",
            **parts,
            "subject": _ref("Patient", row["patient_id"]),
            "focus": [_ref("Condition", row["wound_id"])],
        }


def procedures(row: dict[str, Any], key: bytes) -> Iterator[dict[str, Any]]:
    """Procedure resources for one procedure row: debridement and/or PRP."""
    base = {
        "resourceType": "Procedure",
        "extension": _day(row["day"]),
        "status": "completed",
        "subject": _ref("Patient", row["patient_id"]),
        "reasonReference": [_ref("Condition", row["wound_id"])],
    }
    pid = row["procedure_id"]
    if row["kind"] == "debridement":
        yield {
            **base,
            "id": deid.pseudonym(key, "procedure-debridement", pid),
            "code": {
                "coding": [{"system": SNOMED, "code": "36777000", "display": "Debridement"}],
                "text": "Debridement"
                + (f" ({row['debridement_method']})" if row["debridement_method"] else ""),
            },
        }
    if row["prp"]:
        yield {
            **base,
            "id": deid.pseudonym(key, "procedure-prp", pid),
            "code": {"text": "Platelet-rich plasma application"},
        }
    if row["kind"] in ("dressing", "other"):
        yield {**base, "id": pid, "code": {"text": row["kind"]}}


def _rows(conn: sa.Connection, sel: Selection, table: str) -> Iterator[list[dict[str, Any]]]:
    names = [c.name for c in TABLES[table]]
    for batch in BATCHES[table](conn, sel):
        yield [dict(zip(names, r, strict=True)) for r in batch]


def write_json(path: Path, data: Any) -> Path:
    """A small JSON document (the manifest)."""
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def _assessment_observations(row: dict[str, Any], key: bytes) -> Iterator[dict[str, Any] | None]:
    yield size_observation(row, key, row["assessment_id"])
    yield grade_observation(row, key, row["assessment_id"])
    yield from symptom_observations(row, key, row["assessment_id"])


#: Which resources each exported table's rows become, in the order they are written.
RESOURCES_OF: tuple[tuple[str, Callable[..., Iterable[dict[str, Any] | None]]], ...] = (
    ("patients", lambda row, key: (patient(row),)),
    ("wounds", lambda row, key: (condition(row),)),
    ("assessments", _assessment_observations),
    ("procedures", procedures),
)


class _NdjsonFiles:
    """One NDJSON file per resource type, opened at its first resource."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.files: dict[str, Path] = {}
        self.counts: dict[str, int] = {}
        self._handles: dict[str, Any] = {}
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def emit(self, resource: dict[str, Any] | None) -> None:
        if resource is None:
            return
        rtype = resource["resourceType"]
        if rtype not in self._handles:
            self.files[rtype] = self.workdir / f"{rtype}.ndjson"
            self._handles[rtype] = self.files[rtype].open("w", encoding="utf-8")
            self.counts[rtype] = 0
        self._handles[rtype].write(self._dumps(resource) + "\n")
        self.counts[rtype] += 1

    def close(self) -> None:
        for fh in self._handles.values():
            fh.close()


def write_ndjson(
    conn: sa.Connection,
    sel: Selection,
    workdir: Path,
    progress: Progress,
    *,
    request: str,
    transaction_time: str,
) -> tuple[list[Path], dict[str, int]]:
    """Patient, Condition, Observation and Procedure NDJSON files plus manifest.json."""
    out = _NdjsonFiles(workdir)
    try:
        for table, resources_of in RESOURCES_OF:
            for batch in _rows(conn, sel, table):
                for row in batch:
                    for resource in resources_of(row, sel.key):
                        out.emit(resource)
                progress(len(batch))
    finally:
        out.close()
    files, counts = out.files, out.counts
    manifest = {
        "transactionTime": transaction_time,
        "request": request,
        "requiresAccessToken": True,
        "output": [
            {"type": rtype, "url": files[rtype].name, "count": counts[rtype]} for rtype in files
        ],
        "error": [],
        "extension": {
            "study-day": "Dates are days from each patient's day zero: "
            "first radiotherapy fraction, else first record (Patient extension day-zero)."
        },
    }
    paths = [*files.values(), write_json(workdir / "manifest.json", manifest)]
    return paths, counts
