"""The migrations build exactly the models' schema, and can be walked back."""

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.assessments.helpers import make_wound
from tests.bench.bench_records import _assessment_body


def _diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(mc, db.metadata)


@contextlib.contextmanager
def _scratch_database(ctx, tmp_path) -> Iterator[sa.Engine]:
    """An empty database of the same kind as the suite's, which the app's
    migrations (upgrade/downgrade) act on while the block runs."""
    original = ctx.config["SQLALCHEMY_DATABASE_URI"]
    admin = None
    if original.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
    else:
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
        yield engine
    finally:
        engines[None] = saved
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _copy_overrides(
    source: sa.Engine,
    engine: sa.Engine,
    tables: tuple[str, ...] = (
        "clinics",
        "users",
        "patients",
        "wounds",
        "assessments",
        "grade_overrides",
    ),
) -> None:
    """Copy the grade overrides (or other ``tables``), and the rows they hang
    from, into ``engine``."""
    with source.connect() as src, engine.begin() as dst:
        for name in tables:
            table = db.metadata.tables[name]
            rows = [dict(r._mapping) for r in src.execute(sa.select(table))]
            dst.execute(sa.insert(table), rows)


def test_models_and_migrations_do_not_drift(ctx):
    diff = _diff(db.engine)
    assert diff == [], f"models differ from migrations; add a revision: {diff}"


def test_upgrade_downgrade_upgrade(ctx, tmp_path):
    with _scratch_database(ctx, tmp_path) as engine:
        upgrade(revision="heads")
        assert "patients" in sa.inspect(engine).get_table_names()
        downgrade(revision="base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(revision="heads")
        assert _diff(engine) == []


def test_grade_overrides_learn_their_wound_on_upgrade(ctx, tmp_path, clinician):
    """0002 fills grade_overrides.wound_id from the assessments for rows written
    before it: a copy of a database with an override is walked back to 0001
    (which drops the column) and up again."""
    wound = make_wound(ctx, clinician.clinic_id)
    body = _assessment_body(0, datetime.now(UTC) - timedelta(hours=1))
    aid = clinician.post(f"/api/v1/wounds/{wound}/assessments", json=body).json["id"]
    r = clinician.post(
        f"/api/v1/assessments/{aid}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "bleeds on touch"},
    )
    assert r.status_code == 201, r.json

    source = db.engine
    with _scratch_database(ctx, tmp_path) as engine:
        upgrade(revision="heads")
        _copy_overrides(source, engine)
        downgrade(revision="0001")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("grade_overrides")}
        assert "wound_id" not in columns
        upgrade(revision="heads")
        with engine.connect() as conn:
            stored = conn.execute(sa.select(db.metadata.tables["grade_overrides"].c.wound_id))
            assert stored.scalars().all() == [wound]


def test_downgrade_past_0003_refuses_to_drop_override_withdrawals(ctx, tmp_path, clinician, caplog):
    """0002 cannot hold a withdrawal (an override without a value): the
    downgrade stops, naming them, instead of putting the withdrawn override
    back in force; with none stored it walks back as usual."""
    wound = make_wound(ctx, clinician.clinic_id)
    body = _assessment_body(0, datetime.now(UTC) - timedelta(hours=1))
    aid = clinician.post(f"/api/v1/wounds/{wound}/assessments", json=body).json["id"]
    url = f"/api/v1/assessments/{aid}/grade-override"
    for value in (3, None):
        r = clinician.post(url, json={"scale": "ctcae", "value": value, "reason": "review"})
        assert r.status_code == 201, r.json

    source = db.engine
    overrides = db.metadata.tables["grade_overrides"]
    with _scratch_database(ctx, tmp_path) as engine:
        upgrade(revision="heads")
        _copy_overrides(source, engine)
        # Alembic's command itself: Flask-Migrate's wrapper logs and exits 1.
        config = ctx.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError, match="1 grade-override withdrawal"):
            command.downgrade(config, "0002")
        with engine.connect() as conn:
            # Still past 0003 (PostgreSQL undoes the whole walk back, SQLite stops at 0003).
            revision = MigrationContext.configure(conn).get_current_revision()
            assert revision is not None and revision >= "0003"
            assert sorted(conn.execute(sa.select(overrides.c.value)).scalars(), key=str) == [
                3,
                None,
            ]
        with engine.begin() as conn:
            conn.execute(sa.delete(overrides).where(overrides.c.value.is_(None)))
        downgrade(revision="0002")
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0002"


def test_downgrade_past_0016_refuses_to_resubscribe_ended_digests(ctx, tmp_path, clinician):
    """0015 has no ended_at: an ended digest subscription would read as one in
    force there, so the downgrade stops; once none is ended it walks back."""
    url = f"/api/v1/clinics/{clinician.clinic_id}/alert-digest"
    assert clinician.put(url).status_code == 200
    assert clinician.delete(url).json["subscribed"] is False

    source = db.engine
    subscriptions = db.metadata.tables["alert_digest_subscriptions"]
    with _scratch_database(ctx, tmp_path) as engine:
        upgrade(revision="heads")
        _copy_overrides(source, engine, ("clinics", "users", "alert_digest_subscriptions"))
        config = ctx.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError, match="1 ended digest subscription"):
            command.downgrade(config, "0015")
        with engine.connect() as conn:
            assert conn.execute(sa.select(subscriptions.c.ended_at)).scalar_one() is not None
        with engine.begin() as conn:
            conn.execute(sa.update(subscriptions).values(ended_at=None))
        downgrade(revision="0015")
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0015"
            columns = {c["name"] for c in sa.inspect(engine).get_columns(subscriptions.name)}
            assert (
                "ended_at" not in columns
                and conn.execute(sa.select(sa.func.count()).select_from(subscriptions)).scalar_one()
                == 1
            )
