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
