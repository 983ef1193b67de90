"""Therapy context: systemic drug courses, topical treatments and blood counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, RecordMixin

CHANGE_KINDS = ("dose_reduced", "held", "resumed", "stopped")
TOPICAL_CATEGORIES = (
    "dressing",
    "topical_corticosteroid",
    "rhegf",
    "plant_extract",
    "vitamin",
    "silver",
    "antimicrobial",
    "barrier_film",
    "other",
)
LAB_TESTS = ("hemoglobin", "platelets", "neutrophils", "albumin", "wbc", "lymphocytes")


class SystemicTherapy(RecordMixin, Base):
    __tablename__ = "systemic_therapies"
    __audit_type__ = "systemic_therapy"
    __table_args__ = (
        sa.Index("ix_systemic_therapies_patient", "patient_id", "start_date"),
        sa.Index("ix_systemic_therapies_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint("dose > 0", name="dose_positive"),
        sa.CheckConstraint("days_on >= 1", name="days_on_positive"),
        sa.CheckConstraint("days_off >= 0", name="days_off_nonneg"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    agent: Mapped[str] = mapped_column(sa.String(100))
    agent_code: Mapped[str | None] = mapped_column(sa.String(50))
    anti_angiogenic: Mapped[bool] = mapped_column(default=False)
    dose: Mapped[float]
    dose_unit: Mapped[str] = mapped_column(sa.String(20))
    days_on: Mapped[int]
    days_off: Mapped[int]
    start_date: Mapped[date]
    stop_date: Mapped[date | None]

    changes: Mapped[list[TherapyChange]] = relationship(
        order_by="TherapyChange.effective_on", lazy="selectin", viewonly=True
    )


class TherapyChange(RecordMixin, Base):
    __tablename__ = "therapy_changes"
    __audit_type__ = "therapy_change"
    __table_args__ = (sa.Index("ix_therapy_changes_therapy", "therapy_id", "effective_on"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    therapy_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("systemic_therapies.id"))
    effective_on: Mapped[date]
    kind: Mapped[str] = mapped_column(sa.String(20))
    dose: Mapped[float | None]
    reason: Mapped[str] = mapped_column(sa.Text)


class TopicalTreatment(RecordMixin, Base):
    __tablename__ = "topical_treatments"
    __audit_type__ = "topical_treatment"
    __table_args__ = (
        sa.Index("ix_topical_treatments_wound", "wound_id", "start_date"),
        sa.Index("ix_topical_treatments_clinic_updated", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    category: Mapped[str] = mapped_column(sa.String(30))
    product: Mapped[str] = mapped_column(sa.String(200))
    start_date: Mapped[date]
    stop_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(sa.Text)


class LabResult(RecordMixin, Base):
    __tablename__ = "lab_results"
    __audit_type__ = "lab_result"
    __table_args__ = (
        sa.Index("ix_lab_results_patient_taken", "patient_id", "taken_at"),
        sa.Index("ix_lab_results_clinic_updated", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    test: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(sa.String(20))
    # The laboratory's own reference range, in ``unit``, when it sends one:
    # CTCAE grade 1 is "< LLN" against it (app/clinical/labs.py).
    lower_limit_normal: Mapped[float | None]
    upper_limit_normal: Mapped[float | None]
    canonical_value: Mapped[float]
    canonical_unit: Mapped[str] = mapped_column(sa.String(20))
    taken_at: Mapped[datetime]
    ctcae_term: Mapped[str | None] = mapped_column(sa.String(60))
    ctcae_grade: Mapped[int | None]
    ctcae_reasons: Mapped[list[Any] | None]
