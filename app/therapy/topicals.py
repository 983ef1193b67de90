"""Topical treatments of a wound: create, amend, delete and list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core import records
from app.core.access import scoped
from app.therapy.models import TopicalTreatment
from app.therapy.schemas import TopicalTreatmentSchema
from app.therapy.writes import rule_error
from app.wounds.models import Wound

_dump_topical = TopicalTreatmentSchema().dump


def _check_topical_dates(fields: dict[str, Any]) -> None:
    stop = fields.get("stop_date")
    if stop is not None and stop < fields["start_date"]:
        raise rule_error("stop_date", "must not be before start_date", "stop_before_start")


def create_topical(
    session: Session, wound: Wound, data: dict[str, Any]
) -> tuple[TopicalTreatment, bool]:
    """Record a topical treatment of the wound (offline-safe client id)."""
    _check_topical_dates(data)
    return records.create_record(
        session,
        TopicalTreatment,
        data,
        _dump_topical,
        clinic_id=wound.clinic_id,
        wound_id=wound.id,
    )


def update_topical(
    session: Session, topical: TopicalTreatment, changes: dict[str, Any]
) -> TopicalTreatment:
    """Amend a topical treatment (If-Match); it must still stop on or after its start."""
    _check_topical_dates(
        {
            "start_date": changes.get("start_date", topical.start_date),
            "stop_date": changes.get("stop_date", topical.stop_date),
        }
    )
    return records.amend(session, topical, changes, _dump_topical)


def delete_topical(session: Session, topical: TopicalTreatment) -> TopicalTreatment:
    """Soft-delete a topical treatment (If-Match)."""
    return records.soft_delete(session, topical, _dump_topical)


def list_topicals(session: Session, wound: Wound, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the wound's topical treatments (deleted ones as tombstones), oldest first."""
    stmt = scoped(TopicalTreatment, include_deleted=True).where(
        TopicalTreatment.wound_id == wound.id
    )
    return records.list_page(
        session,
        stmt,
        TopicalTreatment,
        args,
        order_by=(TopicalTreatment.start_date, TopicalTreatment.created_at),
        parent=wound,
    )
