"""SQLite pragmas: WAL for concurrent readers, foreign keys enforced."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event


def configure_sqlite(engine: sa.Engine, busy_timeout_ms: int = 30_000) -> None:
    """Pragmas on every new connection; a write waits at most ``busy_timeout_ms``
    for another connection's lock (DB_BUSY_TIMEOUT_MS, app/core/engine.py)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
