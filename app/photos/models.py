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


class PhotoColourMeasure(RecordMixin, Base):
    """The colour of a treated skin region against unirradiated skin, measured on
    a photo (app/photos/colour.py). One row is one observation at the photo's
    capture time (``measured_at``): CIELAB L*, a*, b* (D65) of each region,
    their differences, ITA and an erythema index, and the calibration used. A
    correction of the outlines is an amendment (history keeps the earlier
    values); the photo itself is never changed.

    As a FHIR Observation: effective[x] = ``measured_at``; subject and focus
    from the wound; derivedFrom the photo (and ``reference_photo_id``);
    method = ``calibration_method``; one component per value, CIELAB L*, a*,
    b* and the erythema index unitless (UCUM "1"), ITA in degrees (UCUM
    "deg"); bodySite from the wound."""

    __tablename__ = "photo_colour_measures"
    __audit_type__ = "photo_colour_measure"
    __table_args__ = (
        sa.Index("ix_photo_colour_measures_photo", "photo_id", "created_at"),
        sa.Index("ix_photo_colour_measures_wound_time", "wound_id", "measured_at"),
        sa.Index("ix_photo_colour_measures_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint(
            sa.column("calibration_method").in_(("colour_checker", "uncalibrated")),
            name="calibration_method",
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    photo_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("photos.id"))
    reference_photo_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("photos.id"))
    measured_at: Mapped[datetime]
    region_points: Mapped[list[Any]]
    reference_points: Mapped[list[Any]]
    region_pixels: Mapped[int]
    reference_pixels: Mapped[int]
    region_l: Mapped[float]
    region_a: Mapped[float]
    region_b: Mapped[float]
    region_ita: Mapped[float | None]
    region_erythema_index: Mapped[float]
    reference_l: Mapped[float]
    reference_a: Mapped[float]
    reference_b: Mapped[float]
    reference_ita: Mapped[float | None]
    reference_erythema_index: Mapped[float]
    delta_a: Mapped[float]
    delta_e2000: Mapped[float]
    delta_erythema_index: Mapped[float]
    calibration_method: Mapped[str] = mapped_column(sa.String(20))
    calibration: Mapped[dict[str, Any]]
    measured_by: Mapped[uuid.UUID | None]


# The measured values of a colour measure, in the order the research export
# lists them (region, reference, differences).
COLOUR_VALUES: tuple[Any, ...] = (
    *(
        getattr(PhotoColourMeasure, f"{side}_{name}")
        for side in ("region", "reference")
        for name in ("l", "a", "b", "ita", "erythema_index")
    ),
    PhotoColourMeasure.delta_a,
    PhotoColourMeasure.delta_e2000,
    PhotoColourMeasure.delta_erythema_index,
)
