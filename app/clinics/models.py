"""Clinics and which researchers they let export. Who belongs to a clinic is
auth's ClinicMembership: it is part of who may act where."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin, new_id, utcnow

# The grading scales a clinic may call primary (app/clinical/grading.py SCALES).
GRADE_SCALES = ("ctcae", "rtog")


class Clinic(TimestampMixin, Base):
    """A clinic and its settings. The settings decide what its dashboard and
    trajectories say (the PAR threshold, when an assessment is overdue) and how
    its pages print times (its time zone), so a change to them is audited and
    kept in the clinic's history."""

    __tablename__ = "clinics"
    __audit_type__ = "clinic"
    __table_args__ = (
        sa.CheckConstraint(
            sa.column("primary_grade_scale").in_(GRADE_SCALES), name="primary_grade_scale"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # Printed marker edge length used when an upload does not say (photos).
    default_marker_size_cm: Mapped[float | None]
    overdue_assessment_days: Mapped[int | None]
    par_threshold_pct: Mapped[float | None]
    # Alert thresholds (app/clinical/alerts.py AlertRules); null: the default.
    alert_grade_threshold: Mapped[int | None]
    alert_lab_grade_threshold: Mapped[int | None]
    alert_infection_min_signs: Mapped[int | None]
    # IANA zone the clinic pages print times in; stored data and the API stay UTC.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    # The grading scale whose grade decides "grade >= 3" on the dashboard and
    # the overview (the other scale is shown beside it).
    primary_grade_scale: Mapped[str] = mapped_column(
        sa.String(10), default="ctcae", server_default="ctcae"
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Fingerprint of a create sent with a client id (idempotency.create_once).
    create_hash: Mapped[str | None] = mapped_column(sa.String(64))

    __mapper_args__ = {"version_id_col": version}

    @property
    def clinic_id(self) -> uuid.UUID:
        """The clinic a record belongs to is, for a clinic, itself (audit, access)."""
        return self.id


class ResearchGrant(Base):
    """A clinic's permission for one researcher to export its de-identified data.

    Granting and revoking are audited (who let whom export, and when it
    ended); a grant is never amended otherwise, so it keeps no history."""

    __tablename__ = "research_grants"
    __audit_type__ = "research_grant"
    __versioned__ = False
    __table_args__ = (
        sa.Index("ix_research_grants_researcher_clinic", "researcher_id", "clinic_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    researcher_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    granted_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # For delta sync of the grants list: a revoke is a change.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
