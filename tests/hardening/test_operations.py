"""Operations: Prometheus metrics, JSON logs with request ids, backup and restore."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.factories import patient_body


def _wound(nurse, patient: str) -> str:
    return nurse.post(
        f"/api/v1/patients/{patient}/wounds",
        json={
            "body_site": "axilla",
            "laterality": "left",
            "in_skin_fold": True,
            "etiology": "radiation_dermatitis",
            "onset_date": (datetime.now(UTC) - timedelta(days=10)).date().isoformat(),
        },
    ).json["id"]


def _photo(nurse, wound: str, shade: int) -> dict:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (240, 180), (200, shade, 100)).save(buf, "JPEG")
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"file": (io.BytesIO(buf.getvalue()), "w.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


# --- metrics -------------------------------------------------------------------------------


@pytest.fixture
def metrics_on(app):
    app.config["METRICS_ENABLED"] = True
    yield
    app.config["METRICS_ENABLED"] = False


def test_metrics_are_off_unless_enabled(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_count_and_time_requests_by_route_template(
    client, nurse, clinic_admin, clinic, metrics_on
):
    patient = nurse.post("/api/v1/patients", json=patient_body(mrn="MRN-METRIC-1")).json["id"]
    for _ in range(3):
        assert nurse.get(f"/api/v1/patients/{patient}").status_code == 200
    nurse.get(f"/api/v1/patients/{uuid.uuid4()}")  # 404
    clinic_admin.post("/api/v1/exports", json={"clinic_id": str(clinic), "format": "csv"})

    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    route = "/api/v1/patients/<uuid:patient_id>"
    ok = [line for line in text.splitlines() if line.startswith("woundtrack_http_requests_total{")]
    assert any(f'route="{route}"' in line and 'status="200"' in line for line in ok), text
    assert any(f'route="{route}"' in line and 'status="404"' in line for line in ok)
    assert (
        f'woundtrack_http_request_duration_seconds_bucket{{le="0.005",method="GET",route="{route}"}}'
        in text
    )
    assert 'woundtrack_export_jobs{status="queued"}' in text
    assert 'woundtrack_export_jobs{status="running"}' in text
    # Templates only: no record id, MRN or name in the metrics.
    assert patient not in text and "MRN-METRIC-1" not in text and "Fictitious" not in text


# --- JSON logs -----------------------------------------------------------------------------


def test_json_logs_carry_the_request_id_and_no_patient_data(app, nurse):
    """LOG_FORMAT=json (production): one JSON object per line, with request_id,
    route template and status; never names, MRNs or bodies."""
    from app.core.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    try:
        body = patient_body(given_name="Philomena", family_name="Logtest", mrn="MRN-LOG-42")
        created = nurse.post("/api/v1/patients", json=body)
        bad = nurse.post("/api/v1/patients", json={**body, "birth_date": "not a date"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_id = {line.get("request_id"): line for line in lines if line["msg"] == "request"}
    for r in (created, bad):
        line = by_id[r.headers["X-Request-ID"]]
        assert line["status"] == r.status_code
        assert line["route"] == "/api/v1/patients" and line["method"] == "POST"
        assert line["level"] == "INFO" and line["ts"]
    raw = stream.getvalue()
    for secret in ("Philomena", "Logtest", "MRN-LOG-42"):
        assert secret not in raw


# --- backup and restore --------------------------------------------------------------------


def _snapshot(engine: sa.Engine) -> dict[str, set[str]]:
    tables = ("patients", "wounds", "assessments", "photos", "audit_events", "record_versions")
    with engine.connect() as conn:
        return {
            t: {
                str(r[0]) for r in conn.execute(sa.select(sa.column("id")).select_from(sa.table(t)))
            }
            for t in tables
        }


def test_backup_and_restore_keep_every_record_and_photo(app, nurse, tmp_path, monkeypatch):
    from app.core.storage import LocalStorage
    from app.extensions import db
    from app.photos.storage_check import check_storage

    # A storage of its own: files other tests left in the shared one would be
    # orphans here (their rows are emptied after each test).
    own = tmp_path / "live-storage"
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(own))
    monkeypatch.setitem(app.extensions, "storage", LocalStorage(own))

    patient = nurse.post("/api/v1/patients", json=patient_body()).json["id"]
    wound = _wound(nurse, patient)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    body = {"assessed_at": at, "length_cm": 2, "width_cm": 1}
    assert nurse.post(f"/api/v1/wounds/{wound}/assessments", json=body).status_code == 201
    photos = [_photo(nurse, wound, shade) for shade in (40, 90, 140)]

    runner = app.test_cli_runner()
    backup = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert "storage: " in result.output
    # Every patient's record is in there: the owner's alone.
    modes = {p.relative_to(backup): p.stat().st_mode & 0o777 for p in backup.rglob("*")}
    assert backup.stat().st_mode & 0o777 == 0o700
    assert len([p for p in modes if p.suffix == ".jpg"]) >= 3
    assert {m for p, m in modes.items() if (backup / p).is_file()} == {0o600}
    assert {m for p, m in modes.items() if (backup / p).is_dir()} == {0o700}

    with app.app_context():
        source = db.engine
        before = _snapshot(source)
        dialect = source.dialect.name
        base_url = source.url
    assert len(before["photos"]) == 3

    storage = tmp_path / "restored-storage"
    if dialect == "sqlite":
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        drop = None
    else:
        name = f"woundtrack_restore_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        target_url = base_url.set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    try:
        result = runner.invoke(
            args=[
                "restore",
                str(backup),
                "--database-url",
                target_url,
                "--storage-dir",
                str(storage),
            ]
        )
        assert result.exit_code == 0, result.output
        restored = sa.create_engine(target_url)
        try:
            assert _snapshot(restored) == before
            with Session(restored) as session:
                report = check_storage(session, LocalStorage(storage), min_age_s=0)
            assert report.missing == [] and report.orphans == []
            for photo in photos:
                assert any(photo["id"] in str(p) for p in Path(storage).rglob("*.jpg"))
        finally:
            restored.dispose()
    finally:
        if drop is not None:
            drop()
    # The live service was not disturbed.
    assert nurse.get(f"/api/v1/patients/{patient}").status_code == 200


def test_backup_refuses_a_directory_that_is_not_empty(app, tmp_path):
    (tmp_path / "x").write_text("keep me")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path)])
    assert result.exit_code != 0 and "not empty" in result.output


def test_metrics_token_when_set(app, client, metrics_on, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret")
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic scrape-secret"},
    ):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.mimetype == "application/problem+json", headers
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert "woundtrack_" not in r.get_data(as_text=True)
    r = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert r.status_code == 200 and "woundtrack_export_jobs" in r.get_data(as_text=True)
    # Off is still off: the token does not turn the endpoint on.
    monkeypatch.setitem(app.config, "METRICS_ENABLED", False)
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 404
    )


def test_pg_tools_get_the_password_from_the_environment_not_argv():
    """pg_dump and pg_restore see the URL without its password; PGPASSWORD carries it."""
    from app.core.backup import _libpq

    url = sa.engine.make_url("postgresql+psycopg://wound:s3cr3t@db.internal:5432/woundtrack")
    target, env = _libpq(url)
    assert "s3cr3t" not in target
    assert target == "postgresql://wound@db.internal:5432/woundtrack"
    assert env["PGPASSWORD"] == "s3cr3t"
    no_password = _libpq(sa.engine.make_url("postgresql://postgres@h/db"))[1]
    assert no_password.get("PGPASSWORD") == os.environ.get("PGPASSWORD")  # left as it was
