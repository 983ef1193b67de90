"""Sync: a queue of requests in one round trip, and one delta feed."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.errors import Problem
from app.extensions import db
from app.sync import services
from app.sync.schemas import BatchResultSchema, BatchSchema, FeedArgsSchema, FeedPageSchema

blp = Blueprint(
    "sync",
    __name__,
    url_prefix="/api/v1",
    description="Sync for devices on weak networks: batched requests and a delta feed",
)


@blp.before_request
def _limit_batch() -> None:
    """A batch is JSON, held to the JSON limit (413) however it is sent: a
    declared length over it is refused before the body is read (as every JSON
    body is), and a chunked body stops being read one byte past it."""
    if request.method != "POST":
        return
    limit = current_app.config["MAX_JSON_BYTES"]
    request.max_content_length = limit + 1
    if request.content_length is None and len(request.get_data(cache=True)) > limit:
        raise Problem(413, "Content Too Large", f"A batch is limited to {limit} bytes.")


@blp.route("/sync")
class SyncResource(MethodView):
    @blp.arguments(FeedArgsSchema, location="query")
    @blp.response(200, FeedPageSchema)
    @blp.alt_response(404, description="Clinic not found or not yours")
    def get(self, args):
        """One delta feed of a clinic: its patients, wounds, assessments,
        procedures and photos' metadata, oldest change first, ordered by
        (updated_at, type, id); deleted records as tombstones. Follow
        `next_cursor` while `has_more`; keep the last one and ask again later
        for what changed since (items of the last moments may come twice)."""
        return services.feed(db.session, args)

    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    @blp.alt_response(413, description="Body over the JSON limit")
    def post(self, data):
        """Send up to 200 API requests in one round trip. Each runs, in order,
        through its own route exactly as if sent alone (permissions,
        validation, idempotent creates, If-Match, audit, history) and commits on
        its own: a failure undoes none of the others. Each response says
        whether to retry it. Later requests may address records created earlier
        in the batch by their client ids."""
        return {"responses": services.batch(db.session, data["requests"])}
