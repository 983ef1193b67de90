"""The Redis/RQ path against the real Redis on 127.0.0.1:6379: the request enqueues,
an in-process SimpleWorker (burst) runs the very same run_export."""

from __future__ import annotations

import uuid

import pytest

from tests.exports.conftest import download

REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.redis


@pytest.fixture
def rq_app(app, monkeypatch):
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queue = f"exports-test-{uuid.uuid4().hex}"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "EXPORT_QUEUE", queue)
    yield app
    for key in conn.scan_iter(f"*{queue}*"):
        conn.delete(key)
    conn.close()


def _work(app) -> None:
    from rq import SimpleWorker

    from app.exports import jobs

    q = jobs.rq_queue(app)
    with app.app_context():
        SimpleWorker([q], connection=q.connection).work(burst=True)


def test_rq_path_runs_the_job(rq_app, clinic_admin, clinic, cohort):
    from app.exports import jobs

    resp = clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    assert resp.status_code == 202
    job_id = resp.get_json()["id"]
    queue = jobs.rq_queue(rq_app)
    assert queue.count == 1  # enqueued, not run in a thread
    assert clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()["status"] == "queued"
    assert clinic_admin.get(f"/api/v1/exports/{job_id}/download").status_code == 409
    _work(rq_app)
    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "done", body
    assert body["row_counts"]["assessments"] == cohort.n_assessments
    zf = download(clinic_admin, job_id)
    assert "assessments.csv" in zf.namelist()
    assert queue.count == 0


def test_rq_retry_after_a_dead_worker(rq_app, clinic_admin, clinic, cohort):
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from app.exports.models import ExportJob
    from app.extensions import db

    resp = clinic_admin.post(
        "/api/v1/exports", json={"clinic_id": str(clinic), "format": "fhir_ndjson"}
    )
    job_id = resp.get_json()["id"]
    # a worker took the job and died: running, heartbeat long ago, the RQ job gone
    from app.exports import jobs

    jobs.rq_queue(rq_app).empty()
    with rq_app.app_context():
        db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == uuid.UUID(job_id))
            .values(
                status="running", attempts=1, heartbeat_at=datetime.now(UTC) - timedelta(hours=2)
            )
        )
        db.session.commit()
    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "failed" and body["retryable"] is True
    assert clinic_admin.post(f"/api/v1/exports/{job_id}/retry").status_code == 202
    _work(rq_app)
    body = clinic_admin.get(f"/api/v1/exports/{job_id}").get_json()
    assert body["status"] == "done" and body["attempts"] == 2
    assert "manifest.json" in download(clinic_admin, job_id).namelist()


def test_unreachable_redis_fails_the_job_retryably(app, monkeypatch, clinic_admin, clinic):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    resp = clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})
    assert resp.status_code == 202
    body = clinic_admin.get(f"/api/v1/exports/{resp.get_json()['id']}").get_json()
    assert body["status"] == "failed" and "Redis" in body["reason"] and body["retryable"]
