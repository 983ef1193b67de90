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

        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "STORAGE_DIR": "/nonexistent"})
        from sqlalchemy.dialects import postgresql, sqlite

        for dialect in (sqlite.dialect(), postgresql.dialect()):
            for stmt in (ev._WOUND_STMT, ev._SERIES_STMT):
                assert "wound" in str(stmt.compile(dialect=dialect))
        from app.extensions import db

        with app.app_context():
            db.create_all()
            session = db.session
            wound, active = ev._wound(session, uuid.uuid4())
            assert (wound, active) == (None, {})
            patient_id = ev._WOUND_STMT.selected_columns.patient_id
            processor = patient_id.type.result_processor(sqlite.dialect(), None)
        stored = uuid.uuid4()
        assert processor(stored.hex) == stored
        print("ok")
        """
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
