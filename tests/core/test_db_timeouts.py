"""Database timeouts: a database that accepts connections but never answers
(a real socket that does exactly that), a server that stops answering on
connections already open, a statement that runs too long, a full pool and a
locked SQLite file. Each request ends with an answer, never a hang.

The waits below are bounds on liveness (without the timeouts each of these
requests hangs for minutes or for ever), set far above the timeouts configured
here, not speed targets.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgresql", "postgres"))
LIVENESS = 20.0  # seconds; the timeouts configured in these tests are 1-2 s


def _app(tmp_path, uri: str, **config: Any):
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": uri,
            "STORAGE_DIR": str(tmp_path / "storage"),
            "STORAGE_URL": None,
            "REDIS_URL": None,
            "LOG_FORMAT": "text",
            **config,
        }
    )


def _answer_within(fn, seconds: float = LIVENESS) -> Any:
    """``fn()`` in a thread; its result, or a failure if it is still waiting."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s: the request hangs"
    if "error" in out:
        raise out["error"]
    return out["value"]


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """A TCP server that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()


def test_health_is_503_when_the_database_accepts_but_never_answers(tmp_path):
    with black_hole() as port:
        app = _app(
            tmp_path,
            f"postgresql+psycopg://woundtrack@127.0.0.1:{port}/woundtrack",
            DB_CONNECT_TIMEOUT_SECONDS=2,
            HEALTH_DB_TIMEOUT_SECONDS=1,
        )
        r = _answer_within(lambda: app.test_client().get("/api/v1/health"))
        assert r.status_code == 503
        assert r.json == {"status": "degraded", "database": "unreachable", "storage": "ok"}


def test_api_requests_are_503_when_the_database_never_answers(tmp_path):
    """Not only health: a request that needs the database (here to look up
    its token) answers 503 problem+json after the connect timeout."""
    with black_hole() as port:
        app = _app(
            tmp_path,
            f"postgresql+psycopg://woundtrack@127.0.0.1:{port}/woundtrack",
            DB_CONNECT_TIMEOUT_SECONDS=2,
        )
        client = app.test_client()
        r = _answer_within(
            lambda: client.get("/api/v1/patients", headers={"Authorization": "Bearer x" * 2})
        )
        assert r.status_code == 503
        assert r.mimetype == "application/problem+json"
        assert r.headers["Retry-After"]


class _Proxy:
    """A TCP proxy to the real database that can stop forwarding (a server
    that hangs while the connections to it stay open)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.frozen = threading.Event()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client = self.server.accept()[0]
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if self.frozen.is_set():
                    return  # swallow it, and everything after: no answer ever comes
                dst.sendall(data)

    def close(self) -> None:
        self.server.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL server of the test run")
def test_health_is_503_when_the_database_hangs_on_open_connections(app, tmp_path):
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = _Proxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        proxied = _app(
            tmp_path,
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
            HEALTH_DB_TIMEOUT_SECONDS=1,
        )
        client = proxied.test_client()
        assert client.get("/api/v1/health").status_code == 200  # a pooled connection now
        proxy.frozen.set()
        r = _answer_within(lambda: client.get("/api/v1/health"))
        assert r.status_code == 503 and r.json["database"] == "unreachable"
        # the probe still waiting on the frozen connection is not joined by a second one
        r = _answer_within(lambda: client.get("/api/v1/health"))
        assert r.status_code == 503
    finally:
        proxy.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="statement_timeout is PostgreSQL's")
def test_a_statement_over_the_timeout_is_cancelled(app, tmp_path):
    from app.extensions import db

    slow = _app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], DB_STATEMENT_TIMEOUT_MS=200)
    with slow.app_context():
        engine = db.engine

    def sleep() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(120)")

    try:
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            _answer_within(sleep)  # cancelled by the server, not waited out
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_a_full_pool_answers_503_after_the_pool_timeout(app, tmp_path):
    """Every connection of the pool is busy: a request waits at most
    DB_POOL_TIMEOUT_SECONDS for one, then answers 503."""
    from app.extensions import db

    small = _app(
        tmp_path,
        app.config["SQLALCHEMY_DATABASE_URI"],
        DB_POOL_TIMEOUT_SECONDS=1,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
    )
    with small.app_context():
        engine = db.engine
    held = engine.connect()
    try:
        r = _answer_within(lambda: small.test_client().get("/api/v1/health"))
        assert r.status_code == 503
        r = _answer_within(
            lambda: small.test_client().get(
                "/api/v1/patients", headers={"Authorization": "Bearer " + "x" * 40}
            )
        )
        assert r.status_code == 503 and r.mimetype == "application/problem+json"
    finally:
        held.close()
        engine.dispose()


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's busy timeout")
def test_sqlite_waits_for_a_lock_no_longer_than_the_busy_timeout(app, tmp_path):
    from app.extensions import db

    quick = _app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], DB_BUSY_TIMEOUT_MS=300)
    with quick.app_context():
        engine = db.engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300
    blocker = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with blocker.connect() as holder:
        holder.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, held
        try:

            def write() -> None:
                with engine.begin() as conn:
                    conn.exec_driver_sql("CREATE TABLE busy_probe (x INTEGER)")

            with pytest.raises(sa.exc.OperationalError, match="locked"):
                _answer_within(write, seconds=10)
        finally:
            holder.exec_driver_sql("ROLLBACK")
    blocker.dispose()
    engine.dispose()
