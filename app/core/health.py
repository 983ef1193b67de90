"""Liveness for load balancers and people: database and storage reachable."""

import sqlalchemy as sa
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.core.db import app_db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok | degraded"})
    database = fields.String()
    storage = fields.String()


@blp.route("/health")
class HealthResource(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
    @blp.doc(security=[])
    def get(self) -> tuple[dict[str, str], int]:
        """No authentication. 503 when the database or storage is not usable."""
        db = app_db()
        try:
            db.session.execute(sa.text("SELECT 1"))
            database = "ok"
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            database = "unreachable"
        storage = "ok" if current_app.extensions["storage"].healthcheck() else "not writable"
        ok = database == "ok" and storage == "ok"
        body = {"status": "ok" if ok else "degraded", "database": database, "storage": storage}
        return body, 200 if ok else 503
