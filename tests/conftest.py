"""Test fixtures: a fresh database per run (SQLite by default, PostgreSQL when
DATABASE_URL says so), built with `alembic upgrade head`, emptied after each test.

Why emptying instead of rolling back an outer transaction: the service's
request boundary really commits, exports run in background threads, idempotency
is tested with concurrent connections and the browser tests hit a live server.
Those all need committed data on real connections.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.logs import JsonFormatter
from tests.factories import Actor, Factory

ROOT = Path(__file__).resolve().parent.parent


def _fresh_database(tmp_dir: Path) -> tuple[str, callable]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        from config import database_url

        base = sa.engine.make_url(database_url())
        name = f"woundtrack_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return base.set(database=name).render_as_string(hide_password=False), drop
    return f"sqlite:///{tmp_dir / 'test.sqlite3'}", lambda: None


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from flask_migrate import upgrade

    from app import create_app

    tmp = tmp_path_factory.mktemp("run")
    url, drop = _fresh_database(tmp)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "STORAGE_DIR": str(tmp / "storage"),
            "STORAGE_URL": None,
            "REDIS_URL": None,
            "LOG_FORMAT": "text",
            "MIGRATIONS": True,
        }
    )
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
    logging.getLogger("app").addHandler(_CAPTURED)
    yield application
    with application.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    drop()


def _truncate(engine: sa.Engine) -> None:
    from app.extensions import db

    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # TRUNCATE fires no UPDATE or DELETE trigger: the append-only
            # audit and history tables are emptied like the others.
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))
        else:
            # SQLite has no TRUNCATE, and its triggers refuse a DELETE on the
            # audit and history tables: drop them, empty every table, and
            # create them again, in one transaction (SQLite's DDL is transactional).
            # (The first DELETE opens the transaction: pysqlite begins one only
            # before a data change, and the DDL after it then joins it.)
            triggers = conn.execute(
                sa.text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            guarded = {row.tbl_name for row in triggers}
            for t in tables:
                if t.name not in guarded:
                    conn.execute(t.delete())
            for row in triggers:
                conn.execute(sa.text(f'DROP TRIGGER "{row.name}"'))
            for t in tables:
                if t.name in guarded:
                    conn.execute(t.delete())
            for row in triggers:
                conn.execute(sa.text(row.sql))


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from app.extensions import db, limiter

    # An export a test started runs in a thread (no Redis in tests); let it end
    # first, or its open transaction and the TRUNCATE deadlock on PostgreSQL.
    for thread in threading.enumerate():
        if thread.name.startswith("export-"):
            thread.join(timeout=60)
    with application.app_context():
        db.session.remove()
        _truncate(db.engine)
    limiter.reset()


@pytest.fixture
def ctx(app) -> Iterator:
    """An app context for calling services directly."""
    with app.app_context():
        yield app
        from app.extensions import db

        db.session.remove()


@pytest.fixture
def local_webhooks(app, monkeypatch) -> None:
    """Webhooks registered in a test send nothing and resolve no host: delivery
    is left to the test (deliver_due), and any http(s) host is accepted, so a
    URL such as https://example.org/hook needs no DNS."""
    monkeypatch.setitem(app.config, "WEBHOOK_AUTODELIVER", False)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app) -> Factory:
    return Factory(app)


@pytest.fixture
def clinic(factory):
    return factory.clinic("North Wound Clinic")


@pytest.fixture
def other_clinic(factory):
    return factory.clinic("South Wound Clinic")


@pytest.fixture
def nurse(factory, clinic) -> Actor:
    return factory.actor("nurse", clinic)


@pytest.fixture
def clinician(factory, clinic) -> Actor:
    return factory.actor("clinician", clinic)


@pytest.fixture
def clinic_admin(factory, clinic) -> Actor:
    return factory.actor("clinic_admin", clinic)


@pytest.fixture
def researcher(factory, clinic) -> Actor:
    return factory.actor("researcher", clinic)


@pytest.fixture
def admin(factory) -> Actor:
    return factory.actor("admin", None)


@pytest.fixture
def outsider(factory, other_clinic) -> Actor:
    """A nurse of another clinic: must never see the first clinic's records."""
    return factory.actor("nurse", other_clinic)


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(app):
    """Context manager counting the SQL statements issued inside it."""
    from app.extensions import db

    @contextlib.contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


class CapturedLogs(logging.Handler):
    """Every log record of the test run (the app's loggers included), formatted
    as each would be written, so tests can scan them for patient data."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        """Each record as JSON with all its extra fields (and traceback)."""
        return [self.json.format(r) for r in self.records]


_CAPTURED = CapturedLogs()
# The names tests/factories.patient_body gives every test patient.
PHI_MARKERS = ("Testa", "Fictitious")


@pytest.fixture(scope="session", autouse=True)
def _capture_logs() -> Iterator[CapturedLogs]:
    # "app" does not propagate to the root logger (app/core/logs.py); the `app`
    # fixture adds the handler there once logs.configure() has run.
    logging.getLogger().addHandler(_CAPTURED)
    yield _CAPTURED
    logging.getLogger().removeHandler(_CAPTURED)
    logging.getLogger("app").removeHandler(_CAPTURED)
    # The whole run: no log line may carry the test patients' names.
    leaks = [t[:300] for t in _CAPTURED.texts() if any(n in t for n in PHI_MARKERS)]
    assert not leaks, "patient names in the logs of this run:\n" + "\n".join(leaks[:5])


@pytest.fixture
def captured_logs() -> CapturedLogs:
    """The log records of the whole run so far (see tests/hardening/test_security.py)."""
    return _CAPTURED


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app on 127.0.0.1 and a free port, in a background thread (for
    a real browser or HTTP client)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
