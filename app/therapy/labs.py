"""Laboratory results: create, amend, delete and list, each graded by CTCAE
v5.0 (app.clinical.labs) against the laboratory's own lower limit of normal
when the result carries one, else the configured default (for hemoglobin, the
patient's sex's)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.clinical import labs as lab_rules
from app.core import records
from app.core.access import scoped
from app.patients.models import Patient
from app.therapy.models import LabResult
from app.therapy.schemas import LabResultSchema
from app.therapy.writes import rule_error

_dump_lab = LabResultSchema().dump

# Config keys of the lower limits of normal, with the ReferenceLimits field each sets.
LLN_CONFIG_KEYS: dict[str, str] = {
    "LAB_LLN_HEMOGLOBIN": "hemoglobin_lln_g_dl",
    "LAB_LLN_HEMOGLOBIN_MALE": "hemoglobin_male_lln_g_dl",
    "LAB_LLN_PLATELETS": "platelets_lln",
    "LAB_LLN_NEUTROPHILS": "neutrophils_lln",
    "LAB_LLN_ALBUMIN": "albumin_lln",
    "LAB_LLN_WBC": "wbc_lln",
    "LAB_LLN_LYMPHOCYTES": "lymphocytes_lln",
}


def reference_limits() -> lab_rules.ReferenceLimits:
    """The configured lower limits of normal (CTCAE grade 1 is "< LLN")."""
    defaults = lab_rules.ReferenceLimits()
    config = current_app.config if has_app_context() else {}
    return lab_rules.ReferenceLimits(
        **{
            attr: float(config.get(key, getattr(defaults, attr)))
            for key, attr in LLN_CONFIG_KEYS.items()
        }
    )


def _canonical_limit(test: str, unit: str, name: str, value: float | None) -> float | None:
    """A reference limit sent with the result (in its unit), in the canonical unit."""
    if value is None:
        return None
    try:
        return round(lab_rules.to_canonical(test, value, unit), 6)
    except lab_rules.UnitError:  # the unit itself is refused on ``unit`` first
        raise
    except ValueError as exc:
        raise rule_error(name, str(exc), "plausible_range") from exc


def _graded(fields: dict[str, Any], sex: str | None) -> dict[str, Any]:
    """Canonical value, unit and CTCAE v5.0 grade (app.clinical.labs) of a result,
    or a 422: unknown unit on ``unit`` (listing the accepted ones), impossible
    magnitude on ``value``, a reference range that is not one on
    ``lower_limit_normal`` / ``upper_limit_normal``. Grade 1 reads the result's
    own lower limit when it has one, else the default for ``sex``."""
    test, value, unit = fields["test"], fields["value"], fields["unit"]
    try:
        # Rounded so float noise of the conversion (70 g/L -> 7.000000000000001) is not shown.
        canonical = round(lab_rules.to_canonical(test, value, unit), 6)
        low = _canonical_limit(test, unit, "lower_limit_normal", fields.get("lower_limit_normal"))
        high = _canonical_limit(test, unit, "upper_limit_normal", fields.get("upper_limit_normal"))
        if low is not None and high is not None and high <= low:
            raise rule_error(
                "upper_limit_normal",
                "must be above lower_limit_normal",
                "reference_range",
            )
        # Inside the try: a tiny value can round to 0, which the grader refuses.
        grade = lab_rules.grade_lab(test, canonical, reference_limits(), lln=low, sex=sex)
    except lab_rules.UnitError as exc:
        raise rule_error("unit", str(exc), "accepted_unit") from exc
    except ValueError as exc:
        field, _, rule = str(exc).partition(": ")
        if field == "lower_limit_normal":
            raise rule_error(field, rule, "reference_range") from exc
        raise rule_error("value", str(exc), "plausible_range") from exc
    return {
        "canonical_value": canonical,
        "canonical_unit": lab_rules.CANONICAL_UNITS[test],
        "ctcae_term": grade.term,
        "ctcae_grade": grade.value,
        "ctcae_reasons": list(grade.reasons),
    }


def create_lab(session: Session, patient: Patient, data: dict[str, Any]) -> tuple[LabResult, bool]:
    """Record a result; the grade is taken against its own reference range, or
    the limits configured now (a later change of limits, or of the patient's
    recorded sex, does not regrade stored results; amending the result does)."""
    records.not_in_future("taken_at", data["taken_at"])
    data["taken_at"] = data["taken_at"].astimezone(UTC)  # UTC out, also in this response
    derived = _graded(data, patient.sex)
    return records.create_record(
        session,
        LabResult,
        data,
        _dump_lab,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        **derived,
    )


def update_lab(session: Session, lab: LabResult, changes: dict[str, Any]) -> LabResult:
    """Amend a result (If-Match); canonical value and grade are derived again."""
    records.not_in_future("taken_at", changes.get("taken_at"))
    if changes.get("taken_at") is not None:
        changes["taken_at"] = changes["taken_at"].astimezone(UTC)
    merged = {
        name: changes.get(name, getattr(lab, name))
        for name in ("test", "value", "unit", "lower_limit_normal", "upper_limit_normal")
    }
    sex = session.scalar(sa.select(Patient.sex).where(Patient.id == lab.patient_id))
    return records.amend(session, lab, {**changes, **_graded(merged, sex)}, _dump_lab)


def delete_lab(session: Session, lab: LabResult) -> LabResult:
    """Soft-delete a result (If-Match)."""
    return records.soft_delete(session, lab, _dump_lab)


def list_labs(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the patient's results (deleted ones as tombstones), by time
    taken; ``test`` narrows it to one test."""
    stmt = scoped(LabResult, include_deleted=True).where(LabResult.patient_id == patient.id)
    if "test" in args:
        stmt = stmt.where(LabResult.test == args["test"])
    return records.list_page(
        session, stmt, LabResult, args, order_by=(LabResult.taken_at,), parent=patient
    )
