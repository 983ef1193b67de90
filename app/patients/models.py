from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, RecordMixin

SEXES = ("female", "male", "other", "unknown")


class Patient(RecordMixin, Base):
    __tablename__ = "patients"
    __audit_type__ = "patient"
    __table_args__ = (
        sa.Index("ix_patients_clinic_created", "clinic_id", "created_at"),
        sa.Index("ix_patients_clinic_updated", "clinic_id", "updated_at"),
        sa.Index("ix_patients_clinic_mrn", "clinic_id", "mrn"),
        sa.CheckConstraint(sa.column("sex").in_(SEXES), name="sex"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    mrn: Mapped[str] = mapped_column(sa.String(64))
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(sa.String(10))
