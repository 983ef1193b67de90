from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, RecordMixin

PROCEDURE_KINDS = ("debridement", "prp", "dressing", "other")
DEBRIDEMENT_METHODS = (
    "sharp_conservative",
    "sharp_surgical",
    "mechanical",
    "enzymatic",
    "autolytic",
    "biological",
)
PRP_FORMS = ("gel", "injection")
PRP_ACTIVATORS = ("thrombin", "calcium_chloride", "none", "other")


class Procedure(RecordMixin, Base):
    """Something done to a wound. A debridement followed by PRP in one session
    (as in the seed case) is recorded as kind "debridement" with both detail
    blocks, or as two procedures; both are accepted."""

    __tablename__ = "procedures"
    __audit_type__ = "procedure"
    __table_args__ = (
        sa.Index("ix_procedures_wound_time", "wound_id", "performed_at"),
        sa.Index("ix_procedures_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint(sa.column("kind").in_(PROCEDURE_KINDS), name="kind"),
        sa.CheckConstraint(
            "prp_volume_ml IS NULL OR prp_volume_ml > 0", name="prp_volume_positive"
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    performed_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(sa.String(20))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    debridement_method: Mapped[str | None] = mapped_column(sa.String(30))
    debridement_to_bleeding: Mapped[bool | None]
    prp_form: Mapped[str | None] = mapped_column(sa.String(20))
    prp_volume_ml: Mapped[float | None]
    prp_activator: Mapped[str | None] = mapped_column(sa.String(30))
    prp_preparation: Mapped[str | None] = mapped_column(sa.Text)
    performed_by: Mapped[uuid.UUID | None]


# What a procedure record says of the procedure, in the order exports list it
# (the research procedures table; the trajectory reads them by name).
PROCEDURE_DETAILS: tuple[Any, ...] = (
    Procedure.performed_at,
    Procedure.kind,
    Procedure.debridement_method,
    Procedure.debridement_to_bleeding,
    Procedure.prp_form,
    Procedure.prp_volume_ml,
    Procedure.prp_activator,
)
