"""Export jobs: who may export what, creating, reading, retrying and downloading.

Access (decided here, documented in the API):
- researchers export only clinics that granted them access (an active
  ResearchGrant, managed by the clinic's clinic_admin). Without one the answer
  is 403 with what to do, whether or not the clinic exists: a researcher is
  told "no grant" and learns nothing else. Membership of the clinic alone is
  not enough;
- clinic_admins export their own clinics (another clinic: 404, the house rule);
- admins export any clinic (unknown clinic: 404).
A job is visible only to the user who requested it: anyone else gets 404.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import after_this_request, current_app
from sqlalchemy.orm import Session

from app.clinics.models import Clinic
from app.clinics.services import has_grant
from app.core import audit
from app.core.access import in_clinic, not_found, require
from app.core.errors import Problem
from app.core.formats import iso
from app.core.idempotency import create_once
from app.core.pagination import paginate_args
from app.exports import jobs
from app.exports.models import ExportJob
from app.exports.schemas import ExportJobSchema


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _check_clinic(session: Session, user: Any, clinic_id: uuid.UUID) -> None:
    if user.role == "researcher":
        if not has_grant(session, user.id, clinic_id):
            raise Problem(
                403,
                "Forbidden",
                "You have no active research grant for this clinic. Ask its clinic_admin to"
                " grant you access (POST /api/v1/clinics/{id}/research-grants).",
            )
        return
    if session.get(Clinic, clinic_id) is None or not in_clinic(user, clinic_id):
        raise not_found("clinic")


def _enqueue_after_commit(job_id: uuid.UUID) -> None:
    app = _app()

    @after_this_request
    def _start(response: Any) -> Any:
        # Runs after WoundTrackFlask.dispatch_request committed the job row.
        if response.status_code < 400:
            jobs.enqueue(app, job_id)
        return response


def create_export(session: Session, data: dict[str, Any]) -> tuple[ExportJob, bool]:
    """Queue a de-identified export of one clinic; audited with its parameters.

    With a client ``id`` a retried request is a replay (created False) of the
    caller's job as it stands, not a second export of the whole clinic.
    Returns (job, created)."""
    user = require("export:create")
    clinic_id = data["clinic_id"]
    _check_clinic(session, user, clinic_id)
    # Housekeeping (expired results, dead workers) must never block a new export.
    with contextlib.suppress(Exception):
        jobs.sweep(_app())

    def build(job_id: uuid.UUID, fp: str) -> ExportJob:
        now = datetime.now(UTC)
        return ExportJob(
            id=job_id,
            create_hash=fp,
            clinic_id=clinic_id,
            requested_by=user.id,
            format=data["format"],
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            status="queued",
            progress_done=0,
            attempts=0,
            created_at=now,
            heartbeat_at=now,  # queued at: a job nobody takes is reported (jobs.py)
        )

    job, created = create_once(
        session,
        ExportJob,
        data,
        build,
        ExportJobSchema().dump,
        owned=lambda job: job.requested_by == user.id,
    )
    if not created:
        session.refresh(job)  # its progress as the worker left it
        return job, False
    audit.record(
        session,
        "export",
        "export_job",
        job.id,
        clinic_id=clinic_id,
        details={
            "format": job.format,
            "from": iso(job.date_from),
            "to": iso(job.date_to),
        },
    )
    _enqueue_after_commit(job.id)
    return job, True


def own_job(session: Session, job_id: uuid.UUID) -> ExportJob:
    """The caller's job (404 for anyone else's), with a dead worker reported."""
    user = require("export:create")
    app = _app()
    jobs.report_stale(app, job_id)
    job = session.scalars(
        sa.select(ExportJob).where(ExportJob.id == job_id, ExportJob.requested_by == user.id)
    ).first()
    if job is None:
        raise not_found("export")
    session.refresh(job)
    return job


def list_jobs(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """The caller's export jobs, oldest first."""
    user = require("export:create")
    app = _app()
    jobs.report_stale(app)
    stmt = sa.select(ExportJob).where(ExportJob.requested_by == user.id)
    return paginate_args(session, stmt, ExportJob, args, order_by=(ExportJob.created_at,))


def retry(session: Session, job_id: uuid.UUID) -> ExportJob:
    """Queue a failed job again (its earlier attempts stay counted); a job whose
    worker died, or that nobody took from the queue in time, is failed by then."""
    job = own_job(session, job_id)
    if job.status != "failed":
        raise Problem(
            409,
            "Conflict",
            f"Only a failed export can be retried; this one is {job.status}.",
            status_now=job.status,
        )
    user = require("export:create")
    _check_clinic(session, user, job.clinic_id)
    job.status = "queued"
    job.heartbeat_at = datetime.now(UTC)  # queued again now (see jobs.mark_stale_queued)
    job.error = None
    job.progress_done = 0
    job.finished_at = None
    session.flush()
    audit.record(
        session,
        "export_retry",
        "export_job",
        job.id,
        clinic_id=job.clinic_id,
        details={"format": job.format, "attempts": job.attempts},
    )
    _enqueue_after_commit(job.id)
    return job


def open_result(session: Session, job_id: uuid.UUID) -> tuple[ExportJob, Any]:
    """The stored zip of a done job: 409 before done, 410 once expired."""
    job = own_job(session, job_id)
    now = datetime.now(UTC)
    if job.status == "expired" or (
        job.status == "done" and job.expires_at is not None and job.expires_at <= now
    ):
        raise Problem(
            410,
            "Gone",
            "This export has expired and its file was deleted; request a new export.",
        )
    if job.status != "done" or not job.result_key:
        detail = {
            "queued": "The export is waiting for a worker; poll GET /api/v1/exports/{id}.",
            "running": "The export is still running; poll GET /api/v1/exports/{id}.",
            "failed": "The export failed; see `reason` and retry it.",
        }.get(job.status, "The export is not ready.")
        raise Problem(409, "Conflict", detail, status_now=job.status)
    user = require("export:create")
    _check_clinic(session, user, job.clinic_id)
    stream = _app().extensions["storage"].open(job.result_key)
    audit.record(
        session,
        "export_download",
        "export_job",
        job.id,
        clinic_id=job.clinic_id,
        details={"format": job.format, "row_counts": job.row_counts},
    )
    return job, stream
