"""How the app connects to its database: the engine options with timeouts.

A database that stops answering must cost a request seconds, not minutes:

- ``DB_CONNECT_TIMEOUT_SECONDS`` (5): PostgreSQL's ``connect_timeout``, the
  longest a new connection may take, including a server that accepts the TCP
  connection and then says nothing;
- ``DB_STATEMENT_TIMEOUT_MS`` (30,000): PostgreSQL's ``statement_timeout``
  for every session (``options=-c statement_timeout=...``): the server cancels
  a statement running longer. Migrations lift it for their own transaction;
- ``DB_POOL_TIMEOUT_SECONDS`` (10): the longest a request waits for a pooled
  connection when all are in use (then 503);
- ``DB_BUSY_TIMEOUT_MS`` (30,000): SQLite's busy timeout, the longest a write
  waits for another connection's lock (then 503).

For the connect and statement timeouts, 0 means none (PostgreSQL's meaning);
for the busy timeout, no waiting at all. The health check
bounds its own probe (``HEALTH_DB_TIMEOUT_SECONDS``, app/core/health.py), as
no client-side setting bounds a statement on a connection that is open but
no longer answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa


def engine_options(uri: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for ``uri``: the configured ones, with the
    timeouts added where they are not set already."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    url = sa.engine.make_url(uri)
    backend = url.get_backend_name()
    if backend != "sqlite" or url.database not in (None, "", ":memory:"):
        # (an in-memory SQLite database has a single connection, no queue pool)
        options.setdefault("pool_timeout", float(config["DB_POOL_TIMEOUT_SECONDS"]))
    if backend == "sqlite":
        connect_args.setdefault("timeout", int(config["DB_BUSY_TIMEOUT_MS"]) / 1000)
    elif backend == "postgresql":
        connect_args.setdefault("connect_timeout", int(config["DB_CONNECT_TIMEOUT_SECONDS"]))
        if "options" not in connect_args:
            statement = f"-c statement_timeout={int(config['DB_STATEMENT_TIMEOUT_MS'])}"
            given = url.query.get("options")  # e.g. a search_path set in DATABASE_URL
            parts = [given] if isinstance(given, str) else list(given or ())
            connect_args["options"] = " ".join([*parts, statement])
    options["connect_args"] = connect_args
    return options
