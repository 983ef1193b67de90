"""Patients: create, amend, delete, list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core import records
from app.core.access import current_user, in_clinic, scoped
from app.core.db import contains
from app.core.errors import field_error
from app.patients.models import Patient
from app.patients.schemas import PatientSchema

_dump = PatientSchema().dump


def resolve_clinic(user: Any, requested: Any) -> Any:
    """The clinic a new record goes to: the one named, or the caller's only one."""
    if requested is not None:
        if not in_clinic(user, requested):
            raise field_error("clinic_id", "is not one of your clinics")
        return requested
    if len(user.clinic_ids) == 1:
        return user.clinic_ids[0]
    raise field_error("clinic_id", "is required: you belong to several clinics (or none)")


def create_patient(session: Session, data: dict[str, Any]) -> tuple[Patient, bool]:
    user = current_user()
    records.not_in_future("birth_date", data["birth_date"])
    clinic_id = resolve_clinic(user, data.pop("clinic_id", None))
    return records.create_record(session, Patient, data, _dump, clinic_id=clinic_id)


def update_patient(session: Session, patient: Patient, changes: dict[str, Any]) -> Patient:
    records.not_in_future("birth_date", changes.get("birth_date"))
    return records.amend(session, patient, changes, _dump)


def list_patients(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    stmt = scoped(Patient, include_deleted=True)
    if "mrn" in args:
        stmt = stmt.where(Patient.mrn == args["mrn"])
    if "clinic_id" in args:
        stmt = stmt.where(Patient.clinic_id == args["clinic_id"])
    return records.list_page(session, stmt, Patient, args, order_by=(Patient.created_at,))


def delete_patient(session: Session, patient: Patient) -> Patient:
    return records.soft_delete(session, patient, _dump)


# Words of a search beyond this many are not used (each adds three LIKEs).
SEARCH_MAX_WORDS = 6


def search_patients(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Patients of the caller's clinics by family then given name, each word of
    ``q`` (if any) found in the family name, given name or MRN, case-insensitively;
    a page of the one keyset pagination (``limit``, ``cursor``), the read audited."""
    stmt = scoped(Patient, include_deleted=True)
    for word in str(args.get("q") or "").split()[:SEARCH_MAX_WORDS]:
        stmt = stmt.where(
            sa.or_(
                contains(Patient.family_name, word),
                contains(Patient.given_name, word),
                contains(Patient.mrn, word),
            )
        )
    order = (Patient.family_name, Patient.given_name)
    return records.list_page(session, stmt, Patient, args, order_by=order)
