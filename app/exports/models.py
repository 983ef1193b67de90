from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, new_id, utcnow

EXPORT_FORMATS = ("csv", "parquet", "fhir_ndjson")
EXPORT_STATUSES = ("queued", "running", "done", "failed", "expired")


class ExportJob(Base):
    """A de-identified export, produced in the background.

    ``status`` only becomes "done" after the result file is completely written
    and stored, so a killed worker never leaves a half file presented as done.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (
        sa.Index("ix_export_jobs_requester", "requested_by", "created_at"),
        sa.Index("ix_export_jobs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    requested_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    format: Mapped[str] = mapped_column(sa.String(20))
    date_from: Mapped[date | None]
    date_to: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    result_key: Mapped[str | None] = mapped_column(sa.String(255))
    result_bytes: Mapped[int | None]
    row_counts: Mapped[dict[str, Any] | None]
    # The job's latest sign of life: when it was queued (created or retried), then
    # each heartbeat of the attempt running it. Stale ones are reported (jobs.py).
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # Fingerprint of a request sent with a client id: a retried POST is a
    # replay of this job, not a second export (idempotency.create_once).
    create_hash: Mapped[str | None] = mapped_column(sa.String(64))
