"""Liveness for load balancers and people: database and storage reachable.

The database probe (``SELECT 1`` on a pooled connection) runs in a thread of
its own and is given ``HEALTH_DB_TIMEOUT_SECONDS`` (3): a database that
accepts connections but never answers makes health say 503 within seconds,
where the request itself would wait as long as the TCP connection lives. One
probe at a time per process: while one still waits, health answers 503 at once
rather than leaving another connection waiting beside it.
"""

import threading
import weakref

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.db import app_db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")

# engine -> a lock held while a probe of that database waits for it
_probing: "weakref.WeakKeyDictionary[sa.Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_probing_guard = threading.Lock()


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok | degraded"})
    database = fields.String()
    storage = fields.String()


def database_answers(engine: sa.Engine, timeout: float) -> bool:
    """Whether ``SELECT 1`` succeeds within ``timeout`` seconds."""
    with _probing_guard:
        probing = _probing.setdefault(engine, threading.Lock())
    if not probing.acquire(blocking=False):
        return False  # the previous probe is still waiting: no better news
    answered = threading.Event()
    ok: list[bool] = []

    def probe() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            ok.append(True)
        except sa.exc.SQLAlchemyError:
            pass
        finally:
            answered.set()
            probing.release()

    threading.Thread(target=probe, name="health-db-probe", daemon=True).start()
    return answered.wait(timeout) and bool(ok)


@blp.route("/health")
class HealthResource(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
    @blp.doc(security=[])
    def get(self) -> tuple[dict[str, str], int]:
        """No authentication. 503 when the database or storage is not usable
        (a database that does not answer within a few seconds counts as down)."""
        timeout = float(current_app.config["HEALTH_DB_TIMEOUT_SECONDS"])
        database = "ok" if database_answers(app_db().engine, timeout) else "unreachable"
        storage = "ok" if current_app.extensions["storage"].healthcheck() else "not writable"
        ok = database == "ok" and storage == "ok"
        body = {"status": "ok" if ok else "degraded", "database": database, "storage": storage}
        return body, 200 if ok else 503
