from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clinical.symptoms import NRS_MAX, NRS_MIN, PRO_LEVELS
from app.core.db import Base, RecordMixin, new_id, utcnow

EXUDATE_AMOUNTS = ("none", "scant", "small", "moderate", "large")
EXUDATE_TYPES = ("none", "serous", "serosanguineous", "sanguineous", "purulent")
AREA_METHODS = ("traced", "measured", "ellipse")


class Assessment(RecordMixin, Base):
    """One bedside assessment of a wound: measurements, tissue, findings, and the
    grades and scores derived from them on every write."""

    __tablename__ = "assessments"
    __audit_type__ = "assessment"
    __table_args__ = (
        # The order every trajectory reads a wound's assessments in: time, then
        # creation (two at one instant), then id.
        sa.Index("ix_assessments_wound_time", "wound_id", "assessed_at", "created_at", "id"),
        sa.Index("ix_assessments_clinic_created", "clinic_id", "created_at"),
        sa.Index("ix_assessments_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint("length_cm IS NULL OR length_cm >= 0", name="length_nonneg"),
        sa.CheckConstraint("width_cm IS NULL OR width_cm >= 0", name="width_nonneg"),
        sa.CheckConstraint("depth_cm IS NULL OR depth_cm >= 0", name="depth_nonneg"),
        sa.CheckConstraint(
            sa.column("pro_skin_reaction").in_(PRO_LEVELS), name="pro_skin_reaction"
        ),
        *(
            sa.CheckConstraint(
                f"{name} IS NULL OR ({name} >= {NRS_MIN} AND {name} <= {NRS_MAX})",
                name=f"{name}_range",
            )
            for name in ("pain_score", "itch_nrs", "burning_nrs")
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    assessed_at: Mapped[datetime]
    length_cm: Mapped[float | None]
    width_cm: Mapped[float | None]
    depth_cm: Mapped[float | None]
    measured_area_cm2: Mapped[float | None]
    exudate_amount: Mapped[str | None] = mapped_column(sa.String(20))
    exudate_type: Mapped[str | None] = mapped_column(sa.String(20))
    epithelial_pct: Mapped[float | None]
    granulation_pct: Mapped[float | None]
    slough_pct: Mapped[float | None]
    necrotic_pct: Mapped[float | None]
    closed: Mapped[bool] = mapped_column(default=False)
    # Patient-reported symptoms (app/clinical/symptoms.py), null = not asked:
    # pain, itch and burning on 0-10 numeric rating scales, and the PRO-CTCAE
    # "Radiation skin reaction" severity level.
    pain_score: Mapped[int | None]
    itch_nrs: Mapped[int | None]
    burning_nrs: Mapped[int | None]
    pro_skin_reaction: Mapped[str | None] = mapped_column(sa.String(20))
    odor: Mapped[bool | None]
    infection_signs: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Dermatitis findings (the contract's `findings` object), one column each so
    # dashboards can query them.
    erythema: Mapped[str] = mapped_column(sa.String(20), default="none")
    erythema_tender: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    desquamation: Mapped[str] = mapped_column(sa.String(20), default="none")
    moist_beyond_skin_folds: Mapped[bool] = mapped_column(default=False)
    edema: Mapped[str] = mapped_column(sa.String(20), default="none")
    bleeding: Mapped[str] = mapped_column(sa.String(20), default="none")
    ulceration: Mapped[str] = mapped_column(sa.String(20), default="none")
    deep_tissue_damage: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    necrosis: Mapped[bool] = mapped_column(default=False)
    skin_graft_indicated: Mapped[bool] = mapped_column(default=False)
    life_threatening: Mapped[bool] = mapped_column(default=False)
    epilation: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    decreased_sweating: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Late findings (RTOG/EORTC late morbidity, skin and subcutaneous tissue).
    atrophy: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    telangiectasia: Mapped[str] = mapped_column(
        sa.String(20), default="none", server_default="none"
    )
    pigmentation_change: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    fibrosis: Mapped[str] = mapped_column(sa.String(20), default="none", server_default="none")
    bwat_items: Mapped[dict[str, Any] | None]
    # Signs of infection (the contract's `infection` object): NERDS and STONEES,
    # Sibbald/Woo 2006; null = not recorded. app/clinical/alerts.py counts them.
    sign_non_healing: Mapped[bool | None]
    sign_exudate: Mapped[bool | None]
    sign_red_friable: Mapped[bool | None]
    sign_debris: Mapped[bool | None]
    sign_smell: Mapped[bool | None]
    sign_size_bigger: Mapped[bool | None]
    sign_temperature: Mapped[bool | None]
    sign_probes_to_bone: Mapped[bool | None]
    sign_new_breakdown: Mapped[bool | None]
    sign_erythema_edema: Mapped[bool | None]
    # Derived on every write (app/assessments/services.py calls app/clinical).
    area_cm2: Mapped[float | None]
    area_method: Mapped[str | None] = mapped_column(sa.String(10))
    traced_area_cm2: Mapped[float | None]
    traced_perimeter_cm: Mapped[float | None]
    ctcae_grade: Mapped[int | None]
    ctcae_reasons: Mapped[list[Any] | None]
    rtog_grade: Mapped[int | None]
    rtog_reasons: Mapped[list[Any] | None]
    # CTCAE v5.0 "Skin ulceration": None when no ulcer is recorded.
    ctcae_ulcer_grade: Mapped[int | None]
    ctcae_ulcer_reasons: Mapped[list[Any] | None]
    # Acute or late (days from the end of the wound's radiotherapy course), and
    # the RTOG/EORTC late grade of a late assessment (None otherwise).
    rt_phase: Mapped[str | None] = mapped_column(sa.String(10))
    days_after_rt: Mapped[int | None]
    rt_phase_note: Mapped[str | None] = mapped_column(sa.String(200))
    rtog_late_grade: Mapped[int | None]
    rtog_late_reasons: Mapped[list[Any] | None]
    push_area: Mapped[int | None]
    push_exudate: Mapped[int | None]
    push_tissue: Mapped[int | None]
    push_total: Mapped[int | None]
    bwat_total: Mapped[int | None]
    assessed_by: Mapped[uuid.UUID | None]

    overrides: Mapped[list[GradeOverride]] = relationship(
        order_by="GradeOverride.created_at", lazy="selectin", viewonly=True
    )

    def current_override(self, scale: str) -> GradeOverride | None:
        """The clinician's grade in force on ``scale`` (overrides_in_force)."""
        rows = ((self.id, o.scale, o.value, o) for o in self.overrides)
        return overrides_in_force(rows).get(self.id, {}).get(scale)


K = TypeVar("K")
V = TypeVar("V")


def overrides_in_force(rows: Iterable[tuple[K, str, int | None, V]]) -> dict[K, dict[str, V]]:
    """key (an assessment) -> scale -> ``item`` of the override in force, from
    override rows ``(key, scale, value, item)`` in the order they were recorded.

    The latest override of a scale supersedes the earlier ones; a withdrawal
    (value None) leaves none, and the derived grade applies. The one rule every
    reader of overrides applies to its own kind of row: the assessment, the
    trajectory, the dashboard, exports."""
    out: dict[K, dict[str, V]] = {}
    for key, scale, value, item in rows:
        scales = out.setdefault(key, {})
        if value is None:
            scales.pop(scale, None)
        else:
            scales[scale] = item
    return {key: scales for key, scales in out.items() if scales}


class GradeOverride(Base):
    """A clinician's grade, kept beside the derived one. Later overrides of the
    same scale supersede earlier ones, which stay as history.

    A row without a value withdraws the override in force (entered in error,
    or the grade was reconsidered): the derived grade applies again until a
    later override. Rows are only ever added, so every grade a clinician set,
    and its withdrawal, stays on record with who and why."""

    __tablename__ = "grade_overrides"
    __audit_type__ = "grade_override"
    __versioned__ = False
    __table_args__ = (
        sa.CheckConstraint(sa.column("scale").in_(("ctcae", "rtog")), name="scale"),
        sa.CheckConstraint("value >= 0 AND value <= 5", name="value_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    assessment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("assessments.id"), index=True)
    # The assessment's wound (which never changes), so the overrides of a set
    # of wounds are found by their own index: through the assessments, an
    # export read every assessment row of those wounds to find the few (about
    # 4%) that were overridden.
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"), index=True)
    scale: Mapped[str] = mapped_column(sa.String(10))
    value: Mapped[int | None]  # None: a withdrawal
    derived_value: Mapped[int | None]
    reason: Mapped[str] = mapped_column(sa.Text)
    by_user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Fingerprint of the request, so that a retried override (client id) is a
    # replay and the same id with other content a 409 (idempotency.create_once).
    create_hash: Mapped[str | None] = mapped_column(sa.String(64))
