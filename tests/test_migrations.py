"""The migrations build exactly the models' schema, and can be walked back."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def _diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(mc, db.metadata)


def test_models_and_migrations_do_not_drift(ctx):
    diff = _diff(db.engine)
    assert diff == [], f"models differ from migrations; add a revision: {diff}"


def test_upgrade_downgrade_upgrade(ctx, tmp_path):
    from flask_migrate import downgrade, upgrade

    original = ctx.config["SQLALCHEMY_DATABASE_URI"]
    if original.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    else:
        import uuid

        name = f"woundtrack_rt_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(original, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(original).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    engines = db._app_engines[ctx]
    saved = engines[None]
    engines[None] = engine
    try:
        upgrade(revision="heads")
        assert "patients" in sa.inspect(engine).get_table_names()
        downgrade(revision="base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(revision="heads")
        assert _diff(engine) == []
    finally:
        engines[None] = saved
        engine.dispose()
        if not original.startswith("sqlite"):
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_grade_overrides_learn_their_wound_on_upgrade(ctx, tmp_path, clinician):
    """0002 fills grade_overrides.wound_id from the assessments for rows written
    before it: made here by walking a database with an override back to 0001
    (which drops the column) and up again."""
    from datetime import UTC, datetime, timedelta

    from flask_migrate import downgrade, upgrade

    from tests.assessments.helpers import make_wound
    from tests.bench.bench_records import _assessment_body

    wound = make_wound(ctx, clinician.clinic_id)
    body = _assessment_body(0, datetime.now(UTC) - timedelta(hours=1))
    aid = clinician.post(f"/api/v1/wounds/{wound}/assessments", json=body).json["id"]
    r = clinician.post(
        f"/api/v1/assessments/{aid}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "bleeds on touch"},
    )
    assert r.status_code == 201, r.json

    original = ctx.config["SQLALCHEMY_DATABASE_URI"]
    if not original.startswith("sqlite"):
        import pytest

        pytest.skip("the roundtrip of every revision runs on PostgreSQL above")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'backfill.sqlite3'}")
    engines = db._app_engines[ctx]
    saved = engines[None]
    engines[None] = engine
    try:
        upgrade(revision="heads")
        tables = ("clinics", "users", "patients", "wounds", "assessments", "grade_overrides")
        with saved.connect() as src, engine.begin() as dst:
            for name in tables:
                table = db.metadata.tables[name]
                rows = [dict(r._mapping) for r in src.execute(sa.select(table))]
                dst.execute(sa.insert(table), rows)
        downgrade(revision="0001")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("grade_overrides")}
        assert "wound_id" not in columns
        upgrade(revision="heads")
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT wound_id FROM grade_overrides")).scalars().all()
        assert stored == [wound.hex]
    finally:
        engines[None] = saved
        engine.dispose()
