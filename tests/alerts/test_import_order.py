"""The alert loader must not depend on which module was imported first: a
foreign-key column has no type until the model it refers to is imported."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loader_compiles_and_types_uuids_when_imported_before_the_models():
    script = textwrap.dedent(
        """
        import uuid
        import app.alerts.evaluate as ev  # before any other model module
        from app import create_app

        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "STORAGE_DIR": "/nonexistent"})
        from sqlalchemy.dialects import postgresql, sqlite

        for dialect in (sqlite.dialect(), postgresql.dialect()):
            sql = str(ev._load_stmt().compile(dialect=dialect))
            assert "patient_id" in sql
        stored = uuid.uuid4()
        processed = ev._processors(sqlite.dialect())["patient_id"](stored.hex)
        assert processed == stored, processed
        print("ok")
        """
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
