"""Procedure schemas: `debridement` and `prp` blocks on the wire, prefixed flat
columns in the model (app/procedures/models.py)."""

from __future__ import annotations

from marshmallow import fields, validate

from app.assessments.schemas import ColumnGroup, StrictBool, StrictFloat
from app.core.schemas import ListArgsSchema, OffsetDateTime, RecordSchema, StrictSchema
from app.procedures.models import (
    DEBRIDEMENT_METHODS,
    PROCEDURE_KINDS,
    PRP_ACTIVATORS,
    PRP_FORMS,
)

# Beyond this a PRP volume for one wound session is a typo (the usual range is
# a few mL; a whole-blood draw yields well under 100 mL of PRP).
MAX_PRP_ML = 100.0
MAX_TEXT = 10_000


class DebridementSchema(StrictSchema):
    """How the wound was debrided (clinical-reference.md, "PRP and debridement")."""

    method = fields.String(required=True, validate=validate.OneOf(DEBRIDEMENT_METHODS))
    to_bleeding = StrictBool(
        allow_none=True, metadata={"description": "Debrided down to fresh bleeding tissue"}
    )


class PrpSchema(StrictSchema):
    """Platelet-rich plasma as applied; no standard scale exists, so record what was done."""

    form = fields.String(required=True, validate=validate.OneOf(PRP_FORMS))
    volume_ml = StrictFloat(
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_PRP_ML, min_inclusive=False),
        metadata={"description": "mL applied, > 0 and <= 100"},
    )
    activator = fields.String(allow_none=True, validate=validate.OneOf(PRP_ACTIVATORS))
    preparation = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))


class _ProcedureInput(StrictSchema):
    performed_at = OffsetDateTime()
    kind = fields.String(validate=validate.OneOf(PROCEDURE_KINDS))
    notes = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))
    debridement = ColumnGroup(
        DebridementSchema,
        prefix="debridement_",
        present="method",
        allow_none=True,
        metadata={"description": "Required when kind is debridement; else null"},
    )
    prp = ColumnGroup(
        PrpSchema,
        prefix="prp_",
        present="form",
        allow_none=True,
        metadata={
            "description": "Required when kind is prp; allowed with a debridement (one session)"
        },
    )


class ProcedureSchema(RecordSchema, _ProcedureInput):
    performed_at = OffsetDateTime(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROCEDURE_KINDS))
    clinic_id = fields.UUID(dump_only=True)
    wound_id = fields.UUID(dump_only=True)
    performed_by = fields.UUID(dump_only=True)


class ProcedureUpdateSchema(_ProcedureInput):
    """PATCH: any input field. A block replaces the stored one; null removes it."""


class ProcedureListArgsSchema(ListArgsSchema):
    kind = fields.String(validate=validate.OneOf(PROCEDURE_KINDS))
    from_ = OffsetDateTime(
        data_key="from", metadata={"description": "performed_at at or after this instant"}
    )
    to = OffsetDateTime(metadata={"description": "performed_at at or before this instant"})
