from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, RecordMixin

LATERALITIES = ("left", "right", "bilateral", "midline", "none")
ETIOLOGIES = ("radiation_dermatitis", "radiation_ulcer", "surgical", "pressure", "other")
WOUND_STATUSES = ("open", "healed")


class Wound(RecordMixin, Base):
    __tablename__ = "wounds"
    __audit_type__ = "wound"
    __table_args__ = (
        sa.Index("ix_wounds_patient", "patient_id", "created_at"),
        sa.Index("ix_wounds_clinic_status", "clinic_id", "status"),
        sa.Index("ix_wounds_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint(sa.column("laterality").in_(LATERALITIES), name="laterality"),
        sa.CheckConstraint(sa.column("etiology").in_(ETIOLOGIES), name="etiology"),
        sa.CheckConstraint(sa.column("status").in_(WOUND_STATUSES), name="status"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    body_site: Mapped[str] = mapped_column(sa.String(200))
    laterality: Mapped[str] = mapped_column(sa.String(20))
    in_skin_fold: Mapped[bool] = mapped_column(default=False)
    etiology: Mapped[str] = mapped_column(sa.String(30))
    radiotherapy_course_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("radiotherapy_courses.id")
    )
    onset_date: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    healed_on: Mapped[date | None]
    # Earlier healings the wound was reopened after, oldest first: {healed_on,
    # reopened_at, reopened_by ("assessment" or "amendment"), assessment_id}.
    # Each ends a healing episode of the trajectory (app/clinical/episodes.py).
    closures: Mapped[list[Any] | None]
