from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, RecordMixin


class Photo(RecordMixin, Base):
    """Metadata of a wound photo. The bytes live in storage under server-made keys
    (``storage_keys``: size -> key); no client file name is ever used as a path."""

    __tablename__ = "photos"
    __audit_type__ = "photo"
    __table_args__ = (
        sa.UniqueConstraint("wound_id", "sha256"),
        sa.Index("ix_photos_wound_taken", "wound_id", "taken_at"),
        sa.Index("ix_photos_clinic_updated", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("assessments.id"))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    format_in: Mapped[str] = mapped_column(sa.String(10))
    bytes_in: Mapped[int]
    taken_at: Mapped[datetime | None]
    # client | exif | assessment | server (the upload time)
    taken_at_source: Mapped[str | None] = mapped_column(sa.String(10))
    storage_keys: Mapped[dict[str, Any]]
    marker_size_cm: Mapped[float | None]
    px_per_cm: Mapped[float | None]
    calibration_source: Mapped[str | None] = mapped_column(sa.String(10))  # marker | manual
    homography: Mapped[list[Any] | None]
    marker_detection: Mapped[dict[str, Any] | None]
    tracing_points: Mapped[list[Any] | None]
    traced_area_cm2: Mapped[float | None]
    traced_perimeter_cm: Mapped[float | None]
    traced_length_cm: Mapped[float | None]
    traced_width_cm: Mapped[float | None]
    # how the points were made (manual | grabcut | random_walker) and the tap [x, y]
    tracing_method: Mapped[str | None] = mapped_column(sa.String(20))
    tracing_seed: Mapped[list[Any] | None]
    uploaded_by: Mapped[uuid.UUID | None]
