"""Which sources each FHIR resource type is read from (app/fhir/sources.py,
app/fhir/observations.py), and the source of a resource id."""

from __future__ import annotations

from app.fhir.observations import OBSERVATIONS
from app.fhir.sources import CONDITION, MEDIA, MEDICATION_STATEMENT, PATIENT, PROCEDURES, Source

BY_TYPE: dict[str, tuple[Source, ...]] = {
    "Patient": (PATIENT,),
    "Condition": (CONDITION,),
    "Observation": OBSERVATIONS,
    "Procedure": PROCEDURES,
    "MedicationStatement": (MEDICATION_STATEMENT,),
    "Media": (MEDIA,),
}


def for_id(resource_type: str, resource_id: str) -> tuple[Source, str] | None:
    """The source of a resource id and the record id in it, or None."""
    for source in BY_TYPE.get(resource_type, ()):
        if not source.kind:
            return source, resource_id
        prefix = source.kind + "-"
        if resource_id.startswith(prefix):
            return source, resource_id[len(prefix) :]
    return None
