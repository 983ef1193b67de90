"""Export jobs: one code path, run by an RQ worker or by a thread of the app.

``run_export(job_id)`` does the work in its own app context and database
connections, whoever calls it:
- with ``REDIS_URL`` set, the request enqueues ``RQ_TASK`` (app/worker.py) on the
  RQ queue ``EXPORT_QUEUE`` (default "exports") and ``flask --app wsgi worker``
  runs it;
- without Redis, the request starts a daemon thread that calls it.

Crash safety and idempotency:
- a job is claimed with one conditional UPDATE (queued -> running, attempts + 1),
  so two workers given the same job cannot both run it; a job that is done,
  failed, expired or already running is left alone;
- files are written to a private folder under the temp folder
  (app/core/scratch.py), zipped, and stored under a
  key of this attempt (``exports/<job>/attempt-<n>.zip``; the storage writes
  atomically). Only then does one UPDATE, conditional on still owning the
  attempt, set status "done" with the key. A worker killed at any point leaves
  no result presented as done;
- batches refresh ``heartbeat_at`` (at most once a second). A "running" job
  whose heartbeat is older than EXPORT_STALE_SECONDS (default 300) had its
  worker die: it is
  reported as failed, with the reason, and is retryable by
  POST /exports/{id}/retry. There is no automatic re-queue, on purpose: a job
  that kills its worker (out of memory, say) would otherwise loop forever.
- a "queued" job carries the time it was queued (created or retried) in
  ``heartbeat_at``. One still queued after EXPORT_QUEUED_STALE_SECONDS
  (default 3600) lost its queue message (Redis flushed, a worker took it and
  could not claim it, the process running its thread restarted): it is
  reported failed the same way, and retryable. A message that turns up later
  finds the job no longer queued and does nothing.
- expired results (EXPORT_TTL_HOURS after completion) are deleted by
  ``sweep`` (run on each POST /exports and before each job); the row stays,
  with status "expired".
"""

from __future__ import annotations

import gc
import logging
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from app.core import audit, metrics
from app.core.db import utcnow
from app.core.formats import iso
from app.exports.models import ExportJob

log = logging.getLogger(__name__)

DEFAULT_STALE_SECONDS = 300
DEFAULT_QUEUED_STALE_SECONDS = 3600
HEARTBEAT_SECONDS = 1.0  # progress and liveness are written at most this often
DEFAULT_QUEUE = "exports"
CONTENT_TYPE = "application/zip"

# The function RQ imports to run a job. It builds the worker's app, so it lives
# beside the app factory (app/worker.py), not here: a string, not an import.
RQ_TASK = "app.worker.rq_task"


class LostOwnership(Exception):
    """The job was taken from this attempt (marked stale, retried elsewhere)."""


def stale_seconds(app: Flask) -> int:
    return int(app.config.get("EXPORT_STALE_SECONDS", DEFAULT_STALE_SECONDS))


def queued_stale_seconds(app: Flask) -> int:
    return int(app.config.get("EXPORT_QUEUED_STALE_SECONDS", DEFAULT_QUEUED_STALE_SECONDS))


def queue_name(app: Flask) -> str:
    return str(app.config.get("EXPORT_QUEUE") or DEFAULT_QUEUE)


def _engine(app: Flask) -> sa.Engine:
    from app.extensions import db

    with app.app_context():
        return db.engine


# ---------------------------------------------------------------------------
# Queueing


QUEUE_STATUSES = ("queued", "running")


def queue_depth() -> dict[str, float]:
    """Export jobs waiting or running now, by status, from the shared database."""
    from app.extensions import db

    counts = dict(
        db.session.execute(
            sa.select(ExportJob.status, sa.func.count())
            .where(ExportJob.status.in_(QUEUE_STATUSES))
            .group_by(ExportJob.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in QUEUE_STATUSES}


def register_queue_gauge(app: Flask) -> None:
    """Report the queue depth at /metrics (``woundtrack_export_jobs{status}``)."""
    metrics.register_gauge(
        app,
        "woundtrack_export_jobs",
        "Export jobs by status (queued + running = the job queue depth)",
        "status",
        queue_depth,
    )


def rq_queue(app: Flask) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(queue_name(app), connection=Redis.from_url(app.config["REDIS_URL"]))


def enqueue(app: Flask, job_id: uuid.UUID) -> None:
    """Hand the job to RQ (REDIS_URL set) or to a background thread.

    Called after the request committed the job row, so the worker finds it. If
    Redis refuses the job, the job is marked failed (retryable) instead of
    staying queued for ever.
    """
    if app.config.get("REDIS_URL"):
        try:
            rq_queue(app).enqueue(
                RQ_TASK,
                str(job_id),
                job_timeout=int(app.config.get("EXPORT_JOB_TIMEOUT", 6 * 3600)),
                result_ttl=3600,
                failure_ttl=7 * 86400,
            )
        except Exception as exc:  # the queue is down: say so on the job
            log.error("export %s could not be queued: %s", job_id, type(exc).__name__)
            _set_failed(
                _engine(app),
                job_id,
                None,
                "The job queue (Redis) was unreachable; retry with POST /api/v1/exports/"
                f"{job_id}/retry.",
                from_status="queued",
            )
        return
    thread = threading.Thread(
        target=run_export, args=(job_id, app), name=f"export-{job_id}", daemon=True
    )
    thread.start()


# ---------------------------------------------------------------------------
# Job state transitions (each one conditional UPDATE, committed at once)


def _now() -> datetime:
    return datetime.now(UTC)


def _claim(engine: sa.Engine, job_id: uuid.UUID) -> int | None:
    """queued -> running; returns this attempt's number, or None if not ours to run."""
    now = _now()
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == "queued")
            .values(
                status="running",
                attempts=ExportJob.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                progress_done=0,
                error=None,
            )
        ).rowcount
        if not claimed:
            return None
        return int(conn.scalar(sa.select(ExportJob.attempts).where(ExportJob.id == job_id)) or 0)


def _owned(job_id: uuid.UUID, attempt: int) -> Any:
    return sa.and_(
        ExportJob.id == job_id, ExportJob.status == "running", ExportJob.attempts == attempt
    )


def _heartbeat(engine: sa.Engine, job_id: uuid.UUID, attempt: int, **values: Any) -> None:
    with engine.begin() as conn:
        n = conn.execute(
            sa.update(ExportJob)
            .where(_owned(job_id, attempt))
            .values(heartbeat_at=_now(), **values)
        ).rowcount
    if not n:
        raise LostOwnership(str(job_id))


def _set_failed(
    engine: sa.Engine,
    job_id: uuid.UUID,
    attempt: int | None,
    reason: str,
    *,
    from_status: str = "running",
) -> None:
    clause = ExportJob.id == job_id
    clause = sa.and_(clause, ExportJob.status == from_status)
    if attempt is not None:
        clause = sa.and_(clause, ExportJob.attempts == attempt)
    with engine.begin() as conn:
        conn.execute(
            sa.update(ExportJob)
            .where(clause)
            .values(status="failed", error=reason[:2000], finished_at=_now())
        )


def _fail_where(engine: sa.Engine, where: Any, job_id: uuid.UUID | None, error: str) -> int:
    """Mark the jobs matching ``where`` (only ``job_id``, if given) failed
    (retryable) with ``error``; how many there were."""
    stmt = sa.update(ExportJob).where(where)
    if job_id is not None:
        stmt = stmt.where(ExportJob.id == job_id)
    with engine.begin() as conn:
        result = conn.execute(stmt.values(status="failed", finished_at=_now(), error=error))
        return int(result.rowcount or 0)


def mark_stale(engine: sa.Engine, stale_after: int, job_id: uuid.UUID | None = None) -> int:
    """Report running jobs whose worker stopped sending heartbeats as failed (retryable)."""
    cutoff = _now() - timedelta(seconds=stale_after)
    silent = sa.or_(ExportJob.heartbeat_at.is_(None), ExportJob.heartbeat_at < cutoff)
    return _fail_where(
        engine,
        sa.and_(ExportJob.status == "running", silent),
        job_id,
        f"The worker stopped responding (no heartbeat for over {stale_after} s);"
        " it probably died. Nothing was published. Retry with"
        " POST /api/v1/exports/{id}/retry.",
    )


def mark_stale_queued(engine: sa.Engine, stale_after: int, job_id: uuid.UUID | None = None) -> int:
    """Report queued jobs that nobody took from the queue in time as failed (retryable)."""
    cutoff = _now() - timedelta(seconds=stale_after)
    queued_at = sa.func.coalesce(ExportJob.heartbeat_at, ExportJob.created_at)
    return _fail_where(
        engine,
        sa.and_(ExportJob.status == "queued", queued_at < cutoff),
        job_id,
        f"No worker took the job from the queue within {stale_after} s (the"
        " queue message was lost, or no export worker is running). Nothing"
        " was exported. Retry with POST /api/v1/exports/{id}/retry.",
    )


def report_stale(app: Flask, job_id: uuid.UUID | None = None) -> None:
    """Fail (retryably) the running jobs whose worker died and the queued ones
    nobody took: all of them, or only ``job_id``."""
    engine = _engine(app)
    mark_stale(engine, stale_seconds(app), job_id)
    mark_stale_queued(engine, queued_stale_seconds(app), job_id)


def sweep(app: Flask, limit: int = 100) -> int:
    """Delete expired results (job rows stay, status "expired"); report stale jobs."""
    engine = _engine(app)
    storage = app.extensions["storage"]
    report_stale(app)
    now = _now()
    with engine.connect() as conn:
        expired = (
            conn.execute(
                sa.select(ExportJob.id)
                .where(ExportJob.status == "done", ExportJob.expires_at < now)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    for job_id in expired:
        for key in list(storage.list_keys(f"exports/{job_id}/")):
            storage.delete(key)
        with engine.begin() as conn:
            conn.execute(
                sa.update(ExportJob)
                .where(ExportJob.id == job_id, ExportJob.status == "done")
                .values(status="expired", result_key=None)
            )
    return len(expired)


# ---------------------------------------------------------------------------
# The work


def run_export(job_id: uuid.UUID, app: Flask | None = None) -> str:
    """Produce one export end to end; returns the job's status afterwards.

    Safe to call twice, from anywhere: only the caller that claims the queued
    job does the work.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        engine = _engine(app)
        try:
            sweep(app)
        except Exception as exc:  # a failed sweep must not block the export
            log.warning("export sweep failed: %s", type(exc).__name__)
        attempt = _claim(engine, job_id)
        if attempt is None:
            return _status(engine, job_id)
        try:
            _produce(app, engine, job_id, attempt)
        except LostOwnership:
            log.warning("export %s attempt %s lost its claim; result discarded", job_id, attempt)
        except Exception as exc:
            # Keep the reason free of data: exception messages can quote SQL parameters.
            log.error("export %s attempt %s failed: %s", job_id, attempt, type(exc).__name__)
            _set_failed(
                engine,
                job_id,
                attempt,
                f"The export failed ({type(exc).__name__}). Retry with"
                f" POST /api/v1/exports/{job_id}/retry.",
            )
        return _status(engine, job_id)


def _status(engine: sa.Engine, job_id: uuid.UUID) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(sa.select(ExportJob.status).where(ExportJob.id == job_id)))


@contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the objects that exist before the export out of the garbage
    collector's full collections while it runs (gc.freeze / gc.unfreeze).

    An export allocates millions of short-lived rows; every so often that
    triggers a full collection, which walks every object in the process (the
    app, SQLAlchemy, pyarrow: hundreds of thousands) although none of them
    becomes garbage because of the export. That walk took 15-20% of the
    export's CPU time in the benchmark. Objects created during the job are collected as usual;
    anything frozen that becomes garbage meanwhile is collected after the job.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _zip_member(zf: zipfile.ZipFile, path: Path) -> None:
    """Add one file; Parquet is compressed already (snappy), so it is stored."""
    kind = zipfile.ZIP_STORED if path.suffix == ".parquet" else zipfile.ZIP_DEFLATED
    zf.write(path, arcname=path.name, compress_type=kind)


def _produce(app: Flask, engine: sa.Engine, job_id: uuid.UUID, attempt: int) -> None:
    """Write, zip, store and publish this attempt's result (or fail the job when
    the requester's research grant has gone)."""
    from app.auth.models import User
    from app.extensions import db

    session = db.session
    job = session.get(ExportJob, job_id)
    assert job is not None
    user = session.get(User, job.requested_by)
    assert user is not None
    sel = _selection(app, engine, job, user, attempt)
    if sel is None:
        return
    fmt = job.format  # read before the rollback expires the job
    storage = app.extensions["storage"]
    session.rollback()  # release the read transaction; the work uses its own connection

    temp = app.config.get("TEMP_DIR") or tempfile.gettempdir()
    Path(temp).mkdir(parents=True, exist_ok=True)
    with (
        _long_lived_objects_frozen(),
        tempfile.TemporaryDirectory(prefix="export-", dir=temp) as tmp,
    ):
        zip_path = Path(tmp) / "export.zip"
        row_counts, total = _write_zip(engine, job_id, attempt, sel, fmt, zip_path)
        _heartbeat(engine, job_id, attempt)
        key = f"exports/{job_id}/attempt-{attempt}.zip"
        storage.put_file(key, zip_path, CONTENT_TYPE)
        size = zip_path.stat().st_size
    _publish(app, engine, job, user, attempt, key, size, row_counts, total)


def _selection(app: Flask, engine: sa.Engine, job: ExportJob, user: Any, attempt: int) -> Any:
    """What the job exports, pseudonymised for its requester; None (and the job
    failed) when a researcher's grant was revoked since the request."""
    from app.clinics.services import has_grant
    from app.exports import deid
    from app.exports.queries import Selection
    from app.extensions import db

    if user.role == "researcher" and not has_grant(db.session, user.id, job.clinic_id):
        _set_failed(
            engine,
            job.id,
            attempt,
            "The clinic's research grant for you is no longer active; nothing was exported.",
        )
        return None
    return Selection(
        clinic_id=job.clinic_id,
        date_from=job.date_from,
        date_to=job.date_to,
        key=deid.pseudonym_key(app.config["SECRET_KEY"], user.id),
    )


class _Progress:
    """Counts the source rows written and reports them with a heartbeat.

    At most one heartbeat (an UPDATE and a commit) per HEARTBEAT_SECONDS: a
    batch takes milliseconds, and staleness is judged in minutes."""

    def __init__(self, engine: sa.Engine, job_id: uuid.UUID, attempt: int, total: int) -> None:
        self._beat = (engine, job_id, attempt)
        self.total = total
        self.done = 0
        self._last_beat = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS:
            _heartbeat(*self._beat, progress_done=min(self.done, self.total))
            self._last_beat = time.monotonic()


def _write_zip(
    engine: sa.Engine, job_id: uuid.UUID, attempt: int, sel: Any, fmt: str, zip_path: Path
) -> tuple[dict[str, int], int]:
    """Write the export's files beside ``zip_path`` and zip them into it;
    return the row counts and the number of source rows."""
    from app.exports.queries import counts
    from app.exports.writers import write_files

    workdir = zip_path.parent / "files"
    workdir.mkdir()
    with engine.connect() as conn:
        total = sum(counts(conn, sel).values())
        _heartbeat(engine, job_id, attempt, progress_total=total)
        # Level 1: text compresses ~5x even so, at a fraction of the default's CPU.
        # Each finished file is compressed by a helper thread while the next table
        # is produced (zlib releases the GIL, so the two overlap).
        with (
            zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-zip") as pool,
        ):
            zipping: dict[Path, Future[None]] = {}

            def add_to_zip(path: Path) -> None:
                zipping[path] = pool.submit(_zip_member, zf, path)

            files, row_counts = write_files(
                conn,
                sel,
                fmt,
                workdir,
                _Progress(engine, job_id, attempt, total),
                manifest_request=f"/api/v1/exports/{job_id}",
                transaction_time=utcnow().isoformat(),
                file_done=add_to_zip,
            )
            conn.rollback()
            for path in files:
                if path not in zipping:
                    add_to_zip(path)
            for future in zipping.values():
                future.result()
    return row_counts, total


def _publish(
    app: Flask,
    engine: sa.Engine,
    job: ExportJob,
    user: Any,
    attempt: int,
    key: str,
    size: int,
    row_counts: dict[str, int],
    total: int,
) -> None:
    """Mark the job done with this attempt's stored result, and audit it, in one
    transaction conditional on still owning the attempt (else LostOwnership,
    and the file is deleted)."""
    storage = app.extensions["storage"]
    job_id = job.id  # the first read since the rollback reloads the job, as before
    finished = _now()
    ttl = timedelta(hours=int(app.config.get("EXPORT_TTL_HOURS", 72)))
    details = {
        "format": job.format,
        "from": iso(job.date_from),
        "to": iso(job.date_to),
        "row_counts": row_counts,
        "attempt": attempt,
    }
    ev = audit.build_event(
        "export_complete", "export_job", job_id, clinic_id=job.clinic_id, details=details, user=user
    )
    values = {c.key: getattr(ev, c.key) for c in sa.inspect(audit.AuditEvent).column_attrs}
    # Results of earlier attempts that died after storing but before publishing:
    # removed before this one is published, so a client that sees the job done
    # sees only its file. Only earlier ones: they can never publish now (this
    # attempt owns the job), where a later attempt's file may become the result.
    for other in list(storage.list_keys(f"exports/{job_id}/")):
        if _attempt_of(other) < attempt:
            storage.delete(other)
    with engine.begin() as conn:
        published = conn.execute(
            sa.update(ExportJob)
            .where(_owned(job_id, attempt))
            .values(
                status="done",
                result_key=key,
                result_bytes=size,
                row_counts=row_counts,
                progress_done=total,
                heartbeat_at=finished,
                finished_at=finished,
                expires_at=finished + ttl,
                error=None,
            )
        ).rowcount
        if published:
            conn.execute(sa.insert(audit.AuditEvent).values(**values))
    if not published:
        storage.delete(key)
        raise LostOwnership(str(job_id))


def _attempt_of(key: str) -> int:
    """The attempt number in a result key (exports/<job>/attempt-<n>.zip)."""
    name = key.rsplit("/", 1)[-1]
    digits = name.removeprefix("attempt-").removesuffix(".zip")
    return int(digits) if digits.isdigit() else 0
