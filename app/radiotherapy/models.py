from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clinical.dose import planned_total_dose
from app.core.db import Base, RecordMixin

TECHNIQUES = ("imrt", "vmat", "3dcrt", "sbrt", "srt", "electron", "brachytherapy", "other")


class RadiotherapyCourse(RecordMixin, Base):
    __tablename__ = "radiotherapy_courses"
    __audit_type__ = "radiotherapy_course"
    __table_args__ = (
        sa.Index("ix_radiotherapy_courses_patient", "patient_id", "start_date"),
        sa.Index("ix_radiotherapy_courses_clinic_updated", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    target_site: Mapped[str] = mapped_column(sa.String(200))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    # Skin dose context: a bolus raises the dose at the skin, and the only skin
    # dose known is one measured in vivo; the prescription is not skin dose.
    bolus: Mapped[bool | None]
    bolus_thickness_cm: Mapped[float | None]
    measured_skin_dose_cgy: Mapped[float | None]

    phases: Mapped[list[RadiotherapyPhase]] = relationship(
        order_by="RadiotherapyPhase.position", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def total_dose_cgy(self) -> float:
        """The planned total of the phases (app.clinical.dose, the one definition)."""
        return planned_total_dose(self.phases)


class RadiotherapyPhase(Base):
    """One phase of a course (e.g. IMRT 400 cGy x 10, then an SRT boost 700 cGy x 3).

    Phases are part of their course: a change to them is an amendment of the
    course and appears in the course's history snapshot.
    """

    __tablename__ = "radiotherapy_phases"
    __table_args__ = (
        sa.CheckConstraint("dose_per_fraction_cgy > 0", name="dose_positive"),
        sa.CheckConstraint("fractions > 0", name="fractions_positive"),
        sa.CheckConstraint(sa.column("technique").in_(TECHNIQUES), name="technique"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    course_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("radiotherapy_courses.id"), index=True
    )
    position: Mapped[int]
    technique: Mapped[str] = mapped_column(sa.String(20))
    dose_per_fraction_cgy: Mapped[float]
    fractions: Mapped[int]
    start_date: Mapped[date | None]


class FractionDelivery(RecordMixin, Base):
    """A delivered fraction, logged from the treatment record."""

    __tablename__ = "fraction_deliveries"
    __audit_type__ = "fraction"
    __table_args__ = (
        sa.Index("ix_fraction_deliveries_course_date", "course_id", "delivered_on"),
        sa.CheckConstraint("dose_cgy > 0", name="dose_positive"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    course_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("radiotherapy_courses.id"))
    delivered_on: Mapped[date]
    dose_cgy: Mapped[float]
