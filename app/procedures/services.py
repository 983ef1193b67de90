"""Procedures on a wound: debridement, PRP, dressing, other."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core import records
from app.core.access import current_user, scoped
from app.core.errors import field_error
from app.core.etags import require_if_match
from app.procedures.models import Procedure
from app.procedures.schemas import DebridementSchema, ProcedureSchema, PrpSchema
from app.wounds.models import Wound

_dump = ProcedureSchema().dump

BLOCKS: dict[str, tuple[str, ...]] = {
    "debridement": tuple(f"debridement_{name}" for name in DebridementSchema().fields),
    "prp": tuple(f"prp_{name}" for name in PrpSchema().fields),
}


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Wire shape -> columns. A block replaces every column of its group (members
    left out become null); a null block clears the group."""
    flat = {k: v for k, v in data.items() if k not in BLOCKS}
    for block, columns in BLOCKS.items():
        if block in data:
            given = data[block] or {}
            for column in columns:
                flat[column] = given.get(column.removeprefix(f"{block}_"))
    return flat


def check_blocks(kind: str, has_debridement: bool, has_prp: bool) -> None:
    """Kind and detail blocks agree (422 naming the block).

    - kind debridement needs a debridement block and may carry a prp block (the
      seed case: debridement to bleeding, then thrombin-activated PRP gel, in
      one session);
    - kind prp needs a prp block and carries no debridement block (record that
      session as kind debridement with both blocks);
    - dressing and other carry no blocks.
    """
    if kind == "debridement" and not has_debridement:
        raise field_error("debridement", "is required when kind is debridement")
    if kind == "prp" and not has_prp:
        raise field_error("prp", "is required when kind is prp")
    if kind != "debridement" and has_debridement:
        raise field_error("debridement", f"only a debridement carries this block (kind is {kind})")
    if kind not in ("debridement", "prp") and has_prp:
        raise field_error("prp", f"only a prp or debridement carries this block (kind is {kind})")


def _check_time(wound: Wound, performed_at: datetime) -> datetime:
    """Not in the future (clock skew tolerated), not before the wound's onset in the
    device's local date. Returns the instant in UTC."""
    records.not_in_future("performed_at", performed_at)
    if performed_at.date() < wound.onset_date:
        raise field_error(
            "performed_at", f"is before the wound's onset ({wound.onset_date.isoformat()})"
        )
    return performed_at.astimezone(UTC)


def create_procedure(
    session: Session, wound: Wound, data: dict[str, Any]
) -> tuple[Procedure, bool]:
    """Create (or replay) a procedure on ``wound``."""
    user = current_user()
    flat = flatten(data)
    flat["performed_at"] = _check_time(wound, flat["performed_at"])
    check_blocks(
        flat["kind"],
        flat.get("debridement_method") is not None,
        flat.get("prp_form") is not None,
    )
    return records.create_record(
        session,
        Procedure,
        flat,
        _dump,
        clinic_id=wound.clinic_id,
        wound_id=wound.id,
        performed_by=user.id,
    )


def update_procedure(session: Session, procedure: Procedure, changes: dict[str, Any]) -> Procedure:
    """Amend (If-Match required); the merged record must still satisfy the block rules."""
    require_if_match(procedure, _dump)
    flat = flatten(changes)
    if "performed_at" in flat:
        wound = session.get(Wound, procedure.wound_id)
        assert wound is not None
        flat["performed_at"] = _check_time(wound, flat["performed_at"])
    for key, value in flat.items():
        setattr(procedure, key, value)
    check_blocks(
        procedure.kind,
        procedure.debridement_method is not None,
        procedure.prp_form is not None,
    )
    session.flush()
    return procedure


def delete_procedure(session: Session, procedure: Procedure) -> Procedure:
    records.soft_delete(session, procedure, _dump)
    return procedure


def list_procedures(session: Session, wound: Wound, args: dict[str, Any]) -> dict[str, Any]:
    """Procedures of one wound in performed_at order (kind, from/to filters)."""
    start, end = args.get("from_"), args.get("to")
    if start is not None and end is not None and start > end:
        raise field_error("to", "must not be before from")
    stmt = scoped(Procedure, include_deleted=True).where(Procedure.wound_id == wound.id)
    if "kind" in args:
        stmt = stmt.where(Procedure.kind == args["kind"])
    if start is not None:
        stmt = stmt.where(Procedure.performed_at >= start)
    if end is not None:
        stmt = stmt.where(Procedure.performed_at <= end)
    return records.list_page(
        session, stmt, Procedure, args, order_by=(Procedure.performed_at,), parent=wound
    )
