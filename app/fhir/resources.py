"""FHIR R4 resources of the identifiable record, built from the domain rows.

The codes, units and the wound size panel are app/clinical/interchange.py's,
the mapping the research export uses too; this module adds what the export
leaves out on purpose: names, MRNs, dates.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from app.clinical import interchange as ix
from app.clinical import late_effects

LOCAL = ix.LOCAL_BASE
WOUND_EXT = LOCAL + "StructureDefinition/wound"
DERIVATIVE_EXT = LOCAL + "StructureDefinition/photo-derivative"
PHOTO_SIZES = ("original", "large", "thumb")


def mrn_system(clinic_id: uuid.UUID) -> str:
    """The identifier system of a clinic's MRNs: MRNs are unique per clinic only."""
    return f"{LOCAL}sid/clinic/{clinic_id}/mrn"


def instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _meta(row: Any) -> dict[str, Any]:
    return {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)}


def _ref(kind: str, rid: Any) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    item = {"system": system, "code": code}
    if display:
        item["display"] = display
    return {"coding": [item]}


def patient(p: Any) -> dict[str, Any]:
    """Patient: the MRN (in its clinic's system), name, sex and birth date."""
    return {
        "resourceType": "Patient",
        "id": str(p.id),
        "meta": _meta(p),
        "identifier": [
            {
                "use": "usual",
                "type": _concept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR"),
                "system": mrn_system(p.clinic_id),
                "value": p.mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "gender": p.sex,
        "birthDate": p.birth_date.isoformat(),
    }


def _phase_at_onset(onset: date, course: Any) -> str | None:
    if course is None:
        return None
    return late_effects.radiation_phase(onset, course.start_date, course.end_date).phase


def condition(w: Any, course: Any = None) -> dict[str, Any]:
    """Condition for one wound: clinical status from its healings, the ICD-10-CM
    code of a radiation wound, body site with laterality, onset and abatement."""
    status = ix.clinical_status(w.status, bool(w.closures))
    icd = ix.radiodermatitis_icd10cm(w.etiology, _phase_at_onset(w.onset_date, course))
    site = w.body_site if w.laterality in ("none", None) else f"{w.body_site}, {w.laterality}"
    out: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(w.id),
        "meta": _meta(w),
        "clinicalStatus": _concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", status
        ),
        "verificationStatus": _concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"
        ),
        "category": [
            _concept(
                "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item"
            )
        ],
        "code": ix.condition_code(w.etiology, icd),
        "bodySite": [{"text": site}],
        "subject": _ref("Patient", w.patient_id),
        "onsetDateTime": w.onset_date.isoformat(),
    }
    if w.status == "healed" and w.healed_on is not None:
        out["abatementDateTime"] = w.healed_on.isoformat()
    return out


def observation(
    kind: str,
    row: Any,
    patient_id: Any,
    *,
    category: str,
    code: dict[str, Any],
    when: datetime,
    value: dict[str, Any],
    focus: Any = None,
) -> dict[str, Any]:
    """The frame every Observation shares; ``value`` holds its value[x] or components."""
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{kind}-{row.id}",
        "meta": _meta(row),
        "status": "final",
        "category": [
            _concept("http://terminology.hl7.org/CodeSystem/observation-category", category)
        ],
        "code": code,
        "subject": _ref("Patient", patient_id),
        "effectiveDateTime": instant(when),
        **value,
    }
    if focus is not None:
        out["focus"] = [_ref("Condition", focus)]
    return out


def _procedure(kind: str, p: Any, patient_id: Any, code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"{kind}-{p.id}",
        "meta": _meta(p),
        "status": "completed",
        "code": code,
        "subject": _ref("Patient", patient_id),
        "performedDateTime": instant(p.performed_at),
        "reasonReference": [_ref("Condition", p.wound_id)],
    }


def debridement(p: Any, patient_id: Any) -> dict[str, Any]:
    """A debridement: SNOMED CT 36777000, with its method in the text."""
    method = (p.debridement_method or "").replace("_", " ")
    code = {
        "coding": [{"system": ix.SNOMED, "code": "36777000", "display": "Debridement"}],
        "text": f"Debridement ({method})" if method else "Debridement",
    }
    return _procedure("debridement", p, patient_id, code)


def prp(p: Any, patient_id: Any) -> dict[str, Any]:
    """A platelet-rich plasma application (text only: no SNOMED code we are sure of)."""
    details = [x for x in (p.prp_form, p.prp_activator and f"activator {p.prp_activator}") if x]
    text = "Platelet-rich plasma application"
    if details:
        text += f" ({', '.join(d.replace('_', ' ') for d in details)})"
    return _procedure("prp", p, patient_id, {"text": text})


def other_procedure(p: Any, patient_id: Any) -> dict[str, Any]:
    """A dressing change or another procedure, as text."""
    text = "Dressing" if p.kind == "dressing" else "Other wound procedure"
    return _procedure(p.kind, p, patient_id, {"text": text})


def medication_statement(t: Any, today: date) -> dict[str, Any]:
    """A systemic drug course (app/therapy) as a MedicationStatement."""
    ended = t.stop_date is not None and t.stop_date < today
    period = {"start": t.start_date.isoformat()}
    if t.stop_date is not None:
        period["end"] = t.stop_date.isoformat()
    med: dict[str, Any] = {"text": t.agent}
    if t.agent_code:
        med["coding"] = [{"code": t.agent_code, "display": t.agent}]
    return {
        "resourceType": "MedicationStatement",
        "id": str(t.id),
        "meta": _meta(t),
        "status": "completed" if ended else "active",
        "medicationCodeableConcept": med,
        "subject": _ref("Patient", t.patient_id),
        "effectivePeriod": period,
        "dosage": [
            {
                "text": f"{t.dose:g} {t.dose_unit}, {t.days_on} days on, {t.days_off} days off",
                "doseAndRate": [{"doseQuantity": {"value": t.dose, "unit": t.dose_unit}}],
            }
        ],
    }


def _attachment(photo: Any, size: str) -> dict[str, Any]:
    return {
        "contentType": "image/jpeg",
        "url": f"Binary/{photo.id}-{size}",
        "title": f"Wound photo ({size})",
    }


def media(photo: Any, wound: Any) -> dict[str, Any]:
    """A wound photo: the original through Binary, the smaller sizes the photos
    API makes as derivative attachments (extension)."""
    sizes = [s for s in PHOTO_SIZES if s in (photo.storage_keys or {})]
    main = "original" if "original" in sizes else sizes[0]
    out: dict[str, Any] = {
        "resourceType": "Media",
        "id": str(photo.id),
        "meta": _meta(photo),
        "extension": [{"url": WOUND_EXT, "valueReference": _ref("Condition", wound.id)}]
        + [
            {"url": DERIVATIVE_EXT, "valueAttachment": _attachment(photo, s)}
            for s in sizes
            if s != main
        ],
        "status": "completed",
        "type": _concept("http://terminology.hl7.org/CodeSystem/media-type", "image", "Image"),
        "subject": _ref("Patient", wound.patient_id),
        "bodySite": {"text": wound.body_site},
        "height": photo.height,
        "width": photo.width,
        "content": _attachment(photo, main),
    }
    if photo.taken_at is not None:
        out["createdDateTime"] = instant(photo.taken_at)
    return out


def binary(photo: Any, size: str, data: str) -> dict[str, Any]:
    """A photo's bytes (base64) as a Binary resource, guarded by its Media."""
    return {
        "resourceType": "Binary",
        "id": f"{photo.id}-{size}",
        "contentType": "image/jpeg",
        "securityContext": _ref("Media", photo.id),
        "data": data,
    }


def practitioner(user: Any) -> dict[str, Any]:
    """A WoundTrack user (clinic staff) as a Practitioner: name and email."""
    return {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "active": True,
        "name": [{"text": user.name}],
        "telecom": [{"system": "email", "value": user.email, "use": "work"}],
    }


def operation_outcome(severity: str, code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }
