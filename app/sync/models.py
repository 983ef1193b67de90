"""A resumable upload: who started it, for which wound, and how it ended.

The bytes received so far are a file in the upload area (app/sync/uploads.py);
its size is the upload's offset, so a request cut short keeps every byte that
reached the disk without a database write per chunk.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, new_id, utcnow

STATES = ("open", "finished", "terminated", "expired")


class Upload(Base):
    """One tus upload. Audited (creation, finish, termination) but not
    versioned: it is bookkeeping around a photo, which keeps its own history."""

    __tablename__ = "uploads"
    __audit_type__ = "upload"
    __versioned__ = False
    __table_args__ = (
        sa.Index("ix_uploads_user_state", "user_id", "state"),
        sa.Index("ix_uploads_state_expires", "state", "expires_at"),
        sa.CheckConstraint(sa.column("state").in_(STATES), name="state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"))
    length: Mapped[int] = mapped_column(sa.BigInteger)
    # Upload-Metadata as sent, decoded: the fields of a plain photo upload.
    meta: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(sa.String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    photo_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("photos.id"))
